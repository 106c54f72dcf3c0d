/// Identifies a weight file's format from its first bytes, falling back on the
/// extension only where the bytes say nothing (so that a damaged `.safetensors`
/// file still gets the safetensors reader's precise error).
public enum FormatDetector {
    /// How many leading bytes `detect` looks at.
    public static let prefixLength = 64

    /// The format of a file whose first bytes are `prefix`, `fileSize` long, at `path`.
    public static func detect(prefix: [UInt8], fileSize: Int, path: String) -> WeightFileFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".index.json") { return .shardedSafetensors }
        func starts(_ magic: [UInt8]) -> Bool { prefix.count >= magic.count && Array(prefix.prefix(magic.count)) == magic }
        if starts([0x93] + Array("NUMPY".utf8)) { return .npy }
        if starts(STZLayout.magic) { return .stz }
        if starts(Array("GGUF".utf8)) { return .gguf }
        if starts(Array("PK".utf8) + [3, 4]) || starts(Array("PK".utf8) + [5, 6]) {
            return .npz  // Refined by the opener: a zip holding `data.pkl` is a PyTorch checkpoint.
        }
        if starts([0x1F, 0x8B]) { return .gzipSafetensors }
        if looksLikeSafetensors(prefix, fileSize: fileSize) { return .safetensors }
        // Pickle protocol 2–5 (torch.save's legacy format and raw pickles).
        if prefix.count >= 2 && prefix[0] == 0x80 && (2...5).contains(prefix[1]) { return .pickle }
        // zlib: deflate with a window ≤ 32 KiB, header checksum divisible by 31.
        if prefix.count >= 2 && prefix[0] & 0x0F == 8 && prefix[0] >> 4 <= 7
            && (UInt16(prefix[0]) << 8 | UInt16(prefix[1])) % 31 == 0
        {
            return .zlibSafetensors
        }
        if lower.hasSuffix(".safetensors") { return .safetensors }
        if lower.hasSuffix(".npy") { return .npy }
        if lower.hasSuffix(".npz") { return .npz }
        if lower.hasSuffix(".stz") { return .stz }
        if lower.hasSuffix(".gz") { return .gzipSafetensors }
        if lower.hasSuffix(".zlib") || lower.hasSuffix(".zz") { return .zlibSafetensors }
        return nil
    }

    /// An 8-byte header length that fits the file, followed by `{` after optional whitespace.
    static func looksLikeSafetensors(_ prefix: [UInt8], fileSize: Int) -> Bool {
        guard prefix.count >= 9 else { return false }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(prefix[i]) << (8 * UInt64(i)) }
        guard n >= 2, n <= UInt64(SafetensorsHeader.maxHeaderLength), n <= UInt64(fileSize - 8) else { return false }
        for byte in prefix[8...] {
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D: continue
            case UInt8(ascii: "{"): return true
            default: return false
            }
        }
        return false
    }
}

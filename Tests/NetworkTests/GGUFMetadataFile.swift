import WeightFiles

/// A GGUF file with no tensors and the given metadata, for tests that need metadata no library would
/// write (hostile sizes, broken tokenizers): strings, string arrays, Int32 arrays, UInt32, Int32, UInt64,
/// Float and Bool values, in the GGUF v3 layout (formats/gguf.md).
func ggufWithMetadata(_ entries: [(String, Any)]) throws -> GGUFFile {
    var bytes: [UInt8] = []
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    func string(_ s: String) {
        u64(UInt64(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }
    bytes.append(contentsOf: Array("GGUF".utf8))
    u32(3)
    u64(0)
    u64(UInt64(entries.count))
    for (key, value) in entries {
        string(key)
        switch value {
        case let text as String:
            u32(8)
            string(text)
        case let texts as [String]:
            u32(9)
            u32(8)
            u64(UInt64(texts.count))
            texts.forEach(string)
        case let numbers as [Int32]:
            u32(9)
            u32(5)
            u64(UInt64(numbers.count))
            numbers.forEach { u32(UInt32(bitPattern: $0)) }
        case let number as UInt32:
            u32(4)
            u32(number)
        case let number as Int32:
            u32(5)
            u32(UInt32(bitPattern: number))
        case let number as UInt64:
            u32(10)
            u64(number)
        case let number as Float:
            u32(6)
            u32(number.bitPattern)
        case let flag as Bool:
            u32(7)
            bytes.append(flag ? 1 : 0)
        default: fatalError("unsupported test value \(value)")
        }
    }
    while bytes.count % 32 != 0 { bytes.append(0) }
    return try GGUFFile(storage: ByteStorage(copying: bytes))
}

/// The offset of the first byte that makes `bytes` invalid UTF-8, or `nil` when it is valid.
///
/// Rejects what Rust's `str::from_utf8` rejects: overlong forms, surrogates,
/// scalars above U+10FFFF, truncated sequences.
/// - Complexity: O(n)
func firstInvalidUTF8Offset(_ bytes: UnsafeRawBufferPointer) -> Int? {
    var i = 0
    let n = bytes.count
    while i < n {
        // ASCII fast path, eight bytes at a time.
        while i + 8 <= n && bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            i += 8
        }
        guard i < n else { break }
        let b0 = bytes[i]
        if b0 < 0x80 { i += 1; continue }
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: return i
        }
        guard i + length <= n else { return i }
        let b1 = bytes[i + 1]
        if b1 < lower || b1 > upper { return i }
        for k in 2..<max(length, 2) where bytes[i + k] & 0xC0 != 0x80 { return i }
        i += length
    }
    return nil
}

/// GPT-2's table between the 256 byte values and the printable characters byte-level vocabularies spell
/// them with (`bytes_to_unicode` in GPT-2's `encoder.py`, `ByteLevel` in Hugging Face `tokenizers`).
///
/// The printable bytes `!`…`~`, `¡`…`¬` and `®`…`ÿ` stand for themselves; the other 68 (controls, space,
/// DEL, NBSP, soft hyphen …) become U+0100 onwards in byte order, so a space is `Ġ` (U+0120) and a
/// newline `Ċ` (U+010A).
enum ByteLevelAlphabet {
    /// The scalar value that spells each byte.
    static let scalarOfByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte each scalar below U+0144 spells, or -1 (the table's inverse).
    static let byteOfScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarOfByte.enumerated() { table[Int(scalar)] = Int16(byte) }
        return table
    }()

    /// The vocabulary spelling of `bytes`.
    /// - Complexity: O(n)
    static func spelling(of bytes: some Sequence<UInt8>) -> String {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(Unicode.Scalar(scalarOfByte[Int(byte)])!) }
        return String(text)
    }

    /// The bytes a token stands for when decoded: each character's byte when every character is in the
    /// table, else the token's own UTF-8 (an added token such as `"<|im_start|> "` with a raw space) —
    /// the rule of the `ByteLevel` decoder in `tokenizers`.
    /// - Complexity: O(n)
    static func bytes(ofToken token: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            let value = Int(scalar.value)
            guard value < byteOfScalar.count, byteOfScalar[value] >= 0 else { return Array(token.utf8) }
            bytes.append(UInt8(byteOfScalar[value]))
        }
        return bytes
    }
}

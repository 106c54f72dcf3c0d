/// A text as Unicode scalars with their regex character classes and UTF-8 offsets: what the added-token
/// matcher and the pre-tokenizers scan, and what the BPE step reads the bytes of a piece from.
struct ScalarText {
    /// The regex classes a pre-tokenizer tells apart: `\p{L}`, `\p{N}`, `\s` (White_Space) and the rest.
    enum CharacterClass: UInt8 {
        case other = 0
        case letter = 1
        case number = 2
        case whitespace = 3
    }

    /// The text's UTF-8.
    let utf8: [UInt8]
    /// The scalar values, one per scalar.
    let scalars: [UInt32]
    /// Each scalar's class.
    let classes: [CharacterClass]
    /// The UTF-8 offset of each scalar, and the text's UTF-8 length last (`scalars.count + 1` entries).
    let byteOffsets: [Int]

    /// - Complexity: O(n) in the length of `text`.
    init(_ text: String) {
        utf8 = Array(text.utf8)
        var scalars: [UInt32] = []
        var classes: [CharacterClass] = []
        var byteOffsets: [Int] = []
        scalars.reserveCapacity(utf8.count)
        classes.reserveCapacity(utf8.count)
        byteOffsets.reserveCapacity(utf8.count + 1)
        var offset = 0
        for scalar in text.unicodeScalars {
            let value = scalar.value
            scalars.append(value)
            classes.append(Self.characterClass(of: scalar))
            byteOffsets.append(offset)
            offset += value < 0x80 ? 1 : value < 0x800 ? 2 : value < 0x1_0000 ? 3 : 4
        }
        byteOffsets.append(offset)
        self.scalars = scalars
        self.classes = classes
        self.byteOffsets = byteOffsets
    }

    /// The classes of the ASCII scalars.
    private static let asciiClasses: [CharacterClass] = (0..<128).map { value in
        switch value {
        case 0x09...0x0D, 0x20: .whitespace
        case 0x30...0x39: .number
        case 0x41...0x5A, 0x61...0x7A: .letter
        default: .other
        }
    }

    /// The class of `scalar`: White_Space first (as `\s` in Oniguruma), then the general category
    /// (L* is a letter; Nd, Nl and No a number, as `\p{N}` and Rust's `char::is_numeric`).
    static func characterClass(of scalar: Unicode.Scalar) -> CharacterClass {
        if scalar.value < 128 { return asciiClasses[Int(scalar.value)] }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }
}

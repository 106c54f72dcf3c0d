/// A token matched as a whole string in the text before pre-tokenization: a special token such as
/// `<|im_start|>` (GGUF token type 3, control; 4, user-defined) or an entry of `added_tokens` in
/// `tokenizer.json`.
public struct AddedToken: Sendable, Equatable {
    /// Its id.
    public var id: Int
    /// The text it matches.
    public var content: String
    /// Whether it is a special token (`special` in `tokenizer.json`; GGUF control tokens).
    public var isSpecial: Bool
    /// Whether it is matched in the normalized text, after the tokens that are not
    /// (`normalized`; Hugging Face matches the others first, in the raw text).
    public var isNormalized: Bool
    /// Whether a match takes the whitespace to its left with it (`lstrip`).
    public var stripsLeft: Bool
    /// Whether a match takes the whitespace to its right with it (`rstrip`).
    public var stripsRight: Bool

    public init(
        id: Int, content: String, isSpecial: Bool = true, isNormalized: Bool = false, stripsLeft: Bool = false,
        stripsRight: Bool = false
    ) {
        self.id = id
        self.content = content
        self.isSpecial = isSpecial
        self.isNormalized = isNormalized
        self.stripsLeft = stripsLeft
        self.stripsRight = stripsRight
    }
}

/// Finds added tokens in a text, leftmost first and the longest of those starting there (the
/// leftmost-longest Aho–Corasick search of `tokenizers`' `AddedVocabulary`).
struct AddedTokenMatcher: Sendable {
    private struct Pattern: Sendable {
        var scalars: [UInt32]
        var id: Int32
        var stripsLeft: Bool
        var stripsRight: Bool
    }

    private var patterns: [Pattern] = []
    /// Pattern indices by first scalar, longest first.
    private var candidates: [UInt32: [Int]] = [:]
    /// Whether some pattern starts with each ASCII scalar (skips the dictionary for most text).
    private var asciiStarts = [Bool](repeating: false, count: 128)

    init(_ tokens: [AddedToken]) {
        for token in tokens where !token.content.isEmpty {
            let scalars = token.content.unicodeScalars.map(\.value)
            candidates[scalars[0], default: []].append(patterns.count)
            if scalars[0] < 128 { asciiStarts[Int(scalars[0])] = true }
            patterns.append(
                Pattern(scalars: scalars, id: Int32(token.id), stripsLeft: token.stripsLeft, stripsRight: token.stripsRight))
        }
        for key in candidates.keys { candidates[key]!.sort { patterns[$0].scalars.count > patterns[$1].scalars.count } }
    }

    var isEmpty: Bool { patterns.isEmpty }

    /// The first match in `start..<end` of `text`: its scalar range (widened over whitespace for tokens
    /// that strip, never before `start` nor past `end`) and id.
    /// - Complexity: O(n·k) for k patterns sharing a first scalar.
    func firstMatch(in text: ScalarText, from start: Int, to end: Int) -> (start: Int, end: Int, id: Int32)? {
        let scalars = text.scalars
        var i = start
        while i < end {
            let first = scalars[i]
            if first < 128 ? asciiStarts[Int(first)] : candidates[first] != nil, let list = candidates[first] {
                for index in list {
                    let pattern = patterns[index].scalars
                    guard i + pattern.count <= end else { continue }
                    var k = 1
                    while k < pattern.count && scalars[i + k] == pattern[k] { k += 1 }
                    if k == pattern.count {
                        var matchStart = i
                        var matchEnd = i + pattern.count
                        if patterns[index].stripsLeft {
                            while matchStart > start && text.classes[matchStart - 1] == .whitespace { matchStart -= 1 }
                        }
                        if patterns[index].stripsRight {
                            while matchEnd < end && text.classes[matchEnd] == .whitespace { matchEnd += 1 }
                        }
                        return (matchStart, matchEnd, patterns[index].id)
                    }
                }
            }
            i += 1
        }
        return nil
    }
}

/// How text is cut into pieces before BPE merges, each the same as a Hugging Face pre-tokenizer and a
/// llama.cpp `tokenizer.ggml.pre` type.
///
/// The regexes are scanned by hand over Unicode scalars (one pass, no backtracking): `\s` is the
/// White_Space property, `\p{L}` the letter categories, `\p{N}` Nd, Nl and No, as in Oniguruma, which
/// `tokenizers` uses. A piece never crosses the end of the text it is given, so a lookahead at that end
/// sees the end of the string, as it does in `tokenizers` where every split is its own string.
public enum PreTokenizer: String, Sendable, CaseIterable {
    /// GPT-2's regex `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    /// (`ByteLevel(use_regex: true)`; llama.cpp `gpt2`).
    case gpt2
    /// Every number character a piece of its own, then GPT-2's regex on the text between
    /// (`Sequence[Digits(individual_digits: true), ByteLevel]`, SmolLM's; llama.cpp `smollm`).
    case smollm
    /// Llama 3's regex: case-insensitive contractions, a letter run with one leading non-letter,
    /// numbers in groups of up to three, punctuation runs with their trailing newlines, newline runs
    /// (`Split(Regex) + ByteLevel(use_regex: false)`; llama.cpp `llama-bpe`).
    case llama3
    /// Qwen2's regex: Llama 3's with every digit a piece of its own (llama.cpp `qwen2`).
    case qwen2

    /// The pre-tokenizer of a GGUF `tokenizer.ggml.pre` value, or nil for a type this package does not
    /// implement.
    public init?(ggufName: String) {
        switch ggufName {
        case "gpt2", "mpt", "olmo", "jais": self = .gpt2
        case "smollm", "starcoder", "refact", "codeshell": self = .smollm
        case "llama-bpe", "llama3", "llama-v3": self = .llama3
        case "qwen2", "stablelm2", "deepseek-r1-qwen": self = .qwen2
        default: return nil
        }
    }

    /// The `tokenizer.ggml.pre` values ``init(ggufName:)`` accepts.
    public static let ggufNames = [
        "gpt2", "mpt", "olmo", "jais", "smollm", "starcoder", "refact", "codeshell", "llama-bpe", "llama3", "llama-v3",
        "qwen2", "stablelm2", "deepseek-r1-qwen",
    ]

    /// The regex as written in a `tokenizer.json` `Split` pre-tokenizer (GPT-2's is implied by `ByteLevel`).
    public var pattern: String {
        switch self {
        case .gpt2, .smollm: #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .llama3:
            #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .qwen2:
            #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        }
    }

    /// The pieces of `text`, in order; joined they give `text` back.
    /// - Complexity: O(n)
    public func pieces(of text: String) -> [String] {
        let scanned = ScalarText(text)
        var pieces: [String] = []
        split(scanned, 0..<scanned.scalars.count) { start, end in
            let bytes = scanned.utf8[scanned.byteOffsets[start]..<scanned.byteOffsets[end]]
            pieces.append(String(decoding: bytes, as: UTF8.self))
        }
        return pieces
    }

    /// Calls `emit` with the scalar range of each piece of `range`, in order.
    /// - Complexity: O(n) in the length of `range`.
    func split(_ text: ScalarText, _ range: Range<Int>, _ emit: (Int, Int) -> Void) {
        text.scalars.withUnsafeBufferPointer { scalars in
            text.classes.withUnsafeBufferPointer { classes in
                let scanner = Scanner(scalars: scalars, classes: classes)
                switch self {
                case .gpt2: scanner.gpt2(range.lowerBound, range.upperBound, emit)
                case .smollm: scanner.digitsThenGPT2(range.lowerBound, range.upperBound, emit)
                case .llama3: scanner.llama3(range.lowerBound, range.upperBound, maximumDigits: 3, emit)
                case .qwen2: scanner.llama3(range.lowerBound, range.upperBound, maximumDigits: 1, emit)
                }
            }
        }
    }
}

/// The hand-written regexes over one text's scalars and classes.
private struct Scanner {
    let scalars: UnsafeBufferPointer<UInt32>
    let classes: UnsafeBufferPointer<ScalarText.CharacterClass>

    private static let apostrophe: UInt32 = 0x27
    private static let space: UInt32 = 0x20
    private static let carriageReturn: UInt32 = 0x0D
    private static let lineFeed: UInt32 = 0x0A

    private func isNewline(_ i: Int) -> Bool { scalars[i] == Self.lineFeed || scalars[i] == Self.carriageReturn }

    /// The length of the contraction (`'s 't 're 've 'm 'll 'd`) at `i`, or nil. Case-insensitive as
    /// Oniguruma's `(?i:…)`, where `ſ` (U+017F) folds to `s`.
    private func contraction(_ i: Int, _ end: Int, ignoringCase: Bool) -> Int? {
        guard scalars[i] == Self.apostrophe, i + 1 < end else { return nil }
        func lower(_ j: Int) -> UInt32 {
            let c = scalars[j]
            guard ignoringCase else { return c }
            if c >= 0x41 && c <= 0x5A { return c + 0x20 }
            return c == 0x17F ? 0x73 : c
        }
        switch lower(i + 1) {
        case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
        case 0x72, 0x76: return i + 2 < end && lower(i + 2) == 0x65 ? 3 : nil  // re ve
        case 0x6C: return i + 2 < end && lower(i + 2) == 0x6C ? 3 : nil  // ll
        default: return nil
        }
    }

    /// The end of the run of `kind` that starts at `i` (which must be of that kind).
    private func runEnd(_ i: Int, _ end: Int, _ kind: ScalarText.CharacterClass) -> Int {
        var e = i + 1
        while e < end && classes[e] == kind { e += 1 }
        return e
    }

    /// `\s+(?!\S)|\s+` at the whitespace `i`: the run, less its last scalar when a non-space follows it
    /// (which then starts the next piece, ` ?\p{L}+` for a space), unless the run is one scalar long.
    private func whitespace(_ i: Int, _ end: Int) -> Int {
        let e = runEnd(i, end, .whitespace)
        return e < end && e - i >= 2 ? e - 1 : e
    }

    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    func gpt2(_ start: Int, _ end: Int, _ emit: (Int, Int) -> Void) {
        var i = start
        while i < end {
            if let n = contraction(i, end, ignoringCase: false) {
                emit(i, i + n)
                i += n
                continue
            }
            // ` ?` takes a space when a letter, number or symbol follows it.
            let j = scalars[i] == Self.space && i + 1 < end && classes[i + 1] != .whitespace ? i + 1 : i
            let kind = classes[j]
            let e = kind == .whitespace ? whitespace(i, end) : runEnd(j, end, kind)
            emit(i, e)
            i = e
        }
    }

    /// SmolLM: `Digits(individual_digits: true)` then GPT-2's regex on each run between numbers.
    func digitsThenGPT2(_ start: Int, _ end: Int, _ emit: (Int, Int) -> Void) {
        var runStart = start
        for i in start..<end where classes[i] == .number {
            if runStart < i { gpt2(runStart, i, emit) }
            emit(i, i + 1)
            runStart = i + 1
        }
        if runStart < end { gpt2(runStart, end, emit) }
    }

    /// Llama 3 (`maximumDigits` 3) and Qwen2 (1): `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|
    /// \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    func llama3(_ start: Int, _ end: Int, maximumDigits: Int, _ emit: (Int, Int) -> Void) {
        var i = start
        while i < end {
            if let n = contraction(i, end, ignoringCase: true) {
                emit(i, i + n)
                i += n
                continue
            }
            let kind = classes[i]
            var e: Int
            if kind == .letter
                || (kind != .number && !isNewline(i) && i + 1 < end && classes[i + 1] == .letter)
            {
                // `[^\r\n\p{L}\p{N}]?\p{L}+`
                e = runEnd(i + 1 < end && classes[i + 1] == .letter ? i + 1 : i, end, .letter)
            } else if kind == .number {
                // `\p{N}{1,3}`
                e = i + 1
                while e < end && e - i < maximumDigits && classes[e] == .number { e += 1 }
            } else if kind == .other || (scalars[i] == Self.space && i + 1 < end && classes[i + 1] == .other) {
                // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
                e = runEnd(kind == .other ? i : i + 1, end, .other)
                while e < end && isNewline(e) { e += 1 }
            } else {
                // `\s*[\r\n]+`: the whitespace run up to its last newline; else `\s+(?!\S)|\s+`.
                let runEnd = runEnd(i, end, .whitespace)
                var lastNewline = runEnd - 1
                while lastNewline >= i && !isNewline(lastNewline) { lastNewline -= 1 }
                e = lastNewline >= i ? lastNewline + 1 : whitespace(i, end)
            }
            emit(i, e)
            i = e
        }
    }
}

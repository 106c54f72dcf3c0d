/// A byte-level BPE tokenizer (GPT-2, SmolLM, Llama 3, Qwen2): added tokens matched as whole strings,
/// the rest cut by a ``PreTokenizer``, each piece's UTF-8 bytes spelt in GPT-2's byte alphabet and merged
/// by rank — the pipeline of Hugging Face `tokenizers` (`BPE` model, `ByteLevel` pre-tokenizer and
/// decoder) with no normalizer.
///
/// Read one with ``init(gguf:preTokenizer:)`` or ``init(tokenizerJSON:)``.
public struct ByteLevelBPETokenizer: Tokenizer {
    /// Each id's token as the vocabulary spells it (byte-level characters: `Ġthe` for " the"; added
    /// tokens as their text).
    public let tokens: [String]
    /// How text is cut into pieces before merging.
    public let preTokenizer: PreTokenizer
    /// The tokens matched as whole strings before pre-tokenization.
    public let addedTokens: [AddedToken]
    /// Whether a piece that is itself a token skips the merges (`ignore_merges`; Llama 3).
    public let ignoresMerges: Bool
    public let bosTokenID: Int?
    public let eosTokenID: Int?
    public let addsBOS: Bool

    let merges: MergeTable
    /// The id of each byte's one-character token, or -1 when the vocabulary lacks it.
    let byteTokenIDs: [Int32]
    /// The id a byte without a token becomes (`unk_token`); without one such bytes are dropped, as in
    /// `tokenizers`.
    let unknownTokenID: Int32?
    /// Added tokens matched in the raw text, then those matched in the normalized text.
    let matchers: [AddedTokenMatcher]
    /// The id of each token by its spelling.
    let tokenIDs: [String: Int32]
    /// The id of each model token by its bytes, for `ignoresMerges`.
    let wordIDs: [[UInt8]: Int32]
    /// The bytes each id decodes to, concatenated; id `i` is `decodedBytes[decodedOffsets[i]..<decodedOffsets[i + 1]]`.
    let decodedBytes: [UInt8]
    let decodedOffsets: [Int]

    /// The largest vocabulary and merge list accepted (ids are stored in 32 bits).
    public static let maximumVocabularySize = 1 << 24

    /// A tokenizer from its parts.
    ///
    /// - Parameters:
    ///   - tokens: each id's token, spelt in the byte alphabet; added tokens as their text.
    ///   - merges: the merge list, best first; each half and their concatenation must be tokens.
    ///   - addedTokens: tokens matched as whole strings; each must be `tokens[id]`.
    ///   - unknownTokenID: what a byte without a one-character token becomes; nil drops it.
    /// - Throws: `NetworkError.unsupportedTokenizer` naming the offending token, merge or id.
    /// - Complexity: O(vocabulary + merges).
    public init(
        tokens: [String], merges: [(String, String)], addedTokens: [AddedToken] = [], preTokenizer: PreTokenizer,
        bosTokenID: Int? = nil, eosTokenID: Int? = nil, addsBOS: Bool = false, unknownTokenID: Int? = nil,
        ignoresMerges: Bool = false
    ) throws(NetworkError) {
        guard !tokens.isEmpty, tokens.count <= Self.maximumVocabularySize else {
            throw .unsupportedTokenizer(
                reason: "vocabulary of \(tokens.count) tokens (must be 1…\(Self.maximumVocabularySize))")
        }
        guard merges.count <= Self.maximumVocabularySize else {
            throw .unsupportedTokenizer(reason: "\(merges.count) merges (at most \(Self.maximumVocabularySize))")
        }
        var tokenIDs: [String: Int32] = [:]
        tokenIDs.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            if let earlier = tokenIDs.updateValue(Int32(id), forKey: token) {
                throw .unsupportedTokenizer(reason: "token \(Self.quoted(token)) is both id \(earlier) and id \(id)")
            }
        }
        func checkID(_ id: Int?, _ what: String) throws(NetworkError) {
            if let id, !(0..<tokens.count).contains(id) {
                throw .unsupportedTokenizer(reason: "\(what) \(id) is outside the vocabulary of \(tokens.count) tokens")
            }
        }
        try checkID(bosTokenID, "BOS id")
        try checkID(eosTokenID, "EOS id")
        try checkID(unknownTokenID, "unknown-token id")
        for token in addedTokens {
            try checkID(token.id, "added token \(Self.quoted(token.content)) has id")
            guard tokens[token.id] == token.content else {
                throw .unsupportedTokenizer(
                    reason: "added token \(Self.quoted(token.content)) has id \(token.id), "
                        + "which the vocabulary spells \(Self.quoted(tokens[token.id]))")
            }
        }

        var table = MergeTable(minimumCapacity: merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            guard let l = tokenIDs[left], let r = tokenIDs[right] else {
                let missing = tokenIDs[left] == nil ? left : right
                throw .unsupportedTokenizer(
                    reason: "merge \(rank) (\(Self.quoted(left + " " + right))) names \(Self.quoted(missing)), "
                        + "which is not in the vocabulary")
            }
            guard let merged = tokenIDs[left + right] else {
                throw .unsupportedTokenizer(
                    reason: "merge \(rank) (\(Self.quoted(left + " " + right))) makes \(Self.quoted(left + right)), "
                        + "which is not in the vocabulary")
            }
            table.insert(left: l, right: r, rank: Int32(rank), merged: merged)
        }

        var decodedBytes: [UInt8] = []
        var decodedOffsets = [0]
        decodedOffsets.reserveCapacity(tokens.count + 1)
        var wordIDs: [[UInt8]: Int32] = [:]
        for (id, token) in tokens.enumerated() {
            let bytes = ByteLevelAlphabet.bytes(ofToken: token)
            decodedBytes.append(contentsOf: bytes)
            decodedOffsets.append(decodedBytes.count)
            if ignoresMerges, token.unicodeScalars.allSatisfy({ Int($0.value) < ByteLevelAlphabet.byteOfScalar.count }) {
                wordIDs[bytes] = Int32(id)
            }
        }

        self.tokens = tokens
        self.preTokenizer = preTokenizer
        self.addedTokens = addedTokens
        self.ignoresMerges = ignoresMerges
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.addsBOS = addsBOS
        self.merges = table
        self.byteTokenIDs = (0..<256).map { tokenIDs[ByteLevelAlphabet.spelling(of: [UInt8($0)])] ?? -1 }
        self.unknownTokenID = unknownTokenID.map(Int32.init)
        self.matchers = [
            AddedTokenMatcher(addedTokens.filter { !$0.isNormalized }),
            AddedTokenMatcher(addedTokens.filter { $0.isNormalized }),
        ].filter { !$0.isEmpty }
        self.tokenIDs = tokenIDs
        self.wordIDs = wordIDs
        self.decodedBytes = decodedBytes
        self.decodedOffsets = decodedOffsets
    }

    public var vocabularySize: Int { tokens.count }

    /// The number of merges.
    public var mergeCount: Int { merges.count }

    /// The id of the token spelt `token` (byte-level spelling), if the vocabulary has it.
    /// - Complexity: O(1)
    public func id(ofToken token: String) -> Int? { tokenIDs[token].map(Int.init) }

    /// The ids of `text`: added tokens where their text occurs, the rest pre-tokenized and merged.
    /// - Complexity: O(n) for text of common words; a piece of k bytes not seen before in this call
    ///   costs O(k²) up to 24 bytes, O(k log k) beyond.
    public func encode(_ text: String) -> [Int] {
        if text.isEmpty { return [] }
        let scanned = ScalarText(text)
        var state = EncodingState()
        var ids: [Int] = []
        ids.reserveCapacity(scanned.utf8.count / 3 + 1)
        encode(scanned, 0..<scanned.scalars.count, stage: 0, &state, &ids)
        return ids
    }

    /// The text of `ids`: each id's bytes concatenated and read as UTF-8, an invalid sequence becoming
    /// U+FFFD (Python's `errors="replace"`, Rust's `from_utf8_lossy`); ids outside the vocabulary are
    /// skipped, as in `tokenizers`.
    /// - Complexity: O(n) in the decoded length.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids where id >= 0 && id < tokens.count {
            bytes.append(contentsOf: decodedBytes[decodedOffsets[id]..<decodedOffsets[id + 1]])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Per-call memory: the ids of each piece already merged.
    private struct EncodingState {
        var cache: [ArraySlice<UInt8>: (start: Int, count: Int)] = [:]
        var pool: [Int32] = []
        var symbols: [Int32] = []
    }

    /// Encodes `range` of `text`, first cutting out the added tokens of `matchers[stage...]`.
    private func encode(
        _ text: ScalarText, _ range: Range<Int>, stage: Int, _ state: inout EncodingState, _ ids: inout [Int]
    ) {
        if range.isEmpty { return }
        if stage < matchers.count {
            var position = range.lowerBound
            while let match = matchers[stage].firstMatch(in: text, from: position, to: range.upperBound) {
                encode(text, position..<match.start, stage: stage + 1, &state, &ids)
                ids.append(Int(match.id))
                position = match.end
            }
            encode(text, position..<range.upperBound, stage: stage + 1, &state, &ids)
            return
        }
        preTokenizer.split(text, range) { start, end in
            encodePiece(text.utf8[text.byteOffsets[start]..<text.byteOffsets[end]], &state, &ids)
        }
    }

    /// Appends the ids of one piece, from the cache when it was merged before.
    private func encodePiece(_ bytes: ArraySlice<UInt8>, _ state: inout EncodingState, _ ids: inout [Int]) {
        if let cached = state.cache[bytes] {
            for i in cached.start..<(cached.start + cached.count) { ids.append(Int(state.pool[i])) }
            return
        }
        state.symbols.removeAll(keepingCapacity: true)
        if ignoresMerges, let id = wordIDs[Array(bytes)] {
            state.symbols.append(id)
        } else {
            for byte in bytes {
                let id = byteTokenIDs[Int(byte)]
                if id >= 0 {
                    state.symbols.append(id)
                } else if let unknownTokenID {
                    state.symbols.append(unknownTokenID)
                }
            }
            merges.apply(to: &state.symbols)
        }
        state.cache[bytes] = (state.pool.count, state.symbols.count)
        state.pool.append(contentsOf: state.symbols)
        for id in state.symbols { ids.append(Int(id)) }
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "\""
    }
}

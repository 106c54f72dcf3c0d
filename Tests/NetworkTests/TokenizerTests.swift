import Foundation
import Testing
import WeightFiles

@testable import Network

// Golden ids from Hugging Face transformers (scripts/tokenizer_parity.py → Fixtures/tokenizer):
// - small_tokenizer.json, a GPT-2-style byte-level BPE trained with `tokenizers`, and small_ids.json, the
//   ids transformers gives for ~300 texts (numbers, whitespace, contractions, Unicode, special tokens …);
// - llama3_style_tokenizer.json (Llama 3's regex, ignore_merges, a BOS template) and llama3_style_ids.json;
// - pretokens.json, the pieces Hugging Face's GPT-2, SmolLM, Llama 3 and Qwen2 pre-tokenizers cut them into;
// - smollm2_ids.json, SmolLM2-135M's ids for 1,300 texts, checked against the GGUF named by
//   RETORT_SMOLLM2_GGUF (and the tokenizer.json named by RETORT_SMOLLM2_TOKENIZER_JSON, which
//   `tokenizer_parity.py --export-json DIR` writes), skipped with a note when unset.

/// One text and the ids transformers gives it (`add_special_tokens=False`).
struct TokenizerCase: Decodable, Sendable {
    var text: String
    var ids: [Int]
    /// transformers' decode, when it is not `text`.
    var decoded: String?
    /// The ids of transformers' GGUF loader (plain ByteLevel pre-tokenizer), when they differ.
    var gguf_loader_ids: [Int]?
}

/// Ids whose bytes are not valid UTF-8 and transformers' decode of them.
struct InvalidUTF8Case: Decodable, Sendable {
    var ids: [Int]
    var decoded: String
}

struct TokenizerFixture: Decodable, Sendable {
    var transformers: String
    var cases: [TokenizerCase]
    var invalid_utf8: [InvalidUTF8Case]
}

/// A text and the lengths, in scalars, of the pieces each Hugging Face pre-tokenizer cuts it into.
struct PreTokenizerCase: Decodable, Sendable {
    var text: String
    var gpt2: [Int]
    var smollm: [Int]?
    var llama3: [Int]
    var qwen2: [Int]?

    func pieceLengths(_ kind: PreTokenizer) -> [Int] {
        switch kind {
        case .gpt2: gpt2
        case .smollm: smollm ?? gpt2
        case .llama3: llama3
        case .qwen2: qwen2 ?? llama3
        }
    }
}

struct PreTokenizerFixture: Decodable, Sendable {
    var patterns: [String: String]
    var cases: [PreTokenizerCase]
}

enum TokenizerFixtures {
    static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        return url.appendingPathComponent("Fixtures/tokenizer").path
    }()

    static func load<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }

    static let small = Result { try load("small_ids.json", as: TokenizerFixture.self) }
    static let llama3Style = Result { try load("llama3_style_ids.json", as: TokenizerFixture.self) }
    static let smolLM2 = Result { try load("smollm2_ids.json", as: TokenizerFixture.self) }
    static let preTokens = Result { try load("pretokens.json", as: PreTokenizerFixture.self) }
    static let smallTokenizer = Result {
        try ByteLevelBPETokenizer(tokenizerJSON: directory + "/small_tokenizer.json")
    }
    static let llama3StyleTokenizer = Result {
        try ByteLevelBPETokenizer(tokenizerJSON: directory + "/llama3_style_tokenizer.json")
    }

    /// The SmolLM2 GGUF named by RETORT_SMOLLM2_GGUF, or nil (with a note) when unset.
    static func smolLM2GGUF() throws -> GGUFFile? {
        guard let path = ProcessInfo.processInfo.environment["RETORT_SMOLLM2_GGUF"], !path.isEmpty else {
            print("skipped: set RETORT_SMOLLM2_GGUF to SmolLM2-135M-Instruct.Q4_1.gguf to check SmolLM2's tokenizer")
            return nil
        }
        return try GGUFFile(path: path)
    }
}

/// The cases where `tokenizer` does not give `expected(case)`, described for a failure message.
private func mismatches(
    _ tokenizer: some Tokenizer, _ cases: [TokenizerCase], expected: (TokenizerCase) -> [Int] = { $0.ids }
) -> [String] {
    cases.compactMap { item in
        let ids = tokenizer.encode(item.text)
        return ids == expected(item) ? nil : "\(item.text.debugDescription): \(ids) ≠ \(expected(item))"
    }
}

/// The cases whose ids do not decode to transformers' text.
private func decodeMismatches(_ tokenizer: some Tokenizer, _ cases: [TokenizerCase]) -> [String] {
    cases.compactMap { item in
        let text = tokenizer.decode(item.ids)
        let expected = item.decoded ?? item.text
        return text == expected ? nil : "\(item.ids): \(text.debugDescription) ≠ \(expected.debugDescription)"
    }
}

// MARK: - The small GPT-2-style tokenizer (always run)

@Test func smallTokenizerEncodesAsTransformers() throws {
    let tokenizer = try TokenizerFixtures.smallTokenizer.get()
    let fixture = try TokenizerFixtures.small.get()
    #expect(fixture.cases.count > 300)
    let wrong = mismatches(tokenizer, fixture.cases)
    #expect(wrong.isEmpty, "\(wrong.count) of \(fixture.cases.count) differ: \(wrong.prefix(5).joined(separator: "; "))")
}

@Test func smallTokenizerDecodesAsTransformers() throws {
    let tokenizer = try TokenizerFixtures.smallTokenizer.get()
    let fixture = try TokenizerFixtures.small.get()
    let wrong = decodeMismatches(tokenizer, fixture.cases)
    #expect(wrong.isEmpty, "\(wrong.count) differ: \(wrong.prefix(5).joined(separator: "; "))")
    for item in fixture.cases { #expect(tokenizer.decode(tokenizer.encode(item.text)) == item.text) }
}

@Test func invalidUTF8DecodesAsReplacementCharacters() throws {
    let tokenizer = try TokenizerFixtures.smallTokenizer.get()
    let fixture = try TokenizerFixtures.small.get()
    #expect(!fixture.invalid_utf8.isEmpty)
    for item in fixture.invalid_utf8 { #expect(tokenizer.decode(item.ids) == item.decoded, "\(item.ids)") }
}

@Test func smallTokenizerReadsAddedTokensAndVocabulary() throws {
    let tokenizer = try TokenizerFixtures.smallTokenizer.get()
    #expect(tokenizer.vocabularySize == 542)
    #expect(tokenizer.preTokenizer == .gpt2)
    #expect(tokenizer.addedTokens.map(\.content) == ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "[NOTE]"])
    #expect(tokenizer.addedTokens.map(\.isSpecial) == [true, true, true, false])
    #expect(tokenizer.encode("<|im_start|>[NOTE]") == [1, 541])
    #expect(tokenizer.id(ofToken: "Ġ") != nil)
    #expect(tokenizer.bosTokenID == nil && !tokenizer.addsBOS)
}

// MARK: - The small Llama-3-style tokenizer (always run)

@Test func llama3StyleTokenizerEncodesAsTransformers() throws {
    let tokenizer = try TokenizerFixtures.llama3StyleTokenizer.get()
    let fixture = try TokenizerFixtures.llama3Style.get()
    #expect(tokenizer.preTokenizer == .llama3 && tokenizer.ignoresMerges)
    let wrong = mismatches(tokenizer, fixture.cases)
    #expect(wrong.isEmpty, "\(wrong.count) of \(fixture.cases.count) differ: \(wrong.prefix(5).joined(separator: "; "))")
    #expect(decodeMismatches(tokenizer, fixture.cases).isEmpty)
    for item in fixture.invalid_utf8 { #expect(tokenizer.decode(item.ids) == item.decoded, "\(item.ids)") }
}

@Test func ignoreMergesTakesAPieceThatIsAToken() throws {
    let tokenizer = try TokenizerFixtures.llama3StyleTokenizer.get()
    let hello = try #require(tokenizer.id(ofToken: "hello"))
    #expect(tokenizer.encode("hello") == [hello])
    #expect(tokenizer.encode(" hello").count > 1)
}

@Test func templateProcessingFirstSpecialTokenIsBOS() throws {
    let tokenizer = try TokenizerFixtures.llama3StyleTokenizer.get()
    let bos = try #require(tokenizer.id(ofToken: "<|begin_of_text|>"))
    #expect(tokenizer.bosTokenID == bos && tokenizer.addsBOS)
    #expect(tokenizer.promptIDs("hello") == [bos] + tokenizer.encode("hello"))
}

@Test func idsOutsideTheVocabularyDecodeToNothing() throws {
    let tokenizer = try TokenizerFixtures.smallTokenizer.get()
    let ids = tokenizer.encode("hello")
    #expect(tokenizer.decode([-1] + ids + [tokenizer.vocabularySize, Int.max]) == "hello")
}

@Test func emptyTextHasNoIDs() throws {
    let tokenizer = try TokenizerFixtures.smallTokenizer.get()
    #expect(tokenizer.encode("").isEmpty)
    #expect(tokenizer.decode([]) == "")
}

@Test func promptIDsStartWithBOSOnlyWhenTheModelExpectsIt() throws {
    let plain = try ByteLevelBPETokenizer(
        tokens: ["a", "b", "<s>"], merges: [], preTokenizer: .gpt2, bosTokenID: 2, addsBOS: false)
    let withBOS = try ByteLevelBPETokenizer(
        tokens: ["a", "b", "<s>"], merges: [], preTokenizer: .gpt2, bosTokenID: 2, addsBOS: true)
    #expect(plain.promptIDs("ab") == [0, 1])
    #expect(withBOS.promptIDs("ab") == [2, 0, 1])
}

// MARK: - Pre-tokenizers

@Test(arguments: PreTokenizer.allCases)
func preTokenizerCutsAsHuggingFace(_ kind: PreTokenizer) throws {
    let fixture = try TokenizerFixtures.preTokens.get()
    if kind != .smollm { #expect(fixture.patterns[kind.rawValue] == kind.pattern) }
    var wrong: [String] = []
    for item in fixture.cases {
        let pieces = kind.pieces(of: item.text)
        #expect(pieces.joined() == item.text)
        let lengths = pieces.map(\.unicodeScalars.count)
        if lengths != item.pieceLengths(kind) {
            wrong.append("\(item.text.debugDescription): \(pieces) (lengths \(lengths) ≠ \(item.pieceLengths(kind)))")
        }
    }
    #expect(wrong.isEmpty, "\(wrong.count) of \(fixture.cases.count) differ: \(wrong.prefix(5).joined(separator: "; "))")
}

@Test func llamaAndQwenContractionsIgnoreCase() {
    #expect(PreTokenizer.llama3.pieces(of: "DON'T") == ["DON", "'T"])
    #expect(PreTokenizer.gpt2.pieces(of: "DON'T") == ["DON", "'", "T"])
    #expect(PreTokenizer.llama3.pieces(of: "12345") == ["123", "45"])
    #expect(PreTokenizer.qwen2.pieces(of: "123") == ["1", "2", "3"])
}

@Test func ggufPreTypeNamesMapToPreTokenizers() {
    #expect(PreTokenizer(ggufName: "smollm") == .smollm)
    #expect(PreTokenizer(ggufName: "llama-bpe") == .llama3)
    #expect(PreTokenizer(ggufName: "qwen2") == .qwen2)
    #expect(PreTokenizer(ggufName: "gpt2") == .gpt2)
    #expect(PreTokenizer(ggufName: "default") == nil)
    #expect(PreTokenizer.ggufNames.allSatisfy { PreTokenizer(ggufName: $0) != nil })
}

// MARK: - Merges

@Test func heapAndScanningMergeAlike() throws {
    let tokenizer = try TokenizerFixtures.smallTokenizer.get()
    var seed: UInt64 = 42
    let alphabet = Array("the quick brown fox 0123456789+=".utf8)
    for _ in 0..<500 {
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let length = Int(seed >> 58) + 2
        var symbols: [Int32] = []
        for _ in 0..<length {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            symbols.append(tokenizer.byteTokenIDs[Int(alphabet[Int(seed >> 33) % alphabet.count])])
        }
        var scanned = symbols
        var heaped = symbols
        tokenizer.merges.applyByScanning(to: &scanned)
        tokenizer.merges.applyByHeap(to: &heaped)
        #expect(scanned == heaped)
    }
}

@Test func byteAlphabetRoundTrips() {
    let all = (0...255).map(UInt8.init)
    let spelling = ByteLevelAlphabet.spelling(of: all)
    #expect(spelling.unicodeScalars.count == 256)
    #expect(ByteLevelAlphabet.bytes(ofToken: spelling) == all)
    #expect(ByteLevelAlphabet.spelling(of: Array(" \n".utf8)) == "ĠĊ")
    // A token with a character outside the alphabet decodes to its own UTF-8.
    #expect(ByteLevelAlphabet.bytes(ofToken: "a b") == Array("a b".utf8))
}

// MARK: - Refusals

private func tokenizerError(_ body: () throws -> Void) -> String? {
    guard let error = networkError(body) else { return nil }
    guard case .unsupportedTokenizer(let reason) = error else { return "wrong error: \(error)" }
    return reason
}

/// A minimal tokenizer.json, with members of the document (`top`) or of its model replaced by JSON text.
private func tokenizerJSON(model: [String: String] = [:], top: [String: String] = [:]) -> [UInt8] {
    let byteLevel = #"{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}"#
    let modelMembers =
        [
            ("type", #""BPE""#), ("vocab", #"{"a": 0, "b": 1, "ab": 2, "Ġ": 3}"#), ("merges", #"["a b"]"#),
        ].map { key, value in "\"\(key)\": \(model[key] ?? value)" }
        + model.filter { key, _ in !["type", "vocab", "merges"].contains(key) }
        .map { "\"\($0.key)\": \($0.value)" }
    let members = [
        ("added_tokens", "[]"), ("normalizer", "null"), ("pre_tokenizer", byteLevel), ("post_processor", "null"),
        ("decoder", byteLevel), ("model", "{" + modelMembers.joined(separator: ", ") + "}"),
    ].map { key, value in "\"\(key)\": \(top[key] ?? value)" }
    return Array(("{" + members.joined(separator: ", ") + "}").utf8)
}

@Test func minimalTokenizerJSONLoads() throws {
    let tokenizer = try ByteLevelBPETokenizer(tokenizerJSON: tokenizerJSON())
    #expect(tokenizer.encode("ab a") == [2, 3, 0])
}

@Test func tokenizerJSONRefusesWhatItDoesNotImplement() {
    let cases: [(String, [UInt8])] = [
        ("normalizer", tokenizerJSON(top: ["normalizer": #"{"type": "NFC"}"#])),
        ("Unigram", Array(#"{"model": {"type": "Unigram", "vocab": []}, "pre_tokenizer": null, "decoder": null}"#.utf8)),
        ("byte_fallback", tokenizerJSON(model: ["byte_fallback": #"true"#])),
        ("dropout", tokenizerJSON(model: ["dropout": #"0.1"#])),
        ("continuing_subword_prefix", tokenizerJSON(model: ["continuing_subword_prefix": #""@@""#])),
        (
            "add_prefix_space",
            tokenizerJSON(top: ["pre_tokenizer": #"{"type": "ByteLevel", "add_prefix_space": true, "use_regex": true}"#])
        ),
        ("Metaspace", tokenizerJSON(top: ["pre_tokenizer": #"{"type": "Metaspace"}"#])),
        (
            "Split",
            tokenizerJSON(top: [
                "pre_tokenizer":
                    #"{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "use_regex": false}]}"#
            ])
        ),
        ("decoder", tokenizerJSON(top: ["decoder": #"{"type": "WordPiece"}"#])),
        ("single_word", tokenizerJSON(top: ["added_tokens": #"[{"id": 2, "content": "ab", "single_word": true}]"#])),
    ]
    for (key, bytes) in cases {
        let reason = tokenizerError { _ = try ByteLevelBPETokenizer(tokenizerJSON: bytes) }
        #expect(reason?.contains(key) == true, "\(key): \(reason ?? "accepted")")
    }
}

@Test func tokenizerJSONRefusesBrokenVocabularies() {
    let cases: [(String, [UInt8])] = [
        ("not in the vocabulary", tokenizerJSON(model: ["merges": #"["a c"]"#])),
        ("\"ba\"", tokenizerJSON(model: ["merges": #"["b a"]"#])),
        ("not two tokens", tokenizerJSON(model: ["merges": #"["a b c"]"#])),
        ("both", tokenizerJSON(model: ["vocab": #"{"a": 0, "b": 0}"#])),
        ("outside", tokenizerJSON(model: ["vocab": #"{"a": 0, "b": 99999999999}"#])),
        ("no token has id 1", tokenizerJSON(model: ["vocab": #"{"a": 0, "b": 2, "ab": 3, "Ġ": 4}"#, "merges": "[]"])),
        ("not valid JSON", Array("{".utf8)),
    ]
    for (expected, bytes) in cases {
        let reason = tokenizerError { _ = try ByteLevelBPETokenizer(tokenizerJSON: bytes) }
        #expect(reason?.contains(expected) == true, "\(expected): \(reason ?? "accepted")")
    }
}

@Test func partsRefuseDuplicateTokensAndIDsOutOfRange() {
    #expect(
        tokenizerError { _ = try ByteLevelBPETokenizer(tokens: ["a", "a"], merges: [], preTokenizer: .gpt2) }?
            .contains("both id 0 and id 1") == true)
    #expect(
        tokenizerError { _ = try ByteLevelBPETokenizer(tokens: ["a"], merges: [], preTokenizer: .gpt2, eosTokenID: 5) }?
            .contains("EOS id 5") == true)
    #expect(
        tokenizerError {
            _ = try ByteLevelBPETokenizer(
                tokens: ["a"], merges: [], addedTokens: [AddedToken(id: 0, content: "<s>")], preTokenizer: .gpt2)
        }?.contains("\"<s>\"") == true)
    #expect(tokenizerError { _ = try ByteLevelBPETokenizer(tokens: [], merges: [], preTokenizer: .gpt2) } != nil)
}

// MARK: - GGUF metadata

private var ggufBasics: [(String, Any)] {
    [
        ("tokenizer.ggml.model", "gpt2"), ("tokenizer.ggml.pre", "smollm"),
        ("tokenizer.ggml.tokens", ["<s>", "a", "b", "ab", "1", "Ġ"]), ("tokenizer.ggml.token_type", [Int32(3), 1, 1, 1, 1, 1]),
        ("tokenizer.ggml.merges", ["a b"]), ("tokenizer.ggml.bos_token_id", UInt32(0)), ("tokenizer.ggml.add_bos_token", true),
    ]
}

private func replacing(_ key: String, with value: Any?) -> [(String, Any)] {
    var entries = ggufBasics.filter { $0.0 != key }
    if let value { entries.append((key, value)) }
    return entries
}

@Test func ggufMetadataLoads() throws {
    let tokenizer = try ByteLevelBPETokenizer(gguf: ggufWithMetadata(ggufBasics))
    #expect(tokenizer.encode("<s>ab 1") == [0, 3, 5, 4])
    #expect(tokenizer.bosTokenID == 0 && tokenizer.addsBOS && tokenizer.eosTokenID == nil)
    #expect(tokenizer.addedTokens == [AddedToken(id: 0, content: "<s>")])
    #expect(tokenizer.decode([0, 3, 5, 4]) == "<s>ab 1")
}

@Test func ggufRefusesWhatItDoesNotImplement() throws {
    let cases: [(String, [(String, Any)])] = [
        ("\"llama\" (SentencePiece)", replacing("tokenizer.ggml.model", with: "llama")),
        ("tokenizer.ggml.model is missing", replacing("tokenizer.ggml.model", with: nil)),
        ("tokenizer.ggml.pre is \"default\"", replacing("tokenizer.ggml.pre", with: "default")),
        ("tokenizer.ggml.pre is missing", replacing("tokenizer.ggml.pre", with: nil)),
        ("tokenizer.ggml.merges is missing", replacing("tokenizer.ggml.merges", with: nil)),
        ("tokenizer.ggml.merges[0]", replacing("tokenizer.ggml.merges", with: ["ab"])),
        ("\"c\", which is not in the vocabulary", replacing("tokenizer.ggml.merges", with: ["a c"])),
        ("2 entries for 6 tokens", replacing("tokenizer.ggml.token_type", with: [Int32(1), 1])),
        ("expected strings", replacing("tokenizer.ggml.tokens", with: [Int32(1)])),
        ("BOS id 7", replacing("tokenizer.ggml.bos_token_id", with: UInt32(7))),
        ("both id 1 and id 2", replacing("tokenizer.ggml.tokens", with: ["<s>", "a", "a", "ab", "1", "Ġ"])),
    ]
    for (expected, entries) in cases {
        let file = try ggufWithMetadata(entries)
        let reason = tokenizerError { _ = try ByteLevelBPETokenizer(gguf: file) }
        #expect(reason?.contains(expected) == true, "\(expected): \(reason ?? "accepted")")
    }
    // An explicit pre-tokenizer stands in for a missing tokenizer.ggml.pre.
    #expect(
        try ByteLevelBPETokenizer(gguf: ggufWithMetadata(replacing("tokenizer.ggml.pre", with: nil)), preTokenizer: .gpt2).preTokenizer
            == .gpt2)
}

// MARK: - SmolLM2 (needs RETORT_SMOLLM2_GGUF)

@Test func smolLM2FromGGUFEncodesAsTransformers() throws {
    guard let file = try TokenizerFixtures.smolLM2GGUF() else { return }
    let tokenizer = try ByteLevelBPETokenizer(gguf: file)
    let fixture = try TokenizerFixtures.smolLM2.get()
    #expect(tokenizer.vocabularySize == 49_152)
    #expect(tokenizer.mergeCount == 48_900)
    #expect(tokenizer.preTokenizer == .smollm)
    #expect(tokenizer.bosTokenID == 1 && tokenizer.eosTokenID == 2 && !tokenizer.addsBOS)
    #expect(tokenizer.addedTokens.count == 17)
    let wrong = mismatches(tokenizer, fixture.cases)
    #expect(wrong.isEmpty, "\(wrong.count) of \(fixture.cases.count) differ: \(wrong.prefix(5).joined(separator: "; "))")
    print("SmolLM2 GGUF: \(fixture.cases.count - wrong.count) of \(fixture.cases.count) texts give transformers' ids")
}

@Test func smolLM2FromGGUFDecodesAsTransformers() throws {
    guard let file = try TokenizerFixtures.smolLM2GGUF() else { return }
    let tokenizer = try ByteLevelBPETokenizer(gguf: file)
    let fixture = try TokenizerFixtures.smolLM2.get()
    let wrong = decodeMismatches(tokenizer, fixture.cases)
    #expect(wrong.isEmpty, "\(wrong.count) differ: \(wrong.prefix(5).joined(separator: "; "))")
    for item in fixture.cases { #expect(tokenizer.decode(tokenizer.encode(item.text)) == item.text) }
    for item in fixture.invalid_utf8 { #expect(tokenizer.decode(item.ids) == item.decoded, "\(item.ids)") }
}

/// transformers' own GGUF loader drops SmolLM's Digits step; with GPT-2's pre-tokenizer we give its ids.
@Test func smolLM2WithGPT2PreTokenizerEncodesAsTransformersGGUFLoader() throws {
    guard let file = try TokenizerFixtures.smolLM2GGUF() else { return }
    let tokenizer = try ByteLevelBPETokenizer(gguf: file, preTokenizer: .gpt2)
    let fixture = try TokenizerFixtures.smolLM2.get()
    #expect(fixture.cases.contains { $0.gguf_loader_ids != nil })
    let wrong = mismatches(tokenizer, fixture.cases) { $0.gguf_loader_ids ?? $0.ids }
    #expect(wrong.isEmpty, "\(wrong.count) of \(fixture.cases.count) differ: \(wrong.prefix(5).joined(separator: "; "))")
}

@Test func smolLM2TokenizerJSONMatchesGGUF() throws {
    guard let file = try TokenizerFixtures.smolLM2GGUF() else { return }
    guard let path = ProcessInfo.processInfo.environment["RETORT_SMOLLM2_TOKENIZER_JSON"], !path.isEmpty else {
        print("skipped: set RETORT_SMOLLM2_TOKENIZER_JSON (scripts/tokenizer_parity.py --export-json DIR) to compare")
        return
    }
    let fromGGUF = try ByteLevelBPETokenizer(gguf: file)
    let fromJSON = try ByteLevelBPETokenizer(tokenizerJSON: path)
    #expect(fromJSON.tokens == fromGGUF.tokens)
    #expect(fromJSON.mergeCount == fromGGUF.mergeCount)
    #expect(fromJSON.preTokenizer == .smollm)
    #expect(fromJSON.addedTokens.map(\.id) == fromGGUF.addedTokens.map(\.id))
    #expect(fromJSON.bosTokenID == fromGGUF.bosTokenID && fromJSON.eosTokenID == fromGGUF.eosTokenID)
    let fixture = try TokenizerFixtures.smolLM2.get()
    let wrong = fixture.cases.filter { fromJSON.encode($0.text) != fromGGUF.encode($0.text) }.map(\.text)
    #expect(wrong.isEmpty, "\(wrong.count) differ: \(wrong.prefix(5))")
    #expect(mismatches(fromJSON, fixture.cases).isEmpty)
}

/// Speed on demand (RETORT_TOKENIZER_BENCH=1, release build): load, and encode 1 MB of English.
@Test func smolLM2Speed() throws {
    guard ProcessInfo.processInfo.environment["RETORT_TOKENIZER_BENCH"] != nil else { return }
    guard let file = try TokenizerFixtures.smolLM2GGUF() else { return }
    let clock = ContinuousClock()
    var tokenizer: ByteLevelBPETokenizer?
    let load = try clock.measure { tokenizer = try ByteLevelBPETokenizer(gguf: file) }
    let fixture = try TokenizerFixtures.smolLM2.get()
    let sentences = fixture.cases.filter { $0.text.count > 20 }.map(\.text).joined(separator: "\n")
    var text = ""
    while text.utf8.count < 1_000_000 { text += sentences + "\n" }
    var count = 0
    let encode = clock.measure { count = tokenizer!.encode(text).count }
    var decoded = ""
    let decode = clock.measure { decoded = tokenizer!.decode(tokenizer!.encode(text)) }
    #expect(decoded == text)
    print("SmolLM2 tokenizer: load \(load), encode \(text.utf8.count) bytes → \(count) ids in \(encode), encode+decode \(decode)")
}

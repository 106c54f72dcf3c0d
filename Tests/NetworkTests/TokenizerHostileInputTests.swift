import Testing

@testable import Network

// Hostile tokenizer files: errors name the file and the JSON path that is wrong.

private let minimalTokenizerJSON = Array(
    #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}, "decoder": {"type": "ByteLevel"}}"#
        .utf8)

private func reason(config: String) -> String? {
    let error = networkError {
        _ = try ByteLevelBPETokenizer(tokenizerJSON: minimalTokenizerJSON, config: Array(config.utf8))
    }
    guard let error else { return nil }
    guard case .unsupportedTokenizer(let reason) = error else { return "wrong error: \(error)" }
    return reason
}

@Test(arguments: [
    (#"{"eos_token": 5}"#, "tokenizer_config.json at eos_token"),
    (#"{"bos_token": "a", "bos_token": "b"}"#, "tokenizer_config.json at bos_token"),
    (#"{"add_bos_token": "yes"}"#, "tokenizer_config.json at add_bos_token"),
])
func tokenizerConfigErrorsNameTokenizerConfigNotTokenizerJSON(_ config: String, _ expected: String) {
    let found = reason(config: config)
    #expect(found?.hasPrefix(expected) == true, "\(String(describing: found))")
}

@Test func aVocabularyIDNearTheLimitIsRefusedAtTheFirstGap() throws {
    // One token at id 2^24 − 1: the gap at id 0 is reported (without reserving room for 2^24 tokens first).
    let json =
        #"{"model": {"type": "BPE", "vocab": {"a": 16777215}, "merges": []}, "#
        + #""pre_tokenizer": {"type": "ByteLevel"}, "decoder": {"type": "ByteLevel"}}"#
    let error = networkError { _ = try ByteLevelBPETokenizer(tokenizerJSON: Array(json.utf8)) }
    #expect(error?.description.contains("no token has id 0") == true, "\(String(describing: error))")
}

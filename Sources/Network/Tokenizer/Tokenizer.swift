/// Text ↔ token ids for a language model.
///
/// Implementations: `ByteLevelBPETokenizer` (GPT-2, Llama 3, SmolLM, Qwen2 …), read from a GGUF file's
/// `tokenizer.ggml.*` metadata or a Hugging Face `tokenizer.json`.
public protocol Tokenizer: Sendable {
    /// The ids of `text`, without any special token added (no BOS): what `tokenizer(text,
    /// add_special_tokens=False)` gives in Hugging Face `transformers`.
    func encode(_ text: String) -> [Int]
    /// The text of `ids`; special tokens (BOS, EOS, chat markers) are rendered as their own text.
    func decode(_ ids: [Int]) -> String
    /// The number of ids (the vocabulary with added tokens).
    var vocabularySize: Int { get }
    /// The beginning-of-sequence id, if the model has one.
    var bosTokenID: Int? { get }
    /// The end-of-sequence id, if the model has one.
    var eosTokenID: Int? { get }
    /// Whether the model expects BOS before a prompt (`tokenizer.ggml.add_bos_token`, `add_bos_token`).
    var addsBOS: Bool { get }
}

extension Tokenizer {
    /// The ids a prompt is run on: BOS first when the model expects it, then `encode(text)`.
    public func promptIDs(_ text: String) -> [Int] {
        (addsBOS ? bosTokenID.map { [$0] } ?? [] : []) + encode(text)
    }
}

/// A causal language model: a transformer over token ids that can continue a prompt.
///
/// Conforming types (`LlamaNetwork`, `GPT2Network`) are also `NeuralNetwork`s: `run` on
/// `.tokens(ids:batch:length:)` gives logits `[batch, length, vocabularySize]` and every TransformerLens
/// hook and intervention works on them.
public protocol LanguageModel: NeuralNetwork {
    /// The longest sequence (prompt + generated tokens) the model takes.
    var contextLength: Int { get }
    /// The number of output logits per position.
    var vocabularySize: Int { get }
    /// The tokenizer stored with the weights (GGUF metadata, `tokenizer.json` beside the file), if any.
    var tokenizer: (any Tokenizer)? { get }

    /// Greedy continuation of each prompt (prompts may differ in length): up to `maxNewTokens` ids
    /// each, stopping early at any id in `stop` (the stop id is included). Uses a KV cache, so each new
    /// token costs one position's work; the same interventions as `run` may be given and apply at
    /// every position they name, during the prompt and generation alike.
    /// - Throws: `invalidInput` when a prompt is empty or prompt + `maxNewTokens` exceeds `contextLength`.
    func generate(
        _ prompts: [[Int]], maxNewTokens: Int, stop: Set<Int>, interventions: [Intervention]
    ) throws(NetworkError) -> [[Int]]

    /// The logits of the position after each prompt's last token (prompts may differ in length):
    /// `[prompts.count][vocabularySize]`.
    func nextTokenLogits(_ prompts: [[Int]], interventions: [Intervention]) throws(NetworkError) -> [[Float]]

    /// Runs prompts that share a prefix with per-prompt interventions and captures (`PromptBatch`).
    /// - Throws: `invalidInput` when the prompts do not share `sharedPrefix` tokens or are too long;
    ///   `invalidIntervention` when an intervention names no positions or one inside the shared prefix.
    func run(_ batch: PromptBatch) throws(NetworkError) -> PromptBatchRun
}

extension LanguageModel {
    /// Runs the prompts through `generate` or `nextTokenLogits` (no prefix is reused): all at once without
    /// interventions, else each on its own with its list; captures are not supported. Llama and GPT-2 models reuse the shared prefix's keys and values instead.
    public func run(_ batch: PromptBatch) throws(NetworkError) -> PromptBatchRun {
        guard batch.capture.isEmpty else {
            throw .invalidInput(reason: "this language model does not capture activations of prompt batches")
        }
        let none = Array(repeating: [String: FloatTensor](), count: batch.prompts.count)
        if batch.interventions.allSatisfy(\.isEmpty) {
            if batch.maxNewTokens == 0 {
                let logits = try nextTokenLogits(batch.prompts, interventions: [])
                return PromptBatchRun(generated: Array(repeating: [], count: batch.prompts.count), logits: logits, activations: none)
            }
            let generated = try generate(batch.prompts, maxNewTokens: batch.maxNewTokens, stop: batch.stop, interventions: [])
            return PromptBatchRun(generated: generated, logits: nil, activations: none)
        }
        var generated: [[Int]] = []
        var logits: [[Float]] = []
        for (b, prompt) in batch.prompts.enumerated() {
            let interventions = batch.interventions.isEmpty ? [] : batch.interventions[b]
            if batch.maxNewTokens == 0 {
                logits += try nextTokenLogits([prompt], interventions: interventions)
                generated.append([])
            } else {
                generated += try generate([prompt], maxNewTokens: batch.maxNewTokens, stop: batch.stop, interventions: interventions)
            }
        }
        return PromptBatchRun(generated: generated, logits: batch.maxNewTokens == 0 ? logits : nil, activations: none)
    }
}

import Foundation
import WeightFiles

/// A GPT-2 causal language model: LayerNorm, learned position embeddings, fused `c_attn`
/// split into q/k/v, `gelu_new` MLP, biases, tied (or separate) output embedding. Computes what
/// `transformers`' `GPT2LMHeadModel` computes, in Float32, from Hugging Face names
/// (`transformer.h.N.attn.c_attn.weight` or `h.N.…`, `wte`, `wpe`, `ln_f`; `Conv1D` weights are
/// `[in, out]`) or llama.cpp's GPT-2 names (`blk.N.attn_qkv.weight`, `position_embd.weight`, …).
///
/// Hooks (TransformerLens names): `hook_embed`, `hook_pos_embed`; per block
/// `blocks.N.hook_resid_pre`, `ln1.hook_normalized` (LayerNorm output, affine applied),
/// `attn.hook_q`, `attn.hook_k`, `attn.hook_v`, `attn.hook_attn_scores`, `attn.hook_pattern`,
/// `attn.hook_z`, `hook_attn_out`, `hook_resid_mid`, `ln2.hook_normalized`, `mlp.hook_pre`,
/// `mlp.hook_post`, `hook_mlp_out`, `hook_resid_post`; then `ln_final.hook_normalized`.
public struct GPT2Network: LanguageModel {
    var core: DecoderTransformer
    /// The tokenizer, when one has been attached (`LanguageModels.load(_:)` attaches the one stored with the weights).
    public var tokenizer: (any Tokenizer)?

    /// Loads the model described by `config` from `file`, converting every weight to Float32 once.
    /// - Throws: `missingTensor` / `wrongShape` naming the tensor and the shape `config` implies.
    public init(file: any WeightFile, config: LanguageModelConfig, threads: Int = ProcessInfo.processInfo.activeProcessorCount)
        throws(NetworkError)
    {
        guard config.architecture == .gpt2 else {
            throw .invalidDescription(path: "architecture", reason: "\(config.architecture.rawValue) is not a GPT-2 model")
        }
        core = try DecoderTransformer(file: file, config: config, threads: threads)
    }

    /// Loads a GGUF file (`general.architecture` gpt2) or a Hugging Face folder or weight
    /// file with `config.json` beside it.
    public init(path: String, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws(NetworkError) {
        let (file, config) = try LanguageModels.open(path)
        try self.init(file: file, config: config, threads: threads)
    }

    /// The configuration the model was loaded with.
    public var config: LanguageModelConfig { core.config }
    public var contextLength: Int { core.config.contextLength }
    public var vocabularySize: Int { core.vocabularySize }
    public var hookNames: [String] { core.hookNames }
    /// Threads for the matrix multiplies and attention.
    public var threads: Int { core.threads }
    /// How products by block-quantized (GGUF) weights are computed (default `.int16`).
    public var arithmetic: QuantizedArithmetic {
        get { core.arithmetic }
        set { core.arithmetic = newValue }
    }

    public func run(_ input: NetworkInput, capture: Set<String>, interventions: [Intervention]) throws(NetworkError) -> NetworkRun {
        try core.run(input, capture: capture, interventions: interventions)
    }

    public func generate(
        _ prompts: [[Int]], maxNewTokens: Int, stop: Set<Int> = [], interventions: [Intervention] = []
    ) throws(NetworkError) -> [[Int]] {
        try core.generate(prompts, maxNewTokens: maxNewTokens, stop: stop, interventions: interventions)
    }

    public func run(_ batch: PromptBatch) throws(NetworkError) -> PromptBatchRun { try core.run(batch) }

    public func nextTokenLogits(_ prompts: [[Int]], interventions: [Intervention] = []) throws(NetworkError) -> [[Float]] {
        try core.nextTokenLogits(prompts, interventions: interventions)
    }
}

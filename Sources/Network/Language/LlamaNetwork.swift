import Foundation
import WeightFiles

/// A Llama-family causal language model (Llama 1–3, SmolLM, Mistral without sliding window,
/// Qwen2): RMSNorm, rotary position embeddings, grouped-query attention, SwiGLU MLP, optional
/// q/k/v biases, tied or separate output embedding. Computes what `transformers`'
/// `LlamaForCausalLM` / `Qwen2ForCausalLM` compute, in Float32, from the file's own tensor names:
/// Hugging Face (`model.layers.N.self_attn.q_proj.weight`, …) or GGUF (`blk.N.attn_q.weight`, …;
/// llama.cpp's interleaved Q/K rows are put back in the rotate-half order at load).
///
/// Hooks (TransformerLens names): `hook_embed`; per block `blocks.N.hook_resid_pre`,
/// `ln1.hook_normalized` (the norm's output, weight applied), `attn.hook_q`, `attn.hook_k`,
/// `attn.hook_v` (`[batch, pos, heads, d_head]`, keys and values with the key/value heads),
/// `attn.hook_rot_q`, `attn.hook_rot_k` (after RoPE), `attn.hook_attn_scores` (scaled, −∞ above the
/// diagonal), `attn.hook_pattern`, `attn.hook_z`, `hook_attn_out`, `hook_resid_mid`,
/// `ln2.hook_normalized`, `mlp.hook_pre` (gate pre-activation), `mlp.hook_pre_linear` (up
/// projection), `mlp.hook_post` (`silu(gate)·up`), `hook_mlp_out`, `hook_resid_post`; then
/// `ln_final.hook_normalized`.
public struct LlamaNetwork: LanguageModel {
    var core: DecoderTransformer
    /// The tokenizer, when one has been attached (`LanguageModels.load(_:)` attaches the one stored with the weights).
    public var tokenizer: (any Tokenizer)?

    /// Loads the model described by `config` from `file`, converting every weight to Float32 once.
    /// - Throws: `missingTensor` / `wrongShape` naming the tensor and the shape `config` implies.
    public init(file: any WeightFile, config: LanguageModelConfig, threads: Int = ProcessInfo.processInfo.activeProcessorCount)
        throws(NetworkError)
    {
        guard config.architecture.isLlamaFamily else {
            throw .invalidDescription(path: "architecture", reason: "\(config.architecture.rawValue) is not a Llama-family model")
        }
        core = try DecoderTransformer(file: file, config: config, threads: threads)
    }

    /// Loads a GGUF file (`general.architecture` llama or qwen2) or a Hugging Face folder or weight
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

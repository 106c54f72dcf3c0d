import Foundation
import WeightFiles

extension LanguageModels {
    /// How one tensor of a language model is initialised in `randomInitialised(file:config:seed:)`.
    public enum Initialisation: Sendable, Equatable {
        /// Normal draws with mean 0 and this standard deviation.
        case normal(standardDeviation: Double)
        /// Every element this value (norm gains 1, biases 0).
        case constant(Float)
        /// Copied unchanged: not a learned parameter (llama.cpp's `rope_freqs.weight`, GPT-2's causal-mask buffers).
        case copied
    }

    /// The initialisation transformers gives tensor `name` of rank `rank` in a model of `config`
    /// (`PreTrainedModel._init_weights`, and `GPT2PreTrainedModel`'s override):
    /// linear and embedding weights (every weight of rank ≥ 2, the unembedding and GPT-2's position
    /// embedding included) normal(0, `initializer_range`); GPT-2's residual projections (`attn.c_proj`,
    /// `mlp.c_proj`; llama.cpp's `attn_output`, `ffn_down`) normal(0, `initializer_range` / √(2 × layers));
    /// biases 0; norm gains (the only rank-1 weights these architectures have) 1.
    /// - Complexity: O(name length)
    public static func initialisation(of name: String, rank: Int, config: LanguageModelConfig) -> Initialisation {
        if name.hasSuffix("rope_freqs.weight") { return .copied }
        let range = config.initializerRange
        if rank >= 2 && name.hasSuffix(".weight") {
            let residualProjections = ["attn.c_proj.weight", "mlp.c_proj.weight", "attn_output.weight", "ffn_down.weight"]
            if config.architecture == .gpt2 && residualProjections.contains(where: { name.hasSuffix($0) }) {
                return .normal(standardDeviation: range / (2 * Double(config.layers)).squareRoot())
            }
            return .normal(standardDeviation: range)
        }
        if rank == 1 && name.hasSuffix(".bias") { return .constant(0) }
        if rank == 1 && name.hasSuffix(".weight") { return .constant(1) }
        return .copied
    }

    /// A randomly initialised copy of the language model in `file` (configuration `config`), as transformers
    /// initialises a fresh model of that configuration (`initialisation(of:rank:config:)`): every tensor keeps
    /// its name and shape and is stored as Float32 (a quantized GGUF tensor too), so the copy loads with
    /// `load(file:config:threads:)` into the same architecture; the metadata is copied. This is the
    /// random-init control of the prompt-task representation tests.
    ///
    /// Draws are seeded: one SplitMix64 stream per tensor, from `seed` and the tensor's position, so a copy is
    /// the same on every platform and run. The embedding's padding row is not zeroed (transformers zeroes it
    /// when the configuration names a pad token; prompts never contain it).
    /// - Throws: `weightFile` when a tensor to copy cannot be read.
    /// - Complexity: O(total elements)
    public static func randomInitialised(file: any WeightFile, config: LanguageModelConfig, seed: UInt64)
        throws(NetworkError) -> InMemoryWeightFile
    {
        var views: [TensorView] = []
        views.reserveCapacity(file.tensors.count)
        for (position, info) in file.tensors.enumerated() {
            let rule = initialisation(of: info.name, rank: info.shape.count, config: config)
            if case .copied = rule {
                do { views.append(try file.tensor(at: position)) } catch { throw .weightFile(error) }
                continue
            }
            let count = info.elementCount
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count * 4, 1), alignment: 64)
            switch rule {
            case .normal(let deviation):
                var generator = SplitMix64(seed: seed ^ (UInt64(position) &* 0x9E37_79B9_7F4A_7C15))
                for i in 0..<count {
                    let value = Float(deviation * generator.gaussian())
                    buffer.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
                }
            case .constant(let value):
                for i in 0..<count { buffer.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
            case .copied:
                break
            }
            let storage = ByteStorage(adopting: buffer, count: count * 4)
            views.append(
                TensorView(
                    info: TensorInfo(name: info.name, dtype: .f32, shape: info.shape), storage: storage, byteRange: 0..<(count * 4)))
        }
        do { return try InMemoryWeightFile(views: views, metadata: file.metadata) } catch { throw .weightFile(error) }
    }

    /// A random-init copy of `model` (loaded from `file`): `randomInitialised(file:config:seed:)` loaded with the
    /// model's configuration and `threads` threads, with the model's tokenizer attached.
    /// - Throws: `invalidDescription` when `model` is not a `LlamaNetwork` or `GPT2Network`; the loaders' errors.
    /// - Complexity: O(total elements), and the memory of a Float32 copy of the model.
    public static func randomInitialised(_ model: any LanguageModel, file: any WeightFile, seed: UInt64, threads: Int)
        throws(NetworkError) -> any LanguageModel
    {
        guard let config = DecoderTransformer.core(of: model)?.config else {
            throw .invalidDescription(
                path: "control", reason: "a random-init copy needs a Llama or GPT-2 model; this is \(type(of: model))")
        }
        let weights = try randomInitialised(file: file, config: config, seed: seed)
        let copy = try load(file: weights, config: config, threads: threads)
        guard let tokenizer = model.tokenizer else { return copy }
        return attaching(tokenizer, to: copy)
    }
}

import Foundation
import WeightFiles

/// The hyperparameters of a decoder-only language model (Llama, Qwen2, GPT-2), read from a GGUF
/// file's metadata or a Hugging Face `config.json`.
public struct LanguageModelConfig: Sendable, Equatable {
    /// The architectures Retort runs.
    public enum Architecture: String, Sendable, CaseIterable {
        /// RMSNorm, RoPE, grouped-query attention, SwiGLU MLP, no biases (Llama 1–3, SmolLM, Mistral without sliding window).
        case llama
        /// Llama with q/k/v biases (Qwen2, Qwen2.5).
        case qwen2
        /// LayerNorm, learned positions, fused `c_attn`, `gelu_new` MLP, biases everywhere.
        case gpt2

        /// True for the RoPE/RMSNorm/SwiGLU family.
        public var isLlamaFamily: Bool { self != .gpt2 }
    }

    /// How RoPE's frequencies are rescaled for long contexts (Hugging Face `rope_scaling`).
    public enum RoPEScaling: Sendable, Equatable {
        case none
        /// Positions divided by `factor` (`"linear"`).
        case linear(factor: Double)
        /// Llama 3.1's frequency-dependent scaling (`"llama3"`).
        case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalContext: Int)
    }

    public var architecture: Architecture
    public var layers: Int
    public var dModel: Int
    /// Query heads.
    public var heads: Int
    /// Key/value heads (grouped-query attention); equal to `heads` for GPT-2.
    public var kvHeads: Int
    public var dHead: Int
    /// The MLP's hidden width (`intermediate_size`, `n_inner`, `feed_forward_length`).
    public var dMLP: Int
    public var vocabularySize: Int
    /// The longest sequence (`max_position_embeddings`, `n_positions`, `context_length`).
    public var contextLength: Int
    /// RMSNorm / LayerNorm epsilon.
    public var normEps: Float
    /// RoPE's base θ (Llama family).
    public var ropeBase: Double
    public var ropeScaling: RoPEScaling
    /// The standard deviation of the normal initialisation of linear and embedding weights (Hugging Face
    /// `initializer_range`; transformers' default 0.02 when the file does not say, as GGUF files never do).
    /// Used only to build random-init controls (`LanguageModels.randomInitialised`).
    public var initializerRange = 0.02

    public init(
        architecture: Architecture, layers: Int, dModel: Int, heads: Int, kvHeads: Int? = nil, dHead: Int? = nil,
        dMLP: Int, vocabularySize: Int, contextLength: Int, normEps: Float = 1e-5, ropeBase: Double = 10000,
        ropeScaling: RoPEScaling = .none
    ) {
        self.architecture = architecture
        self.layers = layers
        self.dModel = dModel
        self.heads = heads
        self.kvHeads = kvHeads ?? heads
        self.dHead = dHead ?? dModel / max(heads, 1)
        self.dMLP = dMLP
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.normEps = normEps
        self.ropeBase = ropeBase
        self.ropeScaling = ropeScaling
    }

    /// The largest value a size of the configuration may take (layers, widths, heads, vocabulary, context):
    /// far beyond any real model, and small enough that the product of two sizes cannot overflow.
    public static let maximumSize = 1 << 30

    /// Checks the values fit together (heads divide evenly, RoPE's dimension is even, …).
    func validate(source: String) throws(NetworkError) {
        for (name, value) in [
            ("layers", layers), ("d_model", dModel), ("heads", heads), ("kv_heads", kvHeads), ("d_head", dHead),
            ("d_mlp", dMLP), ("vocabulary size", vocabularySize), ("context length", contextLength),
        ] {
            if value < 1 { throw .invalidFile(kind: "model configuration (\(source))", path: "", reason: "\(name) must be at least 1, found \(value)") }
            if value > Self.maximumSize {
                throw .invalidFile(
                    kind: "model configuration (\(source))", path: "", reason: "\(name) must be at most \(Self.maximumSize) (2^30), found \(value)")
            }
        }
        guard heads % kvHeads == 0 else {
            throw .invalidFile(
                kind: "model configuration (\(source))", path: "", reason: "\(heads) query heads cannot be grouped over \(kvHeads) key/value heads")
        }
        if architecture.isLlamaFamily, dHead % 2 != 0 {
            throw .invalidFile(kind: "model configuration (\(source))", path: "", reason: "RoPE needs an even head dimension, found \(dHead)")
        }
        if architecture == .gpt2, heads * dHead != dModel {
            throw .invalidFile(kind: "model configuration (\(source))", path: "", reason: "GPT-2 needs n_embd = n_head × d_head")
        }
        guard normEps > 0, normEps.isFinite else {
            throw .invalidFile(kind: "model configuration (\(source))", path: "", reason: "the norm epsilon must be positive and finite")
        }
        if architecture.isLlamaFamily {
            guard ropeBase > 0, ropeBase.isFinite else {
                throw .invalidFile(kind: "model configuration (\(source))", path: "", reason: "RoPE's base θ must be positive and finite, found \(ropeBase)")
            }
            switch ropeScaling {
            case .none: break
            case .linear(let factor):
                guard factor > 0, factor.isFinite else {
                    throw .invalidFile(
                        kind: "model configuration (\(source))", path: "", reason: "the linear RoPE scaling factor must be positive, found \(factor)")
                }
            case .llama3(let factor, let low, let high, _):
                guard factor > 0, factor.isFinite, low > 0, high > low, high.isFinite else {
                    throw .invalidFile(
                        kind: "model configuration (\(source))", path: "", reason: "llama3 RoPE scaling needs factor > 0 and 0 < low_freq_factor < high_freq_factor")
                }
            }
        }
    }

    // MARK: GGUF

    /// The configuration in a GGUF file's metadata (`general.architecture`, then `ARCH.block_count` …).
    /// - Throws: `invalidFile` (GGUF metadata) naming an unsupported architecture or a missing key.
    public init(gguf file: GGUFFile) throws(NetworkError) {
        guard let value = file.value(forKey: "general.architecture") else {
            throw .invalidFile(kind: "GGUF metadata", path: "general.architecture", reason: "missing from the GGUF metadata")
        }
        guard let name = value.stringValue else {
            throw .invalidFile(kind: "GGUF metadata", path: "general.architecture", reason: "is a \(value.type), expected a string")
        }
        guard let architecture = Architecture(rawValue: name) else {
            throw .invalidFile(
                kind: "GGUF metadata", path: "general.architecture",
                reason: "unsupported architecture \"\(name)\" (Retort runs: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        // Sizes beyond `maximumSize` (or negative) are refused before any arithmetic on them; a
        // present value of the wrong type is an error, not "missing".
        func int(_ key: String) throws(NetworkError) -> Int? {
            guard let value = file.value(forKey: "\(name).\(key)") else { return nil }
            guard let v = value.intValue else {
                throw .invalidFile(kind: "GGUF metadata", path: "\(name).\(key)", reason: "is a \(value.type), expected an integer")
            }
            guard (0...Self.maximumSize).contains(v) else {
                throw .invalidFile(kind: "GGUF metadata", path: "\(name).\(key)", reason: "\(v) is outside 0…\(Self.maximumSize) (2^30)")
            }
            return v
        }
        func number(_ key: String) throws(NetworkError) -> Double? {
            guard let value = file.value(forKey: "\(name).\(key)") else { return nil }
            guard let v = value.doubleValue else {
                throw .invalidFile(kind: "GGUF metadata", path: "\(name).\(key)", reason: "is a \(value.type), expected a number")
            }
            return v
        }
        func text(_ key: String) throws(NetworkError) -> String? {
            guard let value = file.value(forKey: "\(name).\(key)") else { return nil }
            guard let v = value.stringValue else {
                throw .invalidFile(kind: "GGUF metadata", path: "\(name).\(key)", reason: "is a \(value.type), expected a string")
            }
            return v
        }
        func required(_ key: String) throws(NetworkError) -> Int {
            guard let v = try int(key) else {
                throw .invalidFile(kind: "GGUF metadata", path: "\(name).\(key)", reason: "missing from the GGUF metadata")
            }
            return v
        }
        let dModel = try required("embedding_length")
        let heads = try required("attention.head_count")
        var vocabulary = try int("vocab_size")
        if vocabulary == nil { vocabulary = file.info(named: "token_embd.weight")?.shape.first }
        if vocabulary == nil { vocabulary = file.value(forKey: "tokenizer.ggml.tokens")?.arrayValue?.count }
        let epsKey = architecture == .gpt2 ? "attention.layer_norm_epsilon" : "attention.layer_norm_rms_epsilon"
        let eps = try number(epsKey) ?? 1e-5
        var scaling = RoPEScaling.none
        if let type = try text("rope.scaling.type"), type != "none" {
            let factor = try number("rope.scaling.factor") ?? 1
            guard type == "linear" else {
                throw .invalidFile(
                    kind: "GGUF metadata", path: "\(name).rope.scaling.type", reason: "unsupported RoPE scaling \"\(type)\" (supported: none, linear)")
            }
            scaling = .linear(factor: factor)
        }
        let dHead = try int("attention.key_length") ?? (heads > 0 ? dModel / heads : 0)
        if let rotary = try int("rope.dimension_count"), architecture.isLlamaFamily, rotary != dHead {
            throw .invalidFile(
                kind: "GGUF metadata", path: "\(name).rope.dimension_count",
                reason: "partial rotary embeddings (\(rotary) of \(dHead) dimensions) are not supported")
        }
        self.init(
            architecture: architecture, layers: try required("block_count"), dModel: dModel, heads: heads,
            kvHeads: try int("attention.head_count_kv") ?? heads, dHead: dHead,
            dMLP: try int("feed_forward_length") ?? 4 * dModel, vocabularySize: vocabulary ?? 0,
            contextLength: try required("context_length"), normEps: Float(eps),
            ropeBase: try number("rope.freq_base") ?? 10000, ropeScaling: scaling)
        try validate(source: "the GGUF metadata")
    }

    // MARK: Hugging Face config.json

    /// The configuration in a Hugging Face `config.json` (`model_type` llama, qwen2, mistral or gpt2).
    /// - Parameter architecture: the architecture to read it as when `model_type` is absent.
    public static func parse(
        huggingFace bytes: [UInt8], source: String, architecture: Architecture? = nil
    ) throws(NetworkError) -> LanguageModelConfig {
        let root = try JSONObjectReader(JSONValue.parseDescription(bytes, what: source), path: "")
        return try LanguageModelConfig(huggingFace: root, source: source, architecture: architecture)
    }

    init(huggingFace object: JSONObjectReader, source: String, architecture given: Architecture?) throws(NetworkError) {
        func path(_ key: String) -> String { "\(source): \(key)" }
        var architecture = given
        if let type = try object.string("model_type") {
            switch type {
            case "llama", "mistral": architecture = .llama
            case "qwen2": architecture = .qwen2
            case "gpt2": architecture = .gpt2
            default:
                throw .invalidFile(
                    kind: "model configuration", path: path("model_type"),
                    reason: "unsupported model type \"\(type)\" (Retort runs: llama, mistral, qwen2, gpt2)")
            }
        }
        guard let architecture else {
            throw .invalidFile(kind: "model configuration", path: path("model_type"), reason: "missing, and no architecture was given")
        }
        // Sizes beyond `maximumSize` are refused before any arithmetic on them.
        func optional(_ key: String) throws(NetworkError) -> Int? {
            guard let v = try object.integer(key, minimum: 1) else { return nil }
            guard v <= Self.maximumSize else {
                throw .invalidFile(kind: "model configuration", path: path(key), reason: "\(v) is more than \(Self.maximumSize) (2^30)")
            }
            return v
        }
        func required(_ key: String) throws(NetworkError) -> Int {
            guard let v = try optional(key) else { throw .invalidFile(kind: "model configuration", path: path(key), reason: "missing") }
            return v
        }
        if architecture == .gpt2 {
            let dModel = try required("n_embd")
            if let act = try object.string("activation_function"),
                !["gelu_new", "gelu_fast", "gelu_pytorch_tanh"].contains(act)
            {
                throw .invalidFile(
                    kind: "model configuration", path: path("activation_function"), reason: "unsupported \"\(act)\" (supported: gelu_new, gelu_pytorch_tanh)")
            }
            if try object.bool("scale_attn_by_inverse_layer_idx") == true {
                throw .invalidFile(kind: "model configuration", path: path("scale_attn_by_inverse_layer_idx"), reason: "not supported")
            }
            if try object.bool("scale_attn_weights") == false {
                throw .invalidFile(kind: "model configuration", path: path("scale_attn_weights"), reason: "unscaled attention is not supported")
            }
            self.init(
                architecture: .gpt2, layers: try required("n_layer"), dModel: dModel, heads: try required("n_head"),
                dMLP: try optional("n_inner") ?? 4 * dModel, vocabularySize: try required("vocab_size"),
                contextLength: try required("n_positions"), normEps: Float(try object.double("layer_norm_epsilon") ?? 1e-5))
        } else {
            if let act = try object.string("hidden_act"), act != "silu" {
                throw .invalidFile(kind: "model configuration", path: path("hidden_act"), reason: "unsupported \"\(act)\" (supported: silu)")
            }
            if let window = try object.integer("sliding_window"), try object.bool("use_sliding_window") ?? (architecture == .llama),
                window < (try object.integer("max_position_embeddings") ?? Int.max)
            {
                throw .invalidFile(kind: "model configuration", path: path("sliding_window"), reason: "sliding-window attention is not supported")
            }
            // transformers ≥ 5 writes `rope_parameters`; earlier versions `rope_theta` and `rope_scaling`.
            var theta = try object.double("rope_theta")
            var scalingObject: JSONObjectReader?
            var scalingPath = path("rope_scaling")
            if let parameters = object.value("rope_parameters") {
                let reader = try JSONObjectReader(parameters, path: path("rope_parameters"))
                theta = try reader.double("rope_theta") ?? theta
                scalingObject = reader
                scalingPath = path("rope_parameters")
            }
            if let scaling = object.value("rope_scaling") {
                scalingObject = try JSONObjectReader(scaling, path: path("rope_scaling"))
                scalingPath = path("rope_scaling")
            }
            let scaling = try Self.ropeScaling(scalingObject, path: scalingPath)
            if let factor = try object.double("partial_rotary_factor"), factor != 1 {
                throw .invalidFile(kind: "model configuration", path: path("partial_rotary_factor"), reason: "partial rotary embeddings are not supported")
            }
            let dModel = try required("hidden_size")
            let heads = try required("num_attention_heads")
            self.init(
                architecture: architecture, layers: try required("num_hidden_layers"), dModel: dModel, heads: heads,
                kvHeads: try optional("num_key_value_heads") ?? heads,
                dHead: try optional("head_dim") ?? dModel / heads,
                dMLP: try required("intermediate_size"), vocabularySize: try required("vocab_size"),
                contextLength: try required("max_position_embeddings"),
                normEps: Float(try object.double("rms_norm_eps") ?? 1e-6), ropeBase: theta ?? 10000, ropeScaling: scaling)
        }
        // transformers reads `initializer_range or 0.02`: null and 0 mean the default.
        var range = 0.0
        if let value = object.value("initializer_range") {
            if case .null = value {} else { range = try object.double("initializer_range") ?? 0 }
        }
        if range != 0 {
            guard range > 0, range <= 1 else {
                throw .invalidFile(kind: "model configuration", path: path("initializer_range"), reason: "\(range) is outside 0…1")
            }
            initializerRange = range
        }
        try validate(source: source)
    }

    private static func ropeScaling(_ object: JSONObjectReader?, path: String) throws(NetworkError) -> RoPEScaling {
        guard let object else { return .none }
        var type = try object.string("rope_type")
        if type == nil { type = try object.string("type") }
        let kind = type ?? "default"
        switch kind {
        case "default": return .none
        case "linear":
            guard let factor = try object.double("factor"), factor > 0 else {
                throw .invalidFile(kind: "model configuration", path: "\(path).factor", reason: "missing or not positive")
            }
            return .linear(factor: factor)
        case "llama3":
            guard let factor = try object.double("factor"), let low = try object.double("low_freq_factor"),
                let high = try object.double("high_freq_factor"),
                let original = try object.integer("original_max_position_embeddings", minimum: 1), high > low
            else {
                throw .invalidFile(
                    kind: "model configuration", path: path,
                    reason: "llama3 scaling needs factor, low_freq_factor < high_freq_factor, original_max_position_embeddings")
            }
            return .llama3(factor: factor, lowFrequencyFactor: low, highFrequencyFactor: high, originalContext: original)
        default:
            throw .invalidFile(
                kind: "model configuration", path: "\(path).rope_type", reason: "unsupported RoPE scaling \"\(kind)\" (supported: default, linear, llama3)")
        }
    }

    /// RoPE's inverse frequencies `1 / θ^(2i/d)`, i < d/2, in Float32 as transformers computes them,
    /// with the configured scaling applied.
    func ropeInverseFrequencies() -> [Float] {
        let half = dHead / 2
        var inv = (0..<half).map { i in
            Float(1) / Float(Foundation.pow(ropeBase, Double(Float(2 * i) / Float(dHead))))
        }
        switch ropeScaling {
        case .none: break
        case .linear(let factor): inv = inv.map { $0 / Float(factor) }
        case .llama3(let factor, let low, let high, let original):
            let lowWavelength = Double(original) / low
            let highWavelength = Double(original) / high
            inv = inv.map { f in
                let wavelength = 2 * Double.pi / Double(f)
                if wavelength < highWavelength { return f }
                if wavelength > lowWavelength { return Float(Double(f) / factor) }
                let smooth = (Double(original) / wavelength - low) / (high - low)
                return Float((1 - smooth) * Double(f) / factor + smooth * Double(f))
            }
        }
        return inv
    }
}

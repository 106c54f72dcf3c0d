import WeightFiles

/// The operations an MLP description can list (`formats/network.md`).
public enum OpKind: String, CaseIterable, Sendable {
    case linear, layernorm, relu, gelu
    case geluTanh = "gelu_tanh"
    case tanh, sigmoid, identity, softmax

    /// Elementwise or per-row ops with no weights.
    var isParameterFree: Bool { self != .linear && self != .layernorm }
}

/// How a linear layer's weight matrix is laid out.
public enum WeightLayout: String, Sendable {
    /// `[in, out]`, `y = x·W + b` (scikit-learn's `coefs_`).
    case inOut = "in_out"
    /// `[out, in]`, `y = x·Wᵀ + b` (PyTorch `nn.Linear`).
    case outIn = "out_in"
}

/// One op of an MLP description.
public struct MLPOp: Sendable, Equatable {
    public var kind: OpKind
    /// The weight tensor's name (linear; layernorm when affine).
    public var weight: String?
    /// The bias tensor's name, if any.
    public var bias: String?
    /// The weight layout (linear only).
    public var layout: WeightLayout
    /// LayerNorm's epsilon.
    public var eps: Float

    public init(kind: OpKind, weight: String? = nil, bias: String? = nil, layout: WeightLayout = .outIn, eps: Float = 1e-5) {
        self.kind = kind
        self.weight = weight
        self.bias = bias
        self.layout = layout
        self.eps = eps
    }
}

/// An MLP: an explicit op stack, or the rule to infer one from the weight file's tensor names.
public struct MLPDescription: Sendable, Equatable {
    /// The expected input width, when the description states it.
    public var inputWidth: Int?
    /// The explicit stack; `nil` means infer it from the tensor names.
    public var layers: [MLPOp]?
    /// Inference: the op after every linear layer but the last.
    public var activation: OpKind
    /// Inference: the op after the last linear layer.
    public var outputActivation: OpKind

    public init(inputWidth: Int? = nil, layers: [MLPOp]? = nil, activation: OpKind = .relu, outputActivation: OpKind = .identity)
    {
        self.inputWidth = inputWidth
        self.layers = layers
        self.activation = activation
        self.outputActivation = outputActivation
    }
}

/// Where a transformer's TransformerLens configuration comes from.
public enum TransformerConfigSource: Sendable, Equatable {
    case inline(TransformerConfig)
    /// The weight file's `__metadata__["transformer_lens_config"]`, else `__metadata__["config"]`.
    case metadata
}

/// A pretrained causal language model run from its own tensor names (`LlamaNetwork`, `GPT2Network`).
public struct LanguageModelDescription: Sendable, Equatable {
    /// The architecture to expect; nil detects it from the file (GGUF `general.architecture`, tensor names).
    public var architecture: LanguageModelConfig.Architecture?
    /// The configuration; nil reads it from the file (GGUF metadata, or `config.json` beside the weights).
    public var config: LanguageModelConfig?
    /// How products by block-quantized GGUF weights are computed.
    public var arithmetic: QuantizedArithmetic

    public init(
        architecture: LanguageModelConfig.Architecture? = nil, config: LanguageModelConfig? = nil,
        arithmetic: QuantizedArithmetic = .int16
    ) {
        self.architecture = architecture
        self.config = config
        self.arithmetic = arithmetic
    }
}

/// A parsed network description (`formats/network.md`).
public enum NetworkDescription: Sendable, Equatable {
    case mlp(MLPDescription)
    case transformer(TransformerConfigSource)
    /// Presets `llama`, `qwen2`, `gpt2` and `auto`.
    case languageModel(LanguageModelDescription)

    /// The metadata key that holds a transformer's configuration as a JSON string.
    public static let metadataConfigKey = "transformer_lens_config"
    /// The metadata keys a transformer's configuration is looked for under, in order: Retort's, then `config`
    /// (where other tools that save TransformerLens models keep it).
    public static let metadataConfigKeys = [metadataConfigKey, "config"]

    /// Parses a description document: a Retort description, or a bare TransformerLens configuration.
    /// - Complexity: O(n) in the document's size.
    public static func parse(_ bytes: [UInt8]) throws(NetworkError) -> NetworkDescription {
        let root = try JSONObjectReader(JSONValue.parseDescription(bytes, what: "the network description"), path: "")
        if !root.has("retort_network") && root.has("n_layers") {
            return .transformer(.inline(try TransformerConfig(root)))
        }
        guard let version = try root.integer("retort_network") else {
            throw .invalidDescription(path: "retort_network", reason: "missing (expected 1)")
        }
        guard version == 1 else {
            throw .invalidDescription(
                path: "retort_network", reason: "unsupported version \(version) (this Retort reads version 1)")
        }
        let preset = try root.requiredString("preset")
        switch preset {
        case "mlp":
            try root.rejectUnknownKeys(allowed: [
                "retort_network", "preset", "input_width", "layers", "activation", "output_activation",
            ])
            return .mlp(try parseMLP(root))
        case "transformer":
            try root.rejectUnknownKeys(allowed: ["retort_network", "preset", "config"])
            guard let config = root.value("config") else {
                throw .invalidDescription(path: "config", reason: "missing (an object, or \"metadata\")")
            }
            if case .string(let text) = config {
                guard text == "metadata" else {
                    throw .invalidDescription(path: "config", reason: "expected an object or \"metadata\", found \"\(text)\"")
                }
                return .transformer(.metadata)
            }
            return .transformer(.inline(try TransformerConfig(JSONObjectReader(config, path: "config"))))
        case "llama", "qwen2", "gpt2", "auto":
            try root.rejectUnknownKeys(allowed: ["retort_network", "preset", "config", "arithmetic"])
            let architecture = LanguageModelConfig.Architecture(rawValue: preset)
            var config: LanguageModelConfig?
            if let value = root.value("config") {
                config = try LanguageModelConfig(
                    huggingFace: JSONObjectReader(value, path: "config"), source: "config", architecture: architecture)
            }
            var arithmetic = QuantizedArithmetic.int16
            if let name = try root.string("arithmetic") {
                guard let chosen = QuantizedArithmetic(rawValue: name) else {
                    throw .invalidDescription(path: "arithmetic", reason: "unknown \"\(name)\" (known: int16, float32)")
                }
                arithmetic = chosen
            }
            return .languageModel(LanguageModelDescription(architecture: architecture, config: config, arithmetic: arithmetic))
        default:
            throw .invalidDescription(
                path: "preset", reason: "unknown preset \"\(preset)\" (known: mlp, transformer, llama, qwen2, gpt2, auto)")
        }
    }

    /// The description a bare preset name stands for on the command line: `mlp` (inferred, with
    /// the given activations), `transformer` (configuration from the metadata), or a language
    /// model: `llama`, `qwen2`, `gpt2`, or `auto` / `lm` (architecture detected from the file).
    public static func preset(
        named name: String, activation: OpKind = .relu, outputActivation: OpKind = .identity
    ) -> NetworkDescription? {
        switch name {
        case "mlp": .mlp(MLPDescription(activation: activation, outputActivation: outputActivation))
        case "transformer": .transformer(.metadata)
        case "llama", "qwen2", "gpt2":
            .languageModel(LanguageModelDescription(architecture: LanguageModelConfig.Architecture(rawValue: name)))
        case "auto", "lm": .languageModel(LanguageModelDescription())
        default: nil
        }
    }

    private static func parseMLP(_ root: JSONObjectReader) throws(NetworkError) -> MLPDescription {
        var description = MLPDescription()
        description.inputWidth = try root.integer("input_width", minimum: 1)
        if let name = try root.string("activation") { description.activation = try opKind(name, path: "activation") }
        if let name = try root.string("output_activation") {
            description.outputActivation = try opKind(name, path: "output_activation")
        }
        for (key, kind) in [("activation", description.activation), ("output_activation", description.outputActivation)]
        where !kind.isParameterFree {
            throw .invalidDescription(path: key, reason: "\"\(kind.rawValue)\" has weights; list the layers explicitly")
        }
        guard let elements = try root.array("layers") else { return description }
        if root.has("activation") || root.has("output_activation") {
            throw .invalidDescription(path: "layers", reason: "give either layers or activation/output_activation, not both")
        }
        guard !elements.isEmpty else { throw .invalidDescription(path: "layers", reason: "empty") }
        var ops: [MLPOp] = []
        for (i, element) in elements.enumerated() {
            let entry = try JSONObjectReader(element, path: "layers[\(i)]")
            let name = try entry.requiredString("op")
            let kind = try opKind(name, path: entry.subpath("op"))
            var op = MLPOp(kind: kind)
            switch kind {
            case .linear:
                try entry.rejectUnknownKeys(allowed: ["op", "weight", "bias", "layout"])
                op.weight = try entry.requiredString("weight")
                op.bias = try entry.string("bias")
                let layout = try entry.requiredString("layout")
                guard let parsed = WeightLayout(rawValue: layout) else {
                    throw .invalidDescription(
                        path: entry.subpath("layout"), reason: "expected \"in_out\" or \"out_in\", found \"\(layout)\"")
                }
                op.layout = parsed
            case .layernorm:
                try entry.rejectUnknownKeys(allowed: ["op", "weight", "bias", "eps"])
                op.weight = try entry.string("weight")
                op.bias = try entry.string("bias")
                if (op.weight == nil) != (op.bias == nil) {
                    throw .invalidDescription(path: entry.path, reason: "layernorm takes both weight and bias, or neither")
                }
                if let eps = try entry.double("eps") {
                    guard eps > 0 else { throw .invalidDescription(path: entry.subpath("eps"), reason: "must be positive") }
                    op.eps = Float(eps)
                }
            default:
                try entry.rejectUnknownKeys(allowed: ["op"])
            }
            ops.append(op)
        }
        guard ops.contains(where: { $0.kind == .linear }) else {
            throw .invalidDescription(path: "layers", reason: "no linear layer")
        }
        description.layers = ops
        return description
    }

    private static func opKind(_ name: String, path: String) throws(NetworkError) -> OpKind {
        guard let kind = OpKind(rawValue: name) else { throw .unknownOp(name: name, path: path) }
        return kind
    }
}

import WeightFiles

/// The part of a TransformerLens `HookedTransformerConfig` that Retort runs.
public struct TransformerConfig: Sendable, Equatable {
    /// TransformerLens `act_fn` values Retort implements.
    public enum Activation: String, Sendable {
        case relu, gelu, silu
        /// The tanh approximation (`gelu_new`, `gelu_fast`, `gelu_pytorch_tanh`).
        case geluTanh = "gelu_new"
    }

    /// What a bias tensor absent from the weight file means (`absent_biases`, Retort's addition to the
    /// TransformerLens keys): an error, or a bias of zeros (networks trained without some biases, such as
    /// Nanda et al.'s modular-addition transformer, which has no attention or unembedding biases).
    public enum AbsentBiases: String, Sendable {
        case error, zero
    }

    /// TransformerLens `normalization_type`.
    public enum Normalization: String, Sendable {
        case none
        case layerNorm = "LN"
        case layerNormPre = "LNPre"
    }

    public var nLayers: Int
    public var dModel: Int
    public var nHeads: Int
    public var dHead: Int
    public var dMLP: Int
    public var dVocab: Int
    public var dVocabOut: Int
    public var nCtx: Int
    public var activation: Activation
    public var normalization: Normalization
    public var attnOnly: Bool
    public var eps: Float
    /// Attention scores are divided by this.
    public var attnScale: Float
    /// What an absent bias tensor (`b_Q`, `b_K`, `b_V`, `b_O`, `b_in`, `b_out`, `b_U`) means.
    public var absentBiases: AbsentBiases

    public init(
        nLayers: Int, dModel: Int, nHeads: Int, dHead: Int, dMLP: Int, dVocab: Int, dVocabOut: Int? = nil, nCtx: Int,
        activation: Activation = .relu, normalization: Normalization = .none, attnOnly: Bool = false, eps: Float = 1e-5,
        attnScale: Float? = nil, absentBiases: AbsentBiases = .error
    ) {
        self.nLayers = nLayers
        self.dModel = dModel
        self.nHeads = nHeads
        self.dHead = dHead
        self.dMLP = dMLP
        self.dVocab = dVocab
        self.dVocabOut = dVocabOut ?? dVocab
        self.nCtx = nCtx
        self.activation = activation
        self.normalization = normalization
        self.attnOnly = attnOnly
        self.eps = eps
        self.attnScale = attnScale ?? Float(Double(dHead).squareRoot())
        self.absentBiases = absentBiases
    }

    /// Parses a configuration held as a JSON string (the weight file's metadata).
    public static func parse(_ text: String, source: String) throws(NetworkError) -> TransformerConfig {
        try TransformerConfig(JSONObjectReader(JSONValue.parseDescription(Array(text.utf8), what: source), path: source))
    }

    /// Keys that change the math in ways Retort does not implement, with the value that is harmless.
    private static let unsupportedKeys: [(key: String, harmless: JSONValue?)] = [
        ("n_key_value_heads", nil), ("rotary_dim", nil), ("parallel_attn_mlp", .bool(false)), ("final_rms", .bool(false)),
        ("gated_mlp", .bool(false)), ("use_local_attn", .bool(false)), ("use_attn_result", nil),
    ]

    init(_ object: JSONObjectReader) throws(NetworkError) {
        for (key, harmless) in Self.unsupportedKeys {
            guard let value = object.value(key) else { continue }
            if let harmless, case .bool(let flag) = value, case .bool(let ok) = harmless, flag == ok { continue }
            if key == "use_attn_result" { continue }  // only adds a hook; the math is unchanged
            throw .invalidDescription(path: object.subpath(key), reason: "not supported by Retort's transformer")
        }
        if let type = try object.string("positional_embedding_type"), type != "standard" {
            throw .invalidDescription(
                path: object.subpath("positional_embedding_type"), reason: "only \"standard\" is supported, found \"\(type)\"")
        }
        if let direction = try object.string("attention_dir"), direction != "causal" {
            throw .invalidDescription(
                path: object.subpath("attention_dir"), reason: "only \"causal\" is supported, found \"\(direction)\"")
        }
        let attnOnly = try object.bool("attn_only") ?? false
        let nLayers = try object.requiredInteger("n_layers", minimum: 1)
        let dModel = try object.requiredInteger("d_model", minimum: 1)
        let nHeads = try object.requiredInteger("n_heads", minimum: 1)
        let dHead = try object.requiredInteger("d_head", minimum: 1)
        let dVocab = try object.requiredInteger("d_vocab", minimum: 1)
        let nCtx = try object.requiredInteger("n_ctx", minimum: 1)
        var dVocabOut = try object.integer("d_vocab_out", minimum: -1) ?? dVocab
        if dVocabOut == -1 { dVocabOut = dVocab }
        guard dVocabOut >= 1 else { throw .invalidDescription(path: object.subpath("d_vocab_out"), reason: "must be at least 1") }
        let dMLP = attnOnly ? (try object.integer("d_mlp") ?? 0) : try object.requiredInteger("d_mlp", minimum: 1)
        var activation = Activation.relu
        if !attnOnly {
            let name = try object.requiredString("act_fn")
            switch name {
            case "relu": activation = .relu
            case "gelu": activation = .gelu
            case "silu": activation = .silu
            case "gelu_new", "gelu_fast", "gelu_pytorch_tanh": activation = .geluTanh
            default:
                throw .invalidDescription(
                    path: object.subpath("act_fn"),
                    reason: "unsupported \"\(name)\" (supported: relu, gelu, gelu_new, gelu_fast, gelu_pytorch_tanh, silu)")
            }
        }
        var normalization = Normalization.none
        if let name = try object.string("normalization_type") {
            guard let parsed = Normalization(rawValue: name), parsed != .none else {
                throw .invalidDescription(
                    path: object.subpath("normalization_type"), reason: "expected null, \"LN\" or \"LNPre\", found \"\(name)\"")
            }
            normalization = parsed
        }
        let eps = try object.double("eps") ?? 1e-5
        guard eps > 0 else { throw .invalidDescription(path: object.subpath("eps"), reason: "must be positive") }
        var scale = Double(dHead).squareRoot()
        if let given = try object.double("attn_scale") { scale = given }
        if try object.bool("use_attn_scale") == false { scale = 1 }
        guard scale > 0 else { throw .invalidDescription(path: object.subpath("attn_scale"), reason: "must be positive") }
        var absentBiases = AbsentBiases.error
        if let name = try object.string("absent_biases") {
            guard let parsed = AbsentBiases(rawValue: name) else {
                throw .invalidDescription(
                    path: object.subpath("absent_biases"), reason: "expected \"error\" or \"zero\", found \"\(name)\"")
            }
            absentBiases = parsed
        }
        self.init(
            nLayers: nLayers, dModel: dModel, nHeads: nHeads, dHead: dHead, dMLP: dMLP, dVocab: dVocab,
            dVocabOut: dVocabOut, nCtx: nCtx, activation: activation, normalization: normalization, attnOnly: attnOnly,
            eps: Float(eps), attnScale: Float(scale), absentBiases: absentBiases)
    }
}

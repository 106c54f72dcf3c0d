import Testing

@testable import Network

@Test func mlpDescriptionWithExplicitLayersParses() throws {
    let description = try describe(
        #"{"retort_network": 1, "preset": "mlp", "input_width": 4, "layers": [{"op": "linear", "weight": "w", "bias": "b", "layout": "in_out"}, {"op": "gelu_tanh"}, {"op": "layernorm", "eps": 1e-6}]}"#
    )
    guard case .mlp(let mlp) = description else {
        Issue.record("expected an MLP")
        return
    }
    #expect(mlp.inputWidth == 4)
    #expect(mlp.layers?.map(\.kind) == [.linear, .geluTanh, .layernorm])
    #expect(mlp.layers?[0].layout == .inOut)
    #expect(mlp.layers?[2].eps == 1e-6)
}

@Test func unknownOpIsNamedWithItsPath() throws {
    let error = networkError {
        _ = try describe(
            #"{"retort_network": 1, "preset": "mlp", "layers": [{"op": "linear", "weight": "w", "layout": "in_out"}, {"op": "swish"}]}"#
        )
    }
    #expect(error == .unknownOp(name: "swish", path: "layers[1].op"))
}

@Test func unknownVersionIsRefused() throws {
    let error = networkError { _ = try describe(#"{"retort_network": 2, "preset": "mlp"}"#) }
    guard case .invalidDescription(let path, let reason) = error else {
        Issue.record("expected invalidDescription, got \(String(describing: error))")
        return
    }
    #expect(path == "retort_network" && reason.contains("2"))
}

@Test func misspeltKeyIsRefused() throws {
    let error = networkError { _ = try describe(#"{"retort_network": 1, "preset": "mlp", "activaton": "relu"}"#) }
    guard case .invalidDescription(let path, _) = error else {
        Issue.record("expected invalidDescription, got \(String(describing: error))")
        return
    }
    #expect(path == "activaton")
}

@Test func unknownPresetIsRefused() throws {
    let error = networkError { _ = try describe(#"{"retort_network": 1, "preset": "cnn"}"#) }
    guard case .invalidDescription(let path, _) = error else {
        Issue.record("expected invalidDescription, got \(String(describing: error))")
        return
    }
    #expect(path == "preset")
}

@Test func invalidJSONIsReportedWithItsOffset() throws {
    let error = networkError { _ = try describe(#"{"retort_network": 1,}"#) }
    guard case .invalidDescription(_, let reason) = error else {
        Issue.record("expected invalidDescription, got \(String(describing: error))")
        return
    }
    #expect(reason.contains("byte"))
}

@Test func bareTransformerLensConfigIsATransformer() throws {
    let description = try describe(
        #"{"n_layers": 1, "d_model": 8, "n_heads": 2, "d_head": 4, "d_mlp": 16, "d_vocab": 5, "n_ctx": 3, "act_fn": "gelu_new", "normalization_type": "LN", "model_name": "ignored"}"#
    )
    guard case .transformer(.inline(let config)) = description else {
        Issue.record("expected an inline transformer config")
        return
    }
    #expect(config.activation == .geluTanh && config.normalization == .layerNorm && config.dVocabOut == 5)
    #expect(config.attnScale == 2)
}

@Test func unsupportedTransformerFeatureIsRefusedByName() throws {
    let error = networkError {
        _ = try describe(
            #"{"n_layers": 1, "d_model": 8, "n_heads": 2, "d_head": 4, "d_mlp": 16, "d_vocab": 5, "n_ctx": 3, "act_fn": "relu", "positional_embedding_type": "rotary"}"#
        )
    }
    guard case .invalidDescription(let path, _) = error else {
        Issue.record("expected invalidDescription, got \(String(describing: error))")
        return
    }
    #expect(path == "positional_embedding_type")
}

import Testing
import WeightFiles

@testable import Network

private let config = TransformerConfig(
    nLayers: 1, dModel: 4, nHeads: 2, dHead: 2, dMLP: 6, dVocab: 5, nCtx: 4, activation: .gelu, normalization: .layerNorm)

/// Deterministic weights for `config` in TransformerLens naming.
private func tensors(_ c: TransformerConfig, skipping: String? = nil, overriding: [String: [Int]] = [:]) -> [(
    String, [Int], [Float]
)] {
    var seed: UInt64 = 7
    func values(_ count: Int) -> [Float] {
        (0..<count).map { _ in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(seed >> 40) % 2001 - 1000) / 2000
        }
    }
    let shapes: [(String, [Int])] = [
        ("embed.W_E", [c.dVocab, c.dModel]), ("pos_embed.W_pos", [c.nCtx, c.dModel]),
        ("blocks.0.ln1.w", [c.dModel]), ("blocks.0.ln1.b", [c.dModel]),
        ("blocks.0.attn.W_Q", [c.nHeads, c.dModel, c.dHead]), ("blocks.0.attn.W_K", [c.nHeads, c.dModel, c.dHead]),
        ("blocks.0.attn.W_V", [c.nHeads, c.dModel, c.dHead]), ("blocks.0.attn.b_Q", [c.nHeads, c.dHead]),
        ("blocks.0.attn.b_K", [c.nHeads, c.dHead]), ("blocks.0.attn.b_V", [c.nHeads, c.dHead]),
        ("blocks.0.attn.W_O", [c.nHeads, c.dHead, c.dModel]), ("blocks.0.attn.b_O", [c.dModel]),
        ("blocks.0.ln2.w", [c.dModel]), ("blocks.0.ln2.b", [c.dModel]),
        ("blocks.0.mlp.W_in", [c.dModel, c.dMLP]), ("blocks.0.mlp.b_in", [c.dMLP]),
        ("blocks.0.mlp.W_out", [c.dMLP, c.dModel]), ("blocks.0.mlp.b_out", [c.dModel]),
        ("ln_final.w", [c.dModel]), ("ln_final.b", [c.dModel]),
        ("unembed.W_U", [c.dModel, c.dVocabOut]), ("unembed.b_U", [c.dVocabOut]),
    ]
    return shapes.filter { $0.0 != skipping }.map { name, shape in
        let actual = overriding[name] ?? shape
        return (name, actual, values(actual.reduce(1, *)))
    }
}

@Test func laterTokensDoNotChangeEarlierPositions() throws {
    let net = try TransformerNetwork(file: try makeWeights(tensors(config)), config: config)
    let a = try net.run(.tokens(ids: [1, 2, 3, 4], batch: 1, length: 4)).output
    let b = try net.run(.tokens(ids: [1, 2, 0, 0], batch: 1, length: 4)).output
    let perPosition = config.dVocabOut
    #expect(Array(a.scalars[0..<(2 * perPosition)]) == Array(b.scalars[0..<(2 * perPosition)]))
    #expect(Array(a.scalars[(2 * perPosition)...]) != Array(b.scalars[(2 * perPosition)...]))
}

@Test func attentionPatternRowsSumToOneAndAreCausal() throws {
    let net = try TransformerNetwork(file: try makeWeights(tensors(config)), config: config)
    let run = try net.run(
        .tokens(ids: [4, 0, 2], batch: 1, length: 3), capture: ["blocks.0.attn.hook_pattern"], interventions: [])
    let pattern = try #require(run.activations["blocks.0.attn.hook_pattern"])
    #expect(pattern.shape == [1, 2, 3, 3])
    for h in 0..<2 {
        for q in 0..<3 {
            let row = (0..<3).map { pattern[0, h, q, $0] }
            #expect(abs(row.reduce(0, +) - 1) < 1e-6)
            for k in (q + 1)..<3 where k < 3 { #expect(row[k] == 0) }
        }
    }
}

@Test func configFromMetadataIsRead() throws {
    let json =
        #"{"n_layers": 1, "d_model": 4, "n_heads": 2, "d_head": 2, "d_mlp": 6, "d_vocab": 5, "n_ctx": 4, "act_fn": "gelu", "normalization_type": "LN"}"#
    let file = try makeWeights(tensors(config), metadata: [("transformer_lens_config", json)])
    let net = try NetworkLoader.load(file: file, description: .transformer(.metadata), threads: 1)
    #expect(try net.run(.tokens(ids: [1, 2], batch: 1, length: 2)).output.shape == [1, 2, 5])
}

@Test func missingMetadataConfigSaysWhatToDo() throws {
    let error = networkError {
        _ = try NetworkLoader.load(file: try makeWeights(tensors(config)), description: .transformer(.metadata))
    }
    guard case .invalidDescription(_, let reason) = error else {
        Issue.record("expected invalidDescription, got \(String(describing: error))")
        return
    }
    #expect(reason.contains("transformer_lens_config"))
}

@Test func missingTransformerTensorIsNamedWithItsShape() throws {
    let error = networkError {
        _ = try TransformerNetwork(file: try makeWeights(tensors(config, skipping: "blocks.0.attn.W_K")), config: config)
    }
    #expect(error == .missingTensor(name: "blocks.0.attn.W_K", expectedShape: "[n_heads=2, d_model=4, d_head=2]"))
}

@Test func headsTimesHeadSizeThatDisagreesWithTheWeightsIsReported() throws {
    // The weights were made for 2 heads × 2; the configuration claims 1 head × 4.
    var wrong = config
    wrong.nHeads = 1
    wrong.dHead = 4
    let error = networkError { _ = try TransformerNetwork(file: try makeWeights(tensors(config)), config: wrong) }
    #expect(error == .wrongShape(name: "blocks.0.attn.W_Q", shape: [2, 4, 2], expectedShape: "[n_heads=1, d_model=4, d_head=4]"))
}

@Test func tokenOutsideTheVocabularyIsRefusedWithItsPosition() throws {
    let net = try TransformerNetwork(file: try makeWeights(tensors(config)), config: config)
    let error = networkError { _ = try net.run(.tokens(ids: [1, 9], batch: 1, length: 2)) }
    guard case .invalidInput(let reason) = error else {
        Issue.record("expected invalidInput, got \(String(describing: error))")
        return
    }
    #expect(reason.contains("9") && reason.contains("position 1"))
}

@Test func sequenceLongerThanTheContextIsRefused() throws {
    let net = try TransformerNetwork(file: try makeWeights(tensors(config)), config: config)
    let error = networkError { _ = try net.run(.tokens(ids: [1, 1, 1, 1, 1], batch: 1, length: 5)) }
    guard case .invalidInput = error else {
        Issue.record("expected invalidInput, got \(String(describing: error))")
        return
    }
}

@Test func interchangeAtOnePositionOnlyChangesThatPositionAndLater() throws {
    let net = try TransformerNetwork(file: try makeWeights(tensors(config)), config: config)
    let base = NetworkInput.tokens(ids: [1, 2, 3], batch: 1, length: 3)
    let source = NetworkInput.tokens(ids: [4, 4, 4], batch: 1, length: 3)
    let clean = try net.run(base).output
    let patched = try net.run(
        base, capture: [],
        interventions: [
            Intervention(hook: "blocks.0.hook_resid_mid", positions: [1], kind: .interchange(source: source, sourceIndex: [0]))
        ]
    ).output
    let v = config.dVocabOut
    #expect(Array(clean.scalars[0..<v]) == Array(patched.scalars[0..<v]))
    #expect(Array(clean.scalars[v..<(2 * v)]) != Array(patched.scalars[v..<(2 * v)]))
    // Position 2 reads position 1 only through attention, which comes before resid_mid: unchanged.
    #expect(Array(clean.scalars[(2 * v)...]) == Array(patched.scalars[(2 * v)...]))
}

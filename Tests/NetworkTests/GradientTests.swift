import Foundation
import Testing
import WeightFiles

@testable import Network

/// Deterministic values in [-1, 1].
private func values(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int(state >> 40) % 2001 - 1000) / 1000
    }
}

/// A 3-5-4-4-3 MLP exercising every op the tail differentiates: linear, layernorm, tanh, gelu, sigmoid,
/// relu, gelu_tanh and a final softmax.
private func smallMLP() throws -> MLPNetwork {
    let file = try InMemoryWeightFile(float32: [
        ("w0", [3, 5], values(15, seed: 1)), ("b0", [5], values(5, seed: 2)), ("ln", [5], values(5, seed: 3)),
        ("lnb", [5], values(5, seed: 4)), ("w1", [5, 4], values(20, seed: 5)), ("b1", [4], values(4, seed: 6)),
        ("w2", [4, 4], values(16, seed: 7)), ("b2", [4], values(4, seed: 8)), ("w3", [4, 3], values(12, seed: 9)),
        ("b3", [3], values(3, seed: 10)),
    ])
    let layers = [
        MLPOp(kind: .linear, weight: "w0", bias: "b0", layout: .inOut), MLPOp(kind: .layernorm, weight: "ln", bias: "lnb"),
        MLPOp(kind: .tanh), MLPOp(kind: .linear, weight: "w1", bias: "b1", layout: .inOut), MLPOp(kind: .gelu),
        MLPOp(kind: .sigmoid), MLPOp(kind: .linear, weight: "w2", bias: "b2", layout: .inOut), MLPOp(kind: .geluTanh),
        MLPOp(kind: .relu), MLPOp(kind: .linear, weight: "w3", bias: "b3", layout: .inOut), MLPOp(kind: .softmax),
    ]
    return try MLPNetwork(file: file, description: MLPDescription(inputWidth: 3, layers: layers))
}

/// The largest difference between the tail's gradient and central finite differences of its loss.
private func finiteDifferenceGap(_ tail: NetworkTail, _ h: [Double], context: [Double]?, target: Int) -> Double {
    let analytic = tail.lossAndGradient(h, context: context, target: target).gradient
    var worst = 0.0
    let step = 1e-6
    for j in h.indices {
        var up = h, down = h
        up[j] += step
        down[j] -= step
        let numeric =
            (tail.lossAndGradient(up, context: context, target: target).loss
                - tail.lossAndGradient(down, context: context, target: target).loss) / (2 * step)
        worst = max(worst, abs(numeric - analytic[j]))
    }
    return worst
}

@Test func mlpTailGradientMatchesFiniteDifferencesAtEveryHook() throws {
    let net = try smallMLP()
    let input = FloatTensor(shape: [1, 3], scalars: [0.3, -0.7, 0.9])
    for hook in net.hookNames.dropLast() {
        let run = try net.run(.features(input), capture: [hook], interventions: [])
        let h = run.activations[hook]!.scalars.map(Double.init)
        let tail = try NetworkTail(network: net, hook: hook)
        #expect(finiteDifferenceGap(tail, h, context: nil, target: 1) < 1e-6, "\(hook)")
    }
}

@Test func mlpTailReproducesTheNetworkOutput() throws {
    let net = try smallMLP()
    let input = FloatTensor(shape: [1, 3], scalars: [-0.2, 0.5, 0.1])
    let run = try net.run(.features(input), capture: Set(net.hookNames), interventions: [])
    // The last hook is the softmax's output: probabilities, with no logits to differentiate.
    #expect(throws: NetworkError.self) { try NetworkTail(network: net, hook: "layers.3.hook_post") }
    for hook in net.hookNames.dropLast() {
        let tail = try NetworkTail(network: net, hook: hook)
        // The final softmax is dropped from the tail: compare probabilities.
        let z = tail.logits(run.activations[hook]!.scalars.map(Double.init))
        let top = z.max()!
        let e = z.map { exp($0 - top) }
        let p = e.map { $0 / e.reduce(0, +) }
        for (a, b) in zip(p, run.output.scalars) { #expect(abs(a - Double(b)) < 1e-5, "\(hook)") }
    }
    #expect(NetworkTail.outputIsProbability(net))
}

private let transformerConfig = TransformerConfig(
    nLayers: 2, dModel: 4, nHeads: 2, dHead: 2, dMLP: 6, dVocab: 5, nCtx: 4, activation: .gelu, normalization: .layerNorm)

private func tinyTransformer() throws -> TransformerNetwork {
    let c = transformerConfig
    var specs: [(String, [Int])] = [("embed.W_E", [c.dVocab, c.dModel]), ("pos_embed.W_pos", [c.nCtx, c.dModel])]
    for i in 0..<c.nLayers {
        let p = "blocks.\(i)"
        specs += [
            ("\(p).ln1.w", [c.dModel]), ("\(p).ln1.b", [c.dModel]), ("\(p).attn.W_Q", [c.nHeads, c.dModel, c.dHead]),
            ("\(p).attn.W_K", [c.nHeads, c.dModel, c.dHead]), ("\(p).attn.W_V", [c.nHeads, c.dModel, c.dHead]),
            ("\(p).attn.b_Q", [c.nHeads, c.dHead]), ("\(p).attn.b_K", [c.nHeads, c.dHead]),
            ("\(p).attn.b_V", [c.nHeads, c.dHead]), ("\(p).attn.W_O", [c.nHeads, c.dHead, c.dModel]),
            ("\(p).attn.b_O", [c.dModel]), ("\(p).ln2.w", [c.dModel]), ("\(p).ln2.b", [c.dModel]),
            ("\(p).mlp.W_in", [c.dModel, c.dMLP]), ("\(p).mlp.b_in", [c.dMLP]), ("\(p).mlp.W_out", [c.dMLP, c.dModel]),
            ("\(p).mlp.b_out", [c.dModel]),
        ]
    }
    specs += [
        ("ln_final.w", [c.dModel]), ("ln_final.b", [c.dModel]), ("unembed.W_U", [c.dModel, c.dVocabOut]),
        ("unembed.b_U", [c.dVocabOut]),
    ]
    let file = try InMemoryWeightFile(
        float32: specs.enumerated().map { i, s in (s.0, s.1, values(s.1.reduce(1, *), seed: UInt64(100 + i))) })
    return try TransformerNetwork(file: file, config: c)
}

private let transformerTailHooks = [
    "blocks.1.hook_attn_out", "blocks.1.hook_resid_mid", "blocks.1.mlp.hook_pre", "blocks.1.mlp.hook_post",
    "blocks.1.hook_mlp_out", "blocks.1.hook_resid_post", "ln_final.hook_normalized",
]

/// The features of `tensor` (`[1, seq, width]`) at `position`.
private func at(_ tensor: FloatTensor, _ position: Int) -> [Double] {
    let width = tensor.shape[2]
    return tensor.scalars[(position * width)..<((position + 1) * width)].map(Double.init)
}

@Test func transformerTailAfterTheLastAttentionReproducesTheLogits() throws {
    let net = try tinyTransformer()
    let run = try net.run(.tokens(ids: [1, 4, 2], batch: 1, length: 3), capture: Set(net.hookNames), interventions: [])
    for hook in transformerTailHooks {
        let tail = try NetworkTail(network: net, hook: hook)
        let context = tail.contextHook.map { at(run.activations[$0]!, 2) }
        let z = tail.logits(at(run.activations[hook]!, 2), context: context)
        for (a, b) in zip(z, at(run.output, 2)) { #expect(abs(a - Double(b)) < 1e-4, "\(hook)") }
    }
}

@Test func transformerTailGradientMatchesFiniteDifferences() throws {
    let net = try tinyTransformer()
    let run = try net.run(.tokens(ids: [3, 0, 2], batch: 1, length: 3), capture: Set(net.hookNames), interventions: [])
    for hook in transformerTailHooks {
        let tail = try NetworkTail(network: net, hook: hook)
        let context = tail.contextHook.map { at(run.activations[$0]!, 2) }
        #expect(finiteDifferenceGap(tail, at(run.activations[hook]!, 2), context: context, target: 3) < 1e-6, "\(hook)")
    }
}

@Test func hooksBeforeTheLastAttentionHaveNoTail() throws {
    let net = try tinyTransformer()
    #expect(throws: NetworkError.self) { try NetworkTail(network: net, hook: "blocks.0.hook_resid_post") }
    #expect(throws: NetworkError.self) { try NetworkTail(network: net, hook: "blocks.1.hook_resid_pre") }
}

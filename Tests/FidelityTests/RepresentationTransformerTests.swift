import Distillation
import Fidelity
import Network
import Testing
import WeightFiles

@testable import Distillation

/// A 2-block transformer with deterministic pseudo-random weights: tokens a, b ∈ 0…3 then the token 4;
/// logits over 4 outputs at the last position.
private func tinyTransformer() throws -> (any NeuralNetwork, TaskDescription) {
    let c = TransformerConfig(
        nLayers: 2, dModel: 6, nHeads: 2, dHead: 3, dMLP: 8, dVocab: 5, dVocabOut: 4, nCtx: 3, activation: .gelu,
        normalization: .layerNormPre)
    var state: UInt64 = 11
    func values(_ count: Int) -> [Float] {
        (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(state >> 40) % 2001 - 1000) / 700
        }
    }
    var specs: [(String, [Int])] = [("embed.W_E", [c.dVocab, c.dModel]), ("pos_embed.W_pos", [c.nCtx, c.dModel])]
    for i in 0..<c.nLayers {
        let p = "blocks.\(i)"
        specs += [
            ("\(p).attn.W_Q", [c.nHeads, c.dModel, c.dHead]), ("\(p).attn.W_K", [c.nHeads, c.dModel, c.dHead]),
            ("\(p).attn.W_V", [c.nHeads, c.dModel, c.dHead]), ("\(p).attn.b_Q", [c.nHeads, c.dHead]),
            ("\(p).attn.b_K", [c.nHeads, c.dHead]), ("\(p).attn.b_V", [c.nHeads, c.dHead]),
            ("\(p).attn.W_O", [c.nHeads, c.dHead, c.dModel]), ("\(p).attn.b_O", [c.dModel]),
            ("\(p).mlp.W_in", [c.dModel, c.dMLP]), ("\(p).mlp.b_in", [c.dMLP]), ("\(p).mlp.W_out", [c.dMLP, c.dModel]),
            ("\(p).mlp.b_out", [c.dModel]),
        ]
    }
    specs += [("unembed.W_U", [c.dModel, c.dVocabOut]), ("unembed.b_U", [c.dVocabOut])]
    let file = try InMemoryWeightFile(float32: specs.map { ($0.0, $0.1, values($0.1.reduce(1, *))) })
    let task = try TaskDescription.parse(
        Array(
            """
            {"retort_task": 1, "name": "tiny", "variables": [{"name": "a", "type": "integer", "min": 0, "max": 3},
             {"name": "b", "type": "integer", "min": 0, "max": 3}], "encoder": {"kind": "tokens", "suffix": [4]},
             "decoder": {"kind": "argmax", "outputs": 4, "position": -1}, "regions": {"probe": {"all": true}}}
            """.utf8))
    return (try TransformerNetwork(file: file, config: c, threads: 1), task)
}

@Test func transformerSubspacesAreTrainedOnlyAfterTheLastAttention() throws {
    let (network, task) = try tinyTransformer()
    let program = ProgramSurrogate(
        variables: ["a", "b"], expression: .binary(.modulo, .binary(.add, .variable(0), .variable(1)), .constant(4)),
        exceptions: [], domainSize: 16, outputCount: 4)
    let surrogate = FittedSurrogate(
        family: .program, model: .program(program), featureNames: [], modelBits: 0, exceptionBits: 0, exceptionCount: 0,
        probeCount: 16)
    let model = try SurrogateCausalModel(surrogate: surrogate, task: task)
    let region = try task.resolveRegions()["probe"]!
    var options = quickOptions(pairs: 128, steps: 30)
    options.subspaceDimensions = [1]
    options.searchSites = nil  // every site, not only the best of the localisation map
    let result = try RepresentationTests.search(network: network, model: model, inputs: region, options: options)
    let variable = result.variables[0]
    #expect(variable.variable.name == "a + b")
    // Block 0's sites sit before block 1's attention; block 1's after it, at the decoded (final) position.
    #expect(variable.unavailable.count == 4 && variable.unavailable.allSatisfy { $0.hasPrefix("blocks.0.") })
    #expect(
        variable.bestPerClass.contains { $0.alignment.className == "subspace" && $0.alignment.site.hook.hasPrefix("blocks.1.") })
    // The held-out score is reproduced by evaluating the chosen alignment on the held-out pairs again.
    let (_, heldOut) = RepresentationTests.pairs(inputCount: 16, options: options)
    let again = try RepresentationTests.evaluate(
        alignment: variable.best.alignment, variable: variable.variable, model: model, network: network, inputs: region,
        pairs: heldOut, options: options)
    #expect(again.accuracy == variable.best.heldOut)
}

import Distillation
import Fidelity
import Foundation
import Network
import Testing

@testable import Distillation

// Network B: x1, x2 → layers.0.hook_post = [x1, x2] → layers.1.hook_post = relu(x1 + x2 − 1) = x1 AND x2 →
// logits [−s·a + s/4, s·a − s/4]. Every number below follows from these weights.
private let s: Float = 4

private func andNetwork() throws -> any NeuralNetwork {
    try handBuiltMLP([
        ([1, 0, 0, 1], [0, 0], 2, 2), ([1, 1], [-1], 2, 1), ([-s, s], [s / 4, -s / 4], 1, 2),
    ]).0
}

/// The tree `x1 = 0 → 0; else x2 = 0 → 0; else 1`, whose variables are node 0 (x1 ≤ 0.5) and node 2 (x2 ≤ 0.5).
private func andTree() -> FittedSurrogate {
    let tree = DecisionTree(
        nodes: [
            .split(feature: 0, threshold: 0.5, left: 1, right: 2), .leaf(label: 0, samples: 2),
            .split(feature: 1, threshold: 0.5, left: 3, right: 4), .leaf(label: 0, samples: 1), .leaf(label: 1, samples: 1),
        ], featureKinds: [.binary, .binary], classes: [0, 1])
    return FittedSurrogate(
        family: .tree, model: .tree(tree), featureNames: ["x1", "x2"], modelBits: 0, exceptionBits: 0, exceptionCount: 0,
        probeCount: 4)
}

private func setup() throws -> (any NeuralNetwork, SurrogateCausalModel, Region) {
    let task = try bitTask(["x1", "x2"])
    let model = try SurrogateCausalModel(surrogate: andTree(), task: task)
    return (try andNetwork(), model, try task.resolveRegions()["probe"]!)
}

private func softplus(_ x: Double) -> Double { log(1 + exp(x)) }

@Test func treeVariablesAreItsSplitTests() throws {
    let (_, model, _) = try setup()
    #expect(model.variables.map(\.name) == ["node 0: x1 = 0", "node 2: x2 = 0"])
    let node0 = model.variables[0]
    // Setting node 0 to "left" forces output 0; to "right" makes the output x2.
    #expect(model.output([1, 1], setting: node0, to: 1) == 0)
    #expect(model.counterfactual(node0, base: [0, 1], source: [1, 0]) == 1)
    #expect(model.matters(node0, [0, 1], values: [0, 1]) && !model.matters(node0, [0, 0], values: [0, 1]))
}

@Test func theUnitThatCarriesAVariableHasExactIIARecoveryAndSpecificity() throws {
    let (network, model, region) = try setup()
    let alignment = Alignment(site: AlignmentSite(hook: "layers.0.hook_post"), map: .neurons([0]), width: 2)
    let result = try RepresentationTests.evaluate(
        alignment: alignment, variable: model.variables[0], model: model, network: network, inputs: region,
        pairs: allPairs(4))
    #expect(result.accuracy.overall.successes == 16 && result.accuracy.overall.trials == 16)
    // The counterfactual x1(s) AND x2(b) differs from x1(b) AND x2(b) on 4 of the 16 pairs.
    #expect(result.accuracy.changed.successes == 4 && result.accuracy.changed.trials == 4)
    let r = try #require(result.replacement)
    // The logit margin z1 − z0 is 2·s·a − s/2: s/2 against class 1 at a = 0, 3s/2 for it at a = 1.
    let margin = Double(s) / 2
    #expect(abs(r.fullLoss - (3 * softplus(-margin) + softplus(-3 * margin)) / 4) < 1e-6)
    // Mean-ablated x1 = 0.5 makes a = x2 / 2, which reads as class 1 whenever x2 = 1: wrong on (0, 1).
    #expect(abs(r.ablatedLoss - (3 * softplus(-margin) + softplus(margin)) / 4) < 1e-6)
    #expect(r.ablatedAccuracy == 0.75)
    #expect(r.recoveredFraction == 1)
    #expect(r.excludedAccuracy == 0.75)
    // x1 matters where x2 = 1; ablating it breaks (0, 1) only. The random baseline (unit 1, x2) breaks (1, 0).
    #expect(result.specificity.aligned.whereMatters == 0.5 && result.specificity.aligned.whereNot == 0)
    #expect(result.specificity.random.whereMatters == 0 && result.specificity.random.whereNot == 0.5)
    #expect(result.specificity.difference == 1)
}

@Test func theWrongUnitHasTheIIAOfAnUnchangedOutputAndRecoversNothing() throws {
    let (network, model, region) = try setup()
    let alignment = Alignment(site: AlignmentSite(hook: "layers.0.hook_post"), map: .neurons([1]), width: 2)
    let result = try RepresentationTests.evaluate(
        alignment: alignment, variable: model.variables[0], model: model, network: network, inputs: region,
        pairs: allPairs(4))
    // The network gives x1(b) AND x2(s), the surrogate x1(s) AND x2(b): equal on 10 of 16 pairs.
    #expect(result.accuracy.overall.successes == 10)
    // x2's mean is 0.5 whatever x1 is, so splicing in node 0's value changes nothing.
    #expect(result.replacement?.recoveredFraction == 0)
}

// Network R: x1, x2, x3 → [x1∧¬x2, x2∧¬x1, x3] → layers.1.hook_post = (2, 2) + XOR·(1, 1)/√2 + x3·(1, −1)/√2 →
// AND = relu(√2·(h0 − 2) − 1) = XOR ∧ x3 → logits. XOR lives on the diagonal: no unit and no unit set carries
// it alone, one direction does.
private func rotatedNetwork() throws -> any NeuralNetwork {
    let r = Float(0.5).squareRoot()
    return try handBuiltMLP([
        ([1, -1, 0, -1, 1, 0, 0, 0, 1], [0, 0, 0], 3, 3), ([r, r, r, r, r, -r], [2, 2], 3, 2),
        ([2 * r, 0], [-4 * r - 1], 2, 1), ([-4, 4], [2, -2], 1, 2),
    ]).0
}

@Test func aRotatedVariableIsFoundByALearnedSubspaceAndByNoNeurons() throws {
    let task = try bitTask(["x1", "x2", "x3"])
    let program = ProgramSurrogate(
        variables: ["x1", "x2", "x3"],
        expression: .binary(.multiply, .variable(2), .binary(.modulo, .binary(.add, .variable(0), .variable(1)), .constant(2))),
        exceptions: [], domainSize: 8, outputCount: 2)
    let surrogate = FittedSurrogate(
        family: .program, model: .program(program), featureNames: [], modelBits: 0, exceptionBits: 0, exceptionCount: 0,
        probeCount: 8)
    let model = try SurrogateCausalModel(surrogate: surrogate, task: task)
    var options = quickOptions(pairs: 32, steps: 80)
    options.sites = [AlignmentSite(hook: "layers.1.hook_post")]
    options.subspaceDimensions = [1]
    options.maxVariables = 1
    let result = try RepresentationTests.search(
        network: try rotatedNetwork(), model: model, inputs: try task.resolveRegions()["probe"]!, options: options)
    let xor = result.variables[0]
    #expect(xor.variable.name == "(x1 + x2) mod 2")
    #expect(xor.best.alignment.className == "subspace" && xor.best.alignment.parameterCount == 2)
    #expect(xor.best.heldOut.overall.proportion == 1)
    let neuron = try #require(xor.bestPerClass.first { $0.alignment.className == "neuron" })
    #expect(neuron.fitting.overall.proportion < 0.9)
    if case .subspace(let basis) = xor.best.alignment.map {
        // The learned direction is the diagonal (1, 1)/√2, up to sign.
        #expect(abs(abs(basis[0][0] + basis[0][1]) - 2.0.squareRoot()) < 0.05)
    }
}

@Test func resultsRenderAsJSONWithSnakeCaseKeys() throws {
    let task = try bitTask(["x1", "x2"])
    let (network, file, description) = try handBuiltMLP([
        ([1, 0, 0, 1], [0, 0], 2, 2), ([1, 1], [-1], 2, 1), ([-s, s], [s / 4, -s / 4], 1, 2),
    ])
    var options = quickOptions(pairs: 8, steps: 5)
    options.randomDraws = 1
    let result = try RepresentationTests.run(
        network: network, control: try RepresentationTests.controlNetwork(file: file, description: description, seed: 2),
        surrogate: andTree(), task: task, inputs: try task.resolveRegions()["probe"]!, options: options)
    let object = try JSONSerialization.jsonObject(with: Data(result.json.utf8)) as! [String: Any]
    let verdict = object["verdict"] as! [String: Any]
    #expect((verdict["thresholds"] as! [String: Any])["minimum_margin_over_control"] as? Double == 0.2)
    let variables = (object["network"] as! [String: Any])["variables"] as! [[String: Any]]
    #expect(variables.count == 2)
    let best = variables[0]["best"] as! [String: Any]
    #expect(best["held_out"] != nil && (best["alignment"] as! [String: Any])["parameter_count"] != nil)
    #expect((variables[0]["replacement"] as! [String: Any])["recovered_fraction"] != nil)
    #expect(!result.json.contains("heldOut") && !result.json.contains("recoveredFraction"))
}

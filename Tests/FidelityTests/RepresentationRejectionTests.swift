import Distillation
import Fidelity
import Foundation
import Network
import Testing
import WeightFiles

@testable import Distillation

// Network E: x1…x4 → layers.0.hook_post = [x1, x2, x3, x4] → logits [−s·x1 + s/2, s·x1 − s/2]: the output is
// x1, which lives in unit 0 alone.
private func copyNetwork() throws -> (any NeuralNetwork, InMemoryWeightFile, NetworkDescription) {
    var identity = [Float](repeating: 0, count: 16)
    for i in 0..<4 { identity[i * 4 + i] = 1 }
    return try handBuiltMLP([(identity, [0, 0, 0, 0], 4, 4), ([-4, 4, 0, 0, 0, 0, 0, 0], [2, -2], 4, 2)])
}

/// The rule list `IF x1 = 1 THEN 1 ELSE 0`.
private func ruleList() -> FittedSurrogate {
    let list = RuleList(
        rules: [Rule(conditions: [Condition(feature: 0, .greater, 0.5)], output: 1, precision: 1, coverage: 8)],
        defaultOutput: 0, featureKinds: Array(repeating: .binary, count: 4), classes: [0, 1])
    return FittedSurrogate(
        family: .ruleList, model: .ruleList(list), featureNames: ["x1", "x2", "x3", "x4"], modelBits: 0, exceptionBits: 0,
        exceptionCount: 0, probeCount: 16)
}

/// A seeded random unit vector with no component along unit 0.
private func directionAwayFromUnit0(seed: UInt64) -> [Double] {
    var state = seed
    var v = (0..<4).map { i -> Double in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return i == 0 ? 0 : Double(Int(state >> 33) % 2001 - 1000) / 1000
    }
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    v = v.map { $0 / norm }
    return v
}

@Test func ruleVariablesAreWhetherEachRuleHolds() throws {
    let task = try bitTask(["x1", "x2", "x3", "x4"])
    let model = try SurrogateCausalModel(surrogate: ruleList(), task: task)
    #expect(model.variables.map(\.name) == ["rule 1: x1 = 1"])
    #expect(model.value(model.variables[0], [1, 0, 0, 0]) == 1)
    #expect(model.output([0, 1, 1, 1], setting: model.variables[0], to: 1) == 1)
}

@Test func aRandomDirectionAwayFromTheVariableIsRejected() throws {
    let task = try bitTask(["x1", "x2", "x3", "x4"])
    let (network, file, description) = try copyNetwork()
    let model = try SurrogateCausalModel(surrogate: ruleList(), task: task)
    let region = try task.resolveRegions()["probe"]!
    let site = AlignmentSite(hook: "layers.0.hook_post")
    let random = Alignment(site: site, map: .subspace(basis: [directionAwayFromUnit0(seed: 3)]), width: 4)
    let pairs = allPairs(16)
    let evaluation = try RepresentationTests.evaluate(
        alignment: random, variable: model.variables[0], model: model, network: network, inputs: region, pairs: pairs)
    // The patch leaves x1 alone, so the network keeps x1(b) where the rule says x1(s): equal on half the pairs.
    #expect(evaluation.accuracy.overall.proportion == 0.5)
    #expect(evaluation.accuracy.changed.successes == 0)
    let control = try RepresentationTests.controlNetwork(file: file, description: description, seed: 5)
    let controlEvaluation = try RepresentationTests.evaluate(
        alignment: random, variable: model.variables[0], model: model, network: control, inputs: region, pairs: pairs)
    let verdict = VariableVerdict(
        name: model.variables[0].name, heldOut: evaluation.accuracy, control: controlEvaluation.accuracy,
        thresholds: .standard)
    #expect(!verdict.supported)
    // The unit that carries x1 passes the same IIA thresholds.
    let unit0 = Alignment(site: site, map: .neurons([0]), width: 4)
    let aligned = try RepresentationTests.evaluate(
        alignment: unit0, variable: model.variables[0], model: model, network: network, inputs: region, pairs: pairs)
    #expect(aligned.accuracy.overall.proportion == 1)
}

@Test func aSurrogateOnHiddenUnitsIsUnsupported() throws {
    let task = try bitTask(["x1", "x2", "x3", "x4"])
    var surrogate = ruleList()
    surrogate.featureNames = ["layers.0.hook_post[0]>0.5", "x2", "x3", "x4"]
    #expect(throws: RepresentationError.self) { try SurrogateCausalModel(surrogate: surrogate, task: task) }
}

@Test func aLookupTableHasNoVariables() throws {
    let setup = try ReferenceSetup("boolean_circuit_handwired")
    let probes = try ProbeSet.probe(setup.network, task: setup.task, region: try setup.probes())
    let surrogate = FittedSurrogate(
        family: .table, model: .table(LookupTable(probes: probes)), featureNames: [], modelBits: 0, exceptionBits: 0,
        exceptionCount: 0, probeCount: probes.count)
    #expect(throws: RepresentationError.noVariables(family: "table")) {
        try SurrogateCausalModel(surrogate: surrogate, task: setup.task)
    }
}

@Test func theRandomInitCopyKeepsConstantsAndEachTensorsScale() throws {
    let weights = (0..<400).map { Float($0 % 7) - 2 }
    let file = try InMemoryWeightFile(float32: [("w", [20, 20], weights), ("b", [3], [0.5, 0.5, 0.5])])
    let copy = try InMemoryWeightFile.randomised(from: file, seed: 9)
    let again = try InMemoryWeightFile.randomised(from: file, seed: 9)
    let w = try FloatConversion.float32Values(of: copy.tensor(named: "w"))
    #expect(w == (try FloatConversion.float32Values(of: again.tensor(named: "w"))))
    #expect(w != weights)
    #expect(try FloatConversion.float32Values(of: copy.tensor(named: "b")) == [0.5, 0.5, 0.5])
    func moments(_ x: [Float]) -> (Double, Double) {
        let m = x.reduce(0.0) { $0 + Double($1) } / Double(x.count)
        return (m, (x.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(x.count)).squareRoot())
    }
    let (m0, s0) = moments(weights), (m1, s1) = moments(w)
    // 400 draws: the sample mean is within 4 standard errors, the spread within 15%.
    #expect(abs(m1 - m0) < 4 * s0 / 20 && abs(s1 / s0 - 1) < 0.15)
}

@Test func aVariableThatNeverChangesTheOutputIsNotJudgedOnAMargin() {
    // All 40 held-out pairs keep the base's output: there is no IIA where the output changes to compare with the
    // control's, so the only reason is the missing pairs, and the margin is null.
    let heldOut = InterchangeAccuracy(
        overall: WilsonInterval(successes: 40, trials: 40), changed: WilsonInterval(successes: 0, trials: 0))
    let control = InterchangeAccuracy(
        overall: WilsonInterval(successes: 40, trials: 40), changed: WilsonInterval(successes: 0, trials: 0))
    let verdict = VariableVerdict(name: "carry", heldOut: heldOut, control: control, thresholds: .standard)
    #expect(verdict.reasons == ["only 0 held-out pairs where the variable changes the output (< 10)"])
    #expect(verdict.margin == nil)
}

import Distillation
import Fidelity
import Foundation
import Network
import Testing
import WeightFiles

/// A program surrogate from its text, priced by the project's description length.
private func program(_ text: String, task: TaskDescription) throws -> FittedSurrogate {
    let names = task.variables.map(\.name)
    let expression = try ProgramExpression(text: text, variables: names, digitBase: 10)
    let p = ProgramSurrogate(
        variables: names, expression: expression, exceptions: [], domainSize: task.domainSize,
        outputCount: task.outputValues.count)
    return FittedSurrogate(
        family: .program, model: .program(p), featureNames: [], modelBits: p.expressionBits, exceptionBits: 0,
        exceptionCount: 0, probeCount: task.domainSize)
}

/// x1 AND x2 over six bits (64 inputs): h = relu(x1 + x2 − 1), logits [1 − 4h, 4h − 1].
private func andOfSixBits() throws -> (any NeuralNetwork, TaskDescription) {
    var w0 = [Float](repeating: 0, count: 6)
    w0[0] = 1
    w0[1] = 1
    let network = try handBuiltMLP([(w0, [-1], 6, 1), ([-4, 4], [1, -1], 1, 2)]).0
    return (network, try bitTask((1...6).map { "x\($0)" }))
}

@Test func aSixtyFourInputCircuitsProgramIsAnAlgorithmByTheBitsItSaves() throws {
    let (network, task) = try andOfSixBits()
    let report = try BehaviourReport.evaluate(network: network, task: task, surrogates: [program("x1 * x2", task: task)])
    let e = report.surrogates[0]
    #expect(e.verdict == .interpretationOnly)
    // The table costs 64 bits; the expression a few, with no exceptions.
    #expect(e.bitsSaved >= BehaviourThresholds.algorithmBitsSaved && e.bitsSaved < 64)
    #expect(e.character == "algorithm")
    #expect(e.pValue == pow(2, -e.bitsSaved))
}

@Test func aFunctionOfTooFewInputsIsTooSmallToTell() throws {
    // Four bits: the whole table is 16 bits, less than the 20 an algorithm must save.
    let task = try bitTask(["x1", "x2", "x3", "x4"])
    let network = try handBuiltMLP([([1, 1, 0, 0], [-1], 4, 1), ([-4, 4], [1, -1], 1, 2)]).0
    let report = try BehaviourReport.evaluate(network: network, task: task, surrogates: [program("x1 * x2", task: task)])
    #expect(report.surrogates[0].verdict == .interpretationOnly)
    #expect(report.surrogates[0].character == "too small to tell")
}

@Test func aMemorisersProgramWithExceptionsIsNeverAnAlgorithmAndIsOffTheParetoFront() throws {
    let folder = referenceNetwork("memoriser")
    let net = try NetworkLoader.load(
        file: try WeightFiles.open("\(folder)/model.safetensors"),
        description: try NetworkLoader.description("\(folder)/network.json"), threads: 2)
    var task = try TaskDescription.read("\(folder)/task.json")
    task.regions = ["probe": .all]
    let probes = try ProbeSet.probe(net, task: task, region: task.region("probe", indices: Array(0..<task.domainSize)))
    var options = Distiller.Options()
    options.threads = 2
    let features = try TaskFeatures(task: task)
    let surrogates = try [SurrogateFamily.table, .program].map {
        try Distiller.fit($0, probes: probes, task: task, features: features, options: options)
    }
    let report = try BehaviourReport.evaluate(network: net, task: task, surrogates: surrogates)
    let p = report.surrogates[1]
    // Fitted on every input, its exception table makes it agree everywhere — but it saves no bits.
    #expect(p.verdict == .interpretationOnly)
    #expect(p.bitsSaved < 0 && p.character == "lookup table and special cases")
    #expect(!report.paretoFront.contains(1) && report.paretoFront.contains(0))
}

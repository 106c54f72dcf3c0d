import Distillation
import Foundation
import Network
import Testing
import WeightFiles

@testable import Fidelity

/// The reference network `name`, its task, and its probe set.
private func reference(_ name: String, probeRegion: String = "probe") throws -> (any NeuralNetwork, TaskDescription, ProbeSet) {
    let folder = referenceNetwork(name)
    let net = try NetworkLoader.load(
        file: try WeightFiles.open("\(folder)/model.safetensors"),
        description: try NetworkLoader.description("\(folder)/network.json"), threads: 2)
    let task = try TaskDescription.read("\(folder)/task.json")
    let region = try #require(try task.resolveRegions()[probeRegion])
    return (net, task, try ProbeSet.probe(net, task: task, region: region))
}

private func fit(_ families: [SurrogateFamily], _ task: TaskDescription, _ probes: ProbeSet) throws -> [FittedSurrogate] {
    var options = Distiller.Options()
    options.threads = 2
    let features = try TaskFeatures(task: task)
    return try families.map { try Distiller.fit($0, probes: probes, task: task, features: features, options: options) }
}

@Test func paretoFrontKeepsTheSurrogatesNothingBeatsOnBothAxes() {
    // (bits, fidelity): 1 dominates 3 (fewer bits, more fidelity); 2 ties 4 exactly; 0 is cheapest.
    let front = ParetoFront.indices(bits: [5, 10, 40, 20, 40, 80], fidelity: [0.5, 0.9, 0.99, 0.8, 0.99, 0.99])
    #expect(front == [0, 1, 2, 4])
}

@Test func additionProgramIsAPlusBWithItsExceptionsOnTheDisagreementMap() throws {
    let (net, task, probes) = try reference("addition_mlp")
    let program = try fit([.program], task, probes)[0]
    guard case .program(let p) = program.model else { throw CancellationError() }
    #expect(p.expression.text(variables: ["a", "b"]) == "a + b")
    let report = FidelityReport(
        model: "m", network: "n", taskPath: "t",
        behaviour: try BehaviourReport.evaluate(network: net, task: task, surrogates: [program]))
    let e = report.behaviour.surrogates[0]
    #expect(e.verdict == .interpretationOnly && e.character == "algorithm")
    // Its exceptions are listed and inside the domain; each is where the network departs from a + b.
    let listed = try #require(e.exceptionIndices)
    #expect(listed.count == p.exceptions.count && listed.count > 0)
    let wrong = Set(try #require(report.behaviour.networkWrongIndices))
    #expect(listed.allSatisfy(wrong.contains))
    // The map draws every exception (blue) and every disagreement; all disagreements are network mistakes.
    let map = try #require(SVGFigures.disagreementMap(report, 0))
    #expect(map.contains("\(listed.count) exceptions listed"))
    #expect(e.disagreementsWhereNetworkWrong == e.disagreementIndices?.count)
    #expect(report.html.contains("the program's \(p.exceptions.count) exceptions"))
    // The bare expression misses exactly the network's mistakes: E for compression is all of them.
    #expect(e.compressionExceptions == wrong.count)
}

@Test func memoriserHasNoSurrogateMuchShorterThanItsLookupTable() throws {
    let (net, task, probes) = try reference("memoriser")
    let surrogates = try fit([.table, .tree, .program], task, probes)
    let report = FidelityReport(
        model: "m", network: "n", taskPath: "t",
        behaviour: try BehaviourReport.evaluate(network: net, task: task, surrogates: surrogates))
    // Random labels: the shortest description (a constant or a few splits with an exception table naming most
    // probes may undercut the table family's code by a few percent) is still about as long as the table.
    let table = try #require(surrogates.first { $0.family == .table })
    #expect(report.behaviour.surrogates[report.byBits[0]].surrogate.totalBits > 0.9 * table.totalBits)
    // Nothing generalises: no surrogate reproduces the network beyond the inputs it was fitted on.
    #expect(report.behaviour.surrogates.allSatisfy { $0.verdict == .notEvenBehaviour })
    #expect(report.behaviour.notes.contains { $0.contains("no truth") })
}

@Test func modularAdditionProgramReachesFullBehaviouralFidelity() throws {
    // Fitted on the whole domain, the program's exception table lists every input where the network departs
    // from (a + b) mod 113, so it reproduces the network everywhere.
    var (net, task, _) = try reference("modular_addition")
    task.regions["probe"] = .all
    task.regions["held_out"] = nil
    let probes = try ProbeSet.probe(net, task: task, region: task.region("probe", indices: Array(0..<task.domainSize)))
    let program = try fit([.program], task, probes)[0]
    guard case .program(let p) = program.model else { throw CancellationError() }
    #expect(p.expression.text(variables: ["a", "b"]) == "(a + b) mod 113")
    let report = try BehaviourReport.evaluate(network: net, task: task, surrogates: [program])
    let domain = try #require(report.surrogates[0].fidelity("domain"))
    #expect(domain.agreement.successes == task.domainSize)
    #expect(report.surrogates[0].verdict == .interpretationOnly && report.surrogates[0].character == "algorithm")
    // Its exceptions are exactly the network's mistakes against the truth.
    #expect(report.surrogates[0].exceptionIndices == report.networkWrongIndices)
}

@Test func errorAgreementCountsTheSurrogatesThatCopyTheNetworksMistakes() throws {
    // A program without exceptions never copies a mistake; the probe-fitted table copies each probe mistake.
    let (net, task, probes) = try reference("addition_mlp")
    let surrogates = try fit([.table], task, probes)
    let bare = FittedSurrogate(
        family: .program,
        model: .program(
            ProgramSurrogate(
                variables: ["a", "b"], expression: .binary(.add, .variable(0), .variable(1)), exceptions: [],
                domainSize: task.domainSize, outputCount: task.outputValues.count)),
        featureNames: [], modelBits: 13.4, exceptionBits: 0, exceptionCount: 0, probeCount: 0)
    let report = try BehaviourReport.evaluate(network: net, task: task, surrogates: surrogates + [bare])
    let probeWrong =
        probes.count
        - zip(probes.outputs, (0..<probes.count).map { probes.region.input($0).reduce(0, +) })
        .filter { $0 == $1 }.count
    let tableProbe = try #require(report.surrogates[0].fidelity("probe")?.errorAgreement)
    #expect(tableProbe.networkWrong == probeWrong && tableProbe.sameMistake.successes == probeWrong)
    let bareDomain = try #require(report.surrogates[1].fidelity("domain")?.errorAgreement)
    #expect(bareDomain.sameMistake.successes == 0 && bareDomain.surrogateRight == bareDomain.networkWrong)
}

@Test func outOfRangeInputsAreEvaluatedOutsideTheDomain() throws {
    let (net, task, probes) = try reference("boolean_circuit_handwired")
    let program = try fit([.program], task, probes)[0]
    let report = try BehaviourReport.evaluate(network: net, task: task, surrogates: [program])
    let outside = try #require(report.surrogates[0].fidelity("out_of_range"))
    let region = try #require(try task.resolveRegions()["out_of_range"])
    #expect(outside.agreement.trials == region.count && region.count > 0)
    // None of its inputs is in the domain (every one has a variable outside 0…1).
    #expect((0..<region.count).allSatisfy { region.input($0).contains { $0 > 1 } })
    #expect(report.regionSizes.map(\.name) == ["probe", "out_of_range", "domain"])
}

@Test func regressionOutputsGetTheMeanSquaredError() throws {
    // The network outputs a + b; the surrogate `a` misses by b, so MSE = mean(b²) = (0 + 1 + 4 + 9) / 4 = 3.5
    // and it agrees only where b = 0.
    let (net, _, _) = try handBuiltMLP([(weight: [1, 1], bias: [0], inputs: 2, outputs: 1)])
    let task = try TaskDescription.parse(
        Array(
            """
            {"retort_task": 1, "name": "sum", "variables": [{"name": "a", "type": "integer", "min": 0, "max": 3},
             {"name": "b", "type": "integer", "min": 0, "max": 3}], "encoder": {"kind": "raw"},
             "decoder": {"kind": "regression", "unit": 0, "min": 0, "max": 6}, "regions": {"probe": {"all": true}}}
            """.utf8))
    let surrogate = FittedSurrogate(
        family: .program,
        model: .program(
            ProgramSurrogate(variables: ["a", "b"], expression: .variable(0), exceptions: [], domainSize: 16, outputCount: 7)),
        featureNames: [], modelBits: 0, exceptionBits: 0, exceptionCount: 0, probeCount: 0)
    let report = try BehaviourReport.evaluate(network: net, task: task, surrogates: [surrogate])
    let domain = try #require(report.surrogates[0].fidelity("domain"))
    #expect(domain.meanSquaredError == 3.5)
    #expect(domain.agreement.successes == 4 && domain.agreement.trials == 16)
}

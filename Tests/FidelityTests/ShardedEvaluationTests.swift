import Distillation
import Foundation
import Network
import Testing
import WeightFiles

@testable import Fidelity

/// The bundled addition network, its task, a program and a table fitted on its probes.
private func addition() throws -> (any NeuralNetwork, TaskDescription, [FittedSurrogate]) {
    let folder = referenceNetwork("addition_mlp")
    let net = try NetworkLoader.load(
        file: try WeightFiles.open("\(folder)/model.safetensors"),
        description: try NetworkLoader.description("\(folder)/network.json"), threads: 2)
    let task = try TaskDescription.read("\(folder)/task.json")
    let probes = try ProbeSet.probe(net, task: task, region: try #require(try task.resolveRegions()["probe"]))
    var options = Distiller.Options()
    options.threads = 2
    let features = try TaskFeatures(task: task)
    let surrogates = try [SurrogateFamily.program, .table].map {
        try Distiller.fit($0, probes: probes, task: task, features: features, options: options)
    }
    return (net, task, surrogates)
}

/// The addition task with two more regions no other region excludes: `everything` (all 10^4 inputs) and
/// `small_sums` (the inputs with a + b < 60), which shards slice without listing them whole.
private func additionWithAllRegions() throws -> TaskDescription {
    let folder = referenceNetwork("addition_mlp")
    var text = try String(contentsOfFile: "\(folder)/task.json", encoding: .utf8)
    text = text.replacingOccurrences(
        of: #""regions": {"#, with: #""regions": {"everything": {"all": true}, "small_sums": {"where": "a + b < 60"},"#)
    return try TaskDescription.parse(Array(text.utf8), baseDirectory: folder)
}

/// `count` shards' results joined as `retort merge` joins them: the domain run's outputs concatenated, every other
/// run's statistics appended in shard order.
private func shardResults(
    _ task: TaskDescription, _ surrogates: [FittedSurrogate], _ net: any NeuralNetwork, options: BehaviourOptions,
    count: Int, chunk: Int = 65_536
) throws -> (domain: RegionOutputs?, statistics: [String: RegionStatistics]) {
    var domains: [RegionOutputs] = []
    var statistics: [String: RegionStatistics] = [:]
    for i in 0..<count {
        let shard = try #require(Shard(index: i, count: count))
        let plan = try BehaviourPlan(network: net, task: task, surrogates: surrogates, options: options, scope: .shard(shard))
        for (name, _) in plan.runs {
            if plan.enumeratesDomain && name == BehaviourPlan.domainRun {
                domains.append(try plan.run(plan.inputs[name]!.materialized(task: task), network: net))
                continue
            }
            let part = try plan.statistics(of: name, network: net, chunk: chunk)
            statistics[name] = statistics[name].map { $0.appending(part, disagreementLimit: options.disagreementLimit) } ?? part
        }
    }
    return (domains.isEmpty ? nil : RegionOutputs.concatenating(domains), statistics)
}

private func report(_ behaviour: BehaviourReport) -> String {
    FidelityReport(model: "m", network: "n", taskPath: "t", behaviour: behaviour).json
}

@Test func threeShardsOfAnEnumeratedDomainAssembleToTheOneMachineReport() throws {
    let (net, task, surrogates) = try addition()
    let plan = try BehaviourPlan(network: net, task: task, surrogates: surrogates)
    #expect(plan.enumeratesDomain && plan.runs.map(\.name) == ["domain"])
    let joined = try shardResults(task, surrogates, net, options: .init(), count: 3)
    let assembled = try BehaviourReport.assemble(plan, domain: joined.domain, statistics: joined.statistics)
    #expect(report(assembled) == report(try BehaviourReport.evaluate(network: net, task: task, surrogates: surrogates)))
}

@Test func shardsOfRegionsRunSeparatelyAssembleToTheOneMachineReport() throws {
    let (net, task, surrogates) = try addition()
    var options = BehaviourOptions()
    options.domainLimit = 1_000  // the 10,000-input domain is not enumerated: every region runs on its own
    options.sampleLimit = 700
    let plan = try BehaviourPlan(network: net, task: task, surrogates: surrogates, options: options)
    #expect(!plan.enumeratesDomain && plan.runs.map(\.name) == ["probe", "held_out", "trained", "untrained"])
    let joined = try shardResults(task, surrogates, net, options: options, count: 4)
    let one = try BehaviourReport.evaluate(network: net, task: task, surrogates: surrogates, options: options)
    #expect(report(try BehaviourReport.assemble(plan, domain: nil, statistics: joined.statistics)) == report(one))
}

@Test(arguments: [1, 3, 7])
func shardsOfAllRegionsSlicedUnlistedMergeWithoutRegionsToTheOneMachineReport(shards: Int) throws {
    let (net, _, surrogates) = try addition()
    let task = try additionWithAllRegions()
    var options = BehaviourOptions()
    options.domainLimit = 1_000
    options.sampleLimit = 700
    let shard = try #require(Shard(index: shards - 1, count: shards))
    let sliced = try BehaviourPlan(network: net, task: task, surrogates: surrogates, options: options, scope: .shard(shard))
    guard case .domainRange(_, let range)? = sliced.inputs["everything"], case .admitted? = sliced.inputs["small_sums"] else {
        Issue.record("the all regions are listed: \(String(describing: sliced.inputs["everything"]))")
        return
    }
    #expect(range == shard.slice(of: 10_000))
    // Chunks of 97 inputs: counts and the first disagreements carry across chunk and shard boundaries.
    let joined = try shardResults(task, surrogates, net, options: options, count: shards, chunk: 97)
    let merging = try BehaviourPlan(
        network: nil, task: task, surrogates: surrogates, options: options,
        scope: .merge(runs: Dictionary(uniqueKeysWithValues: sliced.runs.map { ($0.name, $0.count) })))
    let one = try BehaviourReport.evaluate(network: net, task: task, surrogates: surrogates, options: options)
    #expect(one.regionSizes.map(\.count).contains(10_000))
    #expect(report(try BehaviourReport.assemble(merging, domain: nil, statistics: joined.statistics)) == report(one))
}

@Test func aMergePlanRefusesRunsThatAreNotTheTasksRegions() throws {
    let (_, task, surrogates) = try addition()
    var options = BehaviourOptions()
    options.domainLimit = 1_000
    #expect(throws: DistillationError.self) {
        _ = try BehaviourPlan(
            network: nil, task: task, surrogates: surrogates, options: options,
            scope: .merge(runs: ["probe": 5000, "held_out": 5000, "bogus": 3]))
    }
}

@Test func theFirstDisagreementsAreListedInInputOrderUpToTheLimitAcrossChunks() throws {
    let (net, task, surrogates) = try addition()
    var options = BehaviourOptions()
    options.domainLimit = 1_000
    options.disagreementLimit = 5
    let plan = try BehaviourPlan(network: net, task: task, surrogates: surrogates, options: options)
    let whole = try plan.statistics(of: "held_out", network: net, chunk: 10_000)
    let chunked = try plan.statistics(of: "held_out", network: net, chunk: 3)
    #expect(chunked == whole)
    #expect(whole.surrogates.allSatisfy { $0.disagreements.count == min(5, whole.count - $0.agreements) })
}

@Test func assembleRefusesARunWithTooFewOutputs() throws {
    let (net, task, surrogates) = try addition()
    let plan = try BehaviourPlan(network: net, task: task, surrogates: surrogates)
    var outputs = try plan.run(plan.inputs["domain"]!.materialized(task: task), network: net)
    outputs.network.removeLast()
    #expect(throws: DistillationError.self) { try BehaviourReport.assemble(plan, outputs: ["domain": outputs]) }
}

@Test func anEvaluationShardFileReadsBackItsStatistics() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retort-evalstats-\(UUID())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let metadata = ProbeShard(
        command: "fidelity", shard: try #require(Shard(index: 0, count: 2)), slices: ["everything": (0..<5, 10)],
        task: .init(path: "t", sha256: "aa"), model: .init(path: "m", sha256: "bb"), network: .init(path: "mlp", sha256: nil),
        surrogates: [.init(path: "p.json", sha256: "cc")], seed: 0, arguments: [], directory: "/x")
    let statistics = RegionStatistics(
        count: 5, networkRight: 4,
        surrogates: [
            SurrogateStatistics(
                agreements: 3, squaredError: UInt128(1) << 100, sameMistake: 1, surrogateRight: 0, expressionWrong: 2,
                disagreementsWhereNetworkWrong: 0,
                disagreements: [Disagreement(input: [1, -2], network: 3, surrogate: 4, truth: 3)])
        ])
    try EvaluationShard(metadata: metadata, outputs: [:], statistics: ["everything": statistics], failures: [:])
        .write(into: directory)
    let read = try EvaluationShard.read(folder: directory)
    #expect(read.statistics == ["everything": statistics] && read.outputs.isEmpty)
}

@Test func anEvaluationShardFileWithMoreAgreementsThanInputsIsRefused() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retort-evalbad-\(UUID())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let metadata = ProbeShard(
        command: "fidelity", shard: try #require(Shard(index: 0, count: 1)), slices: ["everything": (0..<5, 5)],
        task: .init(path: "t", sha256: "aa"), model: .init(path: "m", sha256: "bb"), network: .init(path: "mlp", sha256: nil),
        surrogates: [.init(path: "p.json", sha256: "cc")], seed: 0, arguments: [], directory: "/x")
    let bad = RegionStatistics(
        count: 5, networkRight: nil,
        surrogates: [
            SurrogateStatistics(
                agreements: 6, squaredError: nil, sameMistake: nil, surrogateRight: nil, expressionWrong: nil,
                disagreementsWhereNetworkWrong: nil, disagreements: [])
        ])
    try EvaluationShard(metadata: metadata, outputs: [:], statistics: ["everything": bad], failures: [:]).write(into: directory)
    let error = #expect(throws: DistillationError.self) { try EvaluationShard.read(folder: directory) }
    guard case .mismatch(_, let reason)? = error else {
        Issue.record("expected a mismatch naming the member, got \(String(describing: error))")
        return
    }
    #expect(reason.contains("agreements") && reason.contains("more than the 5"))
}

@Test func anEvaluationShardFileReadsBackItsOutputsAndFailures() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retort-evalshard-\(UUID())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let shard = try #require(Shard(index: 1, count: 2))
    let metadata = ProbeShard(
        command: "fidelity", shard: shard, slices: ["domain": (2..<5, 5), "out_of_range": (1..<2, 2)],
        task: .init(path: "t", sha256: "aa"), model: .init(path: "m", sha256: "bb"), network: .init(path: "mlp", sha256: nil),
        surrogates: [.init(path: "p.json", sha256: "cc"), .init(path: "q.json", sha256: "dd")], seed: 3,
        arguments: ["m", "--network", "mlp"], directory: "/x")
    let outputs = [
        "domain": RegionOutputs(name: "domain", network: [4, -5, 1 << 40], predictions: [[4, 0, 1], [7, -5, 1 << 40]])
    ]
    try EvaluationShard(metadata: metadata, outputs: outputs, failures: ["out_of_range": "value 12 \"outside\""])
        .write(into: directory)
    let read = try EvaluationShard.read(folder: directory)
    #expect(read.outputs == outputs)
    #expect(read.failures == ["out_of_range": "value 12 \"outside\""])
    #expect(read.metadata.json == metadata.json)
}

@Test func aRunFailedOnAnyShardIsFailedWithTheFirstFailingShardsReason() throws {
    func part(_ i: Int, failure: String?) throws -> (path: String, shard: EvaluationShard) {
        let shard = try #require(Shard(index: i, count: 3))
        let metadata = ProbeShard(
            command: "fidelity", shard: shard, slices: ["domain": (shard.slice(of: 6), 6), "odd": (shard.slice(of: 3), 3)],
            task: .init(path: "t", sha256: "aa"), model: .init(path: "m", sha256: "bb"),
            network: .init(path: "mlp", sha256: nil), surrogates: [.init(path: "p.json", sha256: "cc")], seed: 0,
            arguments: [], directory: "/x")
        var outputs = ["domain": RegionOutputs(name: "domain", network: [i, i], predictions: [[i, 0]])]
        if failure == nil { outputs["odd"] = RegionOutputs(name: "odd", network: [i], predictions: [[i]]) }
        return ("s/\(i)", EvaluationShard(metadata: metadata, outputs: outputs, failures: failure.map { ["odd": $0] } ?? [:]))
    }
    let merged = try EvaluationShard.merge([
        try part(2, failure: "late"), try part(0, failure: nil), try part(1, failure: "first"),
    ])
    #expect(merged.outputs["domain"]?.network == [0, 0, 1, 1, 2, 2])
    #expect(merged.outputs["domain"]?.predictions == [[0, 0, 1, 0, 2, 0]])
    #expect(merged.outputs["odd"] == nil && merged.failures == ["odd": "first"])
}

@Test func representationPartsAssembleToTheOneMachineTestsAndAGapIsNamed() throws {
    let folder = referenceNetwork("boolean_circuit_handwired")
    let net = try NetworkLoader.load(
        file: try WeightFiles.open("\(folder)/model.safetensors"),
        description: try NetworkLoader.description("\(folder)/network.json"), threads: 1)
    let task = try TaskDescription.read("\(folder)/task.json")
    let inputs = try #require(try task.resolveRegions()["probe"])
    let probes = try ProbeSet.probe(net, task: task, region: inputs)
    let program = try Distiller.fit(.program, probes: probes, task: task, features: try TaskFeatures(task: task))
    let behaviour = try BehaviourReport.evaluate(network: net, task: task, surrogates: [program])
    var options = RepresentationOptions()
    options.fittingPairs = 32
    options.heldOutPairs = 32
    options.subspaceDimensions = [1]
    options.subspaceSteps = 20
    var one = FidelityReport(model: "m", network: "n", taskPath: "t", behaviour: behaviour)
    one.runRepresentationTests(network: net, control: net, inputs: inputs, options: options)
    let parts = try (0..<3).map { i in
        let shard = try #require(Shard(index: i, count: 3))
        return (
            path: "s/\(i)",
            part: RepresentationShard.run(
                shard, network: net, control: net, surrogates: [program], task: task, inputs: inputs, options: options)
        )
    }
    var merged = FidelityReport(model: "m", network: "n", taskPath: "t", behaviour: behaviour)
    try merged.assembleRepresentation(parts, options: options, control: true)
    #expect(!one.representation.isEmpty && merged.json == one.json)
    var gap = FidelityReport(model: "m", network: "n", taskPath: "t", behaviour: behaviour)
    #expect(throws: DistillationError.self) {
        try gap.assembleRepresentation([parts[0], parts[2]], options: options, control: true)
    }
}

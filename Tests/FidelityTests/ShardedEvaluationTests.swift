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

/// Each of `count` shards' outputs on its slice of every run of `plan`.
private func shardOutputs(_ plan: BehaviourPlan, _ net: any NeuralNetwork, count: Int) throws -> [[String: RegionOutputs]] {
    try (0..<count).map { i in
        let shard = try #require(Shard(index: i, count: count))
        var outputs: [String: RegionOutputs] = [:]
        for run in plan.runs {
            outputs[run.name] = try plan.run(ProbeShard.slice(run, shard.slice(of: run.count)), network: net)
        }
        return outputs
    }
}

private func report(_ behaviour: BehaviourReport) -> String {
    FidelityReport(model: "m", network: "n", taskPath: "t", behaviour: behaviour).json
}

@Test func threeShardsOfAnEnumeratedDomainAssembleToTheOneMachineReport() throws {
    let (net, task, surrogates) = try addition()
    let plan = try BehaviourPlan(network: net, task: task, surrogates: surrogates)
    #expect(plan.enumeratesDomain && plan.runs.map(\.name) == ["domain"])
    let shards = try shardOutputs(plan, net, count: 3)
    let joined = ["domain": RegionOutputs.concatenating(shards.map { $0["domain"]! })]
    let assembled = try BehaviourReport.assemble(plan, outputs: joined)
    #expect(report(assembled) == report(try BehaviourReport.evaluate(network: net, task: task, surrogates: surrogates)))
}

@Test func shardsOfRegionsRunSeparatelyAssembleToTheOneMachineReport() throws {
    let (net, task, surrogates) = try addition()
    var options = BehaviourOptions()
    options.domainLimit = 1_000  // the 10,000-input domain is not enumerated: every region runs on its own
    options.sampleLimit = 700
    let plan = try BehaviourPlan(network: net, task: task, surrogates: surrogates, options: options)
    #expect(!plan.enumeratesDomain && plan.runs.map(\.name) == ["probe", "held_out", "trained", "untrained"])
    let shards = try shardOutputs(plan, net, count: 4)
    var joined: [String: RegionOutputs] = [:]
    for run in plan.runs { joined[run.name] = RegionOutputs.concatenating(shards.map { $0[run.name]! }) }
    let one = try BehaviourReport.evaluate(network: net, task: task, surrogates: surrogates, options: options)
    #expect(report(try BehaviourReport.assemble(plan, outputs: joined)) == report(one))
}

@Test func assembleRefusesARunWithTooFewOutputs() throws {
    let (net, task, surrogates) = try addition()
    let plan = try BehaviourPlan(network: net, task: task, surrogates: surrogates)
    var outputs = try plan.run(plan.runs[0], network: net)
    outputs.network.removeLast()
    #expect(throws: DistillationError.self) { try BehaviourReport.assemble(plan, outputs: ["domain": outputs]) }
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

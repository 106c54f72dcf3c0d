import Distillation
import Fidelity
import Network
import Testing
import WeightFiles

@Test func aRepresentationShardsProgressCountsItsSiteSearchesToTheEnd() throws {
    let folder = referenceNetwork("boolean_circuit_handwired")
    let net = try NetworkLoader.load(
        file: try WeightFiles.open("\(folder)/model.safetensors"),
        description: try NetworkLoader.description("\(folder)/network.json"), threads: 1)
    let task = try TaskDescription.read("\(folder)/task.json")
    let inputs = try #require(try task.resolveRegions()["probe"])
    let probes = try ProbeSet.probe(net, task: task, region: inputs)
    let program = try Distiller.fit(.program, probes: probes, task: task, features: try TaskFeatures(task: task))
    var options = RepresentationOptions()
    options.fittingPairs = 16
    options.heldOutPairs = 16
    options.subspaceDimensions = [1]
    options.subspaceSteps = 5
    var seen: [(done: Int, total: Int)] = []
    let part = RepresentationShard.run(
        try #require(Shard(index: 0, count: 2)), network: net, control: net, surrogates: [program], task: task,
        inputs: inputs, options: options
    ) { _, done, total in seen.append((done, total)) }
    #expect(part.end > part.start)
    let total = try #require(seen.first?.total)
    #expect(total > 1 && seen.allSatisfy { $0.total == total })
    #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.done <= $1.done })
    #expect(seen.last?.done == total)
}

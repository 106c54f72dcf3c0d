import Distillation
import Fidelity
import Network
import WeightFiles

/// A reference network with its weight file, description and task.
struct ReferenceSetup {
    var network: any NeuralNetwork
    var file: any WeightFile
    var description: NetworkDescription
    var task: TaskDescription

    init(_ name: String) throws {
        let folder = referenceNetwork(name)
        file = try WeightFiles.open("\(folder)/model.safetensors")
        description = try NetworkLoader.description("\(folder)/network.json")
        network = try NetworkLoader.load(file: file, description: description, threads: 2)
        task = try TaskDescription.read("\(folder)/task.json")
    }

    /// The random-init control.
    func control(seed: UInt64 = 1) throws -> any NeuralNetwork {
        try RepresentationTests.controlNetwork(file: file, description: description, seed: seed, threads: 2)
    }

    /// The task's probe region.
    func probes() throws -> Region { try task.resolveRegions()["probe"]! }
}

/// Options small enough for debug-build tests.
func quickOptions(pairs: Int = 128, steps: Int = 60) -> RepresentationOptions {
    var options = RepresentationOptions()
    options.fittingPairs = pairs
    options.heldOutPairs = pairs
    options.subspaceSteps = steps
    options.threads = 2
    return options
}

/// Every ordered pair of `n` inputs.
func allPairs(_ n: Int) -> [InterchangePair] {
    (0..<n).flatMap { b in (0..<n).map { InterchangePair(base: b, source: $0) } }
}

/// A task over bit variables named `names`, raw encoding, argmax over two classes, every input a probe.
func bitTask(_ names: [String]) throws -> TaskDescription {
    let variables = names.map { "{\"name\": \"\($0)\", \"type\": \"bit\"}" }.joined(separator: ", ")
    let json = """
        {"retort_task": 1, "name": "bits", "variables": [\(variables)], "encoder": {"kind": "raw"},
         "decoder": {"kind": "argmax", "outputs": 2}, "regions": {"probe": {"all": true}}}
        """
    return try TaskDescription.parse(Array(json.utf8))
}

/// An in-memory MLP: linear layers (weights `[in, out]`) with ReLU between them.
func handBuiltMLP(_ layers: [(weight: [Float], bias: [Float], inputs: Int, outputs: Int)]) throws -> (
    any NeuralNetwork, InMemoryWeightFile, NetworkDescription
) {
    var tensors: [(name: String, shape: [Int], values: [Float])] = []
    var ops: [MLPOp] = []
    for (i, layer) in layers.enumerated() {
        tensors.append(("w\(i)", [layer.inputs, layer.outputs], layer.weight))
        tensors.append(("b\(i)", [layer.outputs], layer.bias))
        if i > 0 { ops.append(MLPOp(kind: .relu)) }
        ops.append(MLPOp(kind: .linear, weight: "w\(i)", bias: "b\(i)", layout: .inOut))
    }
    let file = try InMemoryWeightFile(float32: tensors)
    let description = NetworkDescription.mlp(MLPDescription(inputWidth: layers[0].inputs, layers: ops))
    return (try NetworkLoader.load(file: file, description: description, threads: 1), file, description)
}

import Foundation
import Network
import WeightFiles

/// A network's behaviour on one region: inputs, decoded outputs and requested hook activations.
/// Saved to a file so surrogates can be fitted again without the network.
public struct ProbeSet: Sendable {
    /// The task's variable names, in order.
    public var variables: [String]
    /// The region the inputs came from.
    public var region: Region
    /// The decoded network output for each input.
    public var outputs: [Int]
    /// Hook activations by hook name (`[inputs, …]`).
    public var activations: [String: FloatTensor]

    /// The number of probes.
    public var count: Int { outputs.count }

    public init(variables: [String], region: Region, outputs: [Int], activations: [String: FloatTensor] = [:]) {
        self.variables = variables
        self.region = region
        self.outputs = outputs
        self.activations = activations
    }

    /// Runs `network` over `region` in batches, decoding with `task` and capturing `hooks`.
    ///
    /// A prompt task runs through `PromptRunner` (the language model's `generate` or `nextTokenLogits`) in
    /// batches of at most `PromptRunner.batchSize` prompts, and captures no hooks (its prompts differ in length).
    /// - Parameter progress: called with (inputs done, total) after each batch.
    /// - Complexity: one forward pass per input (a prompt task: one generation per input).
    public static func probe(
        _ network: any NeuralNetwork, task: TaskDescription, region: Region, hooks: [String] = [], batchSize: Int = 4096,
        progress: ((Int, Int) -> Void)? = nil
    ) throws(DistillationError) -> ProbeSet {
        if task.isPromptTask {
            guard hooks.isEmpty else {
                throw .encoderMismatch(
                    reason: "a prompt task captures no hooks (its prompts differ in length): fit on variable features only")
            }
            let runner = try PromptRunner(network: network, task: task)
            var outputs: [Int] = []
            outputs.reserveCapacity(region.count)
            let step = max(1, min(batchSize, PromptRunner.batchSize))
            for start in stride(from: 0, to: region.count, by: step) {
                let end = min(start + step, region.count)
                outputs += try runner.outputs(region, start..<end)
                progress?(end, region.count)
            }
            return ProbeSet(variables: task.variables.map(\.name), region: region, outputs: outputs, activations: [:])
        }
        try task.checkEncoder(for: network)
        var outputs: [Int] = []
        outputs.reserveCapacity(region.count)
        var captured: [String: [Float]] = [:]
        var shapes: [String: [Int]] = [:]
        var start = 0
        while start < region.count {
            let end = min(start + batchSize, region.count)
            let input = task.encode(region, start..<end)
            let run: NetworkRun
            do { run = try network.run(input, capture: Set(hooks), interventions: []) } catch { throw .network(error) }
            outputs += try task.decode(run.output)
            for hook in hooks {
                let activation = run.activations[hook]!
                captured[hook, default: []] += activation.scalars
                shapes[hook] = Array(activation.shape.dropFirst())
            }
            start = end
            progress?(start, region.count)
        }
        var activations: [String: FloatTensor] = [:]
        for hook in hooks {
            activations[hook] = FloatTensor(shape: [region.count] + (shapes[hook] ?? []), scalars: captured[hook] ?? [])
        }
        return ProbeSet(variables: task.variables.map(\.name), region: region, outputs: outputs, activations: activations)
    }

    /// Writes the probes as a safetensors file (`formats/task.md`, "Probe files"), atomically; never over one of `inputs`.
    public func write(to path: String, inputs: [String] = [], overwrite: Bool = true) throws(DistillationError) {
        func int64(_ name: String, _ values: [Int], _ shape: [Int]) -> TensorView {
            let data = values.map { Int64($0) }.withUnsafeBytes { Array($0) }
            return TensorView(info: TensorInfo(name: name, dtype: .i64, shape: shape), copying: data)
        }
        var tensors = [
            int64("inputs", region.values, [count, variables.count]),
            int64("outputs", outputs, [count]),
        ]
        if let indices = region.indices { tensors.append(int64("indices", indices, [count])) }
        for (hook, tensor) in activations {
            let data = tensor.scalars.withUnsafeBytes { Array($0) }
            tensors.append(
                TensorView(info: TensorInfo(name: "activations.\(hook)", dtype: .f32, shape: tensor.shape), copying: data))
        }
        var header: [UInt8] = []
        header += "{\"region\":".utf8
        JSONWriter.appendString(region.name, to: &header)
        header += ",\"variables\":[".utf8
        for (i, name) in variables.enumerated() {
            if i > 0 { header.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(name, to: &header)
        }
        header += "]}".utf8
        let metadata = Metadata([("retort_probes", String(decoding: header, as: UTF8.self))])
        do {
            try SafetensorsWriter.write(
                tensors: tensors.map(\.info), metadata: metadata, to: path, inputs: inputs, overwrite: overwrite,
                data: { info in tensors.first { $0.name == info.name }! })
        } catch {
            throw .weightFile(error)
        }
    }

    /// Reads a probe file written by `write(to:)`.
    public static func read(_ path: String) throws(DistillationError) -> ProbeSet {
        let file: any WeightFile
        do { file = try WeightFiles.open(path) } catch { throw .weightFile(error) }
        guard let text = file.metadata?["retort_probes"] else {
            throw .mismatch(path: path, reason: "not a Retort probe file (no retort_probes metadata)")
        }
        let (regionName, variables) = try taskErrors { () throws(NetworkError) -> (String, [String]) in
            let object = try JSONObjectReader(
                JSONValue.parseDescription(Array(text.utf8), what: "probe metadata"), path: "retort_probes")
            let names = try (object.array("variables") ?? []).map { value throws(NetworkError) -> String in
                guard case .string(let s) = value else {
                    throw .invalidDescription(path: "retort_probes.variables", reason: "expected strings")
                }
                return s
            }
            return (try object.requiredString("region"), names)
        }
        func int64s(_ name: String) throws(DistillationError) -> ([Int], [Int])? {
            guard let info = file.info(named: name) else { return nil }
            guard info.dtype == .i64 else { throw .mismatch(path: path, reason: "\(name) must be I64") }
            do {
                let view = try file.tensor(named: name)
                let values = view.withUnsafeBytes { raw in
                    (0..<info.elementCount).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
                }
                return (values, info.shape)
            } catch {
                throw .weightFile(error)
            }
        }
        guard let (inputs, inputShape) = try int64s("inputs"), let (outputs, _) = try int64s("outputs") else {
            throw .mismatch(path: path, reason: "missing inputs or outputs")
        }
        guard inputShape.count == 2, inputShape[1] == variables.count, inputShape[0] == outputs.count else {
            throw .mismatch(
                path: path,
                reason: "inputs of shape \(inputShape) do not fit \(outputs.count) outputs of \(variables.count) variables")
        }
        let indices = try int64s("indices")?.0
        var activations: [String: FloatTensor] = [:]
        for info in file.tensors where info.name.hasPrefix("activations.") {
            do {
                let values = try FloatConversion.float32Values(of: file.tensor(named: info.name))
                activations[String(info.name.dropFirst("activations.".count))] = FloatTensor(shape: info.shape, scalars: values)
            } catch {
                throw .weightFile(error)
            }
        }
        let region = Region(name: regionName, values: inputs, indices: indices, variableCount: variables.count)
        return ProbeSet(variables: variables, region: region, outputs: outputs, activations: activations)
    }
}

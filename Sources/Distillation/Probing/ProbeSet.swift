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
    /// The output alphabet of the task the probes were made with; nil when unknown (files of older Retorts).
    public var outputValues: [Int]?
    /// Each variable's range in the task the probes were made with; nil when unknown (files of older Retorts).
    public var variableRanges: [ClosedRange<Int>]?

    /// The number of probes.
    public var count: Int { outputs.count }

    public init(
        variables: [String], region: Region, outputs: [Int], activations: [String: FloatTensor] = [:],
        outputValues: [Int]? = nil, variableRanges: [ClosedRange<Int>]? = nil
    ) {
        self.variables = variables
        self.region = region
        self.outputs = outputs
        self.activations = activations
        self.outputValues = outputValues
        self.variableRanges = variableRanges
    }

    /// Probes of `task` (its variables, output alphabet and ranges recorded).
    init(task: TaskDescription, region: Region, outputs: [Int], activations: [String: FloatTensor]) {
        self.init(
            variables: task.variables.map(\.name), region: region, outputs: outputs, activations: activations,
            outputValues: task.outputValues, variableRanges: task.variables.map { $0.min...$0.max })
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
            return ProbeSet(task: task, region: region, outputs: outputs, activations: [:])
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
        return ProbeSet(task: task, region: region, outputs: outputs, activations: activations)
    }

    /// Writes the probes as a safetensors file (`formats/task.md`, "Probe files"), atomically; never over one of `inputs`.
    /// - Parameter extraMetadata: more `__metadata__` entries after `retort_probes` (a shard's `retort_shard`).
    public func write(
        to path: String, inputs: [String] = [], overwrite: Bool = true, extraMetadata: [(String, String)] = []
    ) throws(DistillationError) {
        // Each tensor's bytes are copied only while it is written, so writing holds at most one tensor twice.
        var tensors: [(info: TensorInfo, view: () -> TensorView)] = []
        func int64(_ name: String, _ values: [Int], _ shape: [Int]) {
            let info = TensorInfo(name: name, dtype: .i64, shape: shape)
            // Int is Int64 on every platform Retort builds for: the array's bytes are the tensor's.
            tensors.append((info, { values.withUnsafeBytes { TensorView(info: info, copying: $0) } }))
        }
        int64("inputs", region.values, [count, variables.count])
        int64("outputs", outputs, [count])
        if let indices = region.indices { int64("indices", indices, [count]) }
        for (hook, tensor) in activations {
            let info = TensorInfo(name: "activations.\(hook)", dtype: .f32, shape: tensor.shape)
            tensors.append((info, { tensor.scalars.withUnsafeBytes { TensorView(info: info, copying: $0) } }))
        }
        var header: [UInt8] = []
        header += "{\"region\":".utf8
        JSONWriter.appendString(region.name, to: &header)
        header += ",\"variables\":[".utf8
        for (i, name) in variables.enumerated() {
            if i > 0 { header.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(name, to: &header)
        }
        header += "]".utf8
        if let outputValues {
            header += ",\"output_values\":[\(outputValues.map(String.init).joined(separator: ","))]".utf8
        }
        if let variableRanges {
            header += ",\"ranges\":[\(variableRanges.map { "[\($0.lowerBound),\($0.upperBound)]" }.joined(separator: ","))]".utf8
        }
        header += "}".utf8
        let metadata = Metadata([("retort_probes", String(decoding: header, as: UTF8.self))] + extraMetadata)
        do {
            try SafetensorsWriter.write(
                tensors: tensors.map(\.info), metadata: metadata, to: path, inputs: inputs, overwrite: overwrite,
                data: { info in tensors.first { $0.info.name == info.name }!.view() })
        } catch {
            throw .weightFile(error)
        }
    }

    /// Reads a probe file written by `write(to:)`.
    public static func read(_ path: String) throws(DistillationError) -> ProbeSet {
        let file: any WeightFile
        do { file = try WeightFiles.open(path) } catch { throw .weightFile(error) }
        return try read(file, path: path)
    }

    /// Reads the probes in an opened weight file (a probe file's bytes, however they were
    /// obtained); `path` only names it in errors.
    public static func read(_ file: any WeightFile, path: String) throws(DistillationError) -> ProbeSet {
        guard let text = file.metadata?["retort_probes"] else {
            throw .mismatch(path: path, reason: "not a Retort probe file (no retort_probes metadata)")
        }
        let (regionName, variables, outputValues, ranges) = try probeMetadataErrors(path: path) {
            () throws(NetworkError) -> (String, [String], [Int]?, [ClosedRange<Int>]?) in
            let object = try JSONObjectReader(
                JSONValue.parseDescription(Array(text.utf8), what: "probe metadata"), path: "retort_probes")
            let names = try (object.array("variables") ?? []).map { value throws(NetworkError) -> String in
                guard case .string(let s) = value else {
                    throw .invalidDescription(path: "retort_probes.variables", reason: "expected strings")
                }
                return s
            }
            let outputValues = try object.array("output_values").map { items throws(NetworkError) -> [Int] in
                let values = items.compactMap(\.integerValue)
                guard values.count == items.count else {
                    throw .invalidDescription(path: "retort_probes.output_values", reason: "expected integers")
                }
                return values
            }
            let ranges = try object.array("ranges").map { items throws(NetworkError) -> [ClosedRange<Int>] in
                try items.map { item throws(NetworkError) -> ClosedRange<Int> in
                    guard case .array(let pair) = item, pair.count == 2, let low = pair[0].integerValue,
                        let high = pair[1].integerValue, low <= high
                    else {
                        throw .invalidDescription(path: "retort_probes.ranges", reason: "expected [min, max] pairs of integers")
                    }
                    return low...high
                }
            }
            if let ranges, ranges.count != names.count {
                throw .invalidDescription(
                    path: "retort_probes.ranges", reason: "\(ranges.count) ranges for \(names.count) variables")
            }
            return (try object.requiredString("region"), names, outputValues, ranges)
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
        guard let (inputs, inputShape) = try int64s("inputs"), let (outputs, outputShape) = try int64s("outputs") else {
            throw .mismatch(path: path, reason: "missing inputs or outputs")
        }
        guard outputShape == [outputs.count] else {
            throw .mismatch(path: path, reason: "outputs of shape \(outputShape) are not one value a probe")
        }
        guard inputShape.count == 2, inputShape[1] == variables.count, inputShape[0] == outputs.count else {
            throw .mismatch(
                path: path,
                reason: "inputs of shape \(inputShape) do not fit \(outputs.count) outputs of \(variables.count) variables")
        }
        let count = outputs.count
        // Every region is non-empty, and every value a task can hold lies within ±2^40
        // (formats/task.md): the features' sums and digits cannot overflow.
        guard count > 0 else { throw .mismatch(path: path, reason: "the file holds no probes (inputs of shape \(inputShape))") }
        if let k = inputs.firstIndex(where: { !TaskParser.valueLimit.contains($0) }) {
            throw .mismatch(
                path: path,
                reason:
                    "inputs[\(k / variables.count), \(k % variables.count)] (`\(variables[k % variables.count])`) is \(inputs[k]), outside ±2^40"
            )
        }
        var indices: [Int]?
        if let (values, shape) = try int64s("indices") {
            guard shape == [count] else {
                throw .mismatch(path: path, reason: "indices of shape \(shape) do not fit \(count) probes")
            }
            if let k = values.firstIndex(where: { $0 < 0 }) {
                throw .mismatch(path: path, reason: "indices[\(k)] is \(values[k]), a domain index cannot be negative")
            }
            indices = values
        }
        var activations: [String: FloatTensor] = [:]
        for info in file.tensors where info.name.hasPrefix("activations.") {
            // [probes, units] or [probes, positions, units], as `probe` captures them.
            guard (2...3).contains(info.shape.count), info.shape[0] == count, info.shape.count == 2 || info.shape[1] > 0 else {
                throw .mismatch(
                    path: path,
                    reason: "\(info.name) of shape \(info.shape) is not [\(count), units] or [\(count), positions, units]")
            }
            do {
                let values = try FloatConversion.float32Values(of: file.tensor(named: info.name))
                activations[String(info.name.dropFirst("activations.".count))] = FloatTensor(shape: info.shape, scalars: values)
            } catch {
                throw .weightFile(error)
            }
        }
        let region = Region(name: regionName, values: inputs, indices: indices, variableCount: variables.count)
        return ProbeSet(
            variables: variables, region: region, outputs: outputs, activations: activations, outputValues: outputValues,
            variableRanges: ranges)
    }

    /// Reads a probe file written by `write(to:)` and checks that `task` describes the probes (`check(against:)`);
    /// a file that does not record the task's alphabet and ranges gets them from `task` once checked.
    public static func read(_ path: String, for task: TaskDescription) throws(DistillationError) -> ProbeSet {
        let file: any WeightFile
        do { file = try WeightFiles.open(path) } catch { throw .weightFile(error) }
        return try read(file, path: path, for: task)
    }

    /// `read(_:for:)` on an opened weight file; `path` only names it in errors.
    public static func read(_ file: any WeightFile, path: String, for task: TaskDescription) throws(DistillationError)
        -> ProbeSet
    {
        var probes = try read(file, path: path)
        try probes.check(against: task, path: path)
        probes.outputValues = task.outputValues
        probes.variableRanges = task.variables.map { $0.min...$0.max }
        return probes
    }

    /// Checks that the probes can be fitted as `task`'s: the same variables (in order), the same output alphabet and
    /// variable ranges when the file records them, every output in the task's alphabet, and every in-domain input in
    /// the task's ranges at the domain index the file gives it.
    /// - Throws: `mismatch` at `path` naming what differs. Surrogates fitted across such a difference would be
    ///   scored against the wrong alphabet or domain, so nothing is fitted.
    /// - Complexity: O(probes × variables + alphabet)
    public func check(against task: TaskDescription, path: String) throws(DistillationError) {
        try task.requireVariables(variables, subject: "the probes read", path: path)
        if let outputValues, outputValues != task.outputValues {
            throw .mismatch(
                path: path,
                reason: "the probes were made with the output alphabet \(TaskDescription.describe(outputValues)); "
                    + "the task \"\(task.name)\" has \(task.outputAlphabetDescription)")
        }
        if let variableRanges {
            for (range, variable) in zip(variableRanges, task.variables) where range != variable.min...variable.max {
                throw .mismatch(
                    path: path,
                    reason: "the probes' variable \(variable.name) ranges over \(range.lowerBound)…\(range.upperBound); "
                        + "in the task \"\(task.name)\" it ranges over \(variable.min)…\(variable.max)")
            }
        }
        try task.requireOutputs(outputs, subject: "the probes hold the output", path: path)
        guard let indices = region.indices else { return }
        for (i, index) in indices.enumerated() {
            let values = region.input(i)
            for (value, variable) in zip(values, task.variables) where !(variable.min...variable.max).contains(value) {
                throw .mismatch(
                    path: path,
                    reason: "probe \(i) has \(variable.name) = \(value), outside the task's range \(variable.min)…\(variable.max)"
                )
            }
            guard task.index(of: values) == index else {
                throw .mismatch(
                    path: path,
                    reason: "probe \(i) (\(values.map(String.init).joined(separator: ", "))) has domain index \(index); "
                        + "in the task \"\(task.name)\" it is \(task.index(of: values)), so the domains differ")
            }
        }
    }
}

/// Runs `body`, its description errors becoming `mismatch` at the probe file `path` that name the metadata's JSON path
/// (the shared JSON reader speaks of network descriptions).
private func probeMetadataErrors<T>(path: String, _ body: () throws(NetworkError) -> T) throws(DistillationError) -> T {
    do {
        return try body()
    } catch {
        guard case .invalidDescription(let at, let reason) = error else { throw .network(error) }
        throw .mismatch(path: path, reason: "invalid probe metadata at \(at.isEmpty ? "retort_probes" : at): \(reason)")
    }
}

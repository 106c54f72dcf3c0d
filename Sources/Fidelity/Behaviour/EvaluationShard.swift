import Distillation
import Foundation
import Network
import WeightFiles

/// One shard's partial result of a sharded `fidelity` (`formats/task.md`, "Shard files"): on the shard's slice of
/// the domain run (an enumerated domain), the network's outputs and every surrogate's predictions; on its slice of
/// every other run of the `BehaviourPlan`, the `RegionStatistics` the report is computed from.
///
/// Written as `shard-I-of-N/evaluation.safetensors`: for the domain run, `network.domain` (I64 `[n]`) and
/// `predictions.domain` (I64 `[surrogates, n]`), with `retort_shard` metadata (command `fidelity`, slices by run
/// name) and `retort_evaluation` (`{"failed": {RUN: reason}, "statistics": {RUN: {...}}}`: runs the network could
/// not run, which have neither tensors nor statistics, and each other run's statistics). Counts add and the first
/// disagreements concatenate, so the merged report is the one a single run writes, and a merge holds
/// O(runs × surrogates × listed disagreements) of them whatever the regions' sizes.
public struct EvaluationShard: Sendable {
    /// The file name in the shard folder.
    public static let fileName = "evaluation.safetensors"

    /// What identifies the shard and its run; `slices` are by run name.
    public var metadata: ProbeShard
    /// The outputs and predictions on the shard's slice of the domain run, by run name (empty but for an
    /// enumerated domain).
    public var outputs: [String: RegionOutputs]
    /// The statistics of the shard's slice of every other run, by run name.
    public var statistics: [String: RegionStatistics]
    /// Run name → why the network could not run the shard's slice of it.
    public var failures: [String: String]

    public init(
        metadata: ProbeShard, outputs: [String: RegionOutputs], statistics: [String: RegionStatistics] = [:],
        failures: [String: String]
    ) {
        self.metadata = metadata
        self.outputs = outputs
        self.statistics = statistics
        self.failures = failures
    }

    /// Writes `folder/evaluation.safetensors`.
    /// - Complexity: O(outputs × surrogates)
    public func write(into folder: String) throws(DistillationError) {
        func int64(_ name: String, _ values: [Int], _ shape: [Int]) -> TensorView {
            // Int is Int64 on every platform Retort builds for: the array's bytes are the tensor's, copied once.
            values.withUnsafeBytes { TensorView(info: TensorInfo(name: name, dtype: .i64, shape: shape), copying: $0) }
        }
        var tensors: [TensorView] = []
        for name in outputs.keys.sorted() {
            let run = outputs[name]!
            tensors.append(int64("network." + name, run.network, [run.network.count]))
            tensors.append(
                int64("predictions." + name, run.predictions.flatMap { $0 }, [run.predictions.count, run.network.count]))
        }
        var failed: [UInt8] = Array("{\"failed\":{".utf8)
        for (i, name) in failures.keys.sorted().enumerated() {
            if i > 0 { failed += ",".utf8 }
            JSONWriter.appendString(name, to: &failed)
            failed += ":".utf8
            JSONWriter.appendString(failures[name]!, to: &failed)
        }
        failed += "},\"statistics\":{".utf8
        for (i, name) in statistics.keys.sorted().enumerated() {
            if i > 0 { failed += ",".utf8 }
            JSONWriter.appendString(name, to: &failed)
            failed += ":".utf8
            statistics[name]!.appendJSON(to: &failed)
        }
        failed += "}}".utf8
        let metadata = Metadata([
            ("retort_shard", self.metadata.json), ("retort_evaluation", String(decoding: failed, as: UTF8.self)),
        ])
        do {
            try SafetensorsWriter.write(
                tensors: tensors.map(\.info), metadata: metadata, to: folder + "/" + Self.fileName,
                data: { info in tensors.first { $0.name == info.name }! })
        } catch {
            throw .weightFile(error)
        }
    }

    /// Reads the shard folder `folder`: every run its metadata slices, with as many outputs as its slice and one row of
    /// predictions per surrogate, or named as failed.
    /// - Throws: `mismatch` naming the file and what is wrong with it.
    public static func read(folder: String) throws(DistillationError) -> EvaluationShard {
        let path = folder + "/" + fileName
        let file: any WeightFile
        do { file = try WeightFiles.open(path) } catch { throw .weightFile(error) }
        guard let text = file.metadata?["retort_shard"] else {
            throw .mismatch(path: path, reason: "not a shard's evaluation file (no retort_shard metadata)")
        }
        let metadata = try ProbeShard(json: text, path: path)
        guard metadata.command == "fidelity" else {
            throw .mismatch(path: path, reason: "retort_shard: a shard of \(metadata.command), not of fidelity")
        }
        var failures: [String: String] = [:]
        var statistics: [String: RegionStatistics] = [:]
        let surrogates = metadata.surrogates.count
        do throws(NetworkError) {
            let root = try JSONObjectReader(
                JSONValue.parseDescription(Array((file.metadata?["retort_evaluation"] ?? "").utf8), what: "evaluation metadata"),
                path: "")
            guard case .object(let members)? = root.value("failed") else {
                throw NetworkError.invalidDescription(path: "failed", reason: "expected an object")
            }
            for member in members {
                guard case .string(let reason) = member.value else {
                    throw NetworkError.invalidDescription(path: "failed.\(member.key)", reason: "expected a string")
                }
                failures[member.key] = reason
            }
            // Absent in files of Retort before statistics: every run was tensors then.
            if let value = root.value("statistics") {
                guard case .object(let members) = value else {
                    throw NetworkError.invalidDescription(path: "statistics", reason: "expected an object")
                }
                for member in members {
                    guard let slice = metadata.slices[member.key], failures[member.key] == nil else {
                        throw NetworkError.invalidDescription(
                            path: "statistics.\(member.key)", reason: "not a run of this shard that the network ran")
                    }
                    statistics[member.key] = try RegionStatistics(
                        json: member.value, path: "statistics.\(member.key)", count: slice.range.count, surrogates: surrogates)
                }
            }
        } catch {
            throw .mismatch(path: path, reason: "retort_evaluation: \(error)")
        }
        func int64s(_ name: String, shape expected: [Int]) throws(DistillationError) -> [Int] {
            guard let info = file.info(named: name) else { throw .mismatch(path: path, reason: "no tensor \(name)") }
            guard info.dtype == .i64, info.shape == expected else {
                throw .mismatch(path: path, reason: "\(name) is \(info.dtype) \(info.shape), expected I64 \(expected)")
            }
            do {
                let view = try file.tensor(named: name)
                return view.withUnsafeBytes { raw in
                    (0..<info.elementCount).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
                }
            } catch {
                throw .weightFile(error)
            }
        }
        var outputs: [String: RegionOutputs] = [:]
        for (name, (range, _)) in metadata.slices where failures[name] == nil && statistics[name] == nil {
            let n = range.count
            let network = try int64s("network." + name, shape: [n])
            let flat = try int64s("predictions." + name, shape: [surrogates, n])
            outputs[name] = RegionOutputs(
                name: name, network: network, predictions: (0..<surrogates).map { Array(flat[($0 * n)..<(($0 + 1) * n)]) })
        }
        return EvaluationShard(metadata: metadata, outputs: outputs, statistics: statistics, failures: failures)
    }

    /// Joins the shards of one sharded `fidelity` (each with the folder it was read from) into the outputs of each run
    /// given as outputs, the statistics of each other run and the runs that failed, as `BehaviourReport.assemble`
    /// takes them.
    ///
    /// A run that failed on any shard failed: its reason is the first failing shard's.
    /// - Parameter disagreementLimit: how many disagreements each surrogate's joined statistics keep.
    /// - Throws: `invalidShard` naming the part that does not belong (`ProbeShard.ordered(_:)`); `mismatch` when a
    ///   run is statistics in one shard and outputs in another.
    /// - Complexity: O(outputs × surrogates + shards × runs × surrogates × disagreementLimit)
    public static func merge(_ parts: [(path: String, shard: EvaluationShard)], disagreementLimit: Int = BehaviourOptions().disagreementLimit)
        throws(DistillationError)
        -> (outputs: [String: RegionOutputs], statistics: [String: RegionStatistics], failures: [String: String])
    {
        let order = try ProbeShard.ordered(parts.map { ($0.path, $0.shard.metadata) })
        var outputs: [String: RegionOutputs] = [:]
        var statistics: [String: RegionStatistics] = [:]
        var failures: [String: String] = [:]
        for name in parts[0].shard.metadata.slices.keys.sorted() {
            if let failing = order.first(where: { parts[$0].shard.failures[name] != nil }) {
                failures[name] = parts[failing].shard.failures[name]!
                continue
            }
            if order.allSatisfy({ parts[$0].shard.outputs[name] != nil }) {
                outputs[name] = RegionOutputs.concatenating(order.map { parts[$0].shard.outputs[name]! })
                continue
            }
            guard let split = order.first(where: { parts[$0].shard.statistics[name] == nil }) else {
                var joined = parts[order[0]].shard.statistics[name]!
                for i in order.dropFirst() {
                    joined = joined.appending(parts[i].shard.statistics[name]!, disagreementLimit: disagreementLimit)
                }
                statistics[name] = joined
                continue
            }
            throw .mismatch(
                path: parts[split].path, reason: "run \(name): outputs here, statistics in another shard (or neither)")
        }
        return (outputs, statistics, failures)
    }
}

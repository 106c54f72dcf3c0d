import Distillation
import Network

/// What a behavioural evaluation runs the network on, decided from the task before the network runs.
///
/// The runs are the whole domain (named `domain`) when it has at most `options.domainLimit` inputs, then every
/// region that cannot be read out of it (out-of-range regions; every region when the domain is not enumerated),
/// in the report's region order. `BehaviourReport.evaluate` runs each whole; a sharded evaluation
/// (`retort fidelity --shard I/N`) runs shard I's contiguous slice of each, and `BehaviourReport.assemble`
/// joins the slices' results into the report one machine writes: the domain run's outputs, and every other run's
/// `RegionStatistics`.
public struct BehaviourPlan: Sendable {
    /// The name of the run over the whole domain.
    public static let domainRun = "domain"

    /// Which inputs of each run this plan holds.
    public enum Scope: Sendable {
        /// Every run whole: one machine's evaluation.
        case whole
        /// The shard's slice of every run. An `all` region (with or without `where`) that no other region
        /// excludes is sliced without being listed whole, so on a domain too large to enumerate it may hold any
        /// number of inputs (`TaskDescription.sliceRegions`).
        case shard(Shard)
        /// No inputs: a merge of shards, which ran the network; `runs` gives each run's whole count, as the shards
        /// recorded it. Regions of a domain too large to enumerate are not resolved.
        case merge(runs: [String: Int])
    }

    public var task: TaskDescription
    public var surrogates: [FittedSurrogate]
    public var options: BehaviourOptions
    /// The hooks the surrogates' features read, captured on every run.
    public var hooks: [String]
    /// The runs, in order: name and number of inputs (of the whole run, in every scope).
    public var runs: [(name: String, count: Int)]
    /// The inputs of each run this plan's scope holds, by run name (none in a merge).
    public var inputs: [String: RegionSlice]
    /// Whether the first run is the whole domain, every region with domain indices read out of it.
    public var enumeratesDomain: Bool
    /// The regions read out of the domain run, resolved whole (enumerated domains only).
    var named: [String: Region]
    /// The number of inputs of each of the report's regions.
    var regionCounts: [String: Int]
    /// The report's region order.
    var order: [String]
    /// Notes known before the network runs.
    var notes: [String]

    /// The plan of evaluating `surrogates` on `task`'s regions; with `network`, first checks that the task's encoder
    /// and the surrogates' hooks fit it (a merge of shards, which runs no network, passes none).
    /// - Throws: what resolving the regions throws; in a merge, `mismatch` when `runs` are not the plan's runs.
    /// - Complexity: resolving the task's regions (none but an enumerated domain's in a merge); O(domain) for an
    ///   enumerated domain.
    public init(
        network: (any NeuralNetwork)?, task: TaskDescription, surrogates: [FittedSurrogate], options: BehaviourOptions = .init(),
        scope: Scope = .whole
    ) throws(DistillationError) {
        let hooks = TaskFeatures.hooks(in: Array(Set(surrogates.flatMap(\.featureNames))).sorted())
        if let network {
            try task.checkEncoder(for: network)
            for hook in hooks {
                do { try network.checkHook(hook) } catch { throw .network(error) }
            }
        }
        var regionTask = task
        // Inputs the network never trained on: the rest of the domain after `trained` (sampled on big domains),
        // unless the task names its own `untrained`.
        let derivesUntrained = task.regions["trained"] != nil && task.regions["untrained"] == nil
        if derivesUntrained {
            regionTask.regions["untrained"] =
                task.domainSize <= options.domainLimit
                ? .rest(excluding: ["trained"], limit: nil, seed: 0)
                : .rest(excluding: ["trained"], limit: options.sampleLimit, seed: 0x0DD5)
        }
        let enumeratesDomain = task.domainSize <= options.domainLimit
        var named: [String: Region] = [:]
        var counts: [String: Int] = [:]
        var slices: [String: RegionSlice] = [:]
        switch scope {
        case .shard(let shard) where !enumeratesDomain:
            do {
                (slices, counts) = try regionTask.sliceRegions(Array(regionTask.regions.keys), for: shard)
            } catch {
                // A `trained` region covering the whole domain leaves nothing untrained.
                guard derivesUntrained, case .emptyRegion("untrained") = error else { throw error }
                (slices, counts) = try task.sliceRegions(Array(task.regions.keys), for: shard)
            }
        case .merge(let runs) where !enumeratesDomain:
            let expected = Set(task.regions.keys)
            let given = Set(runs.keys)
            guard given == expected || (derivesUntrained && given == expected.union(["untrained"])) else {
                throw .mismatch(
                    path: "merge",
                    reason: "the shards ran \(runs.keys.sorted()), not the task's regions \(expected.sorted())")
            }
            counts = runs
        default:
            do {
                named = try regionTask.resolveRegions()
            } catch {
                guard derivesUntrained, case .emptyRegion("untrained") = error else { throw error }
                named = try task.resolveRegions()
            }
            counts = named.mapValues(\.count)
        }
        var order = ["probe", "held_out", "trained", "untrained", "out_of_range"].filter { counts[$0] != nil }
        order += counts.keys.filter { !order.contains($0) }.sorted()
        var notes: [String] = []
        var runs: [(name: String, count: Int)] = []
        var inputs: [String: RegionSlice] = [:]
        if enumeratesDomain {
            runs.append((Self.domainRun, task.domainSize))
            for name in order where named[name]!.indices == nil { runs.append((name, named[name]!.count)) }
            switch scope {
            case .whole:
                inputs[Self.domainRun] = .domainRange(name: Self.domainRun, 0..<task.domainSize)
                for run in runs.dropFirst() { inputs[run.name] = .listed(named[run.name]!) }
            case .shard(let shard):
                inputs[Self.domainRun] = .domainRange(name: Self.domainRun, shard.slice(of: task.domainSize))
                for run in runs.dropFirst() {
                    inputs[run.name] = .listed(named[run.name]!.slice(shard.slice(of: run.count)))
                }
            case .merge:
                break
            }
        } else {
            notes.append(
                "the domain has \(task.domainSize) inputs, more than the \(options.domainLimit) evaluated whole: "
                    + "regions were run separately and compression is estimated")
            runs = order.map { ($0, counts[$0]!) }
            switch scope {
            case .whole: for name in order { inputs[name] = .listed(named[name]!) }
            case .shard: inputs = slices
            case .merge: break
            }
            named = [:]
        }
        self.task = task
        self.surrogates = surrogates
        self.options = options
        self.hooks = hooks
        self.runs = runs
        self.inputs = inputs
        self.enumeratesDomain = enumeratesDomain
        self.named = named
        self.regionCounts = counts
        self.order = order
        self.notes = notes
    }

    /// The statistics of run `name` over the inputs this plan holds of it, run `chunk` inputs at a time so memory
    /// stays bounded whatever the slice's size.
    /// - Parameters:
    ///   - known: as for `run(_:network:known:progress:)`.
    ///   - progress: ("running NAME", done, total) as the network runs.
    /// - Complexity: one forward pass per input not in `known`, plus each surrogate's prediction on it.
    public func statistics(
        of name: String, network: any NeuralNetwork, known: [Int: Int] = [:], chunk: Int = 65_536,
        progress: ((String, Int, Int) -> Void)? = nil
    ) throws(DistillationError) -> RegionStatistics {
        guard let slice = inputs[name] else {
            throw .mismatch(path: name, reason: "the plan holds no inputs of this run")
        }
        var result = RegionStatistics.empty(task: task, surrogates: surrogates)
        var done = 0
        let total = slice.count
        try slice.forEachChunk(of: chunk, task: task) { (region) throws(DistillationError) in
            let outputs = try run(region, network: network, known: known) { what, d, _ in progress?(what, done + d, total) }
            result = result.appending(
                RegionStatistics(
                    outputs, region: region, task: task, surrogates: surrogates, disagreementLimit: options.disagreementLimit),
                disagreementLimit: options.disagreementLimit)
            done += region.count
        }
        return result
    }

    /// The network's outputs and every surrogate's predictions on `region` (a run of the plan, or a slice of one).
    /// - Parameters:
    ///   - known: domain index → the network's output already known there; used only when the plan captures no hooks.
    ///   - progress: ("running NAME", done, total) as the network runs.
    /// - Complexity: one forward pass per input not in `known`, plus each surrogate's prediction on every input.
    public func run(
        _ region: Region, network: any NeuralNetwork, known: [Int: Int] = [:], progress: ((String, Int, Int) -> Void)? = nil
    ) throws(DistillationError) -> RegionOutputs {
        let probes: ProbeSet
        if hooks.isEmpty, !known.isEmpty, let indices = region.indices {
            let missing = indices.filter { known[$0] == nil }
            let fresh = try ProbeSet.probe(network, task: task, region: task.region(region.name, indices: missing)) {
                done, total in progress?("running \(region.name)", done, total)
            }
            var outputs = known
            for (index, output) in zip(missing, fresh.outputs) { outputs[index] = output }
            probes = ProbeSet(
                variables: task.variables.map(\.name), region: region, outputs: indices.map { outputs[$0]! }, activations: [:])
        } else {
            probes = try ProbeSet.probe(network, task: task, region: region, hooks: hooks) { done, total in
                progress?("running \(region.name)", done, total)
            }
        }
        var predictions: [[Int]] = []
        for s in surrogates { predictions.append(try s.predict(probes, task: task)) }
        return RegionOutputs(name: region.name, network: probes.outputs, predictions: predictions)
    }
}

/// The network's decoded outputs and each surrogate's predictions on one run of a `BehaviourPlan`, or a slice of one.
public struct RegionOutputs: Sendable, Equatable {
    /// The run's name: a region of the task, or `domain`.
    public var name: String
    /// The network's output for each input.
    public var network: [Int]
    /// `predictions[k][i]`: surrogate k's output for input i.
    public var predictions: [[Int]]

    public init(name: String, network: [Int], predictions: [[Int]]) {
        self.name = name
        self.network = network
        self.predictions = predictions
    }

    /// Consecutive slices of one run as one.
    /// - Precondition: every part has as many surrogates as the first.
    /// - Complexity: O(inputs × surrogates)
    public static func concatenating(_ parts: [RegionOutputs]) -> RegionOutputs {
        var result = parts[0]
        for part in parts.dropFirst() {
            result.network += part.network
            for k in result.predictions.indices { result.predictions[k] += part.predictions[k] }
        }
        return result
    }
}

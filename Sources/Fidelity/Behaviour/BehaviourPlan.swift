import Distillation
import Network

/// What a behavioural evaluation runs the network on, decided from the task before the network runs.
///
/// The runs are the whole domain (named `domain`) when it has at most `options.domainLimit` inputs, then every
/// region that cannot be read out of it (out-of-range regions; every region when the domain is not enumerated),
/// in the report's region order. `BehaviourReport.evaluate` runs each whole; a sharded evaluation
/// (`retort fidelity --shard I/N`) runs shard I's contiguous slice of each, and `BehaviourReport.assemble`
/// joins the slices into the report one machine writes.
public struct BehaviourPlan: Sendable {
    /// The name of the run over the whole domain.
    public static let domainRun = "domain"

    public var task: TaskDescription
    public var surrogates: [FittedSurrogate]
    public var options: BehaviourOptions
    /// The hooks the surrogates' features read, captured on every run.
    public var hooks: [String]
    /// The regions the network runs over, in order.
    public var runs: [Region]
    /// Whether the first run is the whole domain, every region with domain indices read out of it.
    public var enumeratesDomain: Bool
    /// The report's regions by name (the task's, with a derived `untrained`).
    var named: [String: Region]
    /// The report's region order.
    var order: [String]
    /// Notes known before the network runs.
    var notes: [String]

    /// The plan of evaluating `surrogates` on `task`'s regions; with `network`, first checks that the task's encoder
    /// and the surrogates' hooks fit it (a merge of shards, which runs no network, passes none).
    /// - Complexity: resolving the task's regions; O(domain) for an enumerated domain.
    public init(
        network: (any NeuralNetwork)?, task: TaskDescription, surrogates: [FittedSurrogate], options: BehaviourOptions = .init()
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
        var named: [String: Region]
        do {
            named = try regionTask.resolveRegions()
        } catch {
            // A `trained` region covering the whole domain leaves nothing untrained.
            guard derivesUntrained, case .emptyRegion("untrained") = error else { throw error }
            named = try task.resolveRegions()
        }
        var order = ["probe", "held_out", "trained", "untrained", "out_of_range"].filter { named[$0] != nil }
        order += named.keys.filter { !order.contains($0) }.sorted()
        var notes: [String] = []
        var runs: [Region] = []
        let enumeratesDomain = task.domainSize <= options.domainLimit
        if enumeratesDomain {
            runs.append(task.region(Self.domainRun, indices: Array(0..<task.domainSize)))
            runs += order.compactMap { named[$0]!.indices == nil ? named[$0] : nil }
        } else {
            notes.append(
                "the domain has \(task.domainSize) inputs, more than the \(options.domainLimit) evaluated whole: "
                    + "regions were run separately and compression is estimated")
            runs = order.map { named[$0]! }
        }
        self.task = task
        self.surrogates = surrogates
        self.options = options
        self.hooks = hooks
        self.runs = runs
        self.enumeratesDomain = enumeratesDomain
        self.named = named
        self.order = order
        self.notes = notes
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

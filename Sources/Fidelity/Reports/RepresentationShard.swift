import Distillation
import Foundation
import Network

/// One shard's part of the representation tests of a sharded `fidelity` (`formats/task.md`, "Shard files").
///
/// The tests' work is a list of items, one per (surrogate, network or its random-init control, tested variable),
/// in the order one run does them: surrogates in order, the network before the control, variables in order. Shard
/// I of N runs the contiguous slice `Shard.slice(of:)` of that list — every surrogate's, since which surrogates
/// reproduce the behaviour is known only once the evaluation is merged — and `FidelityReport.assembleRepresentation`
/// builds from the N parts the results one run gets (each variable's search is seeded by its position alone).
public struct RepresentationShard: Sendable, Codable {
    /// The file name in the shard folder.
    public static let fileName = "representation.json"

    /// One unit of work.
    public struct Item: Sendable, Codable, Hashable {
        /// The surrogate's index in the run's `--surrogate` list.
        public var surrogate: Int
        /// On the random-init control rather than the network.
        public var control: Bool
        /// The variable's position among the surrogate's tested variables.
        public var variable: Int
    }

    /// A surrogate whose tests failed, at the item where they did (the first of the shard's items of that network
    /// when the failure came before any variable).
    public struct Failure: Sendable, Codable {
        public var item: Int
        public var surrogate: Int
        public var reason: String
    }

    /// The slice of the work list this shard ran, and the list's length.
    public var start: Int
    public var end: Int
    public var total: Int
    /// The results of the slice's items, in order (those of failed surrogates left out).
    public var items: [Item]
    public var results: [VariableRepresentation]
    public var failures: [Failure]

    /// The work list of the tests of `surrogates` on `task` with `options`, and the surrogates that fail before any
    /// work (no causal model, a variable name they lack) with the reason.
    /// - Complexity: O(surrogates × variables)
    public static func workList(
        surrogates: [FittedSurrogate], task: TaskDescription, options: RepresentationOptions, control: Bool
    ) -> (items: [Item], failures: [Int: String]) {
        var items: [Item] = []
        var failures: [Int: String] = [:]
        for (i, surrogate) in surrogates.enumerated() {
            do throws(RepresentationError) {
                let model = try SurrogateCausalModel(surrogate: surrogate, task: task)
                let tested = try RepresentationTests.testedVariables(of: model, options: options).count
                for onControl in control ? [false, true] : [false] {
                    items += (0..<tested).map { Item(surrogate: i, control: onControl, variable: $0) }
                }
            } catch {
                failures[i] = "\(error)"
            }
        }
        return (items, failures)
    }

    /// Runs shard `shard`'s slice of the work list on `network` and `control`, over `inputs` (the probe region).
    /// - Parameter progress: one line per variable and site searched, with the site searches done and planned in the
    ///   slice (every default site of each item's variable, as `FidelityReport.runRepresentationTests` counts them).
    /// - Complexity: the slice's share of `RepresentationTests.run` for every surrogate.
    public static func run(
        _ shard: Shard, network: any NeuralNetwork, control: (any NeuralNetwork)?, surrogates: [FittedSurrogate],
        task: TaskDescription, inputs: Region, options: RepresentationOptions,
        progress: (_ message: String, _ done: Int, _ total: Int) -> Void = { _, _, _ in }
    ) -> RepresentationShard {
        let (list, failed) = workList(surrogates: surrogates, task: task, options: options, control: control != nil)
        let range = shard.slice(of: list.count)
        var part = RepresentationShard(
            start: range.lowerBound, end: range.upperBound, total: list.count, items: [], results: [], failures: [])
        let sites =
            options.sites?.count
            ?? ((try? RepresentationTests.defaultSites(network, task: task, positions: options.positions).count) ?? 1)
        let planned = max(1, range.count * sites)
        var done = 0
        var k = range.lowerBound
        while k < range.upperBound {
            // The slice's items of one surrogate on one network: one search over those variables.
            let first = list[k]
            var end = k
            while end < range.upperBound, list[end].surrogate == first.surrogate, list[end].control == first.control {
                end += 1
            }
            let positions = list[k].variable..<(list[end - 1].variable + 1)
            let start = done
            do throws(RepresentationError) {
                let model = try SurrogateCausalModel(surrogate: surrogates[first.surrogate], task: task)
                let searched = try RepresentationTests.search(
                    network: first.control ? control! : network, model: model, inputs: inputs, options: options,
                    positions: positions
                ) { message in
                    // Each searched site reports one indented line.
                    if message.hasPrefix("  ") { done = min(done + 1, start + (end - k) * sites) }
                    progress(message.trimmingCharacters(in: .whitespaces), done, planned)
                }
                part.items += list[k..<end]
                part.results += searched.variables
            } catch {
                part.failures.append(Failure(item: k, surrogate: first.surrogate, reason: "\(error)"))
            }
            done = start + (end - k) * sites
            progress(first.control ? "random-init control" : "network", done, planned)
            k = end
        }
        // Failures before any work belong to every shard: the merge needs them whichever shards ran the items.
        for (i, reason) in failed.sorted(by: { $0.key < $1.key }) {
            part.failures.append(Failure(item: -1, surrogate: i, reason: reason))
        }
        return part
    }

    /// The shard as JSON (numbers written so they read back exactly).
    public func encoded() throws(DistillationError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return Array(try encoder.encode(self)) } catch {
            throw .invalidShard(reason: "the representation results cannot be written: \(error)")
        }
    }

    /// Reads `encoded()`'s bytes; `path` names them in errors.
    public static func decoded(_ bytes: [UInt8], path: String) throws(DistillationError) -> RepresentationShard {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let part: RepresentationShard
        do { part = try decoder.decode(RepresentationShard.self, from: Data(bytes)) } catch {
            throw .mismatch(path: path, reason: "not a shard's representation results: \(error)")
        }
        guard part.items.count == part.results.count, 0 <= part.start, part.start <= part.end, part.end <= part.total
        else {
            throw .mismatch(
                path: path,
                reason: "\(part.items.count) items for \(part.results.count) results, slice \(part.start)..<\(part.end)")
        }
        return part
    }
}

extension FidelityReport {
    /// The representation tests of a sharded `fidelity` from its shards' parts (in shard order), as
    /// `runRepresentationTests` would have run them: every surrogate whose behavioural verdict is interpretation
    /// only gets its results, a failure (the first in the work list's order) or a reason it was not run.
    /// - Throws: `invalidShard` when the parts' slices do not tile the work list, or an item's result is missing.
    /// - Complexity: O(items)
    public mutating func assembleRepresentation(
        _ parts: [(path: String, part: RepresentationShard)], options: RepresentationOptions, control: Bool
    ) throws(DistillationError) {
        representationOptions = options
        let surrogates = behaviour.surrogates.map(\.surrogate)
        let (list, _) = RepresentationShard.workList(
            surrogates: surrogates, task: behaviour.task, options: options, control: control)
        var end = 0
        var results: [RepresentationShard.Item: VariableRepresentation] = [:]
        var failures: [Int: (item: Int, reason: String)] = [:]
        for (path, part) in parts {
            guard part.total == list.count, part.start == end else {
                throw .invalidShard(
                    reason: "\(path): its representation items \(part.start)..<\(part.end) of \(part.total) do not follow "
                        + "the previous shard's (expected from \(end) of \(list.count))")
            }
            end = part.end
            for (item, result) in zip(part.items, part.results) { results[item] = result }
            for failure in part.failures where failures[failure.surrogate].map({ failure.item < $0.item }) ?? true {
                failures[failure.surrogate] = (failure.item, failure.reason)
            }
        }
        guard end == list.count else {
            throw .invalidShard(reason: "the shards' representation items end at \(end), not at \(list.count)")
        }
        for (i, e) in behaviour.surrogates.enumerated() {
            guard e.verdict == .interpretationOnly else {
                representationSkipped[i] = "not run: the surrogate does not reproduce the network's behaviour"
                continue
            }
            if let failure = failures[i] {
                representationSkipped[i] = "not run: \(failure.reason)"
                continue
            }
            func networkResult(_ onControl: Bool) throws(DistillationError) -> NetworkRepresentation {
                let items = list.filter { $0.surrogate == i && $0.control == onControl }
                var variables: [VariableRepresentation] = []
                for item in items {
                    guard let result = results[item] else {
                        throw .invalidShard(reason: "no shard holds the representation result of \(item)")
                    }
                    variables.append(result)
                }
                let all = (try? SurrogateCausalModel(surrogate: e.surrogate, task: behaviour.task).variables.count) ?? 0
                return NetworkRepresentation(
                    variables: variables, untested: all - variables.count, named: options.variables != nil)
            }
            let main = try networkResult(false)
            let controlResult = control ? try networkResult(true) : nil
            representation[i] = RepresentationResult(
                network: main, control: controlResult,
                verdict: RepresentationVerdict(network: main, control: controlResult))
        }
    }
}

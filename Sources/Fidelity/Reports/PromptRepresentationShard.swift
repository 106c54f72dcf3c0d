import Distillation
import Foundation
import Network

/// One (variable, site) search of a prompt task's representation tests: the tested variable's position and the
/// site's rank among its best sites (0 = the best).
public struct PromptSearchItem: Sendable, Codable, Hashable, Comparable {
    public var variable: Int
    public var rank: Int

    public init(variable: Int, rank: Int) {
        self.variable = variable
        self.rank = rank
    }

    public static func < (a: PromptSearchItem, b: PromptSearchItem) -> Bool {
        (a.variable, a.rank) < (b.variable, b.rank)
    }
}

/// The first phase of a sharded prompt task's representation tests (`formats/task.md`, "Shard files"): shard I of N
/// chooses the inputs and runs them clean as one run does, then interchanges its contiguous slice of the candidate
/// sites (`Shard.slice(of:)`) whole on the localisation pairs, for every surrogate. The second phase
/// (`PromptSearchShard`) needs the whole map: each variable's best sites depend on every site.
public struct PromptLocalisationShard: Sendable, Codable {
    /// The file name in the shard folder.
    public static let fileName = "prompt-localisation.json"

    /// One surrogate's slice of the map, or the reason its tests failed.
    public struct Part: Sendable, Codable {
        /// The surrogate's index in the run's `--surrogate` list.
        public var surrogate: Int
        /// The slice of the candidate sites and their number.
        public var start: Int
        public var end: Int
        public var total: Int
        /// The tested variables' names, in order.
        public var variables: [String]
        /// Per site of the slice, each tested variable's IIA on the localisation pairs.
        public var accuracies: [[InterchangeAccuracy]]
        /// Seconds choosing the inputs and running them clean, and interchanging the slice's sites.
        public var cleanSeconds: Double
        public var localisationSeconds: Double
        public var failure: String?
    }

    /// The shard's `ProbeShard` metadata (`ProbeShard.json`): the command, files, seed and arguments it ran with.
    public var metadata: String
    public var surrogates: [Part]

    /// Runs shard `shard`'s slice of every surrogate's localisation on `network` over `inputs` (the probe region).
    /// - Parameter progress: the surrogate's family and stage, units done and units in the stage.
    /// - Complexity: every surrogate's clean runs, then its slice's share of sites × localisation pairs patched runs.
    public static func run(
        _ shard: Shard, metadata: ProbeShard, network: any NeuralNetwork, surrogates: [FittedSurrogate],
        task: TaskDescription, inputs: Region, options: RepresentationOptions,
        progress: (_ stage: String, _ done: Int, _ total: Int) -> Void = { _, _, _ in }
    ) -> PromptLocalisationShard {
        var parts: [Part] = []
        for (i, surrogate) in surrogates.enumerated() {
            let family = surrogate.family.rawValue
            let started = ContinuousClock.now
            var part = Part(
                surrogate: i, start: 0, end: 0, total: 0, variables: [], accuracies: [], cleanSeconds: 0,
                localisationSeconds: 0)
            do throws(RepresentationError) {
                let prepared = try PromptRepresentationTests.prepare(
                    network: network, surrogate: surrogate, task: task, inputs: inputs, options: options
                ) { progress("\(family): \($0)", $1, $2) }
                part.cleanSeconds = seconds(since: started)
                let range = shard.slice(of: prepared.sites.count)
                (part.start, part.end, part.total) = (range.lowerBound, range.upperBound, prepared.sites.count)
                part.variables = prepared.variables.map(\.name)
                let localising = ContinuousClock.now
                part.accuracies = try PromptRepresentationTests.localise(prepared, sites: range) {
                    progress("\(family): \($0)", $1, $2)
                }
                part.localisationSeconds = seconds(since: localising)
            } catch {
                part.failure = "\(error)"
            }
            parts.append(part)
        }
        return PromptLocalisationShard(metadata: metadata.json, surrogates: parts)
    }

    /// One surrogate's whole localisation map, joined from the first phase's parts.
    public struct Map: Sendable {
        /// Per candidate site, each tested variable's IIA (empty when the tests failed).
        public var accuracies: [[InterchangeAccuracy]]
        public var variables: [String]
        /// The first shard's seconds choosing and running the inputs (every shard does it), and the shards' seconds
        /// of localisation added up.
        public var cleanSeconds: Double
        public var localisationSeconds: Double
        /// Why the tests failed, as the first shard to fail said.
        public var failure: String?
    }

    /// The maps of every surrogate from all N parts of the first phase, in shard order (`ProbeShard.ordered` has
    /// checked that they are one run's N shards).
    /// - Throws: `invalidShard` when the parts' slices of a surrogate's sites do not tile them, or differ in its
    ///   variables.
    /// - Complexity: O(sites × variables) per surrogate.
    public static func maps(_ parts: [(path: String, shard: PromptLocalisationShard)]) throws(DistillationError) -> [Map] {
        guard let first = parts.first else { throw .invalidShard(reason: "no first-phase parts to join") }
        var maps: [Map] = []
        for i in first.shard.surrogates.indices {
            var map = Map(accuracies: [], variables: [], cleanSeconds: 0, localisationSeconds: 0)
            var end = 0
            var total: Int?
            for (position, (path, shard)) in parts.enumerated() {
                guard i < shard.surrogates.count, shard.surrogates[i].surrogate == i else {
                    throw .invalidShard(reason: "\(path): no localisation part for surrogate \(i)")
                }
                let part = shard.surrogates[i]
                if let failure = part.failure {
                    if map.failure == nil { map.failure = failure }
                    continue
                }
                if position == 0 { map.cleanSeconds = part.cleanSeconds }
                map.localisationSeconds += part.localisationSeconds
                if total == nil {
                    total = part.total
                    map.variables = part.variables
                }
                guard part.total == total, part.start == end, part.end - part.start == part.accuracies.count,
                    part.variables == map.variables, part.accuracies.allSatisfy({ $0.count == map.variables.count })
                else {
                    throw .invalidShard(
                        reason: "\(path): surrogate \(i)'s localisation sites \(part.start)..<\(part.end) of \(part.total) "
                            + "do not follow the previous shard's (expected from \(end) of \(total ?? part.total), "
                            + "variables \(map.variables.joined(separator: ", ")))")
                }
                end = part.end
                map.accuracies += part.accuracies
            }
            if map.failure == nil, end != total ?? 0 {
                throw .invalidShard(
                    reason: "the shards' localisation sites of surrogate \(i) end at \(end), not at \(total ?? 0)")
            }
            if map.failure != nil { map.accuracies = [] }
            maps.append(map)
        }
        return maps
    }
}

/// The second phase of a sharded prompt task's representation tests (`formats/task.md`, "Shard files"): given the
/// first phase's maps, each variable's best sites are those one run chooses, and the (variable, site) searches,
/// variables in order and each variable's sites best first, form a work list; shard I of M runs its contiguous slice
/// of every surrogate's list (held-out whole site, class-mean and random subspaces, DAS) and the random-init
/// control's interchanges of the same items. `FidelityReport.assemblePromptRepresentation` joins the M parts into
/// the results one run gets (every search is seeded by its variable and site alone).
public struct PromptSearchShard: Sendable, Codable {
    /// The file name in the shard folder.
    public static let fileName = "prompt-search.json"

    /// One surrogate's slice of the searches, or the reason its tests failed.
    public struct Part: Sendable, Codable {
        public var surrogate: Int
        /// The slice of the work list and its length.
        public var start: Int
        public var end: Int
        public var total: Int
        /// The results with every variable's map, and in `top` only the slice's items' sites; `patchedRuns` counts the
        /// clean runs and the localisation's, `controlRuns` nothing (the join counts the rest); the seconds of the
        /// clean runs and the localisation are the first phase's.
        public var result: PromptRepresentationResult?
        public var failure: String?
    }

    /// The shard's `ProbeShard` metadata (`ProbeShard.json`).
    public var metadata: String
    /// The SHA-256 of each first-phase part read (`PromptLocalisationShard.fileName`), in shard order: the join
    /// checks they are the first phase's parts it is given.
    public var localisation: [String]
    public var surrogates: [Part]

    /// Runs shard `shard`'s slice of every surrogate's searches on `network` (and the control's) over `inputs`, at
    /// the best sites of `maps` (the first phase's, one per surrogate).
    /// - Parameters:
    ///   - control: builds the random-init control the first time a slice needs it (`nil`: no control).
    ///   - progress: the surrogate's family and stage, units done and units in the stage.
    /// - Complexity: every surrogate's clean runs, then its slice's share of `PromptRepresentationTests.run`'s
    ///   searches, and the control's clean runs and searches of the same items.
    public static func run(
        _ shard: Shard, metadata: ProbeShard, localisation: [String], maps: [PromptLocalisationShard.Map],
        network: any NeuralNetwork, control: (() throws(RepresentationError) -> any NeuralNetwork)?,
        surrogates: [FittedSurrogate], task: TaskDescription, inputs: Region, options: RepresentationOptions,
        progress: (_ stage: String, _ done: Int, _ total: Int) -> Void = { _, _, _ in }
    ) -> PromptSearchShard {
        var parts: [Part] = []
        var built: (any NeuralNetwork)?
        for (i, surrogate) in surrogates.enumerated() {
            let family = surrogate.family.rawValue
            var part = Part(surrogate: i, start: 0, end: 0, total: 0)
            if let failure = maps[i].failure {
                part.failure = failure
                parts.append(part)
                continue
            }
            do throws(RepresentationError) {
                let prepared = try PromptRepresentationTests.prepare(
                    network: network, surrogate: surrogate, task: task, inputs: inputs, options: options
                ) { progress("\(family): \($0)", $1, $2) }
                let map = maps[i].accuracies
                guard map.count == prepared.sites.count, prepared.variables.map(\.name) == maps[i].variables else {
                    throw .invalidOptions(
                        reason: "the first phase's map has \(map.count) sites of variables "
                            + maps[i].variables.joined(separator: ", ") + "; these tests have \(prepared.sites.count) sites of "
                            + prepared.variables.map(\.name).joined(separator: ", "))
                }
                let searchStart = ContinuousClock.now
                let chosen = PromptRepresentationTests.bestSites(map, top: options.searchSites)
                let list = chosen.indices.flatMap { k in chosen[k].indices.map { PromptSearchItem(variable: k, rank: $0) } }
                let range = shard.slice(of: list.count)
                (part.start, part.end, part.total) = (range.lowerBound, range.upperBound, list.count)
                let items = Set(list[range])
                var (results, _) = try PromptRepresentationTests.searchBestSites(
                    prepared, map: map, chosen: chosen, items: items, options: options
                ) { progress("\(family): \($0)", $1, $2) }
                let subspaceSeconds = seconds(since: searchStart)
                var controlSeconds: Double?
                if let control {
                    let controlStart = ContinuousClock.now
                    if !items.isEmpty {
                        if built == nil { built = try control() }
                        let ranks = chosen.indices.map { k in
                            chosen[k].indices.filter { items.contains(.init(variable: k, rank: $0)) }
                        }
                        _ = try PromptRepresentationTests.scoreControl(
                            built!, task: task, model: prepared.model, runner: prepared.runner,
                            fitting: prepared.localisationPairs, heldOut: prepared.heldOutPairs,
                            targets: prepared.heldOutTargets, options: options, results: &results, ranks: ranks
                        ) { progress("\(family): \($0)", $1, $2) }
                    }
                    controlSeconds = seconds(since: controlStart)
                }
                part.result = PromptRepresentationResult(
                    inputs: prepared.selection, positions: prepared.positions,
                    localisationPairs: prepared.localisationPairs.count, heldOutPairs: prepared.heldOutPairs.count,
                    variables: results, untested: prepared.model.variables.count - prepared.variables.count,
                    named: options.variables != nil,
                    patchedRuns: prepared.cleanRuns + map.count * prepared.localisationPairs.count,
                    cleanSeconds: maps[i].cleanSeconds, localisationSeconds: maps[i].localisationSeconds,
                    subspaceSeconds: subspaceSeconds, controlRuns: 0, controlSeconds: controlSeconds)
            } catch {
                part.failure = "\(error)"
            }
            parts.append(part)
        }
        return PromptSearchShard(metadata: metadata.json, localisation: localisation, surrogates: parts)
    }
}

extension PromptSearchShard {
    /// One surrogate's tests joined from the second phase's parts: the results one run gets, or why they failed.
    public enum Joined: Sendable {
        case result(PromptRepresentationResult)
        case failure(String)
    }

    /// Every surrogate's tests (of `count`) from the second phase's parts, in shard order (`ProbeShard.ordered` has
    /// checked that they are one run's M shards): each variable's best sites in the order one run lists them, the
    /// runs counted as one run counts them, the seconds the shards' added up.
    /// - Throws: `invalidShard` when the parts' slices do not tile a surrogate's work list, or their inputs or maps
    ///   differ.
    /// - Complexity: O(items + sites × variables) per surrogate.
    public static func join(_ parts: [(path: String, shard: PromptSearchShard)], surrogates count: Int)
        throws(DistillationError) -> [Joined]
    {
        var joined: [Joined] = []
        for i in 0..<count {
            var merged: PromptRepresentationResult?
            var failure: String?
            var end = 0
            var total = 0
            for (path, shard) in parts {
                guard i < shard.surrogates.count, shard.surrogates[i].surrogate == i else {
                    throw .invalidShard(reason: "\(path): no representation part for surrogate \(i)")
                }
                let part = shard.surrogates[i]
                if let reason = part.failure {
                    if failure == nil { failure = reason }
                    continue
                }
                guard let result = part.result else {
                    throw .invalidShard(reason: "\(path): surrogate \(i)'s part has neither results nor a failure")
                }
                guard var sum = merged else {
                    guard part.start == 0 else {
                        throw .invalidShard(
                            reason: "\(path): surrogate \(i)'s searches start at \(part.start) of \(part.total), not at 0")
                    }
                    merged = result
                    (end, total) = (part.end, part.total)
                    continue
                }
                guard part.total == total, part.start == end, result.variables.count == sum.variables.count,
                    result.inputs.json == sum.inputs.json,
                    zip(result.variables, sum.variables).allSatisfy({ $0.localisation.map(\.json) == $1.localisation.map(\.json) }
                    )
                else {
                    throw .invalidShard(
                        reason: "\(path): surrogate \(i)'s searches \(part.start)..<\(part.end) of \(part.total) do not "
                            + "follow the previous shard's (expected from \(end) of \(total), on the same inputs and map)")
                }
                end = part.end
                for k in sum.variables.indices { sum.variables[k].top += result.variables[k].top }
                sum.subspaceSeconds += result.subspaceSeconds
                if let seconds = result.controlSeconds { sum.controlSeconds = (sum.controlSeconds ?? 0) + seconds }
                merged = sum
            }
            if let failure {
                joined.append(.failure(failure))
                continue
            }
            guard var result = merged else { throw .invalidShard(reason: "no shard holds surrogate \(i)'s searches") }
            guard end == total else {
                throw .invalidShard(reason: "the shards' searches of surrogate \(i) end at \(end), not at \(total)")
            }
            // Counted as one run counts them: each distinct best site's held-out runs once, on the network and on the
            // control, then each subspace's (class-mean beside random on the network) and each DAS subspace's.
            let heldOut = result.heldOutPairs
            let sites = Set(result.variables.flatMap { $0.top.map(\.site) }).count
            let network = result.variables.reduce(0) { sum, v in
                sum + v.top.reduce(0) { $0 + 2 * $1.subspaces.count + $1.das.count }
            }
            result.patchedRuns += (sites + network) * heldOut
            if result.controlSeconds != nil {
                let control = result.variables.reduce(0) { sum, v in
                    sum
                        + v.top.reduce(0) {
                            $0 + $1.subspaces.filter { $0.controlAccuracy != nil }.count
                                + $1.das.filter { $0.controlAccuracy != nil }.count
                        }
                }
                result.controlRuns = result.inputs.used + (sites + control) * heldOut
            }
            joined.append(.result(result))
        }
        return joined
    }
}

extension FidelityReport {
    /// The prompt-task representation tests of a sharded `fidelity` from its second phase's parts (in shard order),
    /// as `runPromptRepresentationTests` would have run them (`PromptSearchShard.join`): each surrogate gets the
    /// results one run gets, or the reason its tests failed.
    /// - Throws: `invalidShard` when the parts do not join.
    /// - Complexity: O(items + sites × variables) per surrogate.
    public mutating func assemblePromptRepresentation(
        _ parts: [(path: String, shard: PromptSearchShard)], options: RepresentationOptions
    ) throws(DistillationError) {
        representationOptions = options
        for (i, joined) in try PromptSearchShard.join(parts, surrogates: behaviour.surrogates.count).enumerated() {
            switch joined {
            case .result(let result): promptRepresentation[i] = result
            case .failure(let reason): representationSkipped[i] = "not run: \(reason)"
            }
        }
    }
}

extension PromptLocalisationShard {
    /// The part as JSON (numbers written so they read back exactly).
    public func encoded() throws(DistillationError) -> [UInt8] { try shardJSON(self) }

    /// Reads `encoded()`'s bytes; `path` names them in errors.
    public static func decoded(_ bytes: [UInt8], path: String) throws(DistillationError) -> PromptLocalisationShard {
        try shardValue(bytes, path: path, what: "a first-phase shard's localisation")
    }
}

extension PromptSearchShard {
    /// The part as JSON (numbers written so they read back exactly).
    public func encoded() throws(DistillationError) -> [UInt8] { try shardJSON(self) }

    /// Reads `encoded()`'s bytes; `path` names them in errors.
    public static func decoded(_ bytes: [UInt8], path: String) throws(DistillationError) -> PromptSearchShard {
        try shardValue(bytes, path: path, what: "a second-phase shard's searches")
    }
}

private func shardJSON<T: Encodable>(_ value: T) throws(DistillationError) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    do { return Array(try encoder.encode(value)) } catch {
        throw .invalidShard(reason: "the representation results cannot be written: \(error)")
    }
}

private func shardValue<T: Decodable>(_ bytes: [UInt8], path: String, what: String) throws(DistillationError) -> T {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    do { return try decoder.decode(T.self, from: Data(bytes)) } catch {
        throw .mismatch(path: path, reason: "not \(what): \(error)")
    }
}

private func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

extension ProbeShard {
    /// Checks that `other` (a shard of another phase of the same run, at `theirs`) ran the same command on the same
    /// files (by SHA-256) with the same seed and arguments as this one (at `path`); the shard counts may differ.
    /// - Throws: `invalidShard` naming the first thing that differs.
    /// - Complexity: O(arguments + surrogates)
    public func checkSameRun(as other: ProbeShard, path: String, theirs: String) throws(DistillationError) {
        func differs(_ what: String, _ mine: String, _ them: String) -> DistillationError {
            .invalidShard(reason: "\(theirs): a shard of another \(what) (\(them)) than \(path) (\(mine))")
        }
        func digest(_ s: Source) -> String { s.sha256.map { "\(s.path), sha256 \($0.prefix(12))…" } ?? s.path }
        if command != other.command { throw differs("command", command, other.command) }
        for (what, mine, them) in [
            ("task", task, other.task), ("model", model, other.model), ("network", network, other.network),
        ]
        where mine.sha256 != them.sha256 || (mine.sha256 == nil && mine.path != them.path) {
            throw differs(what, digest(mine), digest(them))
        }
        if surrogates.map(\.sha256) != other.surrogates.map(\.sha256) {
            throw differs(
                "set of surrogates", surrogates.map(digest).joined(separator: "; "),
                other.surrogates.map(digest).joined(separator: "; "))
        }
        if seed != other.seed { throw differs("seed", "\(seed)", "\(other.seed)") }
        if arguments != other.arguments {
            throw differs("set of arguments", arguments.joined(separator: " "), other.arguments.joined(separator: " "))
        }
    }
}

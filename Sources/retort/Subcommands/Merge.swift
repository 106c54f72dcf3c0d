import ArgumentParser
import Distillation
import Fidelity
import Foundation
import WeightFiles

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join the shards of a sharded distill or fidelity and write what one run writes.",
        discussion: """
            Each PART is a shard folder (DIR/shard-I-of-N, written by `retort distill --shard I/N --out DIR` \
            or `retort fidelity --shard I/N --out DIR`) or a folder holding shard folders. The parts must \
            be all N shards of one run: the same command, task, model, network and surrogate files (by \
            SHA-256), seed, shard count and arguments. Merge then finishes that run on the joined \
            results and writes the same files into --out DIR (formats/task.md, "Shard files"): for \
            distill it fits the surrogates, evaluates them on the network and runs any \
            --representation tests, for fidelity it computes the report from the shards' outputs \
            or counts and representation results without the network. A prompt task's sharded \
            fidelity --representation has two phases: give both folders (DIR, and DIR2 of \
            --localisation DIR). The files are read again from the paths the shards recorded, \
            relative to the folder they ran in.
            """)

    @Argument(help: "Shard folders, or folders holding them.")
    var parts: [String]

    @Option(help: "Where to write surrogates, probes and the report.")
    var out: String

    @Flag(help: "Replace an existing --out folder of an earlier run (as distill --force).")
    var force = false

    @Option(help: "Threads, 1 to 1024 (default: all cores).")
    var threads: Int?

    @Flag(help: "Print the summary as JSON (as distill --json).")
    var json = false

    func validate() throws {
        try validateThreads(threads)
        if parts.isEmpty { throw ValidationError("give the shard folders to merge") }
    }

    func run() throws {
        var folders: [String] = []
        func isShard(_ folder: String) -> Bool {
            ["probe.safetensors", EvaluationShard.fileName, PromptSearchShard.fileName].contains {
                FileManager.default.fileExists(atPath: folder + "/" + $0)
            }
        }
        for part in parts {
            if isShard(part) {
                folders.append(part)
                continue
            }
            let children = (try? FileManager.default.contentsOfDirectory(atPath: part)) ?? []
            let shards = children.filter { $0.hasPrefix("shard-") && $0.contains("-of-") }.sorted()
            guard !shards.isEmpty else {
                printError(
                    "\(part): neither a shard folder (no probe.safetensors or \(EvaluationShard.fileName)) "
                        + "nor a folder of shard-I-of-N folders")
                throw ExitCode.failure
            }
            folders += shards.map { part + "/" + $0 }
        }
        if folders.contains(where: { folder in
            [EvaluationShard.fileName, PromptSearchShard.fileName].contains {
                FileManager.default.fileExists(atPath: folder + "/" + $0)
            }
        }) {
            try mergeEvaluation(folders)
        } else {
            try mergeProbes(folders)
        }
    }

    /// Merges the shards of a sharded `distill`.
    private func mergeProbes(_ folders: [String]) throws {
        var read: [ProbeShard.Part] = []
        for folder in folders {
            read.append(
                try reportingFailures(path: folder) { () throws(DistillationError) in try ProbeShard.read(folder: folder) })
            // Fitting runs on one machine over the joined probes: refused before the other parts are read, not an
            // out-of-memory part way through (formats/task.md, "Memory").
            if let big = read[0].shard.slices.first(where: { $0.value.total > TaskDescription.enumerationLimit }) {
                printError(
                    "\(folder): region \(big.key) has \(big.value.total) inputs over the shards, more than the "
                        + "\(TaskDescription.enumerationLimit) one machine joins and fits: its shards' probe files are "
                        + "the result (one slice each); to fit surrogates, probe a sampled region (\"sample\": N) of it")
                throw ExitCode.failure
            }
        }
        let merged = try reportingFailures(path: "merge") { () throws(DistillationError) in try ProbeShard.merge(read) }
        let shard = read[0].shard
        try checkSources(shard)
        let command = try recorded(Distill.self, "distill", shard.arguments, path: read[0].path)
        writeStandardError(
            "retort: merged \(read.count) shards: "
                + merged.keys.sorted().map { "\($0) \(merged[$0]!.count) probes" }.joined(separator: ", ") + "\n")
        try command.run(merged: merged)
    }

    /// Merges the shards of a sharded `fidelity`.
    private func mergeEvaluation(_ all: [String]) throws {
        // A prompt task's second-phase shards (their searches) beside the first phase's (evaluation and maps).
        let second = all.filter { FileManager.default.fileExists(atPath: $0 + "/" + PromptSearchShard.fileName) }
        let folders = all.filter { !second.contains($0) }
        guard !folders.isEmpty else {
            printError("merge: only second-phase shards (\(PromptSearchShard.fileName)); give the first phase's shard folders too")
            throw ExitCode.failure
        }
        var read: [(path: String, shard: EvaluationShard)] = []
        for folder in folders {
            guard FileManager.default.fileExists(atPath: folder + "/" + EvaluationShard.fileName) else {
                printError("\(folder): a shard of distill (probe.safetensors) among shards of fidelity; merge one run's shards")
                throw ExitCode.failure
            }
            read.append(
                (
                    folder,
                    try reportingFailures(path: folder) { () throws(DistillationError) in
                        try EvaluationShard.read(folder: folder)
                    }
                ))
        }
        let joined = try reportingFailures(path: "merge") { () throws(DistillationError) in try EvaluationShard.merge(read) }
        let shard = read[0].shard.metadata
        // The representation tests' parts, in shard order.
        var representation: [(path: String, part: RepresentationShard)] = []
        for (folder, _) in read.sorted(by: { $0.shard.metadata.shard.index < $1.shard.metadata.shard.index }) {
            let path = folder + "/" + RepresentationShard.fileName
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            representation.append(
                (
                    folder,
                    try reportingFailures(path: path) { () throws(DistillationError) in
                        try RepresentationShard.decoded(Array(data), path: path)
                    }
                ))
        }
        if !representation.isEmpty && representation.count != read.count {
            printError("merge: only \(representation.count) of the \(read.count) shards hold \(RepresentationShard.fileName)")
            throw ExitCode.failure
        }
        var merged = MergedEvaluation(
            runs: shard.slices.mapValues(\.total), outputs: joined.outputs, statistics: joined.statistics,
            failures: joined.failures, representation: representation)
        merged.promptSearch = try promptSearch(second, first: folders)
        try checkSources(shard)
        let command = try recorded(FidelityCommand.self, "fidelity", shard.arguments, path: read[0].path)
        writeStandardError(
            "retort: merged \(read.count) shards: "
                + merged.runs.keys.sorted().map { "\($0) \(merged.runs[$0]!) inputs" }.joined(separator: ", ")
                + (merged.promptSearch.isEmpty ? "" : "; and \(merged.promptSearch.count) shards of the representation searches")
                + "\n")
        try command.run(merged: merged)
    }

    /// The second-phase parts of a prompt task's sharded representation tests (`second`), in shard order, checked
    /// against the first phase's (`first`): the same run, and built on exactly those maps. Empty when the first phase
    /// has no maps.
    private func promptSearch(_ second: [String], first: [String]) throws -> [(path: String, shard: PromptSearchShard)] {
        let withMaps = first.filter { FileManager.default.fileExists(atPath: $0 + "/" + PromptLocalisationShard.fileName) }
        if withMaps.isEmpty {
            if let stray = second.first {
                printError("\(stray): a prompt task's second-phase shard, but the first phase's shards hold no localisation maps")
                throw ExitCode.failure
            }
            return []
        }
        guard !second.isEmpty else {
            printError(
                "merge: the first phase of a prompt task's --representation tests (\(PromptLocalisationShard.fileName)) "
                    + "without the second: run `retort fidelity … --shard J/M --localisation DIR --out DIR2` and merge DIR DIR2")
            throw ExitCode.failure
        }
        let maps = try readLocalisation(shards: first, named: "merge")
        var parts: [(path: String, shard: PromptSearchShard, metadata: ProbeShard)] = []
        for folder in second {
            let path = folder + "/" + PromptSearchShard.fileName
            let data = FileManager.default.contents(atPath: path) ?? Data()
            parts.append(
                try reportingFailures(path: path) { () throws(DistillationError) in
                    let shard = try PromptSearchShard.decoded(Array(data), path: path)
                    return (folder, shard, try ProbeShard(json: shard.metadata, path: path))
                })
        }
        let order = try reportingFailures(path: "merge") { () throws(DistillationError) in
            try ProbeShard.ordered(parts.map { ($0.path, $0.metadata) })
        }
        let ordered = order.map { parts[$0] }
        let hashes = maps.map(\.sha256)
        try reportingFailures(path: "merge") { () throws(DistillationError) in
            try ordered[0].metadata.checkSameRun(as: maps[0].metadata, path: ordered[0].path, theirs: maps[0].path)
            for part in ordered where part.shard.localisation != hashes {
                throw .invalidShard(
                    reason: "\(part.path): its searches start from other first-phase maps than the \(maps.count) given "
                        + "(\(PromptLocalisationShard.fileName) files differ)")
            }
        }
        return ordered.map { ($0.path, $0.shard) }
    }

    /// The command the shards ran, parsed from their recorded arguments, unsharded and with merge's own
    /// `--out`, `--threads`, `--json` and `--force`.
    private func recorded<Command: ShardedCommand>(
        _ type: Command.Type, _ name: String, _ arguments: [String], path: String
    ) throws -> Command {
        var command: Command
        do {
            command = try Command.parse(arguments)
        } catch {
            printError("\(path): the recorded \(name) arguments do not parse: \(Command.message(for: error))")
            throw ExitCode.failure
        }
        command.shard = nil
        command.out = out
        command.threads = threads
        command.json = json
        command.force = force
        return command
    }

    /// Checks that the files the shards read are still the ones they read.
    private func checkSources(_ shard: ProbeShard) throws {
        for source in [shard.task, shard.model, shard.network] + shard.surrogates {
            guard let recorded = source.sha256 else { continue }
            guard FileManager.default.fileExists(atPath: source.path) else {
                printError(
                    "\(source.path): not found; the shards ran in \(shard.directory): run merge there (paths are relative to it)")
                throw ExitCode.failure
            }
            let now = try reportingFailures(path: source.path) { () throws(DistillationError) in
                try ProbeShard.sha256(ofFile: source.path)
            }
            guard now == recorded else {
                printError(
                    "\(source.path): changed since the shards read it (sha256 \(now.prefix(12))…, was \(recorded.prefix(12))…)")
                throw ExitCode.failure
            }
        }
    }
}

/// A command whose shards `merge` combines: the options merge sets on the command it re-runs.
protocol ShardedCommand: ParsableCommand {
    var shard: Shard? { get set }
    var out: String? { get set }
    var threads: Int? { get set }
    var json: Bool { get set }
    var force: Bool { get set }
}

extension Distill: ShardedCommand {}
extension FidelityCommand: ShardedCommand {}

import ArgumentParser
import Distillation
import Foundation
import WeightFiles

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join the shards of a sharded distill and write what one distill run writes.",
        discussion: """
            Each PART is a shard folder (DIR/shard-I-of-N, written by `retort distill --shard I/N --out DIR`) \
            or a folder holding shard folders. The parts must be all N shards of one run: the same task, \
            model and network files (by SHA-256), seed, shard count and distill arguments. Merge then \
            runs that distill on the joined probes: it fits the surrogates and evaluates them on the \
            network (which it reads again, from the paths the shards recorded, relative to the folder \
            they ran in), and writes the same files into --out DIR (formats/task.md, "Shard files").
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
        for part in parts {
            if FileManager.default.fileExists(atPath: part + "/probe.safetensors") {
                folders.append(part)
                continue
            }
            let children = (try? FileManager.default.contentsOfDirectory(atPath: part)) ?? []
            let shards = children.filter { $0.hasPrefix("shard-") && $0.contains("-of-") }.sorted()
            guard !shards.isEmpty else {
                printError("\(part): neither a shard folder (no probe.safetensors) nor a folder of shard-I-of-N folders")
                throw ExitCode.failure
            }
            folders += shards.map { part + "/" + $0 }
        }
        var read: [ProbeShard.Part] = []
        for folder in folders {
            read.append(
                try reportingFailures(path: folder) { () throws(DistillationError) in try ProbeShard.read(folder: folder) })
        }
        let merged = try reportingFailures(path: "merge") { () throws(DistillationError) in try ProbeShard.merge(read) }
        let shard = read[0].shard
        // The files the shards read must still be the ones they read.
        for source in [shard.task, shard.model, shard.network] {
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
        var command: Distill
        do {
            command = try Distill.parse(shard.arguments)
        } catch {
            printError("\(read[0].path): the recorded distill arguments do not parse: \(Distill.message(for: error))")
            throw ExitCode.failure
        }
        command.shard = nil
        command.out = out
        command.threads = threads
        command.json = json
        command.force = force
        writeStandardError(
            "retort: merged \(read.count) shards: "
                + merged.keys.sorted().map { "\($0) \(merged[$0]!.count) probes" }.joined(separator: ", ") + "\n")
        try command.run(merged: merged)
    }
}

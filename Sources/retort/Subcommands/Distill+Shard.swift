import ArgumentParser
import Distillation
import Foundation
import Network
import WeightFiles

extension Shard: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var defaultCompletionKind: CompletionKind { .default }
}

extension Distill {
    /// Probes shard `shard`'s slice of the task's probe and held-out regions into `--out/shard-I-of-N`.
    func probeShard(_ shard: Shard) throws {
        let started = ContinuousClock.now
        let task = self.task!, model = self.model!, network = self.network!, out = self.out!
        let threads = self.threads ?? System.coreCount
        let taskDescription = try reportingFailures(path: task) { () throws(DistillationError) in
            try TaskDescription.read(task)
        }
        // The shard's own folder, checked before any work, written whole or not at all: a half-written shard would
        // merge as one missing a region. An earlier run's shard folder is replaced only with --force.
        let folder = out + "/" + ProbeShard.folderName(shard)
        let output = try reportingErrors(path: folder) { () throws(WeightFileError) in
            try OutputDirectory(
                path: folder, inputs: [model, network, task], overwrite: force,
                replaceable: { $0 == "probe.safetensors" || $0 == "held_out.safetensors" })
        }
        let hooks = TaskFeatures.hooks(in: features.isEmpty ? taskDescription.features : features)
        // Fingerprinted before the network runs, so `merge` can tell whether it reads the same files.
        let sources = try reportingFailures(path: task) {
            () throws(DistillationError) -> (ProbeShard.Source, ProbeShard.Source, ProbeShard.Source) in
            (try .fingerprint(task), try .fingerprint(model), try .fingerprint(network))
        }
        let loaded = try loadNetwork(model: model, network: network, threads: threads)
        // Only the shard's slices of the probe and held-out regions are kept; an `all` region is never enumerated
        // whole (formats/task.md, "Shard files"), so a shard's memory grows with its slice, not with the region.
        var (regions, totals) = try reportingFailures(path: task) {
            () throws(DistillationError) -> ([String: Region], [String: Int]) in
            try taskDescription.checkEncoder(for: loaded.network)
            return try taskDescription.resolveRegions(slicing: ["probe", "held_out"], for: shard)
        }
        for hook in hooks {
            try reportingFailures(path: task) { () throws(NetworkError) in try loaded.network.checkHook(hook) }
        }
        guard regions["probe"] != nil else {
            printError("\(task): the task has no probe region")
            throw ExitCode.failure
        }
        let names = ["probe", "held_out"].filter { regions[$0] != nil }
        var slices: [String: (range: Range<Int>, total: Int)] = [:]
        for name in names {
            let total = totals[name]!
            guard total >= shard.count else {
                printError(
                    "\(task): region \(name) has \(total) inputs, fewer than the \(shard.count) shards: use at most \(total)")
                throw ExitCode(64)
            }
            slices[name] = (shard.slice(of: total), total)
        }
        let metadata = ProbeShard(
            shard: shard, slices: slices, task: sources.0, model: sources.1, network: sources.2,
            seed: representationTests.seed, arguments: recordedArguments(of: "distill"),
            directory: FileManager.default.currentDirectoryPath)
        var sliced: [String: Region] = [:]
        for name in names { sliced[name] = regions[name]! }
        regions = [:]
        var lines: [String] = []
        var probed = 0
        var probing = 0.0
        for name in names {
            let (range, total) = slices[name]!
            let region = sliced.removeValue(forKey: name)!
            let bar = ProgressBar(label: "probing \(name) \(shard)", minimumBytes: 0, totalBytes: region.count, unit: "inputs")
            let probingStarted = ContinuousClock.now
            let probes = try reportingFailures(path: model) { () throws(DistillationError) in
                try ProbeSet.probe(loaded.network, task: taskDescription, region: region, hooks: hooks, progress: bar.update)
            }
            probing += secondsSince(probingStarted)
            bar.finish()
            try reportingFailures(path: folder) { () throws(DistillationError) in
                try metadata.write(probes, into: output.temporaryPath)
            }
            probed += probes.count
            lines.append("\(name): inputs \(range.lowerBound)..<\(range.upperBound) of \(total)")
        }
        try commit(output)
        let seconds = secondsSince(started)
        // The network's time alone: reading, fingerprinting, resolving the regions and writing the files are not probing.
        emit(
            "shard \(shard): " + lines.joined(separator: "; ") + "; \(probed) probes in \(format3(seconds)) s, "
                + "probing \(format3(probing)) s (\(Int((Double(probed) / max(probing, 1e-9)).rounded())) inputs/s) → \(folder)")
    }
}

/// This run's arguments after `command` (`distill` or `fidelity`) less the ones that differ between the shards of
/// one run and `merge` sets itself: `--shard`, `--shard-count`, `--out`, `--force`, `--threads` and `--json`.
func recordedArguments(of command: String) -> [String] {
    let all = Array(CommandLine.arguments.dropFirst())
    guard let start = all.firstIndex(of: command) else { return [] }
    // --localisation: a second phase's shards record the first phase's arguments, so the two can be compared.
    let withValue: Set<String> = ["--shard", "--shard-count", "--out", "--threads", "--localisation"]
    var kept: [String] = []
    var i = start + 1
    while i < all.count {
        let argument = all[i]
        let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
        if argument == "--" {
            kept += all[i...]
            break
        } else if withValue.contains(argument) {
            i += 2
            continue
        } else if argument == "--json" || argument == "--force" || (argument.contains("=") && withValue.contains(name)) {
            i += 1
            continue
        }
        kept.append(argument)
        i += 1
    }
    return kept
}

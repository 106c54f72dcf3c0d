import ArgumentParser
import Distillation
import Fidelity
import Foundation
import Network
import WeightFiles

extension FidelityCommand {
    /// The first phase of a prompt task's sharded representation tests: shard `shard`'s slice of every surrogate's
    /// candidate sites interchanged whole, into `prompt-localisation.json`; returns the summary's words for it.
    func localisePromptShard(
        _ shard: Shard, metadata: ProbeShard, loaded: LoadedNetwork, surrogates: [FittedSurrogate],
        task taskDescription: TaskDescription, into output: OutputDirectory
    ) throws -> String {
        let threads = self.threads ?? System.coreCount
        try representationTests.checkVariableNames(surrogates, task: taskDescription)
        let options = try representationTests.promptOptions(threads: threads)
        let inputs = try representationInputs(taskDescription)
        let bars = StageBars()
        let part = PromptLocalisationShard.run(
            shard, metadata: metadata, network: loaded.network, surrogates: surrogates, task: taskDescription,
            inputs: inputs, options: options, progress: bars.update)
        bars.finish()
        let path = output.path + "/" + PromptLocalisationShard.fileName
        let bytes = try reportingFailures(path: path) { () throws(DistillationError) in try part.encoded() }
        try writeText(String(decoding: bytes, as: UTF8.self), named: PromptLocalisationShard.fileName, in: output)
        return part.surrogates.map { p in
            "\(surrogates[p.surrogate].family.rawValue) "
                + (p.failure.map { "not run (\($0))" } ?? "sites \(p.start)..<\(p.end) of \(p.total)")
        }.joined(separator: ", ")
    }

    /// The second phase: with the maps of the first phase's shards in `localisation`, shard `shard`'s slice of every
    /// surrogate's (variable, best site) searches and their control, into `--out/shard-I-of-N/prompt-search.json`.
    func searchPromptShard(_ shard: Shard, localisation: String, out: String, task taskDescription: TaskDescription) throws {
        let started = ContinuousClock.now
        let threads = self.threads ?? System.coreCount
        let folder = out + "/" + ProbeShard.folderName(shard)
        let output = try reportingErrors(path: folder) { () throws(WeightFileError) in
            try OutputDirectory(
                path: folder, inputs: [model, network, task] + surrogate, overwrite: force,
                replaceable: { $0 == PromptSearchShard.fileName })
        }
        var surrogates: [FittedSurrogate] = []
        for path in surrogate {
            surrogates.append(
                try reportingFailures(path: path) { () throws(DistillationError) in
                    try SurrogateFile.read(path, task: taskDescription)
                })
        }
        try representationTests.checkVariableNames(surrogates, task: taskDescription)
        let options = try representationTests.promptOptions(threads: threads)
        let sources = try reportingFailures(path: task) { () throws(DistillationError) -> [ProbeShard.Source] in
            try ([task, model, network] + surrogate).map { (path) throws(DistillationError) in try .fingerprint(path) }
        }
        let metadata = ProbeShard(
            command: "fidelity", shard: shard, slices: [:], task: sources[0], model: sources[1], network: sources[2],
            surrogates: Array(sources[3...]), seed: representationTests.seed, arguments: recordedArguments(of: "fidelity"),
            directory: FileManager.default.currentDirectoryPath)
        // The first phase's parts, checked before the network is loaded.
        let first = try readLocalisation(localisation)
        try reportingFailures(path: localisation) { () throws(DistillationError) in
            try metadata.checkSameRun(as: first[0].metadata, path: folder, theirs: first[0].path)
        }
        let maps = try reportingFailures(path: localisation) { () throws(DistillationError) in
            try PromptLocalisationShard.maps(first.map { ($0.path, $0.shard) })
        }
        let loaded = try loadNetwork(model: model, network: network, threads: threads)
        let inputs = try representationInputs(taskDescription)
        let bars = StageBars()
        let part = PromptSearchShard.run(
            shard, metadata: metadata, localisation: first.map(\.sha256), maps: maps, network: loaded.network,
            control: representationTests.promptControl(loaded, threads: threads), surrogates: surrogates,
            task: taskDescription, inputs: inputs, options: options, progress: bars.update)
        bars.finish()
        let path = folder + "/" + PromptSearchShard.fileName
        let bytes = try reportingFailures(path: path) { () throws(DistillationError) in try part.encoded() }
        try writeText(String(decoding: bytes, as: UTF8.self), named: PromptSearchShard.fileName, in: output)
        try commit(output)
        let words = part.surrogates.map { p in
            "\(surrogates[p.surrogate].family.rawValue) "
                + (p.failure.map { "not run (\($0))" } ?? "searches \(p.start)..<\(p.end) of \(p.total)")
        }
        emit("shard \(shard): " + words.joined(separator: ", ") + " in \(format3(secondsSince(started))) s → \(folder)")
    }

    /// The inputs of the representation tests: `--representation-region`, else the probe region.
    func representationInputs(_ taskDescription: TaskDescription) throws -> Region {
        let regions = try reportingFailures(path: task) { () throws(DistillationError) in try taskDescription.resolveRegions() }
        let name = representationTests.representationRegion ?? "probe"
        guard let region = regions[name] else {
            printError(
                "--representation-region: the task has no region \"\(name)\"; its regions: "
                    + regions.keys.sorted().joined(separator: ", "))
            throw ExitCode(64)
        }
        return region
    }
}

/// A first-phase part of a prompt task's sharded representation tests, read by the second phase and by `merge`.
struct LocalisationPart {
    var path: String
    var shard: PromptLocalisationShard
    var metadata: ProbeShard
    /// The SHA-256 of its `prompt-localisation.json`.
    var sha256: String
}

/// The first phase's parts in `folder` (a shard folder, or a folder of `shard-I-of-N` folders), in shard order,
/// checked to be all N shards of one run.
func readLocalisation(_ folder: String) throws -> [LocalisationPart] {
    var folders = [folder]
    if !FileManager.default.fileExists(atPath: folder + "/" + PromptLocalisationShard.fileName) {
        let children = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        folders = children.filter { $0.hasPrefix("shard-") && $0.contains("-of-") }.sorted().map { folder + "/" + $0 }
        guard !folders.isEmpty else {
            printError(
                "\(folder): no \(PromptLocalisationShard.fileName) and no shard-I-of-N folders: not the first phase of a "
                    + "prompt task's sharded --representation tests")
            throw ExitCode.failure
        }
    }
    return try readLocalisation(shards: folders, named: folder)
}

/// The first phase's parts in the shard folders `folders` (`named`: what errors call them as a whole), in shard
/// order, checked to be all N shards of one run.
func readLocalisation(shards folders: [String], named folder: String) throws -> [LocalisationPart] {
    var parts: [LocalisationPart] = []
    for shardFolder in folders {
        let path = shardFolder + "/" + PromptLocalisationShard.fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            let second = FileManager.default.fileExists(atPath: shardFolder + "/" + PromptSearchShard.fileName)
            printError(
                "\(shardFolder): no \(PromptLocalisationShard.fileName): "
                    + (second
                        ? "a second-phase shard (\(PromptSearchShard.fileName)); give the first phase's folder"
                        : "not a first-phase shard of a prompt task's --representation tests"))
            throw ExitCode.failure
        }
        let part = try reportingFailures(path: path) { () throws(DistillationError) in
            let shard = try PromptLocalisationShard.decoded(Array(data), path: path)
            return LocalisationPart(
                path: shardFolder, shard: shard, metadata: try ProbeShard(json: shard.metadata, path: path),
                sha256: try ProbeShard.sha256(ofFile: path))
        }
        parts.append(part)
    }
    let order = try reportingFailures(path: folder) { () throws(DistillationError) in
        try ProbeShard.ordered(parts.map { ($0.path, $0.metadata) })
    }
    return order.map { parts[$0] }
}

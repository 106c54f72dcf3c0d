import ArgumentParser
import Distillation
import Fidelity
import Foundation
import Network
import WeightFiles

extension FidelityCommand {
    /// Runs the network and the surrogates on shard `shard`'s slice of each run of the evaluation, into
    /// `--out/shard-I-of-N/evaluation.safetensors`.
    func evaluateShard(_ shard: Shard) throws {
        let started = ContinuousClock.now
        guard let out else {
            printError("a shard writes its outputs to --out DIR/shard-I-of-N: give --out DIR")
            throw ExitCode(64)
        }
        let threads = self.threads ?? System.coreCount
        let taskDescription = try reportingFailures(path: task) { () throws(DistillationError) in
            try TaskDescription.read(task)
        }
        let promptTests = representationTests.representation && taskDescription.isPromptTask
        if let localisation {
            guard promptTests else {
                printError(
                    "--localisation DIR is the second phase of a prompt task's sharded --representation tests; "
                        + (representationTests.representation ? "\(task) is not a prompt task" : "give --representation"))
                throw ExitCode(64)
            }
            try searchPromptShard(shard, localisation: localisation, out: out, task: taskDescription)
            return
        }
        // Written whole or not at all: a half-written shard would merge as one whose regions failed.
        let folder = out + "/" + ProbeShard.folderName(shard)
        let output = try reportingErrors(path: folder) { () throws(WeightFileError) in
            try OutputDirectory(
                path: folder, inputs: [model, network, task] + surrogate, overwrite: force,
                replaceable: {
                    [EvaluationShard.fileName, RepresentationShard.fileName, PromptLocalisationShard.fileName].contains($0)
                })
        }
        var surrogates: [FittedSurrogate] = []
        for path in surrogate {
            surrogates.append(
                try reportingFailures(path: path) { () throws(DistillationError) in
                    try SurrogateFile.read(path, task: taskDescription)
                })
        }
        // Fingerprinted before the network runs, so `merge` can tell whether it reads the same files.
        let sources = try reportingFailures(path: task) { () throws(DistillationError) -> [ProbeShard.Source] in
            try ([task, model, network] + surrogate).map { (path) throws(DistillationError) in try .fingerprint(path) }
        }
        let loaded = try loadNetwork(model: model, network: network, threads: threads)
        // The shard's slice of every run; an `all` region is sliced without being listed whole.
        let plan = try reportingFailures(path: task) { () throws(DistillationError) in
            try BehaviourPlan(network: loaded.network, task: taskDescription, surrogates: surrogates, scope: .shard(shard))
        }
        var slices: [String: (range: Range<Int>, total: Int)] = [:]
        for run in plan.runs { slices[run.name] = (shard.slice(of: run.count), run.count) }
        let metadata = ProbeShard(
            command: "fidelity", shard: shard, slices: slices, task: sources[0], model: sources[1], network: sources[2],
            surrogates: Array(sources[3...]), seed: representationTests.seed, arguments: recordedArguments(of: "fidelity"),
            directory: FileManager.default.currentDirectoryPath)
        var outputs: [String: RegionOutputs] = [:]
        var statistics: [String: RegionStatistics] = [:]
        var failures: [String: String] = [:]
        var lines: [String] = []
        var evaluated = 0
        var running = 0.0
        for run in plan.runs {
            let range = slices[run.name]!.range
            let bar = ProgressBar(label: "running \(run.name) \(shard)", minimumBytes: 0, totalBytes: range.count, unit: "inputs")
            let runStarted = ContinuousClock.now
            do throws(DistillationError) {
                if plan.enumeratesDomain && run.name == BehaviourPlan.domainRun {
                    // The domain run's outputs are kept: every region is read out of them at the merge.
                    outputs[run.name] = try plan.run(plan.inputs[run.name]!.materialized(task: taskDescription), network: loaded.network) {
                        _, done, total in bar.update(done, total)
                    }
                } else {
                    statistics[run.name] = try plan.statistics(of: run.name, network: loaded.network) { _, done, total in
                        bar.update(done, total)
                    }
                }
                evaluated += range.count
                lines.append("\(run.name): inputs \(range.lowerBound)..<\(range.upperBound) of \(run.count)")
            } catch {
                // As one run: the whole domain is every region's source, another region's failure is a note.
                if plan.enumeratesDomain && run.name == BehaviourPlan.domainRun {
                    bar.finish()
                    printError("\(task): \(error)")
                    throw ExitCode.failure
                }
                failures[run.name] = "\(error)"
                lines.append("\(run.name): not evaluated (\(error))")
            }
            running += secondsSince(runStarted)
            bar.finish()
        }
        try reportingFailures(path: folder) { () throws(DistillationError) in
            try EvaluationShard(metadata: metadata, outputs: outputs, statistics: statistics, failures: failures).write(into: output.temporaryPath)
        }
        if promptTests {
            lines.append(
                try localisePromptShard(
                    shard, metadata: metadata, loaded: loaded, surrogates: surrogates, task: taskDescription, into: output))
        } else if representationTests.representation {
            lines.append(try searchShard(shard, loaded: loaded, surrogates: surrogates, task: taskDescription, into: output))
        }
        try commit(output)
        let seconds = secondsSince(started)
        emit(
            "shard \(shard): " + lines.joined(separator: "; ") + "; \(evaluated) inputs in \(format3(seconds)) s, "
                + "running \(format3(running)) s (\(Int((Double(evaluated) / max(running, 1e-9)).rounded())) inputs/s) → \(folder)"
        )
    }

    /// Runs shard `shard`'s slice of the representation tests' work list into `representation.json`; returns the
    /// summary's words for it.
    private func searchShard(
        _ shard: Shard, loaded: LoadedNetwork, surrogates: [FittedSurrogate], task taskDescription: TaskDescription,
        into output: OutputDirectory
    ) throws -> String {
        let threads = self.threads ?? System.coreCount
        try representationTests.checkVariableNames(surrogates, task: taskDescription)
        let inputs = try representationInputs(taskDescription)
        let control = try representationTests.controlNetwork(loaded, threads: threads)
        let options = representationTests.options(task: taskDescription, threads: threads)
        let bar = ProgressBar(label: "representation tests \(shard)", minimumBytes: 0, totalBytes: 1, unit: "site searches")
        let part = RepresentationShard.run(
            shard, network: loaded.network, control: control, surrogates: surrogates, task: taskDescription,
            inputs: inputs, options: options
        ) { message, done, total in bar.update(done, total, detail: message) }
        bar.finish()
        let path = output.path + "/" + RepresentationShard.fileName
        let bytes = try reportingFailures(path: path) { () throws(DistillationError) in try part.encoded() }
        try writeText(String(decoding: bytes, as: UTF8.self), named: RepresentationShard.fileName, in: output)
        return "representation items \(part.start)..<\(part.end) of \(part.total)"
    }
}

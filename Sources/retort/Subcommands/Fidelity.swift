import ArgumentParser
import Distillation
import Fidelity
import Foundation
import Network
import WeightFiles

struct FidelityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fidelity",
        abstract: "Evaluate existing surrogates on a model: agreement by region, error agreement, compression, verdict.",
        discussion: """
            Each --surrogate is a FAMILY.json written by `retort distill` (formats/surrogate.md); it must \
            read the task's variables and predict only outputs in the task's output alphabet. The model \
            can be the one it was fitted on, another checkpoint of the same network, or the same network \
            with a task of wider regions. Prints the summary (or --json, formats/report.md); --out DIR \
            receives report.json and report.html when the run succeeds; an existing DIR that is not \
            empty is replaced only with --force, and only if it holds nothing but files Retort writes.

            With --shard I/N (or inside a Slurm job array or a Kubernetes Indexed Job, as distill), runs \
            the network and the surrogates only on shard I of N's contiguous slice of each evaluated \
            region (an all region of any size, never listed whole) and writes the domain's outputs, \
            or each region's counts, to --out DIR/shard-I-of-N/evaluation.safetensors \
            (formats/task.md, "Shard files"), and with --representation its slice of the tests' \
            (surrogate, network or control, variable) searches to representation.json; `retort \
            merge` then writes the report one run writes, without the network.

            A prompt task's --representation tests shard in two phases, since each variable's best \
            sites depend on the whole localisation map: `--shard I/N --out DIR` runs the evaluation \
            and shard I's slice of the candidate sites (prompt-localisation.json); then, with the same \
            options, `--shard J/M --localisation DIR --out DIR2` runs shard J's slice of the (variable, \
            best site) searches and their random-init control (prompt-search.json); `retort merge DIR \
            DIR2 --out OUT` writes the report one run writes.
            """)

    @Argument(help: "The weight file.")
    var model: String

    @Option(help: "A network description file, a TransformerLens config, or a preset (mlp, transformer).")
    var network: String

    @Option(parsing: .upToNextOption, help: "Surrogate files (FAMILY.json from retort distill).")
    var surrogate: [String]

    @Option(help: "The task description (formats/task.md).")
    var task: String

    @Option(help: "The folder to write report.json and report.html into.")
    var out: String?

    @Flag(help: "Replace an existing --out folder of an earlier run.")
    var force = false

    @Option(help: "Threads, 1 to 1024 (default: all cores).")
    var threads: Int?

    @OptionGroup var representationTests: RepresentationArguments

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(
        help: ArgumentHelp(
            "Evaluate only shard I of N (0 ≤ I < N): a contiguous slice of each evaluated region, for retort merge.",
            valueName: "I/N"))
    var shard: Shard?

    @Option(
        help: ArgumentHelp(
            "The number of shards when the index comes from JOB_COMPLETION_INDEX (default: $RETORT_SHARD_COUNT).",
            valueName: "N"))
    var shardCount: Int?

    @Option(
        help: ArgumentHelp(
            "Prompt tasks' --representation, second phase: the folder of the first phase's shards (their localisation "
                + "maps); this shard runs its slice of the searches at each variable's best sites.",
            valueName: "DIR"))
    var localisation: String?

    func validate() throws {
        try validateThreads(threads)
        if surrogate.isEmpty { throw ValidationError("give at least one --surrogate FILE") }
        if let shardCount, shardCount < 1 { throw ValidationError("--shard-count must be at least 1") }
        if localisation != nil && shard == nil && ProcessInfo.processInfo.environment["SLURM_ARRAY_TASK_ID"] == nil
            && ProcessInfo.processInfo.environment["JOB_COMPLETION_INDEX"] == nil
        {
            throw ValidationError("--localisation DIR is the second phase of a sharded run: give --shard I/N (or run in a job array)")
        }
    }

    func run() throws { try run(merged: nil) }

    /// Runs the command; with `merged` (the joined outputs and representation results of a sharded run's shards,
    /// from `retort merge`) reports on those instead of running the network.
    func run(merged: MergedEvaluation?) throws {
        let started = ContinuousClock.now
        if merged == nil {
            var shard = self.shard
            if shard == nil {
                let found = try reportingFailures(path: "shard") { () throws(DistillationError) in
                    try Shard.fromEnvironment(ProcessInfo.processInfo.environment, count: shardCount)
                }
                if let found {
                    writeStandardError("retort: shard \(found.shard) (from \(found.source))\n")
                    shard = found.shard
                }
            }
            if let shard {
                try evaluateShard(shard)
                return
            }
        }
        let folder = try out.map { (out) throws(ExitCode) in
            try openOutputFolder(out, inputs: [model, network, task] + surrogate, force: force)
        }
        let taskDescription = try reportingFailures(path: task) { () throws(DistillationError) in
            try TaskDescription.read(task)
        }
        var surrogates: [FittedSurrogate] = []
        for path in surrogate {
            surrogates.append(
                try reportingFailures(path: path) { () throws(DistillationError) in
                    try SurrogateFile.read(path, task: taskDescription)
                })
        }
        let threads = self.threads ?? System.coreCount
        // A merge reads no network: the shards ran it, for the evaluation and the representation tests.
        let net = merged == nil ? try loadNetwork(model: model, network: network, threads: threads) : nil
        let behaviour: BehaviourReport
        if let merged {
            behaviour = try reportingFailures(path: task) { () throws(DistillationError) in
                // The shards resolved and ran the regions: only an enumerated domain's are resolved again here.
                let plan = try BehaviourPlan(
                    network: net?.network, task: taskDescription, surrogates: surrogates, scope: .merge(runs: merged.runs))
                return try BehaviourReport.assemble(
                    plan, domain: merged.outputs[BehaviourPlan.domainRun], statistics: merged.statistics,
                    failures: merged.failures)
            }
        } else {
            behaviour = try evaluateBehaviour(net!.network, task: taskDescription, taskPath: task, surrogates: surrogates)
        }
        var report = FidelityReport(model: model, network: network, taskPath: task, behaviour: behaviour)
        if representationTests.representation {
            if let merged {
                if taskDescription.isPromptTask {
                    let options = try representationTests.promptOptions(threads: threads)
                    try reportingFailures(path: "merge") { () throws(DistillationError) in
                        try report.assemblePromptRepresentation(merged.promptSearch, options: options)
                    }
                } else {
                    try reportingFailures(path: "merge") { () throws(DistillationError) in
                        try report.assembleRepresentation(
                            merged.representation, options: representationTests.options(task: taskDescription, threads: threads),
                            control: true)
                    }
                }
            } else {
                let probe = try reportingFailures(path: task) { () throws(DistillationError) in
                    try taskDescription.resolveRegions()["probe"]!
                }
                try representationTests.run(&report, loaded: net!, inputs: probe, threads: threads)
            }
        }
        report.seconds = secondsSince(started)
        if let folder {
            try writeReport(report, to: folder)
            try commit(folder)
        }
        emit(json ? report.json.trimmingCharacters(in: .newlines) : report.summary)
    }
}

/// The joined results of a sharded `fidelity`'s shards, from `retort merge`.
struct MergedEvaluation {
    /// The number of inputs of every run, as the shards recorded it.
    var runs: [String: Int]
    /// The network's outputs and the surrogates' predictions on the domain run, the other runs' statistics, and
    /// the runs that failed.
    var outputs: [String: RegionOutputs]
    var statistics: [String: RegionStatistics]
    var failures: [String: String]
    /// Each shard's part of the representation tests, in shard order (empty without --representation).
    var representation: [(path: String, part: RepresentationShard)]
    /// A prompt task's second-phase parts, in shard order (empty without --representation).
    var promptSearch: [(path: String, shard: PromptSearchShard)] = []
}

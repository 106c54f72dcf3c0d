import ArgumentParser
import Distillation
import Fidelity
import Foundation
import Network
import WeightFiles

struct Distill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe a network over a task's domain, fit symbolic surrogates, and report how faithful each is.",
        discussion: """
            Probes the task's "probe" region, fits each surrogate family, then evaluates every \
            surrogate against the network on each region of the task (formats/report.md): agreement \
            with 95% Wilson intervals, error agreement, compression against a lookup table, a verdict. \
            --out DIR receives FAMILY.json (formats/surrogate.md), FAMILY.txt, probes.safetensors, \
            report.json and report.html, all at once when the run succeeds; an existing DIR that is not \
            empty is replaced only with --force, and only if it holds nothing but such files.

            With --shard I/N (or inside a Slurm job array or a Kubernetes Indexed Job), probes only \
            shard I of N's contiguous slice of each probed region and writes it to \
            --out DIR/shard-I-of-N (formats/task.md, "Shard files"); `retort merge` then fits and \
            reports on all the shards' probes. Without the flag the shard comes from \
            SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_MIN/SLURM_ARRAY_TASK_COUNT (I = ID − MIN) or from \
            JOB_COMPLETION_INDEX with --shard-count N (or RETORT_SHARD_COUNT).

            With no arguments at all, runs the whole pipeline on the bundled two-digit addition \
            network (formats/vectors/networks/addition_mlp) and writes its report to \
            ./retort-example-addition (replacing the report of an earlier example run).
            """)

    @Argument(help: "The weight file (not needed with --probes).")
    var model: String?

    @Option(
        help:
            "A network description file, a TransformerLens config, or a preset (mlp, transformer; llama, gpt2 or auto for a language model)."
    )
    var network: String?

    @Option(help: "Fit on a probe file saved by an earlier distill instead of running the network.")
    var probes: String?

    @Option(help: "The task description (formats/task.md).")
    var task: String?

    @Option(
        parsing: .upToNextOption,
        help: "Surrogate families to fit.")
    var surrogates: [SurrogateFamily] = SurrogateFamily.allCases

    @Option(
        parsing: .upToNextOption,
        help: "Feature names for the feature-based families (default: the task's, or variables, digits and sums).")
    var features: [String] = []

    @Option(help: "The folder to write the surrogates, probes and report into.")
    var out: String?

    @Flag(help: "Replace an existing --out folder of an earlier run.")
    var force = false

    @Option(help: "Threads, 1 to 1024 (default: all cores).")
    var threads: Int?

    @Option(help: "The most conditions a rule of a rule list or rule set may have, 1 to \(RuleParameters.maxConditionsLimit).")
    var ruleConditions = RuleParameters.defaultMaxConditions

    @Option(help: "The conjunctions a rule search refines at each step (its beam), 1 to \(RuleParameters.beamWidthLimit).")
    var ruleBeam = RuleParameters.defaultBeamWidth

    @Option(help: "The program search's largest expression (nodes).")
    var programSize: Int = 5

    @Option(help: "The program search's time limit, in seconds.")
    var programSeconds: Double = 60

    @OptionGroup var representationTests: RepresentationArguments

    @Flag(help: "Print the summary as JSON (with a network: the report, formats/report.md).")
    var json = false

    @Option(
        help: ArgumentHelp(
            "Probe only shard I of N (0 ≤ I < N): a contiguous slice of each probed region, for retort merge.",
            valueName: "I/N"))
    var shard: Shard?

    @Option(
        help: ArgumentHelp(
            "The number of shards when the index comes from JOB_COMPLETION_INDEX (default: $RETORT_SHARD_COUNT).",
            valueName: "N"))
    var shardCount: Int?

    /// No arguments at all: the bundled example.
    private var isExample: Bool { model == nil && network == nil && probes == nil && task == nil }

    func validate() throws {
        try validateThreads(threads)
        guard (1...RuleParameters.maxConditionsLimit).contains(ruleConditions) else {
            throw ValidationError("--rule-conditions must be between 1 and \(RuleParameters.maxConditionsLimit), got \(ruleConditions)")
        }
        guard (1...RuleParameters.beamWidthLimit).contains(ruleBeam) else {
            throw ValidationError("--rule-beam must be between 1 and \(RuleParameters.beamWidthLimit), got \(ruleBeam)")
        }
        if isExample { return }
        if task == nil { throw ValidationError("give --task FILE (or no arguments at all, for the bundled example)") }
        if probes == nil && (model == nil || network == nil) {
            throw ValidationError("give MODEL and --network, or --probes FILE")
        }
        if probes != nil && (model != nil || network != nil) {
            throw ValidationError("--probes replaces MODEL and --network; give one or the other")
        }
        if programSize < 1 { throw ValidationError("--program-size must be at least 1") }
        if shard != nil && probes != nil {
            throw ValidationError("--shard shards the probing: give MODEL and --network, not --probes")
        }
        if let shardCount, shardCount < 1 { throw ValidationError("--shard-count must be at least 1") }
        if probes != nil && representationTests.representation {
            throw ValidationError("--representation needs the network: give MODEL and --network instead of --probes")
        }
    }

    func run() throws { try run(merged: nil) }

    /// Runs the command; with `merged` (the probes by region of a sharded run, from `retort merge`) fits and
    /// reports on those instead of probing.
    func run(merged: [String: ProbeSet]?) throws {
        let started = ContinuousClock.now
        var command = self
        if merged == nil, probes == nil, command.shard == nil {
            let found = try reportingFailures(path: "shard") { () throws(DistillationError) in
                try Shard.fromEnvironment(ProcessInfo.processInfo.environment, count: shardCount)
            }
            if let found {
                writeStandardError("retort: shard \(found.shard) (from \(found.source))\n")
                command.shard = found.shard
            }
        }
        if command.shard != nil, command.out == nil, !isExample {
            printError("a shard writes its probes to --out DIR/shard-I-of-N: give --out DIR")
            throw ExitCode(64)
        }
        if isExample {
            let folder = try Self.exampleFolder()
            command.model = folder + "/model.safetensors"
            command.network = folder + "/network.json"
            command.task = folder + "/task.json"
            command.out = command.out ?? Self.exampleOutput
            writeStandardError("retort: the bundled example: two-digit addition (\(folder))\n")
        }
        if let shard = command.shard {
            try command.probeShard(shard)
            return
        }
        // Checked before any work; a failed run leaves nothing (not the folders above it it created either).
        let folder = try command.out.map { (out) throws(ExitCode) in
            try openOutputFolder(
                out, inputs: [command.model, command.network, command.task, command.probes].compactMap { $0 },
                force: command.force || (isExample && out == Self.exampleOutput))
        }
        try command.distill(started: started, folder: folder, merged: merged)
    }

    /// The report folder of the bundled example.
    static let exampleOutput = "retort-example-addition"

    /// Finds the bundled example network: $RETORT_EXAMPLE, else formats/vectors/networks/addition_mlp in the
    /// current directory or above it, or above the executable (a checkout's .build/…/retort).
    static func exampleFolder() throws(ExitCode) -> String {
        let relative = "formats/vectors/networks/addition_mlp"
        if let given = ProcessInfo.processInfo.environment["RETORT_EXAMPLE"], !given.isEmpty { return given }
        var starts = [FileManager.default.currentDirectoryPath]
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        starts.append(executable.deletingLastPathComponent().path)
        for start in starts {
            var url = URL(fileURLWithPath: start)
            for _ in 0..<6 {
                let candidate = url.appendingPathComponent(relative).path
                if FileManager.default.fileExists(atPath: candidate + "/model.safetensors") { return candidate }
                url.deleteLastPathComponent()
            }
        }
        printError(
            "cannot find the bundled example (\(relative)): run from a Retort checkout, or set RETORT_EXAMPLE to that folder")
        throw ExitCode.failure
    }

    private func distill(started: ContinuousClock.Instant, folder: OutputDirectory?, merged: [String: ProbeSet]?) throws {
        let task = self.task!
        let threads = self.threads ?? System.coreCount
        let taskDescription = try reportingFailures(path: task) { () throws(DistillationError) in
            try TaskDescription.read(task)
        }
        let featureNames = features.isEmpty ? taskDescription.features : features
        let probes: ProbeSet
        let heldOut: ProbeSet?
        var net: LoadedNetwork?
        if let path = self.probes {
            probes = try reportingFailures(path: path) { () throws(DistillationError) in
                try ProbeSet.read(path, for: taskDescription)
            }
            heldOut = nil
        } else {
            let loaded = try loadNetwork(model: model!, network: network!, threads: threads)
            net = loaded
            if let merged, let probe = merged["probe"] {
                (probes, heldOut) = (probe, merged["held_out"])
            } else {
                (probes, heldOut) = try probeNetwork(
                    loaded.network, taskDescription, hooks: TaskFeatures.hooks(in: featureNames), threads: threads)
            }
        }
        let taskFeatures = try reportingFailures(path: task) { () throws(DistillationError) in
            try TaskFeatures(task: taskDescription, names: featureNames, activations: probes.activations)
        }
        var options = Distiller.Options()
        options.threads = threads
        options.ruleConditions = ruleConditions
        options.ruleBeamWidth = ruleBeam
        options.programLimits = ProgramSearch.Limits(maxSize: programSize, maxSeconds: programSeconds)
        var fitted: [(FittedSurrogate, Double?)] = []
        var seconds: [Double] = []
        for family in surrogates {
            let started = ContinuousClock.now
            let bar = ProgressBar(label: "fitting \(family.rawValue)", minimumBytes: 0, totalBytes: 1, unit: "")
            let surrogate = try reportingFailures(path: task) { () throws(DistillationError) in
                try Distiller.fit(family, probes: probes, task: taskDescription, features: taskFeatures, options: options) {
                    bar.update($0)
                }
            }
            bar.finish()
            let elapsed = ContinuousClock.now - started
            seconds.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            var heldOutAgreement: Double?
            if let heldOut {
                let predictions = try reportingFailures(path: task) { () throws(DistillationError) in
                    try surrogate.predict(heldOut, task: taskDescription)
                }
                let agree = zip(predictions, heldOut.outputs).filter { $0 == $1 }.count
                heldOutAgreement = Double(agree) / Double(max(heldOut.count, 1))
            }
            fitted.append((surrogate, heldOutAgreement))
        }
        if let folder { try write(fitted.map(\.0), probes: probes, task: taskDescription, to: folder) }
        if let net {
            // A language model's generations are the slow part: reuse the probes' rather than generate again.
            let behaviour = try evaluateBehaviour(
                net.network, task: taskDescription, taskPath: task, surrogates: fitted.map(\.0),
                known: taskDescription.isPromptTask ? [probes] + (heldOut.map { [$0] } ?? []) : [])
            var report = FidelityReport(model: model!, network: network!, taskPath: task, behaviour: behaviour)
            try representationTests.run(&report, loaded: net, inputs: probes.region, threads: threads)
            report.seconds = secondsSince(started)
            if let folder {
                try writeReport(report, to: folder)
                try commit(folder)
            }
            if json {
                emit(report.json.trimmingCharacters(in: .newlines))
            } else {
                emit(report.summary)
                emit(
                    "fit seconds: "
                        + zip(fitted, seconds).map { "\($0.0.family.rawValue) \(format3($1))" }.joined(separator: ", "))
                if let out { emit("report: \(out)/report.html") }
            }
            return
        }
        if let folder { try commit(folder) }
        emit(
            json
                ? summaryJSON(fitted, seconds: seconds, task: taskDescription)
                : summaryText(fitted, seconds: seconds, task: taskDescription, probes: probes, heldOut: heldOut))
    }

    /// Probes the task's probe and held-out regions.
    private func probeNetwork(_ net: any NeuralNetwork, _ taskDescription: TaskDescription, hooks: [String], threads: Int) throws
        -> (ProbeSet, ProbeSet?)
    {
        let model = self.model!, task = self.task!
        let regions = try reportingFailures(path: task) { () throws(DistillationError) in
            try taskDescription.checkEncoder(for: net)
            return try taskDescription.resolveRegions()
        }
        for hook in hooks {
            try reportingFailures(path: task) { () throws(NetworkError) in try net.checkHook(hook) }
        }
        func probe(_ name: String) throws -> ProbeSet? {
            guard let region = regions[name] else { return nil }
            let bar = ProgressBar(label: "probing \(name)", minimumBytes: 0, totalBytes: region.count, unit: "inputs")
            defer { bar.finish() }
            return try reportingFailures(path: model) { () throws(DistillationError) in
                try ProbeSet.probe(net, task: taskDescription, region: region, hooks: hooks, progress: bar.update)
            }
        }
        guard let probes = try probe("probe") else {
            printError("\(task): the task has no probe region")
            throw ExitCode.failure
        }
        return (probes, try probe("held_out"))
    }

    private func write(_ fitted: [FittedSurrogate], probes: ProbeSet, task: TaskDescription, to folder: OutputDirectory) throws {
        do throws(DistillationError) {
            try probes.write(to: folder.file("probes.safetensors"))
        } catch {
            printError("\(folder.path)/probes.safetensors: \(finalPaths(error, folder))")
            throw ExitCode.failure
        }
        for surrogate in fitted {
            for (name, text) in [("json", surrogate.json(task: task)), ("txt", surrogate.text(task: task))] {
                try writeText(text, named: "\(surrogate.family.rawValue).\(name)", in: folder)
            }
        }
    }

    private func compression(_ s: FittedSurrogate, task: TaskDescription) -> Double {
        DescriptionLength.compressionRatio(
            modelBits: s.modelBits, exceptions: s.exceptionCount, domainSize: task.domainSize,
            outputCount: task.outputValues.count)
    }

    private func summaryText(
        _ fitted: [(FittedSurrogate, Double?)], seconds: [Double], task: TaskDescription, probes: ProbeSet, heldOut: ProbeSet?
    )
        -> String
    {
        var lines = [
            "task: \(task.name); domain \(task.domainSize) inputs, \(task.outputValues.count) outputs; "
                + "\(probes.count) probes\(heldOut.map { ", \($0.count) held out" } ?? "")",
            "",
        ]
        let header = ["FAMILY", "BITS", "MODEL", "EXCEPTIONS", "PROBE AGREE", "HELD-OUT AGREE", "VS TABLE", "FIT S", "SURROGATE"]
        var rows = [header]
        for ((s, held), time) in zip(fitted, seconds) {
            let summary = s.text(task: task).split(separator: "\n").dropFirst().first.map(String.init) ?? ""
            rows.append([
                s.family.rawValue, String(Int(s.totalBits.rounded())), String(Int(s.modelBits.rounded())), "\(s.exceptionCount)",
                percent(s.agreement), held.map(percent) ?? "-", format3(compression(s, task: task)), format3(time),
                String(summary.prefix(60)),
            ])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        for row in rows {
            lines.append(
                row.enumerated().map { c, cell in
                    c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                }
                .joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    private func summaryJSON(_ fitted: [(FittedSurrogate, Double?)], seconds: [Double], task: TaskDescription) -> String {
        let entries = zip(fitted, seconds).map { entry, time in
            let (s, held) = entry
            var o = JSONText()
            o.add("family", s.family.rawValue)
            o.add("bits", s.totalBits)
            o.add("model_bits", s.modelBits)
            o.add("exception_bits", s.exceptionBits)
            o.add("exceptions", s.exceptionCount)
            o.add("probes", s.probeCount)
            o.add("probe_agreement", s.agreement)
            o.add("held_out_agreement", held)
            o.add("compression", compression(s, task: task))
            o.add("fit_seconds", time)
            return o.text
        }
        var o = JSONText()
        o.add("task", task.name)
        o.add("surrogates", objects: entries)
        return o.text
    }

    private func percent(_ value: Double) -> String { String(format: "%.2f%%", value * 100) }
}

extension SurrogateFamily: ExpressibleByArgument {}

import ArgumentParser
import Distillation
import Foundation
import Network
import WeightFiles

struct Distill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe a network over a task's domain and fit symbolic surrogates, each measured in bits.",
        discussion: """
            Probes the task's "probe" region (and "held_out", when the task has one), fits each \
            surrogate family, and writes FAMILY.json (formats/surrogate.md), FAMILY.txt and \
            probes.safetensors to --out. Prints one line per surrogate: its description length \
            (model + exceptions), its agreement with the network on the probes and on the held-out \
            inputs, and its compression against a lookup table of the whole domain.
            """)

    @Argument(help: "The weight file (not needed with --probes).")
    var model: String?

    @Option(help: "A network description file, a TransformerLens config, or a preset (mlp, transformer).")
    var network: String?

    @Option(help: "Fit on a probe file saved by an earlier distill instead of running the network.")
    var probes: String?

    @Option(help: "The task description (formats/task.md).")
    var task: String

    @Option(
        parsing: .upToNextOption,
        help: "Surrogate families to fit (default: all: table tree rule_list rule_set program).")
    var surrogates: [SurrogateFamily] = SurrogateFamily.allCases

    @Option(
        parsing: .upToNextOption,
        help: "Feature names for the feature-based families (default: the task's, or variables, digits and sums).")
    var features: [String] = []

    @Option(help: "Where to write surrogates and probes.")
    var out: String?

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @Option(help: "The program search's largest expression (nodes).")
    var programSize: Int = 5

    @Option(help: "The program search's time limit, in seconds.")
    var programSeconds: Double = 60

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if probes == nil && (model == nil || network == nil) {
            throw ValidationError("give MODEL and --network, or --probes FILE")
        }
        if probes != nil && (model != nil || network != nil) {
            throw ValidationError("--probes replaces MODEL and --network; give one or the other")
        }
        if programSize < 1 { throw ValidationError("--program-size must be at least 1") }
    }

    func run() throws {
        let threads = self.threads ?? System.coreCount
        let taskDescription = try reportingDistillationErrors(path: task) { () throws(DistillationError) in
            try TaskDescription.read(task)
        }
        let featureNames = features.isEmpty ? taskDescription.features : features
        let probes: ProbeSet
        let heldOut: ProbeSet?
        if let path = self.probes {
            probes = try reportingDistillationErrors(path: path) { () throws(DistillationError) in
                let saved = try ProbeSet.read(path)
                guard saved.variables == taskDescription.variables.map(\.name) else {
                    throw .mismatch(
                        path: path,
                        reason: "probes of variables \(saved.variables), the task has \(taskDescription.variables.map(\.name))")
                }
                return saved
            }
            heldOut = nil
        } else {
            (probes, heldOut) = try probeNetwork(taskDescription, hooks: TaskFeatures.hooks(in: featureNames), threads: threads)
        }
        let taskFeatures = try reportingDistillationErrors(path: task) { () throws(DistillationError) in
            try TaskFeatures(task: taskDescription, names: featureNames, activations: probes.activations)
        }
        var options = Distiller.Options()
        options.threads = threads
        options.programLimits = ProgramSearch.Limits(maxSize: programSize, maxSeconds: programSeconds)
        var fitted: [(FittedSurrogate, Double?)] = []
        var seconds: [Double] = []
        for family in surrogates {
            let started = ContinuousClock.now
            let surrogate = try reportingDistillationErrors(path: task) { () throws(DistillationError) in
                try Distiller.fit(family, probes: probes, task: taskDescription, features: taskFeatures, options: options) {
                    message in if isatty(2) != 0 { writeStandardError("\r\u{1B}[K\(message)") }
                }
            }
            if isatty(2) != 0 { writeStandardError("\r\u{1B}[K") }
            let elapsed = ContinuousClock.now - started
            seconds.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            var heldOutAgreement: Double?
            if let heldOut {
                let predictions = try reportingDistillationErrors(path: task) { () throws(DistillationError) in
                    try surrogate.predict(heldOut, task: taskDescription)
                }
                let agree = zip(predictions, heldOut.outputs).filter { $0 == $1 }.count
                heldOutAgreement = Double(agree) / Double(max(heldOut.count, 1))
            }
            fitted.append((surrogate, heldOutAgreement))
        }
        if let out { try write(fitted.map(\.0), probes: probes, task: taskDescription, to: out) }
        emit(
            json
                ? summaryJSON(fitted, seconds: seconds, task: taskDescription)
                : summaryText(fitted, seconds: seconds, task: taskDescription, probes: probes, heldOut: heldOut))
    }

    /// Loads the network and probes the task's probe and held-out regions.
    private func probeNetwork(_ taskDescription: TaskDescription, hooks: [String], threads: Int) throws -> (ProbeSet, ProbeSet?) {
        let model = self.model!, network = self.network!
        let weights = try reportingErrors(path: model) { () throws(WeightFileError) in try WeightFiles.open(model) }
        let description = try reportingNetworkErrors(path: network) { () throws(NetworkError) in
            try NetworkLoader.description(network)
        }
        let net = try reportingNetworkErrors(path: model) { () throws(NetworkError) in
            try NetworkLoader.load(file: weights, description: description, threads: threads)
        }
        let regions = try reportingDistillationErrors(path: task) { () throws(DistillationError) in
            try taskDescription.checkEncoder(for: net)
            return try taskDescription.resolveRegions()
        }
        for hook in hooks {
            try reportingNetworkErrors(path: task) { () throws(NetworkError) in try net.checkHook(hook) }
        }
        func probe(_ name: String) throws -> ProbeSet? {
            guard let region = regions[name] else { return nil }
            let bar = ProgressBar(label: "probing \(name)", minimumBytes: 0, totalBytes: region.count, unit: "inputs")
            defer { bar.finish() }
            return try reportingDistillationErrors(path: model) { () throws(DistillationError) in
                try ProbeSet.probe(net, task: taskDescription, region: region, hooks: hooks, progress: bar.update)
            }
        }
        guard let probes = try probe("probe") else {
            printError("\(task): the task has no probe region")
            throw ExitCode.failure
        }
        return (probes, try probe("held_out"))
    }

    private func write(_ fitted: [FittedSurrogate], probes: ProbeSet, task: TaskDescription, to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            printError("\(directory): cannot create the directory: \(error.localizedDescription)")
            throw ExitCode.failure
        }
        try reportingDistillationErrors(path: directory) { () throws(DistillationError) in
            try probes.write(to: directory + "/probes.safetensors", inputs: [self.probes, model, self.task].compactMap { $0 })
        }
        for surrogate in fitted {
            for (name, text) in [("json", surrogate.json(task: task)), ("txt", surrogate.text(task: task))] {
                let path = "\(directory)/\(surrogate.family.rawValue).\(name)"
                try reportingErrors(path: path) { () throws(WeightFileError) in
                    let file = try AtomicOutputFile(path: path)
                    try file.write(Array(text.utf8))
                    try file.commit()
                }
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
            return
                "{\"family\":\"\(s.family.rawValue)\",\"bits\":\(s.totalBits),\"model_bits\":\(s.modelBits),\"exception_bits\":\(s.exceptionBits),"
                + "\"exceptions\":\(s.exceptionCount),\"probes\":\(s.probeCount),\"probe_agreement\":\(s.agreement),"
                + "\"held_out_agreement\":\(held.map { "\($0)" } ?? "null"),\"compression\":\(compression(s, task: task)),"
                + "\"fit_seconds\":\(time)}"
        }
        return "{\"task\":\(JSONWriter.quoted(task.name)),\"surrogates\":[\(entries.joined(separator: ","))]}"
    }

    private func percent(_ value: Double) -> String { String(format: "%.2f%%", value * 100) }
}

extension SurrogateFamily: ExpressibleByArgument {}

/// Runs `body`; a `DistillationError` becomes one line on stderr (prefixed by `path`) and exit status 1.
func reportingDistillationErrors<T>(path: String, _ body: () throws(DistillationError) -> T) throws(ExitCode) -> T {
    do {
        return try body()
    } catch {
        printError("\(path): \(error)")
        throw ExitCode.failure
    }
}

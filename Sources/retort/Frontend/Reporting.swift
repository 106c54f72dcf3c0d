import ArgumentParser
import Distillation
import Fidelity
import Foundation
import Network
import WeightFiles

/// A network loaded from a weight file, with what a random-init control copy needs.
struct LoadedNetwork {
    var network: any NeuralNetwork
    var file: any WeightFile
    var description: NetworkDescription
}

/// Loads the network in weight file `model` described by `network` (a file or a preset).
func loadNetwork(model: String, network: String, threads: Int) throws(ExitCode) -> LoadedNetwork {
    let weights = try reportingErrors(path: model) { () throws(WeightFileError) in try WeightFiles.open(model) }
    let description = try reportingFailures(path: network) { () throws(NetworkError) in
        try NetworkLoader.description(network)
    }
    let net = try reportingFailures(path: model) { () throws(NetworkError) in
        try NetworkLoader.load(file: weights, description: description, threads: threads, path: model)
    }
    noteZeroBiases(net, model: model)
    return LoadedNetwork(network: attachingTokenizer(net, file: weights, model: model), file: weights, description: description)
}

/// Notes on stderr the bias tensors a transformer runs as zeros: absent from `model`, as its configuration
/// allows (`absent_biases: "zero"`).
func noteZeroBiases(_ net: any NeuralNetwork, model: String) {
    guard let transformer = net as? TransformerNetwork, !transformer.zeroBiases.isEmpty else { return }
    let names = transformer.zeroBiases
    writeStandardError(
        "retort: note: \(model): \(names.count) bias tensor\(names.count == 1 ? " is" : "s are") absent and run as zeros "
            + "(the configuration says \"absent_biases\": \"zero\"): \(names.joined(separator: ", "))\n")
}

/// A language model loaded without a tokenizer, given the one stored with its weights
/// (`LanguageModels.storedTokenizer`: a GGUF file's metadata, else a `tokenizer.json` beside the weights).
/// A tokenizer that cannot be read is noted on stderr and left out; prompt tasks then say the model has none.
func attachingTokenizer(_ net: any NeuralNetwork, file: any WeightFile, model: String) -> any NeuralNetwork {
    guard let language = net as? any LanguageModel, language.tokenizer == nil else { return net }
    do {
        guard let tokenizer = try LanguageModels.storedTokenizer(file: file, path: model) else { return net }
        return LanguageModels.attaching(tokenizer, to: net)
    } catch {
        writeStandardError("retort: note: \(model): the tokenizer cannot be read, so none is attached: \(error)\n")
        return net
    }
}

/// The representation tests' options on the command line (`distill` and `fidelity`).
struct RepresentationArguments: ParsableArguments {
    @Flag(help: "Run the representation tests (interchange interventions, replacement, ablation, random-init control).")
    var representation = false

    @Option(help: "Base/source pairs for fitting alignments, and as many again for scoring them.")
    var pairs = 256

    @Option(help: "Seed of the pairs, the subspace initialisations, the random units and the control's weights.")
    var seed: UInt64 = 0

    @Option(help: "The most surrogate variables tested per surrogate (trees and rules can have many).")
    var maxVariables = 8

    @Option(
        parsing: .upToNextOption,
        help: "Dimensions of the subspaces learned by distributed alignment search at each hook (0: none).")
    var subspaceDimensions: [Int] = [1, 2]

    @Option(help: "Most Adam steps per subspace (training stops early when a validation share stops improving).")
    var subspaceSteps = 200

    @Option(
        parsing: .upToNextOption,
        help: "Test only these variables, by name as the report prints them (e.g. 'a + b'); the verdict is about them.")
    var variables: [String] = []

    @Option(
        parsing: .upToNextOption,
        help: "Search only these sites: HOOK, or HOOK@POSITION for transformer hooks (default: every hidden hook).")
    var sites: [String] = []

    @Option(
        name: .customLong("positions"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp(
            "Transformer positions of the default sites: 'all', or position numbers, comma-separated or with the option "
                + "repeated (--positions 0,2 or --positions -1 --positions -2; default: the final position).",
            valueName: "positions"))
    var positionLists: [String] = []

    /// `--positions` values, each list split at its commas.
    var positions: [String] { positionLists.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } }

    @Flag(help: "Skip the random-init control (faster; no variable can then be supported).")
    var noControl = false

    @Option(help: "Search this many sites, the best by whole-site interchange (the localisation map); 0: every site.")
    var searchSites = 4

    @Option(help: "The task region whose inputs the tests use (default: the probe region).")
    var representationRegion: String?

    @Option(help: "Prompt tasks: the most inputs used (prompts of one token length).")
    var promptInputs = 256

    @Flag(help: "Prompt tasks: use every input of that length, not only those where the network gives the surrogate's answer.")
    var allPromptInputs = false

    func validate() throws {
        if !(positions == ["all"] || positions.allSatisfy({ Int($0) != nil })) {
            throw ValidationError(
                "--positions takes 'all' or position numbers (0 or more; on a prompt task −1 or less, counted from the prompt's end), "
                    + "comma-separated or with the option repeated: --positions -3,-1")
        }
        if promptInputs < 2 { throw ValidationError("--prompt-inputs must be at least 2") }
        if searchSites < 0 { throw ValidationError("--search-sites must be 0 or more") }
        if subspaceSteps < 1 || subspaceSteps > 100_000 { throw ValidationError("--subspace-steps must be 1…100000") }
        for site in sites where parsedSite(site) == nil {
            throw ValidationError("--sites: '\(site)' is not HOOK or HOOK@POSITION")
        }
        if pairs < 8 || pairs > RepresentationOptions.maxPairs {
            throw ValidationError("--pairs must be 8…\(RepresentationOptions.maxPairs)")
        }
        if maxVariables < 1 { throw ValidationError("--max-variables must be at least 1") }
        if subspaceDimensions.contains(where: { $0 < 0 || $0 > 4096 }) {
            throw ValidationError("--subspace-dimensions must lie within 0…4096")
        }
    }

    /// Runs the tests into `report` when asked, over `inputs`, with a random-init copy of `loaded` as control.
    func run(_ report: inout FidelityReport, loaded: LoadedNetwork, inputs given: Region, threads: Int) throws(ExitCode) {
        guard representation else { return }
        var inputs = given
        if let name = representationRegion {
            let task = report.behaviour.task
            let regions = try reportingFailures(path: report.taskPath) { () throws(DistillationError) in try task.resolveRegions() }
            guard let region = regions[name] else {
                printError(
                    "--representation-region: the task has no region \"\(name)\"; its regions: "
                        + regions.keys.sorted().joined(separator: ", "))
                throw ExitCode(64)
            }
            inputs = region
        }
        try checkVariableNames(report.behaviour.surrogates.map(\.surrogate), task: report.behaviour.task)
        if report.behaviour.task.isPromptTask {
            try runOnPrompts(&report, loaded: loaded, inputs: inputs, threads: threads)
            return
        }
        let control = noControl ? nil : try controlNetwork(loaded, threads: threads)
        let options = options(task: report.behaviour.task, threads: threads)
        let bar = ProgressBar(label: "representation tests", minimumBytes: 0, totalBytes: 1, unit: "site searches")
        defer { bar.finish() }
        report.runRepresentationTests(network: loaded.network, control: control, inputs: inputs, options: options) {
            message, done, total in bar.update(done, total, detail: message)
        }
    }

    /// A `--variables` name no surrogate has is a mistyped name, not a result: refused before any work (exit 64).
    func checkVariableNames(_ surrogates: [FittedSurrogate], task: TaskDescription) throws(ExitCode) {
        guard !variables.isEmpty else { return }
        let known = surrogates.flatMap { s in (try? SurrogateCausalModel(surrogate: s, task: task).variables) ?? [] }
        for name in variables where !known.contains(where: { $0.isNamed(by: name) }) {
            printError(
                "--variables: no surrogate has a variable \"\(name)\"; their variables: "
                    + known.map { "\"\($0.name)\"" }.joined(separator: ", "))
            throw ExitCode(64)
        }
    }

    /// The random-init control of `loaded` (seeded by `--seed`).
    func controlNetwork(_ loaded: LoadedNetwork, threads: Int) throws(ExitCode) -> any NeuralNetwork {
        try reportingFailures(path: "control") { () throws(RepresentationError) in
            try RepresentationTests.controlNetwork(
                file: loaded.file, description: loaded.description, seed: seed ^ 0x5EED_C0A7, threads: threads)
        }
    }

    /// The search's options from the flags.
    func options(task: TaskDescription, threads: Int) -> RepresentationOptions {
        commonOptions(threads: threads, allPositions: Array(0..<task.encodedWidth))
    }

    /// The options both kinds of tests take from the flags; `allPositions` is what `--positions all` means
    /// (`nil`: the tests' default).
    private func commonOptions(threads: Int, allPositions: [Int]?) -> RepresentationOptions {
        var options = RepresentationOptions()
        options.fittingPairs = pairs
        options.heldOutPairs = pairs
        options.seed = seed
        options.maxVariables = maxVariables
        options.subspaceDimensions = subspaceDimensions.filter { $0 > 0 }
        options.subspaceSteps = subspaceSteps
        options.searchSites = searchSites == 0 ? nil : searchSites
        if !variables.isEmpty { options.variables = variables }
        if !sites.isEmpty { options.sites = sites.compactMap(parsedSite) }
        if positions == ["all"] {
            options.positions = allPositions
        } else if !positions.isEmpty {
            options.positions = positions.compactMap { Int($0) }
        }
        options.threads = threads
        return options
    }

    /// The prompt-task tests (`PromptRepresentationTests`), with a random-init copy of the language model as control
    /// (built once the network's tests are done, with `--seed`, on `threads` threads; `--no-control` skips it).
    private func runOnPrompts(_ report: inout FidelityReport, loaded: LoadedNetwork, inputs: Region, threads: Int) throws(ExitCode) {
        let options = try promptOptions(threads: threads)
        let bars = StageBars()
        defer { bars.finish() }
        report.runPromptRepresentationTests(
            network: loaded.network, inputs: inputs, options: options, control: promptControl(loaded, threads: threads),
            progress: bars.update)
    }

    /// The prompt-task tests' options from the flags; positions counted from the start are refused (exit 64).
    func promptOptions(threads: Int) throws(ExitCode) -> RepresentationOptions {
        var options = commonOptions(threads: threads, allPositions: nil)
        options.localisationPairs = pairs
        options.maxPromptInputs = promptInputs
        options.onlyAgreeingInputs = !allPromptInputs
        if let bad = (options.sites?.compactMap(\.position) ?? []).first(where: { $0 >= 0 })
            ?? options.positions?.first(where: { $0 >= 0 })
        {
            printError("--sites/--positions: \(bad): a prompt task's positions count from the prompt's end (−1 = its last token)")
            throw ExitCode(64)
        }
        return options
    }

    /// Builds the prompt-task tests' random-init control of `loaded` when called (`nil` with `--no-control`).
    func promptControl(_ loaded: LoadedNetwork, threads: Int) -> (() throws(RepresentationError) -> any NeuralNetwork)? {
        noControl
            ? nil
            : { () throws(RepresentationError) in
                try PromptRepresentationTests.controlModel(
                    of: loaded.network, file: loaded.file, seed: seed ^ 0x5EED_C0A7, threads: threads)
            }
    }
}

/// A progress bar per stage of the prompt-task tests, on stderr: a new bar whenever the stage changes.
final class StageBars {
    private var bar: ProgressBar?
    private var label = ""

    /// Shows `done` of `total` for `stage`; DAS stages count Adam steps (each a forward and reverse pass over the
    /// training pairs), the others language-model runs.
    func update(_ stage: String, _ done: Int, _ total: Int) {
        if stage != label {
            bar?.finish()
            label = stage
            bar = ProgressBar(label: stage, minimumBytes: 0, totalBytes: total, unit: stage.contains("DAS ") ? "steps" : "runs")
        }
        bar?.update(done, total)
    }

    func finish() { bar?.finish() }
}

/// `HOOK` or `HOOK@POSITION` as a site; `nil` when the position is not an integer (negative positions count
/// from a prompt's end).
private func parsedSite(_ text: String) -> AlignmentSite? {
    let parts = text.split(separator: "@", omittingEmptySubsequences: false)
    guard !parts[0].isEmpty, parts.count <= 2 else { return nil }
    if parts.count == 1 { return AlignmentSite(hook: String(parts[0])) }
    guard let position = Int(parts[1]) else { return nil }
    return AlignmentSite(hook: String(parts[0]), position: position)
}

/// Evaluates `surrogates` on `net` over the task's regions, with a progress bar on stderr; the outputs of
/// `known` probes are reused rather than run again.
func evaluateBehaviour(
    _ net: any NeuralNetwork, task: TaskDescription, taskPath: String, surrogates: [FittedSurrogate], known: [ProbeSet] = []
) throws(ExitCode) -> BehaviourReport {
    var bar: ProgressBar?
    var label = ""
    defer { bar?.finish() }
    return try reportingFailures(path: taskPath) { () throws(DistillationError) in
        try BehaviourReport.evaluate(network: net, task: task, surrogates: surrogates, known: known) { what, done, total in
            if what != label {
                bar?.finish()
                label = what
                bar = ProgressBar(label: what, minimumBytes: 0, totalBytes: total, unit: "inputs")
            }
            bar?.update(done, total)
        }
    }
}

/// Writes `report.json` and `report.html` into `folder`.
func writeReport(_ report: FidelityReport, to folder: OutputDirectory) throws(ExitCode) {
    for (name, text) in [("report.json", report.json), ("report.html", report.html)] {
        try writeText(text, named: name, in: folder)
    }
}

/// Writes `text` as the file `name` of `folder`; errors name the file's final path.
func writeText(_ text: String, named name: String, in folder: OutputDirectory) throws(ExitCode) {
    do throws(WeightFileError) {
        let file = try AtomicOutputFile(path: folder.file(name))
        try file.write(Array(text.utf8))
        try file.commit()
    } catch {
        printError("\(folder.path)/\(name): \(finalPaths(error, folder))")
        throw ExitCode.failure
    }
}

/// `error`'s message with the temporary folder's path replaced by the destination's.
func finalPaths(_ error: any Error, _ folder: OutputDirectory) -> String {
    "\(error)".replacingOccurrences(of: folder.temporaryPath, with: folder.path)
}

/// Whether `name` is a file that `distill` or `fidelity` writes into `--out` (so `--force` may replace a
/// folder holding only such files).
func isRunOutput(_ name: String) -> Bool {
    if ["probes.safetensors", "report.json", "report.html"].contains(name) { return true }
    return SurrogateFamily.allCases.contains { name == "\($0.rawValue).json" || name == "\($0.rawValue).txt" }
}

/// The `--out` folder of a `distill` or `fidelity` run: checked now (an existing folder that is not empty
/// needs `force`, and is never replaced when it holds other files or one of `inputs`), written in a temporary
/// folder beside it, and put in place by `commit`.
func openOutputFolder(_ path: String, inputs: [String], force: Bool) throws(ExitCode) -> OutputDirectory {
    try reportingErrors(path: path) { () throws(WeightFileError) in
        try OutputDirectory(path: path, inputs: inputs, overwrite: force, replaceable: isRunOutput)
    }
}

/// Puts a run's finished `--out` folder in place.
func commit(_ folder: OutputDirectory) throws(ExitCode) {
    try reportingErrors(path: folder.path) { () throws(WeightFileError) in try folder.commit() }
}

/// Seconds since `start`.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

import Distillation
import Network
import WeightFiles

/// One base/source pair of inputs (indices into the input set).
public struct InterchangePair: Sendable, Hashable {
    /// The input run with the patch.
    public var base: Int
    /// The input the patched values come from.
    public var source: Int

    /// A pair from its parts.
    public init(base: Int, source: Int) {
        self.base = base
        self.source = source
    }
}

/// The mechanistic half of the fidelity tests (`formats/report.md`): does the network compute the
/// surrogate's intermediate variables, where, and would a random network look the same?
///
/// For every surrogate variable: search alignments (single neurons, neuron sets, learned subspaces) at the
/// network's hidden hooks by interchange intervention accuracy on fitting pairs; score the best on held-out
/// pairs; run the replacement, excluded and ablation-specificity tests on it; repeat everything on a
/// randomly initialised copy of the network; and judge by `RepresentationThresholds`.
public enum RepresentationTests {
    /// Runs the whole battery: alignment search and tests on `network` and, when given, on `control`
    /// (`controlNetwork(file:description:seed:threads:)`), and the verdict.
    /// - Parameters:
    ///   - inputs: the input set (e.g. the task's probe region); pairs, means and losses come from it.
    ///   - progress: called with one line per variable and site searched.
    /// - Complexity: per variable and network, one forward pass over the pairs per candidate alignment,
    ///   plus `subspaceSteps` tail passes over the fitting pairs per subspace dimension and site.
    public static func run(
        network: any NeuralNetwork, control: (any NeuralNetwork)?, surrogate: FittedSurrogate, task: TaskDescription,
        inputs: Region, options: RepresentationOptions = RepresentationOptions(),
        thresholds: RepresentationThresholds = .standard, progress: (String) -> Void = { _ in }
    ) throws(RepresentationError) -> RepresentationResult {
        let model = try SurrogateCausalModel(surrogate: surrogate, task: task)
        progress("network: \(model.variables.count) variable(s)")
        let main = try search(network: network, model: model, inputs: inputs, options: options, progress: progress)
        var controlResult: NetworkRepresentation?
        if let control {
            progress("random-init control")
            controlResult = try search(network: control, model: model, inputs: inputs, options: options, progress: progress)
        }
        return RepresentationResult(
            network: main, control: controlResult,
            verdict: RepresentationVerdict(network: main, control: controlResult, thresholds: thresholds))
    }

    /// The random-init control: `InMemoryWeightFile.randomised(from:seed:)` of `file`, loaded with the same
    /// description.
    public static func controlNetwork(file: any WeightFile, description: NetworkDescription, seed: UInt64, threads: Int = 1)
        throws(RepresentationError) -> any NeuralNetwork
    {
        let randomised: InMemoryWeightFile
        do { randomised = try InMemoryWeightFile.randomised(from: file, seed: seed) } catch { throw .network(.weightFile(error)) }
        do { return try NetworkLoader.load(file: randomised, description: description, threads: threads) } catch {
            throw .network(error)
        }
    }

    /// The alignment search and tests for every variable of `model` on one network; with `positions`, only for the
    /// tested variables at those positions of `testedVariables(of:options:)` (a shard's part of the search: each
    /// variable's result is the one the whole search gives it).
    /// - Complexity: see `run`.
    public static func search(
        network: any NeuralNetwork, model: SurrogateCausalModel, inputs: Region, options: RepresentationOptions,
        positions: Range<Int>? = nil, progress: (String) -> Void = { _ in }
    ) throws(RepresentationError) -> NetworkRepresentation {
        guard (1...RepresentationOptions.maxPairs).contains(options.fittingPairs),
            (1...RepresentationOptions.maxPairs).contains(options.heldOutPairs)
        else {
            throw .invalidOptions(reason: "fitting and held-out pairs must each be 1…\(RepresentationOptions.maxPairs)")
        }
        let sites: [AlignmentSite]
        if let given = options.sites {
            sites = given
        } else {
            sites = try defaultSites(network, task: model.task, positions: options.positions)
        }
        let analysis = try Analysis(
            network: network, model: model, inputs: subset(inputs, options: options), sites: sites, options: options)
        let (fitting, heldOut) = pairs(inputCount: analysis.inputCount, options: options)
        var results: [VariableRepresentation] = []
        let variables = try testedVariables(of: model, options: options)
        // The position seeds the variable's subspace search, so a part of the search gives each variable its result.
        for (index, variable) in variables.enumerated() where positions?.contains(index) ?? true {
            progress("variable \(index + 1)/\(variables.count): \(variable.name)")
            results.append(
                try analysis.search(variable, index: index, fitting: fitting, heldOut: heldOut, progress: progress))
        }
        return NetworkRepresentation(
            variables: results, untested: model.variables.count - variables.count, named: options.variables != nil)
    }

    /// The variables of `model` the search tests, in order: those `options.variables` names, else the first
    /// `options.maxVariables`.
    /// - Throws: `invalidOptions` when a name in `options.variables` is no variable of the surrogate.
    public static func testedVariables(of model: SurrogateCausalModel, options: RepresentationOptions)
        throws(RepresentationError) -> [SurrogateVariable]
    {
        guard let names = options.variables else {
            return Array(model.variables.prefix(options.maxVariables ?? model.variables.count))
        }
        func named(_ v: SurrogateVariable, _ name: String) -> Bool { v.isNamed(by: name) }
        for name in names where !model.variables.contains(where: { named($0, name) }) {
            throw .invalidOptions(
                reason: "the surrogate has no variable \"\(name)\"; its variables: "
                    + model.variables.map { "\"\($0.name)\"" }.joined(separator: ", "))
        }
        return model.variables.filter { v in names.contains { named(v, $0) } }
    }

    /// Every test of one given alignment for `variable`: IIA on `pairs`, replacement, excluded, ablation
    /// specificity (random units drawn with `options.seed`).
    /// - Complexity: O(pairs + inputs × (randomDraws + 3)) forward passes' worth of examples.
    public static func evaluate(
        alignment: Alignment, variable: SurrogateVariable, model: SurrogateCausalModel, network: any NeuralNetwork,
        inputs: Region, pairs: [InterchangePair], options: RepresentationOptions = RepresentationOptions()
    ) throws(RepresentationError) -> AlignmentEvaluation {
        let analysis = try Analysis(network: network, model: model, inputs: inputs, sites: [alignment.site], options: options)
        guard analysis.width(alignment.site) == alignment.width else {
            throw .invalidSite(
                hook: alignment.site.hook,
                reason: "the alignment has width \(alignment.width); the site has \(analysis.width(alignment.site))")
        }
        let facts = analysis.facts(variable)
        let accuracy = try analysis.accuracy(alignment, analysis.targets(pairs, facts: facts)).get()
        return try analysis.evaluate(alignment, facts: facts, accuracy: accuracy, seed: options.seed)
    }

    /// `inputs`, or a seeded sample of `options.maxInputs` of them: the analysis keeps every input's clean
    /// activations at every site, so the input set bounds its memory.
    /// - Complexity: O(inputs × variables)
    static func subset(_ inputs: Region, options: RepresentationOptions) -> Region {
        guard inputs.count > options.maxInputs else { return inputs }
        var generator = SplitMix64(seed: options.seed ^ 0x494E_5055)
        let chosen = generator.sample(options.maxInputs, from: Array(0..<inputs.count)).sorted()
        var sample = inputs
        sample.values = chosen.flatMap { inputs.input($0) }
        sample.indices = inputs.indices.map { all in chosen.map { all[$0] } }
        return sample
    }

    /// Fitting and held-out pairs for `inputCount` inputs (see `RepresentationOptions.fittingPairs`).
    /// - Complexity: O(pairs), or O(inputCount²) when every pair is enumerated.
    public static func pairs(inputCount n: Int, options: RepresentationOptions) -> (
        fitting: [InterchangePair], heldOut: [InterchangePair]
    ) {
        var generator = SplitMix64(seed: options.seed ^ 0x5041_4952)
        let wanted = options.fittingPairs + options.heldOutPairs
        guard n > 0 else { return ([], []) }
        if n * n <= wanted {
            var all: [InterchangePair] = []
            for b in 0..<n { for s in 0..<n { all.append(InterchangePair(base: b, source: s)) } }
            for i in stride(from: all.count - 1, to: 0, by: -1) { all.swapAt(i, generator.below(i + 1)) }
            let cut = Int((Double(all.count) * Double(options.fittingPairs) / Double(max(wanted, 1))).rounded())
            return (Array(all[0..<cut]), Array(all[cut...]))
        }
        func draw() -> InterchangePair { InterchangePair(base: generator.below(n), source: generator.below(n)) }
        let fitting = (0..<options.fittingPairs).map { _ in draw() }
        // Held-out pairs are never fitting pairs (more than `wanted` ordered pairs exist, so this ends).
        let taken = Set(fitting)
        var heldOut: [InterchangePair] = []
        heldOut.reserveCapacity(options.heldOutPairs)
        while heldOut.count < options.heldOutPairs {
            let pair = draw()
            if !taken.contains(pair) { heldOut.append(pair) }
        }
        return (fitting, heldOut)
    }

    /// The hidden hooks searched by default: MLP `layers.{i}.hook_post` then `hook_pre` for every layer but
    /// the output layer (post first, so equal scores prefer the post-activation units); transformer blocks'
    /// `hook_attn_out`, `hook_resid_mid`, `mlp.hook_post`, `hook_resid_post` at `positions` (default: final).
    public static func defaultSites(_ network: any NeuralNetwork, task: TaskDescription, positions: [Int]?)
        throws(RepresentationError) -> [AlignmentSite]
    {
        if network is MLPNetwork {
            let layers = network.hookNames.compactMap { name -> Int? in
                let parts = name.split(separator: ".")
                return parts.count == 3 && parts[0] == "layers" ? Int(parts[1]) : nil
            }
            guard let last = layers.max() else { return [] }
            return (0..<last).flatMap { i in
                [AlignmentSite(hook: "layers.\(i).hook_post"), AlignmentSite(hook: "layers.\(i).hook_pre")]
            }
        }
        if let transformer = network as? TransformerNetwork {
            let c = transformer.config
            let length = task.encodedWidth
            let chosen = positions ?? [length - 1]
            var sites: [AlignmentSite] = []
            for i in 0..<c.nLayers {
                var hooks = ["blocks.\(i).hook_attn_out"]
                if !c.attnOnly { hooks += ["blocks.\(i).hook_resid_mid", "blocks.\(i).mlp.hook_post"] }
                hooks.append("blocks.\(i).hook_resid_post")
                for hook in hooks { for p in chosen { sites.append(AlignmentSite(hook: hook, position: p)) } }
            }
            return sites
        }
        throw .invalidOptions(reason: "no default sites for this kind of network; list them in options.sites")
    }
}

import Distillation
import Foundation
import Network
import WeightFiles

/// Representation tests on a prompt task (a language model answering a text prompt), `formats/report.md`,
/// "Prompt tasks":
///
/// 1. the inputs: prompts of the most common token length (so that a position counted from the prompt's
///    end is one token role in every prompt), by default only those where the network's answer is the
///    surrogate's (there the surrogate is exact, so IIA measures the mechanism, not the behaviour);
/// 2. localisation: every candidate site (hook × position after the shared prefix) interchanged whole from
///    the source's clean run on each localisation pair; one patched run per (site, pair) serves every
///    variable, each scored against its own counterfactual;
/// 3. at each variable's best sites: whole-site IIA on held-out pairs, and a *class-mean subspace* of
///    each dimension interchanged — the top principal directions of the variable's per-value mean
///    activations on clean runs, computed without any pass through the network (not distributed alignment
///    search: no gradient reaches it) — beside a random subspace of the same dimension, and a subspace of each
///    dimension trained by distributed alignment search (`PromptSubspaceTrainer`: gradient descent through the
///    model on the first answer token's cross-entropy), all scored by patched generation;
/// 4. the random-init control (when given; `controlModel(of:file:seed:threads:)`): the same held-out
///    interchanges, whole-site and class-mean (the subspace computed again from the control's clean runs), at
///    the same sites on the same pairs, and DAS trained on it the same way, scored against the same surrogate
///    counterfactuals.
///
/// The verdict (`PromptRepresentationResult.verdict`) judges each variable's best measured alignment against
/// the control's best by `RepresentationThresholds`, as on networks; without a control no variable is supported.
public enum PromptRepresentationTests {
    /// The hooks of the default sites, per block: the residual stream after the block, the attention output and the MLP output.
    public static let defaultHookKinds = ["hook_resid_post", "hook_attn_out", "hook_mlp_out"]

    /// Runs the tests for `surrogate` on `model` over `inputs` (a region of the prompt task `task`).
    /// - Parameters:
    ///   - control: builds the random-init control, called once the network's tests are done (`nil`: no control).
    ///   - progress: the stage, units done and units in the stage.
    /// - Complexity: clean runs over the inputs scanned, then sites × localisation pairs patched runs, then
    ///   per variable top sites × (1 + 2 × dimensions) × held-out pairs; the control adds the inputs' clean
    ///   runs and top sites × (1 + dimensions) × held-out pairs.
    public static func run(
        network: any NeuralNetwork, surrogate: FittedSurrogate, task: TaskDescription, inputs: Region,
        options: RepresentationOptions = RepresentationOptions(),
        control: (() throws(RepresentationError) -> any NeuralNetwork)? = nil,
        progress: (_ stage: String, _ done: Int, _ total: Int) -> Void = { _, _, _ in }
    ) throws(RepresentationError) -> PromptRepresentationResult {
        let started = ContinuousClock.now
        let prepared = try prepare(
            network: network, surrogate: surrogate, task: task, inputs: inputs, options: options, progress: progress)
        let cleanSeconds = seconds(since: started)
        let localisationStart = ContinuousClock.now
        let map = try localise(prepared, sites: prepared.sites.indices, progress: progress)
        let localisationSeconds = seconds(since: localisationStart)
        let subspaceStart = ContinuousClock.now
        let chosen = bestSites(map, top: options.searchSites)
        var (results, runs) = try searchBestSites(
            prepared, map: map, chosen: chosen, items: nil, options: options, progress: progress)
        runs += prepared.cleanRuns + map.count * prepared.localisationPairs.count
        let subspaceSeconds = seconds(since: subspaceStart)
        var controlSeconds: Double?
        var controlRuns = 0
        if let control {
            let controlStart = ContinuousClock.now
            progress("random-init control", 0, 1)
            controlRuns = try scoreControl(
                try control(), task: task, model: prepared.model, runner: prepared.runner,
                fitting: prepared.localisationPairs, heldOut: prepared.heldOutPairs, targets: prepared.heldOutTargets,
                options: options, results: &results, progress: progress)
            controlSeconds = seconds(since: controlStart)
        }
        return PromptRepresentationResult(
            inputs: prepared.selection, positions: prepared.positions, localisationPairs: prepared.localisationPairs.count,
            heldOutPairs: prepared.heldOutPairs.count, variables: results,
            untested: prepared.model.variables.count - prepared.variables.count, named: options.variables != nil,
            patchedRuns: runs, cleanSeconds: cleanSeconds, localisationSeconds: localisationSeconds,
            subspaceSeconds: subspaceSeconds, controlRuns: controlRuns, controlSeconds: controlSeconds)
    }

    /// What every stage after the clean runs needs: the inputs chosen and run clean, the sites, the pairs and each
    /// tested variable's targets on them. The same for the same arguments, so every shard of a sharded run
    /// (`PromptRepresentationShard`) prepares what one run does.
    struct Preparation {
        let model: SurrogateCausalModel
        let prompt: PromptRunner
        let variables: [SurrogateVariable]
        let selection: PromptInputSelection
        /// The candidate sites, in the localisation map's order.
        let sites: [AlignmentSite]
        let runner: PromptInterchangeRunner
        let positions: [PromptPosition]
        let localisationPairs: [InterchangePair]
        let heldOutPairs: [InterchangePair]
        /// Per tested variable, its targets on the localisation and on the held-out pairs.
        let targets: [PairTargets]
        let heldOutTargets: [PairTargets]

        /// The clean runs made: the prompts scanned while choosing, then the inputs used with their hooks captured.
        var cleanRuns: Int { selection.scanned + selection.used }
    }

    /// Stage 1: chooses the inputs, the sites and the pairs, and runs the inputs clean with the sites' hooks captured.
    /// - Complexity: one generation per input scanned and per input used.
    static func prepare(
        network: any NeuralNetwork, surrogate: FittedSurrogate, task: TaskDescription, inputs: Region,
        options: RepresentationOptions, progress: (_ stage: String, _ done: Int, _ total: Int) -> Void
    ) throws(RepresentationError) -> Preparation {
        let model = try SurrogateCausalModel(surrogate: surrogate, task: task)
        let prompt: PromptRunner
        do { prompt = try PromptRunner(network: network, task: task) } catch { throw .task(error) }
        var variables = Array(model.variables.prefix(options.maxVariables ?? model.variables.count))
        if let names = options.variables {
            for name in names where !model.variables.contains(where: { $0.isNamed(by: name) }) {
                throw .invalidOptions(
                    reason: "the surrogate has no variable \"\(name)\"; its variables: "
                        + model.variables.map { "\"\($0.name)\"" }.joined(separator: ", "))
            }
            variables = model.variables.filter { v in names.contains { v.isNamed(by: $0) } }
        }

        // 1. Inputs of one token length.
        var ids: [[Int]] = []
        var all: [[Int]] = []
        for i in 0..<inputs.count {
            let values = inputs.input(i)
            all.append(values)
            do { ids.append(try prompt.promptIDs(for: values)) } catch { throw .task(error) }
        }
        guard !ids.isEmpty else { throw .invalidInputs(reason: "the input set is empty") }
        var byLength: [Int: Int] = [:]
        for p in ids { byLength[p.count, default: 0] += 1 }
        let length = byLength.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }!.key
        var candidates = ids.indices.filter { ids[$0].count == length }
        var generator = SplitMix64(seed: options.seed ^ 0x5052_4F4D)
        for i in stride(from: candidates.count - 1, to: 0, by: -1) { candidates.swapAt(i, generator.below(i + 1)) }
        var shared = prompt.sharedPrefixLength(candidates.map { ids[$0] })
        if shared == 0 {
            shared = 0
            let first = ids[candidates[0]]
            while shared < length - 1, candidates.allSatisfy({ ids[$0][shared] == first[shared] }) { shared += 1 }
        }
        // The positions after the prefix must be enough to name every site asked for.
        if let sites = options.sites {
            for site in sites {
                guard let p = site.position, p < 0, -p <= length else {
                    throw .invalidSite(
                        hook: site.hook,
                        reason: "a prompt task's sites name a position counted from the prompt's end (−1 = its last token), "
                            + "here −1 … −\(length - shared) (the tokens after the shared prefix)")
                }
                if -p > length - shared {
                    throw .invalidSite(
                        hook: site.hook,
                        reason: "position \(p) is inside the few-shot prefix all prompts share (the last \(length - shared) tokens can be named)")
                }
            }
        }

        // The inputs used: scanned in a seeded order, kept when the network agrees with the surrogate (or all).
        var kept: [Int] = []
        var scanned = 0, agreeing = 0
        let wanted = options.maxPromptInputs
        var cursor = 0
        while kept.count < wanted && cursor < candidates.count {
            let chunk = Array(candidates[cursor..<min(candidates.count, cursor + 256)])
            cursor += chunk.count
            let outputs = try PromptInterchangeRunner.cleanOutputs(prompt, ids: chunk.map { ids[$0] }, sharedPrefix: shared)
            for (j, i) in chunk.enumerated() {
                let agrees = outputs[j] == model.output(all[i])
                if agrees { agreeing += 1 }
                if (agrees || !options.onlyAgreeingInputs) && kept.count < wanted { kept.append(i) }
            }
            scanned += chunk.count
            progress("choosing inputs", kept.count, wanted)
        }
        guard kept.count >= 2 else {
            throw .invalidInputs(
                reason: "\(kept.count) of the \(scanned) prompts of \(length) tokens scanned "
                    + (options.onlyAgreeingInputs ? "get the surrogate's answer from the network" : "are usable")
                    + "; pairs need at least 2")
        }
        let selection = PromptInputSelection(
            given: inputs.count, tokenLength: length, sameLength: candidates.count,
            otherLengths: byLength.filter { $0.key != length }.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 },
            sharedPrefix: shared, scanned: scanned, agreeing: agreeing, used: kept.count,
            onlyAgreeing: options.onlyAgreeingInputs)

        // The sites.
        let sites: [AlignmentSite]
        if let given = options.sites {
            sites = given
        } else {
            let layers = network.hookNames.compactMap { name -> Int? in
                let parts = name.split(separator: ".")
                return parts.count == 3 && parts[0] == "blocks" && parts[2] == "hook_resid_post" ? Int(parts[1]) : nil
            }
            let positions = options.positions ?? Array((-(length - shared))...(-1))
            var list: [AlignmentSite] = []
            for layer in layers {
                for kind in defaultHookKinds {
                    for p in positions { list.append(AlignmentSite(hook: "blocks.\(layer).\(kind)", position: p)) }
                }
            }
            sites = list
        }
        guard !sites.isEmpty else { throw .invalidOptions(reason: "no sites to test") }
        for site in sites where !network.hookNames.contains(site.hook) {
            throw .invalidSite(hook: site.hook, reason: "the network has no such hook")
        }
        let hooks = Array(Set(sites.map(\.hook))).sorted()

        // Clean runs with the sites captured.
        let runner = try PromptInterchangeRunner(
            prompt: prompt, inputs: kept.map { all[$0] }, ids: kept.map { ids[$0] }, sharedPrefix: shared, hooks: hooks
        ) { progress("clean runs", $0, kept.count) }
        var pairOptions = options
        pairOptions.fittingPairs = min(options.fittingPairs, options.localisationPairs)
        let (localisationPairs, heldOutPairs) = RepresentationTests.pairs(inputCount: runner.inputs.count, options: pairOptions)
        return Preparation(
            model: model, prompt: prompt, variables: variables, selection: selection, sites: sites, runner: runner,
            positions: labels(runner), localisationPairs: localisationPairs, heldOutPairs: heldOutPairs,
            targets: variables.map { v in targetsFor(v, model: model, runner: runner, pairs: localisationPairs) },
            heldOutTargets: variables.map { v in targetsFor(v, model: model, runner: runner, pairs: heldOutPairs) })
    }

    /// Stage 2: the sites `range` (of `prepared.sites`) interchanged whole on the localisation pairs; one patched run
    /// per (site, pair) serves every variable, each scored against its own counterfactual.
    /// - Returns: per site of `range`, each tested variable's IIA.
    /// - Complexity: `range.count` × localisation pairs patched runs.
    static func localise(
        _ prepared: Preparation, sites range: Range<Int>, progress: (_ stage: String, _ done: Int, _ total: Int) -> Void
    ) throws(RepresentationError) -> [[InterchangeAccuracy]] {
        let runner = prepared.runner, pairs = prepared.localisationPairs
        let patches = prepared.sites[range].flatMap { site in
            pairs.map { pair in
                PromptInterchangeRunner.Patch(
                    base: pair.base, hook: site.hook, position: site.position!,
                    values: Array(runner.features(site.hook, site.position!, pair.source)))
            }
        }
        let outputs = try runner.outputs(patches) { progress("localisation", $0, patches.count) }
        return (0..<range.count).map { s in
            let slice = Array(outputs[(s * pairs.count)..<((s + 1) * pairs.count)])
            return prepared.targets.map { Analysis.interchangeAccuracy(slice, $0) }
        }
    }

    /// Each variable's best `top` sites by the localisation map (`map[site][variable]`), best first: the most
    /// successes where the output changes, then overall, then the earlier site (`nil` top: every site).
    /// - Complexity: O(variables × sites log sites)
    static func bestSites(_ map: [[InterchangeAccuracy]], top: Int?) -> [[Int]] {
        let count = max(1, top ?? map.count)
        return (0..<(map.first?.count ?? 0)).map { k in
            let ranked = map.indices.sorted { a, b in
                let (x, y) = (map[a][k], map[b][k])
                if x.changed.successes != y.changed.successes { return x.changed.successes > y.changed.successes }
                if x.overall.successes != y.overall.successes { return x.overall.successes > y.overall.successes }
                return a < b
            }
            return Array(ranked.prefix(count))
        }
    }

    /// Stage 3: at each variable's best sites (`chosen`, indices of `prepared.sites`), whole-site and subspace
    /// interchanges on the held-out pairs, and DAS.
    /// - Parameter items: the (variable, rank among its best sites) searched, in the order one run takes them
    ///   (`nil`: every one); every variable's result lists only its items' sites in `top`.
    /// - Returns: every tested variable's result (its map marked with the sites chosen) and the patched runs made.
    /// - Complexity: distinct sites of `items` × held-out pairs, then per item (1 + 2 × dimensions) × held-out pairs
    ///   and the DAS training.
    static func searchBestSites(
        _ prepared: Preparation, map: [[InterchangeAccuracy]], chosen: [[Int]], items: Set<PromptSearchItem>?,
        options: RepresentationOptions, progress: (_ stage: String, _ done: Int, _ total: Int) -> Void
    ) throws(RepresentationError) -> (results: [PromptVariableResult], runs: Int) {
        let model = prepared.model, runner = prepared.runner, sites = prepared.sites, variables = prepared.variables
        let localisationPairs = prepared.localisationPairs, heldOutPairs = prepared.heldOutPairs
        let targets = prepared.targets, heldOutTargets = prepared.heldOutTargets
        func searched(_ k: Int, _ t: Int) -> Bool { items?.contains(PromptSearchItem(variable: k, rank: t)) ?? true }
        let effects = variables.indices.map { k in
            sites.indices.map { s in SiteEffect(site: sites[s], accuracy: map[s][k], searched: chosen[k].contains(s)) }
        }
        let dimensions = options.subspaceDimensions.filter { $0 >= 1 }
        let topSites = Array(Set(variables.indices.flatMap { k in chosen[k].indices.filter { searched(k, $0) }.map { chosen[k][$0] } }))
            .sorted()
        var runs = 0
        var planned = topSites.count * heldOutPairs.count
        for k in variables.indices {
            planned += chosen[k].indices.filter { searched(k, $0) }.count * dimensions.count * 2 * heldOutPairs.count
        }
        var done = 0
        // Whole-site held-out runs serve every variable, as in localisation.
        var wholeOutputs: [Int: [Int]] = [:]
        for s in topSites {
            let site = sites[s]
            let patches = heldOutPairs.map { pair in
                PromptInterchangeRunner.Patch(
                    base: pair.base, hook: site.hook, position: site.position!,
                    values: Array(runner.features(site.hook, site.position!, pair.source)))
            }
            wholeOutputs[s] = try runner.outputs(patches) { progress("held-out sites", done + $0, planned) }
            done += patches.count
        }
        // DAS beside the class-mean subspaces, when the model has reverse mode (`DecoderTail`).
        let das = DASContext(
            runner: runner, model: model, weights: dimensions.isEmpty ? nil : try? DecoderTailWeights(network: prepared.prompt.model),
            fittingPairs: localisationPairs, heldOutPairs: heldOutPairs, options: options)
        var results: [PromptVariableResult] = []
        for (k, variable) in variables.enumerated() {
            let values = runner.inputs.map { model.value(variable, $0) }
            var siteResults: [PromptSiteResult] = []
            for (t, s) in chosen[k].enumerated() where searched(k, t) {
                let site = sites[s]
                let whole = Analysis.interchangeAccuracy(wholeOutputs[s]!, heldOutTargets[k])
                var scores: [ProbeSubspaceScore] = []
                let width = runner.widths[site.hook]!
                let clean = (0..<runner.inputs.count).map { Array(runner.features(site.hook, site.position!, $0)) }
                let classes = Set(values).count
                for d in dimensions {
                    guard d < classes, d < width else { continue }
                    let basis = ClassMeanSubspace.basis(clean, values: values, dimension: d)
                    guard basis.count == d else { continue }
                    var random = SplitMix64(seed: options.seed &+ UInt64(s) &* 7919 &+ UInt64(d) &* 104_729 &+ UInt64(k))
                    let randomBasis = ClassMeanSubspace.orthonormalised((0..<d).map { _ in (0..<width).map { _ in random.gaussian() } })
                    var accuracies: [InterchangeAccuracy] = []
                    for b in [basis, randomBasis] {
                        let alignment = Alignment(site: site, map: .subspace(basis: b), width: width)
                        let patches = heldOutPairs.map { pair in
                            PromptInterchangeRunner.Patch(
                                base: pair.base, hook: site.hook, position: site.position!,
                                values: alignment.interchange(base: clean[pair.base], source: clean[pair.source]))
                        }
                        let out = try runner.outputs(patches) { progress("subspaces", done + $0, planned) }
                        done += patches.count
                        accuracies.append(Analysis.interchangeAccuracy(out, heldOutTargets[k]))
                    }
                    scores.append(ProbeSubspaceScore(dimension: d, accuracy: accuracies[0], randomAccuracy: accuracies[1]))
                }
                let dasScores = try dasScores(
                    das, site: site, variable: variable, heldOutTargets: heldOutTargets[k], dimensions: dimensions,
                    seed: options.seed &+ UInt64(s) &* 7919 &+ UInt64(k)
                ) { progress("DAS \(variable.name) at \(site.hook) \(site.position!)", $0, $1) }
                runs += dasScores.count * heldOutPairs.count
                siteResults.append(PromptSiteResult(site: site, wholeSite: whole, subspaces: scores, das: dasScores))
            }
            let kept = zip(heldOutTargets[k].counterfactual, heldOutTargets[k].base).filter { $0 == $1 }.count
            let localKept = zip(targets[k].counterfactual, targets[k].base).filter { $0 == $1 }.count
            let indistinguishable = [targets[k], heldOutTargets[k]].allSatisfy { t in
                t.pairs.indices.allSatisfy { t.counterfactual[$0] == model.output(runner.inputs[t.pairs[$0].source]) }
            }
            results.append(
                PromptVariableResult(
                    variable: variable, values: Array(Set(values)).sorted(), localisation: effects[k],
                    ignoringScore: Double(localKept) / Double(max(localisationPairs.count, 1)),
                    heldOutIgnoringScore: Double(kept) / Double(max(heldOutPairs.count, 1)), top: siteResults,
                    indistinguishableFromOutput: indistinguishable))
        }
        runs += done
        return (results, runs)
    }

    private static func targetsFor(
        _ variable: SurrogateVariable, model: SurrogateCausalModel, runner: PromptInterchangeRunner, pairs: [InterchangePair]
    ) -> PairTargets {
        PairTargets(
            pairs: pairs,
            counterfactual: pairs.map { model.counterfactual(variable, base: runner.inputs[$0.base], source: runner.inputs[$0.source]) },
            base: pairs.map { model.output(runner.inputs[$0.base]) })
    }

    /// A label per position after the prefix: the token's text when it is the same in every prompt (`"+"`),
    /// else the variable it is a function of and its rank among that variable's tokens (`a[0]`), else `varies`.
    static func labels(_ runner: PromptInterchangeRunner) -> [PromptPosition] {
        let tokenizer = runner.prompt.tokenizer
        var ranks: [Int: Int] = [:]
        return runner.positions.map { p in
            let column = runner.ids.map { $0[runner.length + p] }
            if Set(column).count == 1 {
                return PromptPosition(offset: p, label: JSONWriter.quoted(tokenizer.decode([column[0]])))
            }
            let names = runner.prompt.task.variables.map(\.name)
            for v in names.indices {
                var token: [Int: Int] = [:]
                let function = runner.inputs.indices.allSatisfy { i in
                    let value = runner.inputs[i][v]
                    if let t = token[value] { return t == column[i] }
                    token[value] = column[i]
                    return true
                }
                if function {
                    let rank = ranks[v, default: 0]
                    ranks[v] = rank + 1
                    return PromptPosition(offset: p, label: "\(names[v])[\(rank)]")
                }
            }
            return PromptPosition(offset: p, label: "varies")
        }
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}

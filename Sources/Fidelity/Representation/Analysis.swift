import Distillation
import Network
import WeightFiles

/// Pairs with the surrogate's counterfactual output (`y*`) and its output on the base, computed once per pair set.
struct PairTargets: Sendable {
    var pairs: [InterchangePair]
    var counterfactual: [Int]
    var base: [Int]
}

/// What the surrogate says about one variable on the input set.
struct VariableFacts: Sendable {
    var variable: SurrogateVariable
    /// The variable's value on each input, and its distinct values.
    var values: [Int]
    var valueSet: [Int]
    /// Whether the variable matters on each input.
    var matters: [Bool]
}

/// The search and tests for one network, one surrogate and one input set.
struct Analysis: Sendable {
    let runner: InterventionRunner
    let model: SurrogateCausalModel
    let sites: [AlignmentSite]
    let options: RepresentationOptions
    /// Clean features per site and input.
    let features: [AlignmentSite: [[Float]]]
    /// The reverse-mode tail per site, or why subspace search cannot run there.
    let tails: [AlignmentSite: Result<NetworkTail, RepresentationError>]
    /// The same tails in Float32 over batches: the search scores candidates through them (the network after
    /// the site only) instead of a whole forward pass each; held-out scores and tests use the network.
    let batchedTails: [AlignmentSite: BatchedTail]

    var inputCount: Int { runner.inputs.count }

    init(
        network: any NeuralNetwork, model: SurrogateCausalModel, inputs: Region, sites: [AlignmentSite],
        options: RepresentationOptions
    ) throws(RepresentationError) {
        guard inputs.count > 0 else { throw .invalidInputs(reason: "the input set is empty") }
        guard inputs.variableCount == model.task.variables.count else {
            throw .invalidInputs(
                reason: "inputs have \(inputs.variableCount) variables; the task has \(model.task.variables.count)")
        }
        guard !sites.isEmpty else { throw .invalidOptions(reason: "no sites to search") }
        for site in sites where !network.hookNames.contains(site.hook) {
            throw .invalidSite(hook: site.hook, reason: "the network has no such hook")
        }
        var tails: [AlignmentSite: Result<NetworkTail, RepresentationError>] = [:]
        var hooks = Set(sites.map(\.hook))
        let decoded = Self.decodedPosition(model.task)
        for site in sites {
            guard case .argmax = model.task.decoder else {
                tails[site] = .failure(.invalidSite(hook: site.hook, reason: "subspace training needs an argmax decoder"))
                continue
            }
            if let p = site.position, let decoded, p != decoded {
                tails[site] = .failure(
                    .invalidSite(hook: site.hook, reason: "position \(p) is not the decoded position \(decoded)"))
                continue
            }
            do {
                let tail = try NetworkTail(network: network, hook: site.hook)
                if let context = tail.contextHook { hooks.insert(context) }
                tails[site] = .success(tail)
            } catch {
                tails[site] = .failure(.invalidSite(hook: site.hook, reason: "no reverse mode: \(error)"))
            }
        }
        let runner = try InterventionRunner(network: network, task: model.task, region: inputs, hooks: hooks)
        var features: [AlignmentSite: [[Float]]] = [:]
        for site in sites {
            _ = try runner.layout(site)
            features[site] = (0..<runner.inputs.count).map { runner.features(site, $0) }
        }
        self.runner = runner
        self.model = model
        self.sites = sites
        self.options = options
        self.features = features
        self.tails = tails
        batchedTails = tails.compactMapValues { try? BatchedTail($0.get()) }
    }

    /// The decoded position of a token task (resolved from −1), or nil for feature inputs.
    static func decodedPosition(_ task: TaskDescription) -> Int? {
        guard case .tokens = task.encoder, case .argmax(_, let position) = task.decoder else { return nil }
        return position < 0 ? task.encodedWidth + position : position
    }

    func width(_ site: AlignmentSite) -> Int { features[site]?.first?.count ?? 0 }

    func facts(_ variable: SurrogateVariable) -> VariableFacts {
        let values = runner.inputs.map { model.value(variable, $0) }
        let valueSet = Array(Set(values)).sorted()
        let matters = runner.inputs.map { model.matters(variable, $0, values: valueSet) }
        return VariableFacts(variable: variable, values: values, valueSet: valueSet, matters: matters)
    }

    /// The surrogate's counterfactual output and its output on the base, per pair.
    func targets(_ pairs: [InterchangePair], facts: VariableFacts) -> PairTargets {
        PairTargets(
            pairs: pairs,
            counterfactual: pairs.map {
                model.counterfactual(facts.variable, base: runner.inputs[$0.base], source: runner.inputs[$0.source])
            },
            base: pairs.map { model.output(runner.inputs[$0.base]) })
    }

    /// IIA of `alignment` on the pairs of `targets`.
    func accuracy(_ alignment: Alignment, _ targets: PairTargets) -> Result<InterchangeAccuracy, RepresentationError> {
        let site = alignment.site
        guard let clean = features[site] else {
            return .failure(.invalidSite(hook: site.hook, reason: "not among the analysed sites"))
        }
        let pairs = targets.pairs
        let patched = pairs.map { alignment.interchange(base: clean[$0.base], source: clean[$0.source]) }
        let outputs: [Int]
        do {
            outputs = try runner.decoded(try runner.run(site, bases: pairs.map(\.base), patched: patched))
        } catch {
            return .failure(error)
        }
        return .success(Self.interchangeAccuracy(outputs, targets))
    }

    /// IIA of the patched runs' decoded `outputs` (one per pair of `targets`): over every pair, and over
    /// the pairs whose counterfactual output differs from the base's.
    static func interchangeAccuracy(_ outputs: [Int], _ targets: PairTargets) -> InterchangeAccuracy {
        var hits = 0, changed = 0, changedHits = 0
        for j in targets.pairs.indices {
            let hit = outputs[j] == targets.counterfactual[j]
            if hit { hits += 1 }
            if targets.counterfactual[j] != targets.base[j] {
                changed += 1
                if hit { changedHits += 1 }
            }
        }
        return InterchangeAccuracy(
            overall: WilsonInterval(successes: hits, trials: targets.pairs.count),
            changed: WilsonInterval(successes: changedHits, trials: changed))
    }

    /// IIA for choosing among candidates: through the site's batched tail when it has one (the logits at the
    /// decoded position from the patched features, and the clean context), else `accuracy`.
    /// - Complexity: O(pairs × (alignment dimension × width + weights after the site))
    func searchAccuracy(_ alignment: Alignment, _ targets: PairTargets) -> Result<InterchangeAccuracy, RepresentationError> {
        let site = alignment.site
        guard let tail = batchedTails[site], case .success(let reverse) = tails[site], let clean = features[site],
            case .argmax(let classes, _) = model.task.decoder
        else { return accuracy(alignment, targets) }
        let pairs = targets.pairs
        let width = tail.width
        var x = [Float]()
        x.reserveCapacity(pairs.count * width)
        for pair in pairs { x += alignment.interchange(base: clean[pair.base], source: clean[pair.source]) }
        var context: [Float]?
        if let hook = reverse.contextHook {
            let contextSite = AlignmentSite(hook: hook, position: site.position)
            context = pairs.flatMap { runner.features(contextSite, $0.base) }
        }
        let logits = tail.logits(x, rows: pairs.count, context: context, threads: options.threads)
        let outputs = tail.outputWidth
        let decoded = pairs.indices.map { j in
            var best = 0
            for c in 1..<max(outputs, 1) where logits[j * outputs + c] > logits[j * outputs + best] { best = c }
            return classes?[best] ?? best
        }
        return .success(Self.interchangeAccuracy(decoded, targets))
    }

    /// Decoded outputs and mean loss when input `inputs[j]`'s features at `site` become `patched[j]`.
    private func patchedRun(_ site: AlignmentSite, _ patched: [[Float]], inputs: [Int]) throws(RepresentationError) -> (
        outputs: [Int], loss: Double?
    ) {
        let output = try runner.run(site, bases: inputs, patched: patched)
        let rows = InterventionRunner.outputRows(output, task: model.task)
        return (
            try runner.decoded(output),
            InterventionRunner.meanLoss(
                rows, classes: inputs.map { runner.labelClasses[$0] }, probabilities: runner.outputIsProbability)
        )
    }

    /// The inputs the replacement and ablation tests run on: all of them, or a seeded sample of
    /// `options.maxEvaluationInputs` (each test is a forward pass over them, several per alignment).
    /// - Complexity: O(inputs)
    func evaluationInputs(seed: UInt64) -> [Int] {
        guard inputCount > options.maxEvaluationInputs else { return Array(0..<inputCount) }
        var generator = SplitMix64(seed: seed ^ 0x4556_414C)
        return generator.sample(options.maxEvaluationInputs, from: Array(0..<inputCount)).sorted()
    }

    private func mean(_ rows: [[Double]]) -> [Double] {
        guard let first = rows.first else { return [] }
        var sum = [Double](repeating: 0, count: first.count)
        for row in rows { for j in row.indices { sum[j] += row[j] } }
        return sum.map { $0 / Double(rows.count) }
    }

    private func accuracy(_ outputs: [Int], _ inputs: [Int]) -> Double {
        Double(zip(outputs, inputs).filter { $0 == runner.labels[$1] }.count) / Double(max(outputs.count, 1))
    }

    private func drops(_ outputs: [Int], _ facts: VariableFacts, _ inputs: [Int]) -> AblationDrop {
        var matters = (0, 0), not = (0, 0)
        for (j, i) in inputs.enumerated() {
            let wrong = outputs[j] != runner.labels[i] ? 1 : 0
            if facts.matters[i] { matters = (matters.0 + wrong, matters.1 + 1) } else { not = (not.0 + wrong, not.1 + 1) }
        }
        // Clean accuracy against clean labels is 1, so the drop is the ablated error rate.
        return AblationDrop(
            whereMatters: matters.1 > 0 ? Double(matters.0) / Double(matters.1) : nil, mattersCount: matters.1,
            whereNot: not.1 > 0 ? Double(not.0) / Double(not.1) : nil, notCount: not.1)
    }

    /// Mean-ablated features: the aligned coordinates set to their mean over the input set.
    private func meanAblated(_ alignment: Alignment, _ clean: [[Float]]) -> [[Float]] {
        let average = mean(clean.map(alignment.coordinates))
        return clean.map { alignment.replacingCoordinates($0, with: average) }
    }

    /// Replacement, excluded and ablation-specificity tests of `alignment`.
    func evaluate(_ alignment: Alignment, facts: VariableFacts, accuracy iia: InterchangeAccuracy, seed: UInt64)
        throws(RepresentationError) -> AlignmentEvaluation
    {
        let site = alignment.site
        let chosen = evaluationInputs(seed: options.seed)
        let all = features[site]!
        let clean = chosen.map { all[$0] }
        let coordinates = clean.map(alignment.coordinates)
        var groups: [Int: [[Double]]] = [:]
        for (j, c) in coordinates.enumerated() { groups[facts.values[chosen[j]], default: []].append(c) }
        let byValue = groups.mapValues(mean)
        let ablated = try patchedRun(site, meanAblated(alignment, clean), inputs: chosen)
        let replaced = try patchedRun(
            site, clean.indices.map { alignment.replacingCoordinates(clean[$0], with: byValue[facts.values[chosen[$0]]]!) },
            inputs: chosen)
        let excluded = try patchedRun(site, clean.map(alignment.removing), inputs: chosen)
        var replacement: ReplacementResult?
        if let full = runner.cleanLoss(chosen), let ablatedLoss = ablated.loss, let replacedLoss = replaced.loss,
            let excludedLoss = excluded.loss
        {
            let gap = ablatedLoss - full
            replacement = ReplacementResult(
                fullLoss: full, ablatedLoss: ablatedLoss, ablatedAccuracy: accuracy(ablated.outputs, chosen),
                replacedLoss: replacedLoss, replacedAccuracy: accuracy(replaced.outputs, chosen),
                recoveredFraction: gap > 1e-12 ? (ablatedLoss - replacedLoss) / gap : nil,
                excludedLoss: excludedLoss, excludedAccuracy: accuracy(excluded.outputs, chosen))
        }
        let alignedDrop = drops(ablated.outputs, facts, chosen)
        // The baseline: as many random units at the same site, from those the alignment does not use when there
        // are enough of them, else from all the site's units (the count must match, overlap or not).
        var generator = SplitMix64(seed: seed ^ 0x5241_4E44)
        var pool = Array(0..<alignment.width)
        if case .neurons(let units) = alignment.map, alignment.width - units.count >= units.count {
            pool.removeAll { units.contains($0) }
        }
        var sums = (0.0, 0, 0.0, 0)
        var last = alignedDrop
        for _ in 0..<max(options.randomDraws, 1) {
            let units = generator.sample(alignment.dimension, from: pool)
            let random = Alignment(site: site, map: .neurons(units), width: alignment.width)
            let drop = drops(try patchedRun(site, meanAblated(random, clean), inputs: chosen).outputs, facts, chosen)
            if let m = drop.whereMatters { sums = (sums.0 + m, sums.1 + 1, sums.2, sums.3) }
            if let n = drop.whereNot { sums = (sums.0, sums.1, sums.2 + n, sums.3 + 1) }
            last = drop
        }
        let randomDrop = AblationDrop(
            whereMatters: sums.1 > 0 ? sums.0 / Double(sums.1) : nil, mattersCount: last.mattersCount,
            whereNot: sums.3 > 0 ? sums.2 / Double(sums.3) : nil, notCount: last.notCount)
        return AlignmentEvaluation(
            alignment: alignment, accuracy: iia, replacement: replacement,
            specificity: AblationSpecificity(aligned: alignedDrop, random: randomDrop, randomDraws: max(options.randomDraws, 1)))
    }

    /// Correlation ratio η² of each unit with the variable: the share of the unit's variance that the
    /// variable's value explains (1 when the unit is a function of the variable, linear or not).
    /// - Complexity: O(inputs × width + values × width), one row-major pass.
    private func correlationRatios(_ clean: [[Float]], _ facts: VariableFacts) -> [Double] {
        let width = clean.first?.count ?? 0
        let n = Double(clean.count)
        let index = Dictionary(uniqueKeysWithValues: facts.valueSet.enumerated().map { ($1, $0) })
        let group = facts.values.map { index[$0]! }
        let groups = facts.valueSet.count
        var sizes = [Double](repeating: 0, count: groups)
        for g in group { sizes[g] += 1 }
        var ratios = [Double](repeating: 0, count: width)
        // Units in blocks, so the per-value sums stay within a few megabytes however many values there are.
        let block = max(1, min(width, (1 << 22) / max(groups, 1)))
        for start in stride(from: 0, to: width, by: block) {
            let end = min(width, start + block), span = end - start
            var sum = [Double](repeating: 0, count: span), squares = sum
            var sums = [Double](repeating: 0, count: groups * span)
            for (i, row) in clean.enumerated() {
                let g = group[i] * span
                row.withUnsafeBufferPointer { row in
                    for u in 0..<span {
                        let x = Double(row[start + u])
                        sum[u] += x
                        squares[u] += x * x
                        sums[g + u] += x
                    }
                }
            }
            for u in 0..<span {
                let mean = sum[u] / n
                let variance = squares[u] - n * mean * mean
                guard variance > 1e-9 * max(1, squares[u]) else { continue }
                var between = 0.0
                for g in 0..<groups where sizes[g] > 0 {
                    let m = sums[g * span + u] / sizes[g]
                    between += sizes[g] * (m - mean) * (m - mean)
                }
                ratios[start + u] = min(1, between / variance)
            }
        }
        return ratios
    }

    private struct Candidate: Sendable {
        var alignment: Alignment
        var fitting: InterchangeAccuracy
        var order: Int
    }

    /// Whether `a` beats `b`: higher fitting IIA, then fewer parameters, lower dimension, earlier candidate.
    private static func better(_ a: Candidate, _ b: Candidate) -> Bool {
        let (x, y) = (a.fitting.overall.successes, b.fitting.overall.successes)
        if x != y { return x > y }
        if a.alignment.parameterCount != b.alignment.parameterCount {
            return a.alignment.parameterCount < b.alignment.parameterCount
        }
        if a.alignment.dimension != b.alignment.dimension { return a.alignment.dimension < b.alignment.dimension }
        return a.order < b.order
    }

    /// Searches every site for `variable` and tests the best alignment.
    func search(
        _ variable: SurrogateVariable, index: Int, fitting: [InterchangePair], heldOut: [InterchangePair],
        progress: (String) -> Void
    ) throws(RepresentationError) -> VariableRepresentation {
        let facts = self.facts(variable)
        let fittingTargets = targets(fitting, facts: facts)
        let heldOutTargets = targets(heldOut, facts: facts)
        var candidates: [Candidate] = []
        var unavailable: [String] = []
        // Localisation: interchange each whole site on a sample of the fitting pairs; search the best sites only.
        let sample = PairTargets(
            pairs: Array(fittingTargets.pairs.prefix(options.localisationPairs)),
            counterfactual: Array(fittingTargets.counterfactual.prefix(options.localisationPairs)),
            base: Array(fittingTargets.base.prefix(options.localisationPairs)))
        var effects: [SiteEffect] = []
        for site in sites {
            let whole = Alignment(site: site, map: .neurons(Array(0..<width(site))), width: width(site))
            effects.append(SiteEffect(site: site, accuracy: try searchAccuracy(whole, sample).get(), searched: false))
        }
        let ranked = effects.indices.sorted { a, b in
            let (x, y) = (effects[a].accuracy, effects[b].accuracy)
            if x.changed.successes != y.changed.successes { return x.changed.successes > y.changed.successes }
            if x.overall.successes != y.overall.successes { return x.overall.successes > y.overall.successes }
            return a < b
        }
        for i in ranked.prefix(max(1, options.searchSites ?? sites.count)) { effects[i].searched = true }
        for (siteIndex, site) in sites.enumerated() {
            guard effects[siteIndex].searched else {
                progress("  \(site.text): not searched (localisation rank \(ranked.firstIndex(of: siteIndex)! + 1))")
                continue
            }
            let clean = features[site]!
            let width = clean.first?.count ?? 0
            guard width > 0 else { continue }
            let ratios = correlationRatios(clean, facts)
            let ranked = (0..<width).sorted { ratios[$0] > ratios[$1] || (ratios[$0] == ratios[$1] && $0 < $1) }
            var neuronMaps = ranked.prefix(max(options.maxSingleNeurons, 0)).map { [$0] }
            for k in options.neuronSetSizes where k > 1 && k < width { neuronMaps.append(Array(ranked.prefix(k))) }
            let alignments = neuronMaps.map { Alignment(site: site, map: .neurons($0), width: width) }
            let analysis = self
            let scored = parallelMap(Array(alignments.indices), threads: options.threads) { @Sendable i in
                analysis.searchAccuracy(alignments[i], fittingTargets)
            }
            for (i, result) in scored.enumerated() {
                candidates.append(Candidate(alignment: alignments[i], fitting: try result.get(), order: candidates.count))
            }
            let dimensions = options.subspaceDimensions.filter { $0 >= 1 && $0 < width }
            let tooWide = options.subspaceDimensions.filter { $0 >= width }
            if !tooWide.isEmpty {
                // A subspace as wide as the site is the whole site: interchanging it is not an alignment.
                unavailable.append(
                    "\(site.text): subspaces of \(tooWide.map(String.init).joined(separator: ", ")) dimensions "
                        + "not searched (the site has \(width) units)")
            }
            if !dimensions.isEmpty {
                switch tails[site]! {
                case .failure(let error):
                    unavailable.append("\(site.text): \(error)")
                case .success(let tail):
                    let examples = trainingExamples(site, tail: tail, targets: fittingTargets)
                    if examples.count == 0 {
                        unavailable.append("\(site.text): no fitting pair has a counterfactual the network can output")
                        break
                    }
                    let trainer = SubspaceTrainer(tail: BatchedTail(tail), examples: examples)
                    for k in dimensions {
                        let seed = options.seed &+ UInt64(index) &* 1_000_003 &+ UInt64(siteIndex) &* 7919 &+ UInt64(k)
                        let outcome = trainer.train(
                            k: k, steps: options.subspaceSteps, learningRate: options.learningRate, seed: seed,
                            threads: options.threads)
                        let alignment = Alignment(site: site, map: .subspace(basis: outcome.basis), width: width)
                        candidates.append(
                            Candidate(
                                alignment: alignment, fitting: try searchAccuracy(alignment, fittingTargets).get(),
                                order: candidates.count))
                    }
                }
            }
            let best = candidates.filter { $0.alignment.site == site }.max { Self.better($1, $0) }
            progress(
                "  \(site.text): best fitting IIA \(best.map { String($0.fitting.overall.proportion) } ?? "-") (\(best?.alignment.className ?? "-"))"
            )
        }
        guard let best = candidates.max(by: { Self.better($1, $0) }) else {
            throw .invalidOptions(reason: "no candidate alignments (every site is empty, or every class is switched off)")
        }
        var perClass: [AlignmentScore] = []
        for name in ["neuron", "neuron_set", "subspace"] {
            guard let top = candidates.filter({ $0.alignment.className == name }).max(by: { Self.better($1, $0) }) else {
                continue
            }
            perClass.append(
                AlignmentScore(
                    alignment: top.alignment, fitting: top.fitting,
                    heldOut: try accuracy(top.alignment, heldOutTargets).get()))
        }
        let bestScore = perClass.first { $0.alignment.className == best.alignment.className }!
        let evaluation = try evaluate(
            best.alignment, facts: facts, accuracy: bestScore.heldOut, seed: options.seed &+ UInt64(index))
        var counts: [Int: Int] = [:]
        for y in heldOutTargets.counterfactual { counts[y, default: 0] += 1 }
        let chance = Double(counts.values.max() ?? 0) / Double(max(heldOut.count, 1))
        let kept = zip(heldOutTargets.counterfactual, heldOutTargets.base).filter { $0 == $1 }.count
        // The output variable's counterfactual is the surrogate's output on the source.
        let indistinguishable = [fittingTargets, heldOutTargets].allSatisfy { t in
            t.pairs.indices.allSatisfy { t.counterfactual[$0] == model.output(runner.inputs[t.pairs[$0].source]) }
        }
        return VariableRepresentation(
            variable: variable, values: facts.valueSet, best: bestScore, bestPerClass: perClass, evaluation: evaluation,
            unavailable: unavailable, localisation: effects, chance: chance, ignoringScore: Double(kept) / Double(max(heldOut.count, 1)),
            indistinguishableFromOutput: indistinguishable)
    }

    /// The fitting pairs as subspace-training examples, row-major (pairs whose counterfactual is off the
    /// output alphabet are left out: no class to aim at).
    private func trainingExamples(_ site: AlignmentSite, tail: NetworkTail, targets: PairTargets) -> SubspaceTrainer.Examples {
        let clean = features[site]!
        let contextSite = tail.contextHook.map { AlignmentSite(hook: $0, position: site.position) }
        var examples = SubspaceTrainer.Examples(base: [], source: [], context: contextSite.map { _ in [] }, targets: [])
        for j in targets.pairs.indices {
            let pair = targets.pairs[j]
            guard let c = InterventionRunner.classIndex(targets.counterfactual[j], task: model.task), c < tail.outputWidth
            else { continue }
            examples.base += clean[pair.base]
            examples.source += clean[pair.source]
            if let contextSite { examples.context! += runner.features(contextSite, pair.base) }
            examples.targets.append(c)
        }
        return examples
    }
}

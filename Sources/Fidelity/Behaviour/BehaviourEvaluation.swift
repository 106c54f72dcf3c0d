import Distillation
import Network

/// The behavioural evaluation of one surrogate against a network (formats/report.md).
public struct SurrogateEvaluation: Sendable {
    public var surrogate: FittedSurrogate
    /// Fidelity per region, in the report's region order.
    public var regions: [RegionFidelity]
    /// Compression against a lookup table of the whole domain, and the exception count it used.
    public var compression: Double
    public var compressionExceptions: Int
    /// Whether `compressionExceptions` was counted on the whole domain (exact) or estimated from a region.
    public var compressionBasis: String
    /// Every domain index where the surrogate and the network disagree (when the domain was enumerated).
    public var disagreementIndices: [Int]?
    /// The domain indices of the inputs a program lists in its exception table (programs only).
    public var exceptionIndices: [Int]?
    /// How many of the disagreements (domain, else the verdict's region) are inputs where the network is wrong
    /// (tasks with a truth): a surrogate whose every disagreement is a network mistake is the truth, faithful
    /// wherever the network is right.
    public var disagreementsWhereNetworkWrong: Int?
    /// The first disagreements (domain inputs, else the verdict's region), up to the options' limit.
    public var disagreements: [Disagreement]
    /// The verdict, the number it rests on, and a sentence saying which number that is.
    public var verdict: Verdict
    public var verdictValue: Double
    public var verdictBasis: String
    /// Bits saved against the lookup table of the domain: `|D|·log2|Y| − (model bits + E·(log2|D| + log2|Y|))`,
    /// with E = `compressionExceptions` (negative when the surrogate costs more than the table).
    public var bitsSaved: Double
    /// The total bits the Pareto front is drawn on: model bits plus `compressionExceptions` exceptions.
    public var totalBits: Double
    /// For a faithful surrogate: "algorithm" when it saves at least `BehaviourThresholds.algorithmBitsSaved`
    /// bits, "too small to tell" when even the whole table is shorter than that, else "lookup table and special
    /// cases"; `nil` when the verdict is not even behaviour or was judged only on its own probes.
    public var character: String?

    /// The p-value bound of `bitsSaved` (no-hypercompression): `2^−bitsSaved`, 1 when nothing is saved.
    public var pValue: Double { BehaviourThresholds.pValue(bitsSaved: bitsSaved) }

    /// The fidelity on the named region, if it was evaluated.
    public func fidelity(_ region: String) -> RegionFidelity? { regions.first { $0.region == region } }
}

/// Settings of a behavioural evaluation.
public struct BehaviourOptions: Sendable {
    /// Domains up to this many inputs are run whole: exact domain fidelity, exact compression, the disagreement map.
    public var domainLimit = 1_000_000
    /// How many disagreements each surrogate lists in the report.
    public var disagreementLimit = 2_000
    /// On domains too big to run whole, the derived `untrained` region is a sample of this many inputs.
    public var sampleLimit = 20_000
    public init() {}
}

/// The behavioural half of a fidelity report: every surrogate on every region of the task.
public struct BehaviourReport: Sendable {
    public var task: TaskDescription
    /// Region name → number of inputs, in report order.
    public var regionSizes: [(name: String, count: Int)]
    /// The network's accuracy against the task's truth per region (tasks with a truth).
    public var networkAccuracy: [(region: String, accuracy: WilsonInterval)]
    /// Domain indices where the network's output differs from the truth (domain enumerated, truth known).
    public var networkWrongIndices: [Int]?
    public var surrogates: [SurrogateEvaluation]
    /// Indices into `surrogates` on the fidelity–description-length front (model bits against verdict fidelity).
    public var paretoFront: [Int]
    /// What was not evaluated, and why.
    public var notes: [String]

    /// Evaluates `surrogates` as descriptions of `network` on the task's regions.
    ///
    /// When the domain has at most `options.domainLimit` inputs the network runs once over all of it and every
    /// region is read from that run; otherwise each region runs separately, in chunks, counted into its
    /// `RegionStatistics`. Out-of-range regions always run separately. A `trained` region with domain indices
    /// adds `untrained`, the rest of the domain.
    /// The same as `BehaviourPlan`'s runs followed by `BehaviourReport.assemble`, which a sharded evaluation
    /// does on several machines.
    /// - Parameters:
    ///   - known: probes of this network on this task already run (a prompt task's probe set, say): their
    ///     outputs are reused for their domain indices instead of running the network again. Used only when
    ///     no surrogate reads hook features.
    ///   - progress: (what, done, total) as the network runs.
    /// - Complexity: one forward pass per evaluated input, plus each surrogate's prediction on it.
    public static func evaluate(
        network: any NeuralNetwork, task: TaskDescription, surrogates: [FittedSurrogate], options: BehaviourOptions = .init(),
        known: [ProbeSet] = [], progress: ((String, Int, Int) -> Void)? = nil
    ) throws(DistillationError) -> BehaviourReport {
        let plan = try BehaviourPlan(network: network, task: task, surrogates: surrogates, options: options)
        var knownOutputs: [Int: Int] = [:]
        if plan.hooks.isEmpty {
            for probes in known {
                guard let indices = probes.region.indices else { continue }
                for (index, output) in zip(indices, probes.outputs) { knownOutputs[index] = output }
            }
        }
        let result = try plan.evaluateRuns(network: network, known: knownOutputs, progress: progress)
        return try assemble(plan, domain: result.domain, statistics: result.statistics, failures: result.failures)
    }

    /// The report of `plan` from the network's outputs and the surrogates' predictions on each of its runs, whole.
    ///
    /// - Parameters:
    ///   - outputs: by run name, for every run of `plan` but the failed ones; `plan` must hold every run whole
    ///     (scope `whole`), for the inputs the statistics are counted on.
    ///   - failures: run name → why the network could not run it (the region is noted as not evaluated).
    /// - Throws: `mismatch` when a run is neither in `outputs` nor in `failures`, or holds another number of
    ///   inputs than the plan's region.
    /// - Complexity: O(evaluated inputs × surrogates), plus each program's expression on every input.
    public static func assemble(_ plan: BehaviourPlan, outputs: [String: RegionOutputs], failures: [String: String] = [:])
        throws(DistillationError) -> BehaviourReport
    {
        var statistics: [String: RegionStatistics] = [:]
        var domain: RegionOutputs?
        for (name, count) in plan.runs {
            guard let result = outputs[name] else { continue }
            try check(result, count: count, plan: plan)
            if plan.enumeratesDomain && name == BehaviourPlan.domainRun {
                domain = result
                continue
            }
            guard let slice = plan.inputs[name], slice.count == count else {
                throw .mismatch(path: name, reason: "the plan does not hold this run's inputs whole")
            }
            statistics[name] = RegionStatistics(
                result, region: slice.materialized(task: plan.task), task: plan.task, surrogates: plan.surrogates,
                disagreementLimit: plan.options.disagreementLimit)
        }
        return try assemble(plan, domain: domain, statistics: statistics, failures: failures)
    }

    /// Checks that `result` holds `count` outputs and as many predictions of each of the plan's surrogates.
    static func check(_ result: RegionOutputs, count: Int, plan: BehaviourPlan) throws(DistillationError) {
        guard result.network.count == count, result.predictions.count == plan.surrogates.count,
            result.predictions.allSatisfy({ $0.count == count })
        else {
            throw .mismatch(
                path: result.name,
                reason:
                    "\(result.network.count) outputs and \(result.predictions.map { "\($0.count)" }.joined(separator: "/")) "
                    + "predictions of \(result.predictions.count) surrogates for a region of \(count) inputs and "
                    + "\(plan.surrogates.count) surrogates")
        }
    }

    /// The report of `plan` from the network's outputs on the whole domain (when the plan enumerates it) and the
    /// statistics of every other run.
    ///
    /// - Parameters:
    ///   - domain: the outputs and predictions on the whole domain, when `plan.enumeratesDomain` (else ignored).
    ///   - statistics: by run name, for every other run of `plan` but the failed ones.
    ///   - failures: run name → why the network could not run it (the region is noted as not evaluated).
    /// - Throws: `mismatch` when a run is neither given nor in `failures`, or its counts are not the plan's.
    /// - Complexity: O(domain × surrogates) for an enumerated domain, else O(regions × surrogates × listed
    ///   disagreements): the report never holds a region's outputs otherwise.
    public static func assemble(
        _ plan: BehaviourPlan, domain: RegionOutputs?, statistics: [String: RegionStatistics], failures: [String: String] = [:]
    ) throws(DistillationError) -> BehaviourReport {
        let task = plan.task, surrogates = plan.surrogates, options = plan.options
        var notes = plan.notes
        func counted(_ name: String, count: Int) throws(DistillationError) -> RegionStatistics? {
            guard let result = statistics[name] else {
                guard failures[name] != nil else {
                    throw .mismatch(path: name, reason: "the network's outputs on this region are missing")
                }
                return nil
            }
            guard result.count == count, result.surrogates.count == surrogates.count else {
                throw .mismatch(
                    path: name,
                    reason: "statistics of \(result.count) inputs and \(result.surrogates.count) surrogates for a region of "
                        + "\(count) inputs and \(surrogates.count) surrogates")
            }
            return result
        }
        var domainRun: Evaluated?
        if plan.enumeratesDomain {
            guard let domain else {
                throw .mismatch(path: BehaviourPlan.domainRun, reason: "the network's outputs on the domain are missing")
            }
            try check(domain, count: task.domainSize, plan: plan)
            domainRun = Evaluated(
                name: BehaviourPlan.domainRun, region: task.region(BehaviourPlan.domainRun, indices: Array(0..<task.domainSize)),
                network: domain.network, predictions: domain.predictions)
        }
        func gathered(_ e: Evaluated) -> RegionStatistics {
            RegionStatistics(
                RegionOutputs(name: e.name, network: e.network, predictions: e.predictions), region: e.region, task: task,
                surrogates: surrogates, disagreementLimit: options.disagreementLimit)
        }
        var evaluated: [(name: String, statistics: RegionStatistics)] = []
        for name in plan.order {
            if let domainRun, let indices = plan.named[name]?.indices {
                evaluated.append((name, gathered(domainRun.gathering(name, indices: indices, task: task))))
            } else if let result = try counted(name, count: plan.regionCounts[name]!) {
                evaluated.append((name, result))
            } else {
                notes.append("region \(name) not evaluated: \(failures[name]!)")
            }
        }
        if plan.named["out_of_range"] == nil && plan.regionCounts["out_of_range"] == nil {
            notes.append("the task defines no out_of_range region")
        }
        if let domainRun { evaluated.append((domainRun.name, gathered(domainRun))) }  // last: `order`, then the domain

        var networkAccuracy: [(String, WilsonInterval)] = []
        for (name, s) in evaluated {
            guard let right = s.networkRight else { continue }
            networkAccuracy.append((name, WilsonInterval(successes: right, trials: s.count)))
        }
        var networkWrongIndices: [Int]?
        if let domainRun, let truth = task.truth {
            var input = [Int](repeating: 0, count: task.variables.count)
            networkWrongIndices = domainRun.network.indices.filter { i in
                for v in input.indices { input[v] = domainRun.region.values[i * input.count + v] }
                return domainRun.network[i] != truth.evaluate(input)
            }
        }
        if task.truth == nil { notes.append("the task has no truth: error agreement not measured") }

        var results: [SurrogateEvaluation] = []
        for (k, surrogate) in surrogates.enumerated() {
            var regions: [RegionFidelity] = []
            for (name, s) in evaluated {
                let mine = s.surrogates[k]
                var errors: ErrorAgreement?
                if let right = s.networkRight, let same = mine.sameMistake, let corrected = mine.surrogateRight {
                    errors = ErrorAgreement(
                        sameMistake: WilsonInterval(successes: same, trials: s.count - right), surrogateRight: corrected)
                }
                regions.append(
                    RegionFidelity(
                        region: name, agreement: WilsonInterval(successes: mine.agreements, trials: s.count),
                        meanSquaredError: mine.squaredError.map { Double($0) / Double(max(1, s.count)) }, errorAgreement: errors))
            }
            let disagreementIndices = domainRun.map { d in d.network.indices.filter { d.network[$0] != d.predictions[k][$0] } }
            results.append(
                assess(
                    surrogate, k, regions: regions, evaluated: evaluated, disagreementIndices: disagreementIndices, task: task))
        }
        // Total bits (model + exceptions), so a memoriser's short expression with a long exception table is
        // not mistaken for a cheap model.
        let front = ParetoFront.indices(bits: results.map(\.totalBits), fidelity: results.map(\.verdictValue))
        return BehaviourReport(
            task: task, regionSizes: evaluated.map { ($0.name, $0.statistics.count) }, networkAccuracy: networkAccuracy,
            networkWrongIndices: networkWrongIndices, surrogates: results, paretoFront: front, notes: notes)
    }

    /// The verdict, compression and disagreements of surrogate `k`.
    private static func assess(
        _ surrogate: FittedSurrogate, _ k: Int, regions: [RegionFidelity],
        evaluated: [(name: String, statistics: RegionStatistics)], disagreementIndices: [Int]?, task: TaskDescription
    ) -> SurrogateEvaluation {
        let outputCount = task.outputValues.count
        var verdictValue: Double
        var basis: String
        var exceptions: Int
        var compressionBasis: String
        let listed: SurrogateStatistics
        var exceptionIndices: [Int]?
        if case .program(let program) = surrogate.model {
            exceptionIndices = program.exceptions.compactMap { e in
                zip(e.input, task.variables).allSatisfy { $1.min...$1.max ~= $0 } ? task.index(of: e.input) : nil
            }.sorted()
        }
        if let disagreementIndices, let domain = evaluated.last?.statistics {
            listed = domain.surrogates[k]
            // A program's exception table is the E of the compression formula, so the expression alone is
            // counted against the network: every input where the bare expression is wrong is an exception.
            exceptions = listed.expressionWrong ?? disagreementIndices.count
            compressionBasis = "domain"
            verdictValue = Double(domain.count - disagreementIndices.count) / Double(max(1, domain.count))
            basis = "agreement on all \(domain.count) inputs of the domain"
        } else {
            let region =
                ["held_out", "untrained", "probe"].lazy.compactMap { name in regions.first { $0.region == name } }.first
                ?? regions[0]
            let statistics = evaluated.first { $0.name == region.region }!.statistics
            listed = statistics.surrogates[k]
            verdictValue = region.agreement.lower
            basis = "95% Wilson lower bound of the agreement on \(region.region) (\(region.agreement.trials) inputs)"
            if region.region == "probe" { basis += ", the inputs it was fitted on: optimistic" }
            // As on the domain, a program's exception table is not part of its model: count its bare expression.
            let wrong = listed.expressionWrong ?? (statistics.count - listed.agreements)
            exceptions = Int((Double(task.domainSize) * Double(wrong) / Double(max(1, statistics.count))).rounded())
            compressionBasis = "estimated from \(region.region)"
        }
        let disagreementsWhereNetworkWrong = task.truth == nil ? nil : listed.disagreementsWhereNetworkWrong
        let compression = DescriptionLength.compressionRatio(
            modelBits: surrogate.modelBits, exceptions: exceptions, domainSize: task.domainSize, outputCount: outputCount)
        let verdict: Verdict = verdictValue >= BehaviourThresholds.agreement ? .interpretationOnly : .notEvenBehaviour
        let table = Double(task.domainSize) * DescriptionLength.choice(outputCount)
        let totalBits =
            surrogate.modelBits
            + DescriptionLength.exceptions(exceptions, domainSize: task.domainSize, outputCount: outputCount)
        let saved = table - totalBits
        // Judged only on the inputs it was fitted on, a surrogate's compression says nothing about the rest.
        let character: String?
        if verdict == .notEvenBehaviour || compressionBasis == "estimated from probe" {
            character = nil
        } else if saved >= BehaviourThresholds.algorithmBitsSaved {
            character = "algorithm"
        } else if table < BehaviourThresholds.algorithmBitsSaved {
            character = "too small to tell"
        } else {
            character = "lookup table and special cases"
        }
        return SurrogateEvaluation(
            surrogate: surrogate, regions: regions, compression: compression, compressionExceptions: exceptions,
            compressionBasis: compressionBasis, disagreementIndices: disagreementIndices, exceptionIndices: exceptionIndices,
            disagreementsWhereNetworkWrong: disagreementsWhereNetworkWrong, disagreements: listed.disagreements,
            verdict: verdict, verdictValue: verdictValue, verdictBasis: basis, bitsSaved: saved, totalBits: totalBits,
            character: character)
    }
}

/// One evaluated region: its inputs, the network's outputs and every surrogate's predictions.
struct Evaluated {
    var name: String
    var region: Region
    var network: [Int]
    var predictions: [[Int]]

    /// The region of these domain indices, read out of this run over the whole domain (domain index = position).
    func gathering(_ name: String, indices: [Int], task: TaskDescription) -> Evaluated {
        Evaluated(
            name: name, region: task.region(name, indices: indices), network: indices.map { network[$0] },
            predictions: predictions.map { p in indices.map { p[$0] } })
    }
}

extension BehaviourPlan {
    /// Runs every run of the plan over the inputs it holds: the domain run's outputs (an enumerated domain), every
    /// other run's statistics, and the runs the network could not run.
    /// - Throws: the domain run's error (without it there is no report); another run's error is a failure.
    /// - Complexity: one forward pass per input held, plus each surrogate's prediction on it.
    public func evaluateRuns(
        network: any NeuralNetwork, known: [Int: Int] = [:], progress: ((String, Int, Int) -> Void)? = nil
    ) throws(DistillationError) -> (domain: RegionOutputs?, statistics: [String: RegionStatistics], failures: [String: String]) {
        var domain: RegionOutputs?
        var statistics: [String: RegionStatistics] = [:]
        var failures: [String: String] = [:]
        for (name, _) in runs {
            guard let slice = inputs[name] else { continue }
            if enumeratesDomain && name == Self.domainRun {
                // The whole domain is every region's source: without it there is no report.
                domain = try run(slice.materialized(task: task), network: network, known: known, progress: progress)
                continue
            }
            do {
                statistics[name] = try self.statistics(of: name, network: network, known: known, progress: progress)
            } catch {
                failures[name] = "\(error)"
            }
        }
        return (domain, statistics, failures)
    }
}

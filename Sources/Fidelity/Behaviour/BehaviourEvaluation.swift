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
    /// region is read from that run; otherwise each region runs separately. Out-of-range regions always run
    /// separately. A `trained` region with domain indices adds `untrained`, the rest of the domain.
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
        var outputs: [String: RegionOutputs] = [:]
        var failures: [String: String] = [:]
        for region in plan.runs {
            do {
                outputs[region.name] = try plan.run(region, network: network, known: knownOutputs, progress: progress)
            } catch {
                // The whole domain is every region's source: without it there is no report.
                if plan.enumeratesDomain && region.name == BehaviourPlan.domainRun { throw error }
                failures[region.name] = "\(error)"
            }
        }
        return try assemble(plan, outputs: outputs, failures: failures)
    }

    /// The report of `plan` from the network's outputs and the surrogates' predictions on each of its runs.
    ///
    /// - Parameters:
    ///   - outputs: by run name, for every run of `plan` but the failed ones.
    ///   - failures: run name → why the network could not run it (the region is noted as not evaluated).
    /// - Throws: `mismatch` when a run is neither in `outputs` nor in `failures`, or holds another number of
    ///   inputs than the plan's region.
    /// - Complexity: O(evaluated inputs × surrogates), plus each program's expression on the domain or its region.
    public static func assemble(_ plan: BehaviourPlan, outputs: [String: RegionOutputs], failures: [String: String] = [:])
        throws(DistillationError) -> BehaviourReport
    {
        let task = plan.task, surrogates = plan.surrogates, options = plan.options
        var notes = plan.notes
        func evaluated(_ region: Region) throws(DistillationError) -> Evaluated? {
            guard let result = outputs[region.name] else {
                guard failures[region.name] != nil else {
                    throw .mismatch(path: region.name, reason: "the network's outputs on this region are missing")
                }
                return nil
            }
            guard result.network.count == region.count, result.predictions.count == surrogates.count,
                result.predictions.allSatisfy({ $0.count == region.count })
            else {
                throw .mismatch(
                    path: region.name,
                    reason:
                        "\(result.network.count) outputs and \(result.predictions.map { "\($0.count)" }.joined(separator: "/")) "
                        + "predictions of \(result.predictions.count) surrogates for a region of \(region.count) inputs and "
                        + "\(surrogates.count) surrogates")
            }
            return Evaluated(name: region.name, region: region, network: result.network, predictions: result.predictions)
        }
        var evaluatedRegions: [Evaluated] = []
        let domain = plan.enumeratesDomain ? try evaluated(plan.runs[0]) : nil
        for name in plan.order {
            let region = plan.named[name]!
            if let domain, let indices = region.indices {
                evaluatedRegions.append(domain.gathering(name, indices: indices, task: task))
            } else if let result = try evaluated(region) {
                evaluatedRegions.append(result)
            } else {
                notes.append("region \(name) not evaluated: \(failures[name]!)")
            }
        }
        if plan.named["out_of_range"] == nil { notes.append("the task defines no out_of_range region") }
        if let domain { evaluatedRegions.append(domain) }  // last: the report's order is `order`, then the domain
        let evaluated = evaluatedRegions

        func truthValues(_ e: Evaluated) -> [Int]? {
            guard let truth = task.truth else { return nil }
            return (0..<e.region.count).map { truth.evaluate(e.region.input($0)) }
        }
        let truths = evaluated.map(truthValues)
        var networkAccuracy: [(String, WilsonInterval)] = []
        for (e, truth) in zip(evaluated, truths) {
            guard let truth else { continue }
            let right = zip(e.network, truth).filter { $0 == $1 }.count
            networkAccuracy.append((e.name, WilsonInterval(successes: right, trials: e.network.count)))
        }
        var networkWrongIndices: [Int]?
        if let domain, let truth = truths.last ?? nil {
            networkWrongIndices = domain.network.indices.filter { domain.network[$0] != truth[$0] }
        }
        if task.truth == nil { notes.append("the task has no truth: error agreement not measured") }

        var results: [SurrogateEvaluation] = []
        for (k, surrogate) in surrogates.enumerated() {
            var regions: [RegionFidelity] = []
            for (e, truth) in zip(evaluated, truths) {
                let predicted = e.predictions[k]
                let agree = zip(predicted, e.network).filter { $0 == $1 }.count
                var mse: Double?
                if case .regression = task.decoder {
                    // In Double before subtracting: a surrogate may compute values far outside the task's range.
                    mse =
                        zip(predicted, e.network).reduce(0.0) { sum, pair in
                            let d = Double(pair.0) - Double(pair.1)
                            return sum + d * d
                        } / Double(max(1, e.network.count))
                }
                var errors: ErrorAgreement?
                if let truth {
                    var wrong = 0, same = 0, corrected = 0
                    for i in e.network.indices where e.network[i] != truth[i] {
                        wrong += 1
                        if predicted[i] == e.network[i] { same += 1 } else if predicted[i] == truth[i] { corrected += 1 }
                    }
                    errors = ErrorAgreement(
                        sameMistake: WilsonInterval(successes: same, trials: wrong), surrogateRight: corrected)
                }
                regions.append(
                    RegionFidelity(
                        region: e.name, agreement: WilsonInterval(successes: agree, trials: e.network.count),
                        meanSquaredError: mse, errorAgreement: errors))
            }
            results.append(
                assess(
                    surrogate, regions: regions,
                    evaluated: evaluated.map { ($0.name, $0.region, $0.network, $0.predictions[k]) },
                    task: task, options: options))
        }
        // Total bits (model + exceptions), so a memoriser's short expression with a long exception table is
        // not mistaken for a cheap model.
        let front = ParetoFront.indices(bits: results.map(\.totalBits), fidelity: results.map(\.verdictValue))
        return BehaviourReport(
            task: task, regionSizes: evaluated.map { ($0.name, $0.region.count) }, networkAccuracy: networkAccuracy,
            networkWrongIndices: networkWrongIndices, surrogates: results, paretoFront: front, notes: notes)
    }

    /// The verdict, compression and disagreements of one surrogate.
    private static func assess(
        _ surrogate: FittedSurrogate, regions: [RegionFidelity],
        evaluated: [(name: String, region: Region, network: [Int], predicted: [Int])], task: TaskDescription,
        options: BehaviourOptions
    ) -> SurrogateEvaluation {
        let outputCount = task.outputValues.count
        var verdictValue: Double
        var basis: String
        var exceptions: Int
        var compressionBasis: String
        var disagreementIndices: [Int]?
        let listed: (name: String, region: Region, network: [Int], predicted: [Int])
        var exceptionIndices: [Int]?
        if case .program(let program) = surrogate.model {
            exceptionIndices = program.exceptions.compactMap { e in
                zip(e.input, task.variables).allSatisfy { $1.min...$1.max ~= $0 } ? task.index(of: e.input) : nil
            }.sorted()
        }
        if let domain = evaluated.first(where: { $0.name == "domain" }) {
            let indices = domain.network.indices.filter { domain.network[$0] != domain.predicted[$0] }
            disagreementIndices = indices
            // A program's exception table is the E of the compression formula, so the expression alone is
            // counted against the network: every input where the bare expression is wrong is an exception.
            if case .program(let program) = surrogate.model {
                exceptions =
                    (0..<domain.region.count).filter {
                        program.expression.evaluate(domain.region.input($0)) != domain.network[$0]
                    }.count
            } else {
                exceptions = indices.count
            }
            compressionBasis = "domain"
            verdictValue = Double(domain.network.count - indices.count) / Double(max(1, domain.network.count))
            basis = "agreement on all \(domain.network.count) inputs of the domain"
            listed = domain
        } else {
            let region =
                ["held_out", "untrained", "probe"].lazy.compactMap { name in regions.first { $0.region == name } }.first
                ?? regions[0]
            listed = evaluated.first { $0.name == region.region }!
            verdictValue = region.agreement.lower
            basis = "95% Wilson lower bound of the agreement on \(region.region) (\(region.agreement.trials) inputs)"
            if region.region == "probe" { basis += ", the inputs it was fitted on: optimistic" }
            // As on the domain, a program's exception table is not part of its model: count its bare expression.
            var wrong = listed.network.indices.filter { listed.network[$0] != listed.predicted[$0] }.count
            if case .program(let program) = surrogate.model {
                wrong =
                    listed.network.indices.filter {
                        program.expression.evaluate(listed.region.input($0)) != listed.network[$0]
                    }.count
            }
            exceptions = Int((Double(task.domainSize) * Double(wrong) / Double(max(1, listed.network.count))).rounded())
            compressionBasis = "estimated from \(region.region)"
        }
        var disagreementsWhereNetworkWrong: Int?
        if let truth = task.truth {
            disagreementsWhereNetworkWrong =
                listed.network.indices.filter {
                    listed.network[$0] != listed.predicted[$0] && listed.network[$0] != truth.evaluate(listed.region.input($0))
                }.count
        }
        var disagreements: [Disagreement] = []
        for i in listed.network.indices where listed.network[i] != listed.predicted[i] {
            guard disagreements.count < options.disagreementLimit else { break }
            let input = listed.region.input(i)
            disagreements.append(
                Disagreement(
                    input: input, network: listed.network[i], surrogate: listed.predicted[i], truth: task.truth?.evaluate(input)))
        }
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
            disagreementsWhereNetworkWrong: disagreementsWhereNetworkWrong, disagreements: disagreements,
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

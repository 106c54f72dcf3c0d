import WeightFiles

/// Interchange intervention accuracy on a set of base/source pairs (pyvene's semantics): the fraction of
/// pairs where the patched network's decoded output equals the surrogate's counterfactual output.
public struct InterchangeAccuracy: Sendable, Equatable, Codable {
    /// Over every pair.
    public var overall: WilsonInterval
    /// Over the pairs where the counterfactual output differs from the surrogate's output on the base:
    /// the pairs a network that ignores the patch gets wrong.
    public var changed: WilsonInterval

    /// An accuracy from its parts.
    public init(overall: WilsonInterval, changed: WilsonInterval) {
        self.overall = overall
        self.changed = changed
    }

    /// `{"overall": WILSON, "changed": WILSON}`.
    public var json: String {
        var o = JSONText()
        o.add("overall", raw: overall.json)
        o.add("changed", raw: changed.json)
        return o.text
    }
}

extension Alignment {
    /// `{"hook", "position", "class", "dimension", "parameter_count", "width", "units" | "basis"}`.
    public var json: String {
        var o = JSONText()
        o.add("hook", site.hook)
        o.add("position", site.position)
        o.add("class", className)
        o.add("dimension", dimension)
        o.add("parameter_count", parameterCount)
        o.add("width", width)
        switch map {
        case .neurons(let units): o.add("units", units)
        case .subspace(let basis):
            o.add("basis", objects: basis.map { "[" + $0.map { JSONText.number($0) }.joined(separator: ",") + "]" })
        }
        return o.text
    }
}

/// One alignment with its IIA on the fitting pairs (which chose it) and on the held-out pairs.
public struct AlignmentScore: Sendable, Codable {
    /// The alignment, its IIA on the fitting pairs and on the held-out pairs.
    public var alignment: Alignment
    public var fitting: InterchangeAccuracy
    public var heldOut: InterchangeAccuracy

    /// `{"alignment", "fitting", "held_out"}`.
    public var json: String {
        var o = JSONText()
        o.add("alignment", raw: alignment.json)
        o.add("fitting", raw: fitting.json)
        o.add("held_out", raw: heldOut.json)
        return o.text
    }
}

/// The replacement and excluded tests for one alignment, with losses as mean cross-entropy of the network's
/// output against its own clean labels (the decoded clean output), over the input set.
///
/// Replacement sets the aligned coordinates to the mean, over the inputs where the surrogate variable has
/// the same value, of those coordinates: the surrogate's value spliced in. Ablation sets them to their
/// mean over all inputs; exclusion removes them (units zeroed, or the subspace projected off).
public struct ReplacementResult: Sendable, Equatable, Codable {
    /// Loss of the clean run (`L_full`).
    public var fullLoss: Double
    /// Loss with the aligned coordinates mean-ablated (`L_ablated`), and accuracy against clean labels.
    public var ablatedLoss: Double
    public var ablatedAccuracy: Double
    /// Loss with the surrogate's values spliced in (`L_replaced`), and accuracy.
    public var replacedLoss: Double
    public var replacedAccuracy: Double
    /// `(L_ablated − L_replaced) / (L_ablated − L_full)`; `nil` when ablation does not raise the loss.
    public var recoveredFraction: Double?
    /// Loss and accuracy with the aligned coordinates removed (the excluded test).
    public var excludedLoss: Double
    public var excludedAccuracy: Double

    /// Snake-case JSON of every field.
    public var json: String {
        var o = JSONText()
        o.add("full_loss", fullLoss)
        o.add("ablated_loss", ablatedLoss)
        o.add("ablated_accuracy", ablatedAccuracy)
        o.add("replaced_loss", replacedLoss)
        o.add("replaced_accuracy", replacedAccuracy)
        o.add("recovered_fraction", recoveredFraction)
        o.add("excluded_loss", excludedLoss)
        o.add("excluded_accuracy", excludedAccuracy)
        return o.text
    }
}

/// Accuracy drops (against clean labels) from mean-ablating some units, split by whether the surrogate
/// says the variable matters on the input.
public struct AblationDrop: Sendable, Equatable, Codable {
    /// Mean drop where the variable matters (`nil`: no such input), and the number of those inputs.
    public var whereMatters: Double?
    public var mattersCount: Int
    /// Mean drop where it does not (`nil`: no such input), and the number of those inputs.
    public var whereNot: Double?
    public var notCount: Int

    /// `whereMatters − whereNot`, when both exist.
    public var specificity: Double? {
        guard let a = whereMatters, let b = whereNot else { return nil }
        return a - b
    }

    /// Snake-case JSON of every field.
    public var json: String {
        var o = JSONText()
        o.add("where_matters", whereMatters)
        o.add("matters_count", mattersCount)
        o.add("where_not", whereNot)
        o.add("not_count", notCount)
        o.add("specificity", specificity)
        return o.text
    }
}

/// Ablation specificity: the aligned units against the same number of random units at the same hook.
public struct AblationSpecificity: Sendable, Equatable, Codable {
    /// Mean-ablating the aligned coordinates.
    public var aligned: AblationDrop
    /// Mean-ablating random units (averaged over seeded draws).
    public var random: AblationDrop
    /// The number of random draws averaged.
    public var randomDraws: Int

    /// `aligned.specificity − random.specificity`, when both exist.
    public var difference: Double? {
        guard let a = aligned.specificity, let b = random.specificity else { return nil }
        return a - b
    }

    /// `{"aligned", "random", "random_draws", "difference"}`.
    public var json: String {
        var o = JSONText()
        o.add("aligned", raw: aligned.json)
        o.add("random", raw: random.json)
        o.add("random_draws", randomDraws)
        o.add("difference", difference)
        return o.text
    }
}

/// Every test of one alignment for one variable.
public struct AlignmentEvaluation: Sendable, Codable {
    /// The alignment tested.
    public var alignment: Alignment
    /// IIA on the pairs given.
    public var accuracy: InterchangeAccuracy
    /// `nil` when the decoder is not argmax (no cross-entropy).
    public var replacement: ReplacementResult?
    /// Ablation specificity against random units.
    public var specificity: AblationSpecificity

    /// `{"alignment", "iia", "replacement", "specificity"}`.
    public var json: String {
        var o = JSONText()
        o.add("alignment", raw: alignment.json)
        o.add("iia", raw: accuracy.json)
        o.add("replacement", raw: replacement?.json ?? "null")
        o.add("specificity", raw: specificity.json)
        return o.text
    }
}

/// The alignment search and tests for one surrogate variable on one network.
public struct VariableRepresentation: Sendable, Codable {
    /// The surrogate variable.
    public var variable: SurrogateVariable
    /// The values the variable takes on the input set.
    public var values: [Int]
    /// The best alignment by fitting IIA (ties: fewer parameters, lower dimension, earlier site).
    public var best: AlignmentScore
    /// The best alignment of each class (neuron, neuron_set, subspace) that was tried.
    public var bestPerClass: [AlignmentScore]
    /// The best alignment's replacement, excluded and ablation tests.
    public var evaluation: AlignmentEvaluation
    /// Sites where subspace search could not run, with the reason.
    public var unavailable: [String]
    /// The localisation map: IIA of interchanging each whole candidate site, and whether it was searched.
    public var localisation: [SiteEffect]
    /// The held-out IIA of always answering the most frequent counterfactual output.
    public var chance: Double
    /// The held-out IIA of a network that ignores the intervention (keeps its base output): the share of
    /// held-out pairs whose counterfactual output is the base output. IIA where the output changes is 0 for it.
    public var ignoringScore: Double
    /// Whether the variable's counterfactual outputs equal the output variable's (the source's output) on
    /// every fitting and held-out pair: then an alignment of it cannot be told from one of the output, and
    /// it adds no evidence of its own.
    public var indistinguishableFromOutput: Bool

    /// Snake-case JSON.
    public var json: String {
        var o = JSONText()
        o.add("variable", raw: variable.json)
        o.add("values", values)
        o.add("best", raw: best.json)
        o.add("best_per_class", objects: bestPerClass.map(\.json))
        o.add("replacement", raw: evaluation.replacement?.json ?? "null")
        o.add("specificity", raw: evaluation.specificity.json)
        o.add("subspace_unavailable", strings: unavailable)
        o.add("localisation", objects: localisation.map(\.json))
        o.add("chance", chance)
        o.add("ignoring_score", ignoringScore)
        o.add("indistinguishable_from_output", indistinguishableFromOutput)
        return o.text
    }
}

/// One cell of the localisation map: a whole site interchanged (every unit at the hook and position).
public struct SiteEffect: Sendable, Codable {
    /// The site, its IIA on the localisation pairs, and whether the alignment search ran there.
    public var site: AlignmentSite
    public var accuracy: InterchangeAccuracy
    public var searched: Bool

    /// `{"hook", "position", "iia", "searched"}`.
    public var json: String {
        var o = JSONText()
        o.add("hook", site.hook)
        o.add("position", site.position)
        o.add("iia", raw: accuracy.json)
        o.add("searched", searched)
        return o.text
    }
}

/// One network's results for every variable.
public struct NetworkRepresentation: Sendable {
    /// One result per variable, in the surrogate's order.
    public var variables: [VariableRepresentation]
    /// Variables of the surrogate left untested (`RepresentationOptions.maxVariables` or `variables`).
    public var untested = 0
    /// Whether the variables tested were named (`RepresentationOptions.variables`): the verdict is then
    /// about those variables only.
    public var named = false

    /// `{"variables": [...], "untested": n}`.
    public var json: String {
        var o = JSONText()
        o.add("variables", objects: variables.map(\.json))
        o.add("untested", untested)
        o.add("named", named)
        return o.text
    }
}

/// Whether one variable's representation is supported, with the numbers behind it.
///
/// The verdict rests on the held-out pairs where the variable changes the surrogate's output: there a
/// network that ignores the intervention scores 0, so IIA on them measures the intervention alone. Overall
/// IIA and the ignoring network's score are reported beside it.
public struct VariableVerdict: Sendable, Equatable {
    /// The variable's name, its best alignment's held-out IIA and the Wilson lower bound.
    public var name: String
    public var heldOutIIA: Double
    public var lowerBound: Double
    /// IIA on the held-out pairs where the variable changes the output, its Wilson lower bound, and how
    /// many such pairs there were.
    public var changedIIA: Double
    public var changedLowerBound: Double
    public var changedPairs: Int
    /// The held-out IIA of a network that ignores the intervention.
    public var ignoringScore: Double
    /// The control's IIA where the output changes (`nil`: no control was run, which fails the verdict).
    public var controlIIA: Double?
    /// The variable cannot be told from the output (`VariableRepresentation.indistinguishableFromOutput`).
    public var indistinguishableFromOutput: Bool
    /// Whether every threshold is met.
    public var supported: Bool
    /// Why not, one sentence per failed threshold.
    public var reasons: [String]

    /// Judges a held-out accuracy against the control's by `thresholds`.
    public init(
        name: String, heldOut: InterchangeAccuracy, control: InterchangeAccuracy?, thresholds: RepresentationThresholds,
        ignoringScore: Double = 0, indistinguishableFromOutput: Bool = false
    ) {
        self.name = name
        heldOutIIA = heldOut.overall.proportion
        lowerBound = heldOut.overall.lower
        changedIIA = heldOut.changed.proportion
        changedLowerBound = heldOut.changed.lower
        changedPairs = heldOut.changed.trials
        self.ignoringScore = ignoringScore
        self.indistinguishableFromOutput = indistinguishableFromOutput
        controlIIA = control?.changed.trials ?? 0 > 0 ? control?.changed.proportion : control?.overall.proportion
        var reasons: [String] = []
        if heldOut.changed.trials < thresholds.minimumChangedPairs {
            reasons.append(
                "only \(heldOut.changed.trials) held-out pairs where the variable changes the output "
                    + "(< \(thresholds.minimumChangedPairs))")
        } else {
            if changedIIA < thresholds.minimumIIA {
                reasons.append("IIA where the output changes \(format(changedIIA)) < \(thresholds.minimumIIA)")
            }
            if changedLowerBound < thresholds.minimumLowerBound {
                reasons.append(
                    "Wilson lower bound where the output changes \(format(changedLowerBound)) < \(thresholds.minimumLowerBound)")
            }
        }
        if let controlIIA {
            // Without a pair where the variable changes the output there is no IIA there to compare.
            if heldOut.changed.trials > 0 && changedIIA - controlIIA < thresholds.minimumMarginOverControl {
                reasons.append(
                    "margin over the random-init control \(format(changedIIA - controlIIA)) < \(thresholds.minimumMarginOverControl)")
            }
        } else {
            reasons.append("no random-init control was run")
        }
        self.reasons = reasons
        supported = reasons.isEmpty
    }

    /// `changedIIA − controlIIA`; `nil` without a control or without a held-out pair where the variable changes the
    /// output.
    public var margin: Double? { changedPairs > 0 ? controlIIA.map { changedIIA - $0 } : nil }

    /// Snake-case JSON.
    public var json: String {
        var o = JSONText()
        o.add("variable", name)
        o.add("held_out_iia", heldOutIIA)
        o.add("lower_bound", lowerBound)
        o.add("changed_iia", changedIIA)
        o.add("changed_lower_bound", changedLowerBound)
        o.add("changed_pairs", changedPairs)
        o.add("ignoring_score", ignoringScore)
        o.add("control_iia", controlIIA)
        o.add("margin", margin)
        o.add("indistinguishable_from_output", indistinguishableFromOutput)
        o.add("supported", supported)
        o.add("reasons", strings: reasons)
        return o.text
    }
}

/// Three decimals, for reasons.
private func format(_ x: Double) -> String { String((x * 1000).rounded() / 1000) }

/// The surrogate's verdict: supported when every variable's is.
public struct RepresentationVerdict: Sendable {
    /// One verdict per variable, the thresholds, and whether all are supported.
    public var variables: [VariableVerdict]
    public var thresholds: RepresentationThresholds
    /// Variables not tested: a surrogate is only supported when every variable was tested and passed —
    /// unless the variables were named, when the verdict is about those (`scope`).
    public var untested: Int
    public var named = false
    public var supported: Bool {
        !variables.isEmpty && (untested == 0 || named) && variables.allSatisfy(\.supported)
    }
    /// `nil` when every variable was tested, else "for the N variables tested" (named variables) or
    /// "N variables untested".
    public var scope: String? {
        guard untested > 0 else { return nil }
        return named ? "for the \(variables.count) variable\(variables.count == 1 ? "" : "s") tested" : "\(untested) variables untested"
    }

    /// Judges every variable of `network` against the same variable of `control`.
    public init(network: NetworkRepresentation, control: NetworkRepresentation?, thresholds: RepresentationThresholds = .standard)
    {
        self.thresholds = thresholds
        untested = network.untested
        named = network.named
        variables = network.variables.enumerated().map { i, v in
            VariableVerdict(
                name: v.variable.name, heldOut: v.best.heldOut, control: control?.variables[i].best.heldOut,
                thresholds: thresholds, ignoringScore: v.ignoringScore,
                indistinguishableFromOutput: v.indistinguishableFromOutput)
        }
    }

    /// Snake-case JSON with the thresholds.
    public var json: String {
        var o = JSONText()
        o.add("supported", supported)
        o.add("untested", untested)
        if let scope { o.add("scope", scope) } else { o.add("scope", raw: "null") }
        var t = JSONText()
        t.add("minimum_iia", thresholds.minimumIIA)
        t.add("minimum_lower_bound", thresholds.minimumLowerBound)
        t.add("minimum_margin_over_control", thresholds.minimumMarginOverControl)
        t.add("minimum_changed_pairs", thresholds.minimumChangedPairs)
        o.add("thresholds", raw: t.text)
        o.add("variables", objects: variables.map(\.json))
        return o.text
    }
}

/// Everything the representation tests found: the network, its random-init control, and the verdict.
public struct RepresentationResult: Sendable {
    /// Results on the network, on its random-init control (when run), and the verdict.
    public var network: NetworkRepresentation
    public var control: NetworkRepresentation?
    public var verdict: RepresentationVerdict

    /// `{"network", "control", "verdict"}`.
    public var json: String {
        var o = JSONText()
        o.add("network", raw: network.json)
        o.add("control", raw: control?.json ?? "null")
        o.add("verdict", raw: verdict.json)
        return o.text
    }
}

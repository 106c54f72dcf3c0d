import WeightFiles

/// Which inputs a prompt task's representation tests used, and why the others were left out.
public struct PromptInputSelection: Sendable {
    /// Inputs given (the probe region).
    public var given: Int
    /// The prompt length in tokens every pair shares (the most common one), and how many inputs have it.
    public var tokenLength: Int
    public var sameLength: Int
    /// The other lengths and how many inputs have each (left out: their positions would not line up).
    public var otherLengths: [(length: Int, count: Int)]
    /// Tokens every prompt starts with (the few-shot prefix): run once, never patched.
    public var sharedPrefix: Int
    /// Inputs of that length run clean while choosing, those where the network's answer is the surrogate's,
    /// and those used.
    public var scanned: Int
    public var agreeing: Int
    public var used: Int
    /// Whether only agreeing inputs were used (`RepresentationOptions.onlyAgreeingInputs`).
    public var onlyAgreeing: Bool

    /// Snake-case JSON.
    public var json: String {
        var o = JSONText()
        o.add("given", given)
        o.add("token_length", tokenLength)
        o.add("same_length", sameLength)
        o.add("other_lengths", objects: otherLengths.map { "{\"length\":\($0.length),\"count\":\($0.count)}" })
        o.add("shared_prefix", sharedPrefix)
        o.add("scanned", scanned)
        o.add("agreeing", agreeing)
        o.add("used", used)
        o.add("only_agreeing", onlyAgreeing)
        return o.text
    }
}

/// A prompt position after the shared prefix, counted from the prompt's end (−1 = the last prompt token).
public struct PromptPosition: Sendable, Equatable, Codable {
    /// The offset from the end, and what sits there: a token's quoted text when it is the same in every prompt,
    /// `a[0]` for the first token that depends on variable a alone, else `varies`.
    public var offset: Int
    public var label: String

    /// `{"offset", "label"}`.
    public var json: String {
        var o = JSONText()
        o.add("offset", offset)
        o.add("label", label)
        return o.text
    }
}

/// A class-mean subspace (`ClassMeanSubspace`) interchanged at a site, beside a random subspace of the same dimension.
public struct ProbeSubspaceScore: Sendable, Codable {
    /// The subspace's dimension and its held-out IIA; the random subspace's held-out IIA.
    public var dimension: Int
    public var accuracy: InterchangeAccuracy
    public var randomAccuracy: InterchangeAccuracy
    /// The random-init control's held-out IIA with its own class-mean subspace of this dimension at the site
    /// (`nil`: no control was run, or its class means span fewer directions).
    public var controlAccuracy: InterchangeAccuracy?

    /// `{"method": "class_mean", "dimension", "iia", "random_iia", "control_iia"}`.
    public var json: String {
        var o = JSONText()
        o.add("method", "class_mean")
        o.add("dimension", dimension)
        o.add("iia", raw: accuracy.json)
        o.add("random_iia", raw: randomAccuracy.json)
        o.add("control_iia", raw: controlAccuracy?.json ?? "null")
        return o.text
    }
}

/// A subspace trained by distributed alignment search at a site (`PromptSubspaceTrainer`): gradient descent through
/// the language model on the first answer token's cross-entropy, scored like the others by patched generation.
public struct PromptDASScore: Sendable, Codable {
    /// The subspace's dimension and its held-out IIA (real patched runs read with the task's decoder).
    public var dimension: Int
    public var accuracy: InterchangeAccuracy
    /// Fitting pairs trained on (those whose counterfactual answer has a known first token), Adam steps taken, the
    /// validation share's accuracy on the first answer token (nil without a validation split), and the fit's seconds.
    public var trainingPairs: Int
    public var steps: Int
    public var validationAccuracy: Double?
    public var seconds: Double
    /// The random-init control's held-out IIA with a DAS subspace of this dimension trained on it the same way
    /// (`nil`: no control was run, or it had no pairs to train on).
    public var controlAccuracy: InterchangeAccuracy?

    /// `{"method": "das", "objective": "first_answer_token", "dimension", "iia", "training_pairs", "steps",
    /// "validation_token_accuracy", "seconds", "control_iia"}`.
    public var json: String {
        var o = JSONText()
        o.add("method", "das")
        o.add("objective", "first_answer_token")
        o.add("dimension", dimension)
        o.add("iia", raw: accuracy.json)
        o.add("training_pairs", trainingPairs)
        o.add("steps", steps)
        o.add("validation_token_accuracy", validationAccuracy)
        o.add("seconds", seconds)
        o.add("control_iia", raw: controlAccuracy?.json ?? "null")
        return o.text
    }
}

/// One of a variable's best sites: the whole site and its subspaces interchanged on the held-out pairs.
public struct PromptSiteResult: Sendable, Codable {
    public var site: AlignmentSite
    public var wholeSite: InterchangeAccuracy
    /// Class-mean subspaces (not DAS), each beside a random one.
    public var subspaces: [ProbeSubspaceScore]
    /// DAS subspaces of the same dimensions (empty when the network has no reverse mode or the hook is not covered).
    public var das: [PromptDASScore] = []
    /// The random-init control's whole-site IIA at the same site on the same pairs (`nil`: no control was run).
    public var controlWholeSite: InterchangeAccuracy?

    /// `{"hook", "position", "whole_site_iia", "control_whole_site_iia", "subspaces", "das"}`.
    public var json: String {
        var o = JSONText()
        o.add("hook", site.hook)
        o.add("position", site.position)
        o.add("whole_site_iia", raw: wholeSite.json)
        o.add("control_whole_site_iia", raw: controlWholeSite?.json ?? "null")
        o.add("subspaces", objects: subspaces.map(\.json))
        o.add("das", objects: das.map(\.json))
        return o.text
    }
}

/// One variable's localisation map and its best sites.
public struct PromptVariableResult: Sendable, Codable {
    public var variable: SurrogateVariable
    /// The values it takes on the inputs used.
    public var values: [Int]
    /// Every candidate site interchanged whole on the localisation pairs (`searched` = one of the best).
    public var localisation: [SiteEffect]
    /// The share of localisation and of held-out pairs whose counterfactual output is the base output: the IIA
    /// of a network that ignores the patch.
    public var ignoringScore: Double
    public var heldOutIgnoringScore: Double
    /// The best sites, best first.
    public var top: [PromptSiteResult]
    /// The counterfactuals equal the output variable's on every pair (`VariableRepresentation`).
    public var indistinguishableFromOutput: Bool

    /// Snake-case JSON.
    public var json: String {
        var o = JSONText()
        o.add("variable", raw: variable.json)
        o.add("values", values)
        o.add("ignoring_score", ignoringScore)
        o.add("held_out_ignoring_score", heldOutIgnoringScore)
        o.add("indistinguishable_from_output", indistinguishableFromOutput)
        if let best = bestAlignment { o.add("best_alignment", best.name) } else { o.add("best_alignment", raw: "null") }
        o.add("top_sites", objects: top.map(\.json))
        o.add("localisation", objects: localisation.map(\.json))
        return o.text
    }
}

/// The representation tests of one surrogate on a prompt task (`PromptRepresentationTests`).
public struct PromptRepresentationResult: Sendable, Codable {
    public var inputs: PromptInputSelection
    /// The positions the sites may name, with labels.
    public var positions: [PromptPosition]
    public var localisationPairs: Int
    public var heldOutPairs: Int
    public var variables: [PromptVariableResult]
    /// Surrogate variables not tested (`--variables`, `--max-variables`), and whether the tested ones were
    /// named (`RepresentationOptions.variables`: the verdict is then about them).
    public var untested: Int
    public var named = false
    /// Language-model runs (clean and patched) and the seconds of each stage.
    public var patchedRuns: Int
    public var cleanSeconds: Double
    public var localisationSeconds: Double
    public var subspaceSeconds: Double
    /// The random-init control's runs (clean and patched) and seconds (building it included); `nil` seconds:
    /// no control was run.
    public var controlRuns = 0
    public var controlSeconds: Double?

    /// The verdict by the standard thresholds (`verdict(thresholds:)`).
    public var verdict: RepresentationVerdict { verdict(thresholds: .standard) }

    /// Every variable judged by `thresholds` (`PromptVariableResult.verdict(thresholds:)`); the surrogate is
    /// supported when every variable is, and every variable was tested or the tested ones were named.
    public func verdict(thresholds: RepresentationThresholds) -> RepresentationVerdict {
        RepresentationVerdict(
            variables: variables.map { $0.verdict(thresholds: thresholds) }, untested: untested, named: named,
            thresholds: thresholds)
    }

    /// The label of a position offset (`"="`, `a[1]`), or the offset itself.
    public func label(_ offset: Int?) -> String {
        guard let offset else { return "-" }
        return positions.first { $0.offset == offset }?.label ?? String(offset)
    }

    /// Snake-case JSON (formats/report.md, "Prompt tasks").
    public var json: String {
        var o = JSONText()
        o.add("kind", "prompt")
        o.add("subspace_method", "class_mean")
        o.add("inputs", raw: inputs.json)
        o.add("positions", objects: positions.map(\.json))
        o.add("localisation_pairs", localisationPairs)
        o.add("held_out_pairs", heldOutPairs)
        o.add("variables", objects: variables.map(\.json))
        o.add("untested", untested)
        o.add("named", named)
        o.add("runs", patchedRuns)
        o.add("clean_seconds", cleanSeconds)
        o.add("localisation_seconds", localisationSeconds)
        o.add("subspace_seconds", subspaceSeconds)
        o.add("control_runs", controlRuns)
        o.add("control_seconds", controlSeconds)
        o.add("verdict", raw: verdict.json)
        return o.text
    }
}

extension PromptInputSelection: Codable {
    private enum CodingKeys: String, CodingKey {
        case given, tokenLength, sameLength, otherLengths, sharedPrefix, scanned, agreeing, used, onlyAgreeing
    }

    /// A length and its count (a tuple is not `Codable`).
    private struct LengthCount: Codable {
        var length: Int
        var count: Int
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            given: try c.decode(Int.self, forKey: .given), tokenLength: try c.decode(Int.self, forKey: .tokenLength),
            sameLength: try c.decode(Int.self, forKey: .sameLength),
            otherLengths: try c.decode([LengthCount].self, forKey: .otherLengths).map { ($0.length, $0.count) },
            sharedPrefix: try c.decode(Int.self, forKey: .sharedPrefix), scanned: try c.decode(Int.self, forKey: .scanned),
            agreeing: try c.decode(Int.self, forKey: .agreeing), used: try c.decode(Int.self, forKey: .used),
            onlyAgreeing: try c.decode(Bool.self, forKey: .onlyAgreeing))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(given, forKey: .given)
        try c.encode(tokenLength, forKey: .tokenLength)
        try c.encode(sameLength, forKey: .sameLength)
        try c.encode(otherLengths.map { LengthCount(length: $0.length, count: $0.count) }, forKey: .otherLengths)
        try c.encode(sharedPrefix, forKey: .sharedPrefix)
        try c.encode(scanned, forKey: .scanned)
        try c.encode(agreeing, forKey: .agreeing)
        try c.encode(used, forKey: .used)
        try c.encode(onlyAgreeing, forKey: .onlyAgreeing)
    }
}

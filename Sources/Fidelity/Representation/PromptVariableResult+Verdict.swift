/// One alignment measured on a prompt task's held-out pairs, with the random-init control's score for the
/// same alignment (the same site, method and dimension) on the same pairs.
public struct PromptAlignmentScore: Sendable {
    /// `whole_site L12 resid_post@-1`, `class_mean(2) blocks.12.hook_resid_post@-1`.
    public var name: String
    public var accuracy: InterchangeAccuracy
    /// `nil`: no control was run, or the control has no such alignment.
    public var control: InterchangeAccuracy?
}

extension PromptVariableResult {
    /// Every alignment measured on the held-out pairs: at each best site the whole site, each class-mean subspace
    /// and each DAS subspace (random subspaces are a baseline, not an alignment). A further method adds its scores here.
    public var measuredAlignments: [PromptAlignmentScore] {
        var list: [PromptAlignmentScore] = []
        for t in top {
            list.append(PromptAlignmentScore(name: "whole_site \(t.site.text)", accuracy: t.wholeSite, control: t.controlWholeSite))
            for p in t.subspaces {
                list.append(
                    PromptAlignmentScore(
                        name: "class_mean(\(p.dimension)) \(t.site.text)", accuracy: p.accuracy, control: p.controlAccuracy))
            }
            for p in t.das {
                list.append(PromptAlignmentScore(name: "das(\(p.dimension)) \(t.site.text)", accuracy: p.accuracy, control: p.controlAccuracy))
            }
        }
        return list
    }

    /// The best of `scores`: most hits where the variable changes the output, then overall; the first on ties.
    /// - Complexity: O(scores)
    static func best(_ scores: [InterchangeAccuracy]) -> Int? {
        var best: Int?
        for (i, a) in scores.enumerated() {
            guard let b = best.map({ scores[$0] }) else {
                best = i
                continue
            }
            if (a.changed.successes, a.overall.successes) > (b.changed.successes, b.overall.successes) { best = i }
        }
        return best
    }

    /// The measured alignment the verdict rests on (`verdict(thresholds:)`); `nil` when none was measured.
    public var bestAlignment: PromptAlignmentScore? {
        let all = measuredAlignments
        return Self.best(all.map(\.accuracy)).map { all[$0] }
    }

    /// The variable judged by `thresholds` as on networks (`VariableVerdict`): the best measured alignment
    /// (`bestAlignment`, chosen on the held-out pairs) against the control's best over the same alignments on
    /// the same pairs — the same choice made on both, so the choice's optimism is the control's too. Without
    /// control scores the verdict fails ("no random-init control was run").
    public func verdict(thresholds: RepresentationThresholds) -> VariableVerdict {
        let all = measuredAlignments
        let controls = all.compactMap(\.control)
        let control = controls.isEmpty ? nil : Self.best(controls).map { controls[$0] }
        guard let best = bestAlignment else {
            let none = InterchangeAccuracy(
                overall: WilsonInterval(successes: 0, trials: 0), changed: WilsonInterval(successes: 0, trials: 0))
            return VariableVerdict(
                name: variable.name, heldOut: none, control: nil, thresholds: thresholds,
                ignoringScore: heldOutIgnoringScore, indistinguishableFromOutput: indistinguishableFromOutput)
        }
        return VariableVerdict(
            name: variable.name, heldOut: best.accuracy, control: control, thresholds: thresholds,
            ignoringScore: heldOutIgnoringScore, indistinguishableFromOutput: indistinguishableFromOutput)
    }
}

extension RepresentationVerdict {
    /// A verdict from variables already judged (the prompt-task tests').
    public init(variables: [VariableVerdict], untested: Int, named: Bool, thresholds: RepresentationThresholds) {
        self.variables = variables
        self.untested = untested
        self.named = named
        self.thresholds = thresholds
    }
}

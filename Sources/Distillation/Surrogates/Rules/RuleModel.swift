import WeightFiles

/// What rule lists and rule sets share: rules over typed features, a default, the classes seen in fitting,
/// their description length and their JSON body. They differ in how the rules decide (first match or
/// most precise match) and in their text form.
public protocol RuleModel: Sendable, Equatable {
    var rules: [Rule] { get }
    var defaultOutput: Int { get }
    var featureKinds: [FeatureKind] { get }
    var classes: [Int] { get }
    init(rules: [Rule], defaultOutput: Int, featureKinds: [FeatureKind], classes: [Int])
    /// Whether the family's rules may carry exceptions (`Rule.exceptions`).
    static var carriesExceptions: Bool { get }
}

extension RuleModel {
    /// Description length in bits (`formats/surrogate.md`, rule list / rule set): `natural(ruleCount)`; per rule
    /// `natural(conditionCount − 1)` (`Rule.conditionCountBits`), per condition `Condition.bits` (feature,
    /// comparison, threshold), and `choice(outputCount)` for its output;
    /// plus `choice(outputCount)` for the default; and, in a family whose rules may carry exceptions,
    /// `exceptionBits`. `outputCount` is |Y|; `nil` takes the classes seen in fitting.
    /// - Complexity: O(total conditions)
    public func descriptionLength(outputCount: Int? = nil) -> Double {
        let outputs = outputCount ?? classes.count
        return DescriptionLength.natural(rules.count)
            + rules.reduce(0) { $0 + $1.bits(featureKinds: featureKinds, outputCount: outputs) }
            + DescriptionLength.choice(outputs)
            + (Self.carriesExceptions ? Self.exceptionBits(rules, featureKinds: featureKinds, outputCount: outputs) : 0)
    }

    /// Bits of the exceptions of `rules`: none when no rule has any (a list without exceptions is coded as it
    /// always was: like the choice of family, whether a list has exceptions is not coded); otherwise
    /// `markingBits` for which rules have them, and per such rule `natural(count − 1)` for how many and each
    /// exception's `Rule.bits`.
    /// - Complexity: O(conditions of the exceptions)
    public static func exceptionBits(_ rules: [Rule], featureKinds: [FeatureKind], outputCount: Int) -> Double {
        let carrying = rules.filter { !$0.exceptions.isEmpty }
        return markingBits(rules: rules.count, carrying: carrying.count)
            + carrying.reduce(0) { total, rule in
                total + DescriptionLength.natural(rule.exceptions.count - 1)
                    + rule.exceptions.reduce(0) { $0 + $1.bits(featureKinds: featureKinds, outputCount: outputCount) }
            }
    }

    /// Bits naming which `carrying` of `rules` rules have exceptions: 0 when none, else `natural(carrying − 1)`
    /// for how many and `subset(of: rules, choosing: carrying)` for which.
    /// - Complexity: O(1)
    public static func markingBits(rules: Int, carrying: Int) -> Double {
        carrying == 0 ? 0 : DescriptionLength.natural(carrying - 1) + DescriptionLength.subset(of: rules, choosing: carrying)
    }

    /// The JSON body: `{"feature_kinds": […], "classes": […], "rules": [{"conditions": [{"feature": i, "op": "<=",
    /// "threshold": t}, …], "output": y, "precision": p, "coverage": n}, …], "default": y}`; a rule with exceptions
    /// adds `"except": [rule, …]`.
    /// - Complexity: O(total conditions + features)
    public func jsonBody() -> String {
        "{" + SurrogateBodyWriter.header(featureKinds: featureKinds, classes: classes) + ",\"rules\":["
            + rules.map { $0.json() }.joined(separator: ",") + "],\"default\":\(defaultOutput)}"
    }

    /// Reads the body `jsonBody()` writes.
    /// - Throws: `SurrogateFormatError` naming the member at fault.
    /// - Complexity: O(total conditions + features)
    public init(jsonBody: JSONValue) throws(SurrogateFormatError) {
        let body = try SurrogateBodyReader(jsonBody, path: "")
        let kinds = try body.featureKinds()
        var rules: [Rule] = []
        for (i, item) in try body.array("rules").enumerated() {
            rules.append(
                try Rule(
                    json: item, path: "rules[\(i)]", featureKinds: kinds,
                    exceptions: Self.carriesExceptions ? .nested : .refused("a rule set's rules carry no exceptions")))
        }
        self.init(rules: rules, defaultOutput: try body.integer("default"), featureKinds: kinds, classes: try body.classes())
    }
}

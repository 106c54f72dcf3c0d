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
}

extension RuleModel {
    /// Description length in bits (`formats/surrogate.md`, rule list / rule set): `natural(ruleCount)`; per rule
    /// `natural(conditionCount − 1)` (`Rule.conditionCountBits`), per condition `Condition.bits` (feature,
    /// comparison, threshold), and `choice(outputCount)` for its output;
    /// plus `choice(outputCount)` for the default. `outputCount` is |Y|; `nil` takes the classes seen in fitting.
    /// - Complexity: O(total conditions)
    public func descriptionLength(outputCount: Int? = nil) -> Double {
        let outputs = outputCount ?? classes.count
        return DescriptionLength.natural(rules.count)
            + rules.reduce(0) { $0 + $1.bits(featureKinds: featureKinds, outputCount: outputs) }
            + DescriptionLength.choice(outputs)
    }

    /// The JSON body: `{"feature_kinds": […], "classes": […], "rules": [{"conditions": [{"feature": i, "op": "<=",
    /// "threshold": t}, …], "output": y, "precision": p, "coverage": n}, …], "default": y}`.
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
            rules.append(try Rule(json: item, path: "rules[\(i)]", featureKinds: kinds))
        }
        self.init(rules: rules, defaultOutput: try body.integer("default"), featureKinds: kinds, classes: try body.classes())
    }
}

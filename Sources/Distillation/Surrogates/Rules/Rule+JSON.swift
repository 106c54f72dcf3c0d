import WeightFiles

extension Rule {
    /// `{"conditions": [{"feature": i, "op": "<=", "threshold": t}, …], "output": y, "precision": p, "coverage": n}`,
    /// with `"except": [rule, …]` (rules of the same form without `"except"`) when the rule has exceptions.
    func json() -> String {
        let tests = conditions.map {
            "{\"feature\":\($0.feature),\"op\":\(JSONWriter.quoted($0.comparison.rawValue)),"
                + "\"threshold\":\(SurrogateBodyWriter.number($0.threshold))}"
        }
        return "{\"conditions\":[\(tests.joined(separator: ","))],\"output\":\(output),"
            + "\"precision\":\(SurrogateBodyWriter.number(precision)),\"coverage\":\(coverage)"
            + (exceptions.isEmpty ? "" : ",\"except\":[\(exceptions.map { $0.json() }.joined(separator: ","))]") + "}"
    }

    /// Reads `json()` at JSON path `path`; features must index `featureKinds`, and `=` tests integer features.
    /// `exceptions` says whether `"except"` may appear: `.nested` (a rule list's rule: rules without `"except"`),
    /// or not, for the reason given (an exception's, a rule set's rule).
    init(json: JSONValue, path: String, featureKinds: [FeatureKind], exceptions: ExceptionsAllowed)
        throws(SurrogateFormatError)
    {
        let featureCount = featureKinds.count
        let body = try SurrogateBodyReader(json, path: path)
        var conditions: [Condition] = []
        for (i, item) in try body.array("conditions").enumerated() {
            let test = try SurrogateBodyReader(item, path: "\(body.subpath("conditions"))[\(i)]")
            let op = try test.string("op")
            guard let comparison = Condition.Comparison(rawValue: op) else {
                throw .unexpected(path: test.subpath("op"), expected: "\"<=\", \">\" or \"=\"", found: "\"\(op)\"")
            }
            let feature = try test.integer("feature", in: 0...max(featureCount - 1, 0))
            if featureCount == 0 { throw .unexpected(path: test.subpath("feature"), expected: "no feature", found: "one") }
            if comparison == .equal && featureKinds[feature] != .integer {
                throw .unexpected(
                    path: test.subpath("op"), expected: "\"<=\" or \">\" on a \(featureKinds[feature].rawValue) feature",
                    found: "\"=\"")
            }
            conditions.append(Condition(feature: feature, comparison, try test.real("threshold")))
        }
        if conditions.isEmpty {
            throw .unexpected(
                path: body.subpath("conditions"), expected: "at least one condition (the default covers the rest)", found: "none")
        }
        let precision = try body.real("precision")
        guard (0...1).contains(precision) else {
            throw .unexpected(path: body.subpath("precision"), expected: "a fraction in 0...1", found: "\(precision)")
        }
        var nested: [Rule] = []
        if body.has("except") {
            switch exceptions {
            case .refused(let reason):
                throw .unexpected(path: body.subpath("except"), expected: "no \"except\" (\(reason))", found: "\"except\"")
            case .nested:
                let items = try body.array("except")
                if items.isEmpty {
                    throw .unexpected(path: body.subpath("except"), expected: "at least one exception (or no \"except\")", found: "[]")
                }
                for (i, item) in items.enumerated() {
                    nested.append(
                        try Rule(
                            json: item, path: "\(body.subpath("except"))[\(i)]", featureKinds: featureKinds,
                            exceptions: .refused("exceptions are one level deep")))
                }
            }
        }
        self.init(
            conditions: conditions, output: try body.integer("output"), precision: precision,
            coverage: try body.integer("coverage", in: 0...Int.max), exceptions: nested)
    }

    /// Whether a rule read from JSON may carry `"except"`.
    enum ExceptionsAllowed {
        /// Exceptions without exceptions of their own.
        case nested
        /// None, for this reason.
        case refused(String)
    }
}

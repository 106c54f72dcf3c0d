/// An if-then rule: when every condition holds, predict `output` — unless one of its `exceptions` holds too
/// (tried in order; the first that holds gives its own output). `precision` and `coverage` are measured on the
/// training examples the rule was judged on (for a rule list, those that reach it; an exception's, those of
/// its rule's that reach it).
///
/// Exceptions are one level deep (an exception has none of its own), as in Gaines and Compton's ripple-down
/// rules: `IF a+b = 98 THEN 98 EXCEPT IF a <= 2 THEN 97` names the inputs its rule gets wrong inside the
/// rule's own coverage, without spelling the rule's conditions again.
public struct Rule: Sendable, Equatable {
    public var conditions: [Condition]
    public var output: Int
    /// Sub-rules tested only where `conditions` hold; empty for most rules.
    public var exceptions: [Rule]
    /// The fraction of covered training examples whose label is `output`.
    public var precision: Double
    /// The number of training examples covered.
    public var coverage: Int

    /// A rule from its parts.
    /// - Complexity: O(1)
    public init(conditions: [Condition], output: Int, precision: Double, coverage: Int, exceptions: [Rule] = []) {
        self.conditions = conditions
        self.output = output
        self.exceptions = exceptions
        self.precision = precision
        self.coverage = coverage
    }

    /// Whether every condition holds for `row`.
    /// - Complexity: O(conditions)
    public func matches(_ row: [Double]) -> Bool {
        conditions.allSatisfy { $0.holds(row[$0.feature]) }
    }

    /// Whether every condition holds for example `i` of `columns`.
    func matches(columns: [[Double]], example i: Int) -> Bool {
        conditions.allSatisfy { $0.holds(columns[$0.feature][i]) }
    }

    /// The members of `candidates` (examples of `columns`, in order) for which every condition holds, in order:
    /// a condition at a time, each over what the ones before it kept.
    /// - Complexity: O(|candidates| · conditions)
    func matching(_ candidates: [Int32], columns: [[Double]]) -> [Int32] {
        var kept = candidates
        for condition in conditions where !kept.isEmpty {
            let t = condition.threshold
            kept = columns[condition.feature].withUnsafeBufferPointer { v in
                switch condition.comparison {
                case .lessOrEqual: kept.filter { v[Int($0)] <= t }
                case .greater: kept.filter { v[Int($0)] > t }
                case .equal: kept.filter { v[Int($0)] == t }
                }
            }
        }
        return kept
    }

    /// The output for a `row` the rule matches: the first exception's that holds, else `output`.
    /// - Complexity: O(conditions of the exceptions)
    public func answer(_ row: [Double]) -> Int {
        exceptions.first { $0.matches(row) }?.output ?? output
    }

    /// `answer` for example `i` of `columns`.
    func answer(columns: [[Double]], example i: Int) -> Int {
        exceptions.first { $0.matches(columns: columns, example: i) }?.output ?? output
    }

    /// Bits: `conditionCountBits` + each condition's bits + `choice(outputCount)` for the output (its exceptions
    /// are coded by the model, `RuleModel.descriptionLength`).
    /// - Complexity: O(conditions)
    public func bits(featureKinds: [FeatureKind], outputCount: Int) -> Double {
        Self.conditionCountBits(conditions.count) + conditions.reduce(0) { $0 + $1.bits(featureKinds: featureKinds) }
            + DescriptionLength.choice(outputCount)
    }

    /// Bits of a rule's condition count k ≥ 1: `natural(k − 1)` (a rule without conditions would make the
    /// default or every later rule pointless, so none is coded; one condition costs 1 bit, two or three 3).
    /// - Complexity: O(1)
    public static func conditionCountBits(_ count: Int) -> Double {
        DescriptionLength.natural(max(count - 1, 0))
    }

    /// `IF a <= 49 AND b > 3 THEN 7` (`IF TRUE THEN 7` without conditions), then ` EXCEPT IF … THEN y` for each
    /// exception.
    /// - Complexity: O(conditions)
    public func text(featureNames: [String], featureKinds: [FeatureKind]) -> String {
        let tests = conditions.map { $0.text(featureNames: featureNames, featureKinds: featureKinds) }
        return "IF \(tests.isEmpty ? "TRUE" : tests.joined(separator: " AND ")) THEN \(output)"
            + exceptions.map { " EXCEPT " + $0.text(featureNames: featureNames, featureKinds: featureKinds) }.joined()
    }
}

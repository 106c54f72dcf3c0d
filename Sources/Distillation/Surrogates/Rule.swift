/// An if-then rule: when every condition holds, predict `output`. `precision` and `coverage` are measured
/// on the training examples the rule was judged on (for a rule list, those that reach it).
public struct Rule: Sendable, Equatable {
    public var conditions: [Condition]
    public var output: Int
    /// The fraction of covered training examples whose label is `output`.
    public var precision: Double
    /// The number of training examples covered.
    public var coverage: Int

    /// A rule from its parts.
    /// - Complexity: O(1)
    public init(conditions: [Condition], output: Int, precision: Double, coverage: Int) {
        self.conditions = conditions
        self.output = output
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

    /// Bits: `conditionCountBits` + each condition's bits + `choice(outputCount)` for the output.
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

    /// `IF a <= 49 AND b > 3 THEN 7` (`IF TRUE THEN 7` without conditions).
    /// - Complexity: O(conditions)
    public func text(featureNames: [String], featureKinds: [FeatureKind]) -> String {
        let tests = conditions.map { $0.text(featureNames: featureNames, featureKinds: featureKinds) }
        return "IF \(tests.isEmpty ? "TRUE" : tests.joined(separator: " AND ")) THEN \(output)"
    }
}

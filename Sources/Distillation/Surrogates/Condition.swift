/// One test of a rule: `x[feature] <= threshold`, `x[feature] > threshold`, or (on an integer feature)
/// `x[feature] = threshold`. `<=` and `>` thresholds sit at midpoints between consecutive distinct training
/// values (on a 0/1 feature: `x = 0` / `x = 1`); an `=` threshold is a training value.
public struct Condition: Sendable, Hashable {
    /// Which values the test accepts.
    public enum Comparison: String, Sendable, Hashable {
        case lessOrEqual = "<="
        case greater = ">"
        /// Only on integer features: `a + b = 57`.
        case equal = "="
    }

    public var feature: Int
    public var comparison: Comparison
    public var threshold: Double

    /// `x[feature] <= threshold`, `x[feature] > threshold` or `x[feature] = threshold`.
    /// - Complexity: O(1)
    public init(feature: Int, _ comparison: Comparison, _ threshold: Double) {
        self.feature = feature
        self.comparison = comparison
        self.threshold = threshold
    }

    /// Whether a feature value passes the test.
    /// - Complexity: O(1)
    @inline(__always)
    public func holds(_ value: Double) -> Bool {
        switch comparison {
        case .lessOrEqual: value <= threshold
        case .greater: value > threshold
        case .equal: value == threshold
        }
    }

    /// Bits of the comparison on a feature of `kind`: `log₂ 3` on an integer feature (`<=`, `>`, `=`), 1 on
    /// binary and real features (`<=`, `>`).
    /// - Complexity: O(1)
    public static func comparisonBits(_ kind: FeatureKind) -> Double {
        kind == .integer ? DescriptionLength.choice(3) : 1
    }

    /// Bits: `DescriptionLength.choice(featureCount)` for the feature, `comparisonBits` for the comparison, and
    /// the threshold's bits for the feature's kind (`FeatureKind.thresholdBits`).
    /// - Complexity: O(1)
    public func bits(featureKinds: [FeatureKind]) -> Double {
        let kind = featureKinds[feature]
        return DescriptionLength.choice(featureKinds.count) + Self.comparisonBits(kind) + kind.thresholdBits(threshold)
    }

    /// `a <= 49`, `b > 3`, `a+b = 57`, `bit2 = 1` (`FeatureKind.comparison`); features without a name print as `x3`.
    /// - Complexity: O(1)
    public func text(featureNames: [String], featureKinds: [FeatureKind]) -> String {
        let name = featureNames.indices.contains(feature) ? featureNames[feature] : "x\(feature)"
        if comparison == .equal {
            let exact = threshold.isFinite && abs(threshold) < 9e15 && threshold == threshold.rounded()
            return exact ? "\(name) = \(Int(threshold))" : "\(name) = \(threshold)"
        }
        return featureKinds[feature].comparison(name, threshold: threshold, greater: comparison == .greater)
    }
}

/// One threshold test of a rule: `x[feature] <= threshold` or `x[feature] > threshold`, with the threshold
/// at a midpoint between consecutive distinct training values (on a 0/1 feature: `x = 0` / `x = 1`).
public struct Condition: Sendable, Hashable {
    /// Which side of the threshold the test accepts.
    public enum Comparison: String, Sendable, Hashable {
        case lessOrEqual = "<="
        case greater = ">"
    }

    public var feature: Int
    public var comparison: Comparison
    public var threshold: Double

    /// `x[feature] <= threshold` or `x[feature] > threshold`.
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
        comparison == .lessOrEqual ? value <= threshold : value > threshold
    }

    /// Bits: `DescriptionLength.choice(featureCount)` for the feature, 1 for the comparison, and the threshold's
    /// bits for the feature's kind (`FeatureKind.thresholdBits`).
    /// - Complexity: O(1)
    public func bits(featureKinds: [FeatureKind]) -> Double {
        DescriptionLength.choice(featureKinds.count) + 1 + featureKinds[feature].thresholdBits(threshold)
    }

    /// `a <= 49`, `b > 3`, `bit2 = 1` (`FeatureKind.comparison`); features without a name print as `x3`.
    /// - Complexity: O(1)
    public func text(featureNames: [String], featureKinds: [FeatureKind]) -> String {
        let name = featureNames.indices.contains(feature) ? featureNames[feature] : "x\(feature)"
        return featureKinds[feature].comparison(name, threshold: threshold, greater: comparison == .greater)
    }
}

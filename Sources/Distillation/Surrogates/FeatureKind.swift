/// How a feature's values read in a threshold test: it decides the threshold's code length and how
/// `x <= t` prints (`a <= 49`, `bit3 = 0`, `h[17] <= 0.25`).
public enum FeatureKind: String, Sendable, Equatable, CaseIterable {
    /// Only the values 0 and 1: `x <= 0.5` reads `x = 0`, `x > 0.5` reads `x = 1`.
    case binary
    /// Only integers: `x <= 49.5` reads `x <= 49` (x ≤ t ⟺ x ≤ ⌊t⌋ for integer x).
    case integer
    /// Anything else; thresholds print in full.
    case real

    /// The kind of every column of `table`: integer columns whose values are all 0 or 1 are binary.
    /// - Complexity: O(rows × features)
    public static func of(_ table: FeatureTable) -> [FeatureKind] {
        table.columns.indices.map { f in
            guard table.isInteger[f] else { return .real }
            return table.columns[f].allSatisfy { $0 == 0 || $0 == 1 } ? .binary : .integer
        }
    }

    /// The kind of a column from its distinct values: binary when they are within {0, 1}.
    /// - Complexity: O(distinct values)
    static func of(isInteger: Bool, distinctValues: [Double]) -> FeatureKind {
        guard isInteger else { return .real }
        return distinctValues.allSatisfy { $0 == 0 || $0 == 1 } ? .binary : .integer
    }

    /// Whether thresholds on this kind are coded as integers.
    public var isIntegral: Bool { self != .real }

    /// Bits of a threshold `t`: `DescriptionLength.integer(⌊t⌋)` for binary and integer features,
    /// `DescriptionLength.float` (32) otherwise.
    /// - Complexity: O(1)
    public func thresholdBits(_ t: Double) -> Double {
        guard isIntegral, t.isFinite, abs(t) < 9e15 else { return DescriptionLength.float }
        return DescriptionLength.integer(Int(t.rounded(.down)))
    }

    /// `name <= t` (or `name > t` when `greater`) as it reads for this kind.
    /// - Complexity: O(1)
    public func comparison(_ name: String, threshold t: Double, greater: Bool) -> String {
        switch self {
        case .binary where t >= 0 && t < 1:
            return "\(name) = \(greater ? 1 : 0)"
        case .binary, .integer:
            guard t.isFinite, abs(t) < 9e15 else { fallthrough }
            return "\(name) \(greater ? ">" : "<=") \(Int(t.rounded(.down)))"
        case .real:
            return "\(name) \(greater ? ">" : "<=") \(t)"
        }
    }
}

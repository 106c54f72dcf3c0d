/// The best split of one node on one feature: examples whose code is at most `bound` go left.
struct FeatureSplit: Sendable {
    /// The criterion's proxy (higher is better); `-infinity` when the feature has no admissible split.
    var proxy = -Double.infinity
    /// The largest code that goes left.
    var bound = -1
    /// The midpoint threshold: `x <= threshold` goes left.
    var threshold = 0.0
    /// All the node's values on this feature are within 1e-7 of each other.
    var constant = false

    var isAdmissible: Bool { bound >= 0 }
}

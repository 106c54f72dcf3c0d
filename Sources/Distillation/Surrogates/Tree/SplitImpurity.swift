import Foundation

/// The impurity arithmetic of scikit-learn's `Gini` and `Entropy` criteria (`sklearn/tree/_criterion.pyx`),
/// operation for operation, so that equal splits compare equal and the chosen split is the same.
enum SplitImpurity {
    /// ln 2.
    static let ln2 = Foundation.log(2.0)

    /// `log(x)` of `_utils.pyx`: `ln(x) / ln(2)`.
    @inline(__always)
    static func log2Ratio(_ x: Double) -> Double { Foundation.log(x) / Foundation.log(2.0) }

    /// A node's impurity from its class counts: Gini `1 − Σc²/n²`, entropy `−Σ (c/n)·log₂(c/n)`.
    /// - Complexity: O(classes)
    static func impurity(_ counts: UnsafePointer<Int>, classCount: Int, total: Int, criterion: DecisionTree.Parameters.Criterion)
        -> Double
    {
        let w = Double(total)
        switch criterion {
        case .gini:
            var sq = 0.0
            for c in 0..<classCount {
                let k = Double(counts[c])
                sq += k * k
            }
            return 1.0 - sq / (w * w)
        case .entropy:
            var entropy = 0.0
            for c in 0..<classCount where counts[c] > 0 {
                let p = Double(counts[c]) / w
                entropy -= p * log2Ratio(p)
            }
            return entropy
        }
    }

    /// The Gini proxy `−n_R·gini_R − n_L·gini_L` from the children's sums of squared counts.
    /// - Complexity: O(1)
    @inline(__always)
    static func giniProxy(squaresLeft: Int, countLeft: Int, squaresRight: Int, countRight: Int) -> Double {
        let wL = Double(countLeft)
        let wR = Double(countRight)
        let giniLeft = 1.0 - Double(squaresLeft) / (wL * wL)
        let giniRight = 1.0 - Double(squaresRight) / (wR * wR)
        return -wR * giniRight - wL * giniLeft
    }

    /// The proxy `−n_R·impurity_R − n_L·impurity_L` from the children's class counts.
    /// - Complexity: O(classes)
    @inline(__always)
    static func proxy(
        left: UnsafePointer<Int>, countLeft: Int, right: UnsafePointer<Int>, countRight: Int, classCount: Int,
        criterion: DecisionTree.Parameters.Criterion
    ) -> Double {
        let impurityLeft = impurity(left, classCount: classCount, total: countLeft, criterion: criterion)
        let impurityRight = impurity(right, classCount: classCount, total: countRight, criterion: criterion)
        return -Double(countRight) * impurityRight - Double(countLeft) * impurityLeft
    }

    /// `impurity_improvement`: `n_t/n · (impurity − n_R/n_t · impurity_R − n_L/n_t · impurity_L)`.
    /// - Complexity: O(1)
    static func improvement(
        total: Int, node: Int, countLeft: Int, countRight: Int, impurity: Double, impurityLeft: Double, impurityRight: Double
    ) -> Double {
        let wN = Double(node)
        return (wN / Double(total))
            * (impurity - (Double(countRight) / wN * impurityRight) - (Double(countLeft) / wN * impurityLeft))
    }
}

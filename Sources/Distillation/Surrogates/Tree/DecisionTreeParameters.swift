extension DecisionTree {
    /// How `DecisionTree.fit` grows and prunes a tree; the names and defaults are scikit-learn's
    /// `DecisionTreeClassifier` ones (`criterion`, `max_depth`, `max_leaf_nodes`, `min_samples_split`,
    /// `min_samples_leaf`, `ccp_alpha`).
    public struct Parameters: Sendable, Equatable {
        /// The impurity a split minimises.
        public enum Criterion: String, Sendable, Equatable {
            /// `1 − Σ p_k²`.
            case gini
            /// `−Σ p_k log₂ p_k`.
            case entropy
        }

        /// Which of several equally good splits of a node wins.
        public enum TieBreak: Sendable, Equatable {
            /// The split on the lowest feature index, then the lowest threshold.
            case lowestFeature
            /// scikit-learn's order: features visited in the Fisher–Yates permutation its splitter draws
            /// from `rand_r` seeded with `RandomState(randomState).randint(0, 2³¹ − 1)`, the first
            /// strictly better split kept; with the same `random_state` the trees are identical.
            case scikitLearn(randomState: UInt32)
        }

        public var criterion: Criterion
        /// The deepest a node may be (the root is depth 0); `nil` for no limit.
        public var maxDepth: Int?
        /// Grow best-first (largest weighted impurity decrease first) to at most this many leaves; `nil` grows depth-first.
        public var maxLeafNodes: Int?
        /// A node with fewer examples is a leaf (scikit-learn raises it to `2 × minSamplesLeaf`).
        public var minSamplesSplit: Int
        /// Every child of a split keeps at least this many examples.
        public var minSamplesLeaf: Int
        /// Minimal cost-complexity pruning: prune the weakest link while its effective alpha ≤ `ccpAlpha`; 0 prunes nothing.
        public var ccpAlpha: Double
        public var tieBreak: TieBreak
        /// Threads evaluating a node's features (`DispatchQueue.concurrentPerform`); the tree does not depend on it.
        public var threads: Int

        /// - Precondition: `maxDepth ≥ 0`, `maxLeafNodes ≥ 2`, `minSamplesSplit ≥ 2`, `minSamplesLeaf ≥ 1`, `ccpAlpha ≥ 0`, `threads ≥ 1`.
        public init(
            criterion: Criterion = .gini, maxDepth: Int? = nil, maxLeafNodes: Int? = nil, minSamplesSplit: Int = 2,
            minSamplesLeaf: Int = 1, ccpAlpha: Double = 0, tieBreak: TieBreak = .lowestFeature, threads: Int = 1
        ) {
            precondition(maxDepth.map { $0 >= 0 } ?? true, "maxDepth must be at least 0")
            precondition(maxLeafNodes.map { $0 >= 2 } ?? true, "maxLeafNodes must be at least 2")
            precondition(minSamplesSplit >= 2 && minSamplesLeaf >= 1, "minSamplesSplit ≥ 2 and minSamplesLeaf ≥ 1")
            precondition(ccpAlpha >= 0 && ccpAlpha.isFinite, "ccpAlpha must be finite and non-negative")
            precondition(threads >= 1, "at least one thread")
            self.criterion = criterion
            self.maxDepth = maxDepth
            self.maxLeafNodes = maxLeafNodes
            self.minSamplesSplit = minSamplesSplit
            self.minSamplesLeaf = minSamplesLeaf
            self.ccpAlpha = ccpAlpha
            self.tieBreak = tieBreak
            self.threads = threads
        }
    }
}

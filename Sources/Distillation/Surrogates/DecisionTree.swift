import Foundation

/// A CART classification tree over a `FeatureTable`, grown as scikit-learn's `DecisionTreeClassifier` grows
/// it: Gini or entropy, depth-first or best-first to `maxLeafNodes` leaves, minimal cost-complexity pruning,
/// thresholds at midpoints of consecutive distinct values with `x <= t` going left, leaves predicting
/// their majority class (ties → the smallest label).
///
/// Fitting rank-codes every feature once and evaluates a node's features by (value, class) histograms or
/// sorted codes over one shared array of example indices, so memory stays O(rows × features) bytes.
public struct DecisionTree: Sendable, Equatable {
    /// One node; the tree is stored in pre-order with the root at index 0.
    public enum Node: Sendable, Equatable {
        /// `x[feature] <= threshold` goes to `left`, otherwise to `right` (node indices).
        case split(feature: Int, threshold: Double, left: Int, right: Int)
        /// Predicts `label`; `samples` training examples reached it.
        case leaf(label: Int, samples: Int)
    }

    /// The nodes in pre-order; `nodes[0]` is the root.
    public let nodes: [Node]
    /// The kind of every feature the tree may test (its threshold code and how it prints).
    public let featureKinds: [FeatureKind]
    /// The distinct training labels, increasing: the output alphabet the description length defaults to.
    public let classes: [Int]

    /// The number of features the tree was fitted on.
    public var featureCount: Int { featureKinds.count }

    /// A tree from its parts.
    /// - Precondition: `nodes` is a non-empty pre-order tree whose children follow their parent and whose
    ///   features are below `featureKinds.count`.
    /// - Complexity: O(nodes)
    public init(nodes: [Node], featureKinds: [FeatureKind], classes: [Int]) {
        precondition(Self.structureProblem(nodes, featureCount: featureKinds.count) == nil, "not a pre-order tree")
        self.nodes = nodes
        self.featureKinds = featureKinds
        self.classes = classes
    }

    /// Fits a tree to `table` (labels are the table's labels).
    /// - Precondition: the table has at least one example and every feature value is finite.
    /// - Complexity: O(n·F·depth) for features with few distinct values (histograms),
    ///   O(n·F·depth·log n) at worst for continuous features; memory O(n·F) bytes plus O(n) per thread.
    public static func fit(_ table: FeatureTable, parameters: Parameters = Parameters()) -> DecisionTree {
        precondition(table.rowCount > 0, "a tree needs at least one example")
        let (classes, indices) = classIndices(table.labels)
        var coded = codedFeatures(table, threads: parameters.threads)
        let kinds = coded.indices.map { FeatureKind.of(isInteger: table.isInteger[$0], distinctValues: coded[$0].values) }
        var grower = TreeGrower(features: coded, labels: indices, classCount: classes.count, parameters: parameters)
        coded = []  // the grower holds the only copy, so its presorted keys are moved, not copied
        grower.grow()
        let grown = grower.tree
        let mask = parameters.ccpAlpha > 0 ? CostComplexityPruning.leaves(of: grown, alpha: parameters.ccpAlpha) : nil
        return DecisionTree(nodes: grown.nodes(classes: classes, leafMask: mask), featureKinds: kinds, classes: classes)
    }

    /// The sorted distinct labels and each example's index among them.
    /// - Complexity: O(n) for labels spanning fewer than 2²⁰ values, O(n log n) otherwise.
    static func classIndices(_ labels: [Int]) -> (classes: [Int], indices: [Int32]) {
        guard let low = labels.min(), let high = labels.max() else { return ([], []) }
        let span = high.subtractingReportingOverflow(low)
        if !span.overflow && span.partialValue < 1 << 20 {
            var table = [Int32](repeating: -1, count: high - low + 1)
            for y in labels { table[y - low] = 0 }
            var classes: [Int] = []
            for k in table.indices where table[k] == 0 {
                table[k] = Int32(classes.count)
                classes.append(low + k)
            }
            return (classes, labels.map { table[$0 - low] })
        }
        let classes = Array(Set(labels)).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        return (classes, labels.map { index[$0]! })
    }

    /// Every column rank-coded, on up to `threads` threads.
    static func codedFeatures(_ table: FeatureTable, threads: Int) -> [CodedFeature] {
        let columns = table.columns
        let count = columns.count
        guard threads > 1 && count > 1 else { return columns.map(CodedFeature.init(column:)) }
        let slots = UnsafeMutablePointer<CodedFeature?>.allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
        defer { slots.deinitialize(count: count).deallocate() }
        let address = UInt(bitPattern: slots)
        let workers = min(threads, count)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let slots = UnsafeMutablePointer<CodedFeature?>(bitPattern: address)!
            for f in stride(from: worker, to: count, by: workers) { slots[f] = CodedFeature(column: columns[f]) }
        }
        return (0..<count).map { slots[$0]! }
    }

    /// The label the tree gives `row` (one value per feature).
    /// - Complexity: O(depth)
    public func predict(row: [Double]) -> Int {
        var index = 0
        while true {
            switch nodes[index] {
            case .split(let feature, let threshold, let left, let right):
                index = row[feature] <= threshold ? left : right
            case .leaf(let label, _):
                return label
            }
        }
    }

    /// The label of every example of `table`.
    /// - Complexity: O(n·depth)
    public func predict(_ table: FeatureTable) -> [Int] {
        let columns = table.columns
        return (0..<table.rowCount).map { i in
            var index = 0
            while true {
                switch nodes[index] {
                case .split(let feature, let threshold, let left, let right):
                    index = columns[feature][i] <= threshold ? left : right
                case .leaf(let label, _):
                    return label
                }
            }
        }
    }

    /// The number of leaves.
    public var leafCount: Int {
        nodes.reduce(0) { count, node in if case .leaf = node { count + 1 } else { count } }
    }

    /// The length of the longest root-to-leaf path (0 for a single leaf).
    /// - Complexity: O(nodes)
    public var depth: Int {
        var deepest = 0
        var stack = [(0, 0)]
        while let (index, level) = stack.popLast() {
            deepest = max(deepest, level)
            if case .split(_, _, let left, let right) = nodes[index] {
                stack.append((left, level + 1))
                stack.append((right, level + 1))
            }
        }
        return deepest
    }

    /// Description length in bits (`formats/surrogate.md`, tree): in pre-order, 1 bit per node (split or leaf);
    /// a split adds `DescriptionLength.choice(featureCount)` for its feature and its threshold t —
    /// `DescriptionLength.integer(⌊t⌋)` on a binary or integer feature (x ≤ t ⟺ x ≤ ⌊t⌋), else
    /// `DescriptionLength.float`; a leaf adds `DescriptionLength.choice(outputCount)`.
    /// `outputCount` is |Y|, the output alphabet; `nil` takes the number of classes seen in fitting.
    /// - Complexity: O(nodes)
    public func descriptionLength(outputCount: Int? = nil) -> Double {
        let outputs = outputCount ?? classes.count
        var bits = 0.0
        for node in nodes {
            bits += 1
            switch node {
            case .split(let feature, let threshold, _, _):
                bits += DescriptionLength.choice(featureCount) + featureKinds[feature].thresholdBits(threshold)
            case .leaf:
                bits += DescriptionLength.choice(outputs)
            }
        }
        return bits
    }

    /// Why `nodes` is not a pre-order tree over `featureCount` features, or `nil`: every split's left child
    /// is the next node and its right child follows the left subtree; every node is reached once.
    /// - Complexity: O(nodes)
    static func structureProblem(_ nodes: [Node], featureCount: Int) -> (index: Int, reason: String)? {
        guard !nodes.isEmpty else { return (0, "a tree needs at least one node") }
        var next = 0
        var stack = [0]
        while let index = stack.popLast() {
            guard index == next else { return (index, "node \(index) is not in pre-order (expected \(next))") }
            next += 1
            if case .split(let feature, let threshold, let left, let right) = nodes[index] {
                guard (0..<featureCount).contains(feature) else { return (index, "feature \(feature) out of range") }
                guard threshold.isFinite else { return (index, "threshold is not finite") }
                guard left == index + 1, right > left, right < nodes.count else {
                    return (index, "children \(left), \(right) are not in pre-order")
                }
                stack.append(right)
                stack.append(left)
            }
        }
        return next == nodes.count ? nil : (next, "node \(next) is not reached from the root")
    }
}

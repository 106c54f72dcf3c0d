/// A tree as it grows, in scikit-learn's node numbering (creation order: pre-order for depth-first growth,
/// the order nodes are evaluated for best-first growth), so that pruning visits nodes in the same order.
struct GrownTree {
    let classCount: Int
    /// Split feature, or -1 for a leaf.
    var feature: [Int] = []
    var threshold: [Double] = []
    /// Children, or -1 for a leaf.
    var left: [Int] = []
    var right: [Int] = []
    var impurity: [Double] = []
    var samples: [Int] = []
    /// Class counts, `classCount` per node.
    var counts: [Int] = []

    var nodeCount: Int { feature.count }

    /// Appends a node and links it to its parent (`_add_node`); returns its id.
    /// - Complexity: O(classes) amortised
    mutating func add(
        parent: Int, isLeft: Bool, split: (feature: Int, threshold: Double)?, impurity: Double, samples: Int, counts: [Int]
    ) -> Int {
        let id = feature.count
        if parent >= 0 {
            if isLeft { left[parent] = id } else { right[parent] = id }
        }
        feature.append(split?.feature ?? -1)
        threshold.append(split?.threshold ?? 0)
        left.append(-1)
        right.append(-1)
        self.impurity.append(impurity)
        self.samples.append(samples)
        self.counts.append(contentsOf: counts)
        return id
    }

    /// Turns node `id` into a leaf (best-first growth out of budget).
    mutating func makeLeaf(_ id: Int) {
        feature[id] = -1
        left[id] = -1
        right[id] = -1
    }

    /// Whether node `id` is a leaf.
    func isLeaf(_ id: Int) -> Bool { left[id] < 0 }

    /// The majority class index of node `id` (ties → the smallest index).
    func majority(_ id: Int) -> Int {
        var best = 0
        for c in 1..<max(classCount, 1) where counts[id * classCount + c] > counts[id * classCount + best] { best = c }
        return best
    }

    /// The public pre-order node list, cutting the tree below every node in `leafMask` (or at its leaves).
    /// - Complexity: O(nodes)
    func nodes(classes: [Int], leafMask: [Bool]? = nil) -> [DecisionTree.Node] {
        var out: [DecisionTree.Node] = []
        func emit(_ id: Int) -> Int {
            let index = out.count
            if isLeaf(id) || leafMask?[id] == true {
                out.append(.leaf(label: classes[majority(id)], samples: samples[id]))
                return index
            }
            out.append(.leaf(label: 0, samples: 0))  // placeholder until the children have indices
            let l = emit(left[id])
            let r = emit(right[id])
            out[index] = .split(feature: feature[id], threshold: threshold[id], left: l, right: r)
            return index
        }
        if nodeCount > 0 { _ = emit(0) }
        return out
    }
}

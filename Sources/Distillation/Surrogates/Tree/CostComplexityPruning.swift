/// Minimal cost-complexity pruning as scikit-learn's `_cost_complexity_prune`: with R(t) = n_t/n · impurity(t)
/// and R(T_t) the sum over the leaves of branch t, repeatedly collapse the branch with the smallest effective
/// alpha `(R(t) − R(T_t)) / (|leaves(T_t)| − 1)` (first by node number on ties) while it is ≤ `alpha`.
enum CostComplexityPruning {
    /// Which nodes of `tree` become leaves (pruned branches and original leaves).
    /// - Complexity: O(nodes²) in the worst case (one scan per pruned branch), as scikit-learn.
    static func leaves(of tree: GrownTree, alpha: Double) -> [Bool] {
        let n = tree.nodeCount
        let total = Double(tree.samples[0])
        var rNode = [Double](repeating: 0, count: n)
        for i in 0..<n { rNode[i] = Double(tree.samples[i]) * tree.impurity[i] / total }
        var parent = [Int](repeating: -1, count: n)
        var leaves = [Bool](repeating: false, count: n)
        var stack = [(node: 0, parent: -1)]
        while let (node, up) = stack.popLast() {
            parent[node] = up
            if tree.isLeaf(node) {
                leaves[node] = true
            } else {
                stack.append((tree.left[node], node))
                stack.append((tree.right[node], node))
            }
        }
        var leafCount = [Int](repeating: 0, count: n)
        var rBranch = [Double](repeating: 0, count: n)
        for leaf in 0..<n where leaves[leaf] {
            rBranch[leaf] = rNode[leaf]
            var node = leaf
            while node != 0 {
                let up = parent[node]
                rBranch[up] += rNode[leaf]
                leafCount[up] += 1
                node = up
            }
        }
        var candidate = leaves.map { !$0 }
        var inSubtree = [Bool](repeating: true, count: n)
        while candidate[0] {
            var effective = Double.greatestFiniteMagnitude
            var weakest = 0
            for i in 0..<n where candidate[i] {
                let alphaI = (rNode[i] - rBranch[i]) / Double(leafCount[i] - 1)
                if alphaI < effective {
                    effective = alphaI
                    weakest = i
                }
            }
            if alpha < effective { break }
            var pending = [weakest]
            while let node = pending.popLast() {
                guard inSubtree[node] else { continue }
                candidate[node] = false
                leaves[node] = false
                inSubtree[node] = false
                if !tree.isLeaf(node) {
                    pending.append(tree.left[node])
                    pending.append(tree.right[node])
                }
            }
            leaves[weakest] = true
            inSubtree[weakest] = true
            let prunedLeaves = leafCount[weakest] - 1
            leafCount[weakest] = 0
            let difference = rNode[weakest] - rBranch[weakest]
            rBranch[weakest] = rNode[weakest]
            var node = parent[weakest]
            while node >= 0 {
                leafCount[node] -= prunedLeaves
                rBranch[node] += difference
                node = parent[node]
            }
        }
        return leaves
    }
}

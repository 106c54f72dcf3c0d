import Foundation

/// Grows a CART tree the way scikit-learn's `DepthFirstTreeBuilder` and `BestFirstTreeBuilder` do
/// (`sklearn/tree/_tree.pyx`), over rank-coded features and one shared array of example indices that each
/// node partitions in place.
struct TreeGrower {
    let parameters: DecisionTree.Parameters
    let features: [CodedFeature]
    let labels: [Int32]
    let classCount: Int
    private var order: [Int32]
    private var workspaces: [SplitWorkspace]
    private var scikitLearnOrder: ScikitLearnFeatureOrder?
    private var results: [FeatureSplit]
    private let presorted: PresortedColumns
    /// `k·ln k` for k in 0...n, for the entropy filter (empty for Gini).
    private let xLogX: [Double]
    private(set) var tree: GrownTree

    /// The split chosen for a node, with what its children need.
    struct NodeSplit {
        var feature: Int
        var threshold: Double
        /// Where the right child's examples start.
        var position: Int
        var countsLeft: [Int]
        var countsRight: [Int]
        var impurityLeft: Double
        var impurityRight: Double
        var improvement: Double
        /// Every feature constant in this node (so in its descendants).
        var constants: [Int]
        /// scikit-learn's `n_constant_features` for the children.
        var scikitLearnConstants: Int
    }

    /// A node waiting on the depth-first stack (`StackRecord`).
    private struct StackRecord {
        var start: Int
        var end: Int
        var depth: Int
        var parent: Int
        var isLeft: Bool
        var impurity: Double
        var counts: [Int]
        var constants: [Int]
        var scikitLearnConstants: Int
    }

    /// A node on the best-first frontier (`FrontierRecord`).
    private struct FrontierRecord {
        var node: Int
        var start: Int
        var end: Int
        var depth: Int
        var isLeaf: Bool
        var improvement: Double
        var split: NodeSplit?
    }

    /// - Precondition: `labels` holds class indices below `classCount`, one per example of every feature.
    init(features: [CodedFeature], labels: [Int32], classCount: Int, parameters: DecisionTree.Parameters) {
        var features = features
        presorted = PresortedColumns(features: &features, labels: labels, classCount: classCount)
        self.parameters = parameters
        self.features = features
        self.labels = labels
        self.classCount = classCount
        let n = labels.count
        order = (0..<Int32(n)).map { $0 }
        let maxBins = features.map(\.valueCount).max() ?? 0
        let binCapacity = min(maxBins, 1 << 16)
        let histogramCapacity = min(maxBins * classCount, 1 << 20)
        workspaces = (0..<parameters.threads).map { _ in
            SplitWorkspace(
                exampleCount: n, classCount: classCount, histogramCapacity: histogramCapacity, binCapacity: binCapacity)
        }
        if case .scikitLearn(let randomState) = parameters.tieBreak {
            scikitLearnOrder = ScikitLearnFeatureOrder(featureCount: features.count, randomState: randomState)
        }
        results = [FeatureSplit](repeating: FeatureSplit(), count: features.count)
        xLogX = parameters.criterion == .entropy ? (0...n).map { $0 == 0 ? 0 : Double($0) * Foundation.log(Double($0)) } : []
        tree = GrownTree(classCount: classCount)
    }

    private var minSamplesSplit: Int { max(parameters.minSamplesSplit, 2 * parameters.minSamplesLeaf) }
    private var maxDepth: Int { parameters.maxDepth ?? Int(Int32.max) }

    /// Grows the whole tree.
    /// - Complexity: O(n · features · depth) for histogram-coded features.
    mutating func grow() {
        let n = labels.count
        var counts = [Int](repeating: 0, count: classCount)
        for y in labels { counts[Int(y)] += 1 }
        let impurity = counts.withUnsafeBufferPointer {
            SplitImpurity.impurity($0.baseAddress!, classCount: classCount, total: n, criterion: parameters.criterion)
        }
        if parameters.maxLeafNodes == nil {
            growDepthFirst(counts: counts, impurity: impurity)
        } else {
            growBestFirst(counts: counts, impurity: impurity)
        }
    }

    private func isLeaf(count: Int, depth: Int, impurity: Double) -> Bool {
        depth >= maxDepth || count < minSamplesSplit || count < 2 * parameters.minSamplesLeaf
            || impurity <= Double.ulpOfOne
    }

    private mutating func growDepthFirst(counts: [Int], impurity: Double) {
        var stack = [
            StackRecord(
                start: 0, end: labels.count, depth: 0, parent: -1, isLeft: false, impurity: impurity, counts: counts,
                constants: [], scikitLearnConstants: 0)
        ]
        while let record = stack.popLast() {
            var split: NodeSplit? = nil
            if !isLeaf(count: record.end - record.start, depth: record.depth, impurity: record.impurity) {
                split = findSplit(
                    start: record.start, end: record.end, counts: record.counts, impurity: record.impurity,
                    constants: record.constants, scikitLearnConstants: record.scikitLearnConstants)
            }
            let id = tree.add(
                parent: record.parent, isLeft: record.isLeft, split: split.map { ($0.feature, $0.threshold) },
                impurity: record.impurity, samples: record.end - record.start, counts: record.counts)
            guard let split else { continue }
            stack.append(
                StackRecord(
                    start: split.position, end: record.end, depth: record.depth + 1, parent: id, isLeft: false,
                    impurity: split.impurityRight, counts: split.countsRight, constants: split.constants,
                    scikitLearnConstants: split.scikitLearnConstants))
            stack.append(
                StackRecord(
                    start: record.start, end: split.position, depth: record.depth + 1, parent: id, isLeft: true,
                    impurity: split.impurityLeft, counts: split.countsLeft, constants: split.constants,
                    scikitLearnConstants: split.scikitLearnConstants))
        }
    }

    private mutating func growBestFirst(counts: [Int], impurity: Double) {
        var frontier = FrontierHeap<FrontierRecord> { $0.improvement }
        frontier.push(
            addSplitNode(
                start: 0, end: labels.count, depth: 0, parent: -1, isLeft: true, impurity: impurity, counts: counts,
                constants: []))
        var splitsLeft = (parameters.maxLeafNodes ?? Int.max) - 1
        while !frontier.isEmpty {
            let record = frontier.pop()
            guard !record.isLeaf && splitsLeft > 0, let split = record.split else {
                tree.makeLeaf(record.node)
                continue
            }
            splitsLeft -= 1
            let left = addSplitNode(
                start: record.start, end: split.position, depth: record.depth + 1, parent: record.node, isLeft: true,
                impurity: split.impurityLeft, counts: split.countsLeft, constants: split.constants)
            let right = addSplitNode(
                start: split.position, end: record.end, depth: record.depth + 1, parent: record.node, isLeft: false,
                impurity: split.impurityRight, counts: split.countsRight, constants: split.constants)
            frontier.push(left)
            frontier.push(right)
        }
    }

    /// `_add_split_node`: evaluates the node's split at once (best-first resets `n_constant_features` to 0).
    private mutating func addSplitNode(
        start: Int, end: Int, depth: Int, parent: Int, isLeft: Bool, impurity: Double, counts: [Int], constants: [Int]
    ) -> FrontierRecord {
        var split: NodeSplit? = nil
        if !isLeaf(count: end - start, depth: depth, impurity: impurity) {
            split = findSplit(
                start: start, end: end, counts: counts, impurity: impurity, constants: constants, scikitLearnConstants: 0)
        }
        let id = tree.add(
            parent: parent, isLeft: isLeft, split: split.map { ($0.feature, $0.threshold) }, impurity: impurity,
            samples: end - start, counts: counts)
        return FrontierRecord(
            node: id, start: start, end: end, depth: depth, isLeaf: split == nil, improvement: split?.improvement ?? 0,
            split: split)
    }

    /// Evaluates every feature not known to be constant, picks the winner in the tie-break order, and
    /// partitions the node's examples.
    private mutating func findSplit(
        start: Int, end: Int, counts: [Int], impurity: Double, constants: [Int], scikitLearnConstants: Int
    ) -> NodeSplit? {
        let count = end - start
        var known = [Bool](repeating: false, count: features.count)
        for f in constants { known[f] = true }
        let candidates = features.indices.filter { !known[$0] }
        evaluate(candidates, start: start, end: end, counts: counts)

        var visitOrder: [Int]
        var childScikitLearnConstants = 0
        if scikitLearnOrder != nil {
            let visit = scikitLearnOrder!.visit(knownConstants: scikitLearnConstants) { f in known[f] || results[f].constant }
            visitOrder = visit.order
            childScikitLearnConstants = visit.constants
        } else {
            visitOrder = candidates.filter { !results[$0].constant }
        }
        var best = -1
        for f in visitOrder where results[f].isAdmissible && (best < 0 || results[f].proxy > results[best].proxy) { best = f }
        guard best >= 0 else { return nil }

        let position = partition(start: start, end: end, feature: best, bound: results[best].bound)
        let constants = features.indices.filter { known[$0] || results[$0].constant }
        partitionPresorted(start: start, end: end, position: position, constants: constants)
        var countsLeft = [Int](repeating: 0, count: classCount)
        for j in start..<position { countsLeft[Int(labels[Int(order[j])])] += 1 }
        let countsRight = zip(counts, countsLeft).map { $0 - $1 }
        let criterion = parameters.criterion
        let impurityLeft = countsLeft.withUnsafeBufferPointer {
            SplitImpurity.impurity($0.baseAddress!, classCount: classCount, total: position - start, criterion: criterion)
        }
        let impurityRight = countsRight.withUnsafeBufferPointer {
            SplitImpurity.impurity($0.baseAddress!, classCount: classCount, total: end - position, criterion: criterion)
        }
        return NodeSplit(
            feature: best, threshold: results[best].threshold, position: position, countsLeft: countsLeft,
            countsRight: countsRight, impurityLeft: impurityLeft, impurityRight: impurityRight,
            improvement: SplitImpurity.improvement(
                total: labels.count, node: count, countLeft: position - start, countRight: end - position,
                impurity: impurity, impurityLeft: impurityLeft, impurityRight: impurityRight),
            constants: constants,
            scikitLearnConstants: childScikitLearnConstants)
    }

    /// Fills `results[f]` for every candidate feature, on several threads for large nodes.
    private mutating func evaluate(_ candidates: [Int], start: Int, end: Int, counts: [Int]) {
        let threads = min(parameters.threads, candidates.count)
        let (workspaces, presorted) = (workspaces, presorted)
        let features = features
        let (classCount, criterion, minSamplesLeaf) = (classCount, parameters.criterion, parameters.minSamplesLeaf)
        labels.withUnsafeBufferPointer { labels in
            xLogX.withUnsafeBufferPointer { xLogX in
                let search = SplitSearch(
                    features: features, labels: labels.baseAddress!, classCount: classCount, criterion: criterion,
                    minSamplesLeaf: minSamplesLeaf, xLogX: xLogX.isEmpty ? nil : xLogX.baseAddress)
                order.withUnsafeBufferPointer { order in
                    let samples = UnsafeBufferPointer(rebasing: order[start..<end])
                    counts.withUnsafeBufferPointer { counts in
                        results.withUnsafeMutableBufferPointer { results in
                            if threads <= 1 || samples.count * candidates.count < 1 << 15 {
                                for f in candidates {
                                    results[f] = Self.best(
                                        search, presorted, f, samples, start, counts.baseAddress!, workspaces[0])
                                }
                                return
                            }
                            // Workers take features in turn; each writes only its own features' results.
                            let resultsAddress = UInt(bitPattern: results.baseAddress)
                            let countsAddress = UInt(bitPattern: counts.baseAddress)
                            let (samplesAddress, sampleCount) = (UInt(bitPattern: samples.baseAddress), samples.count)
                            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                                let results = UnsafeMutablePointer<FeatureSplit>(bitPattern: resultsAddress)!
                                let counts = UnsafePointer<Int>(bitPattern: countsAddress)!
                                let samples = UnsafeBufferPointer(
                                    start: UnsafePointer<Int32>(bitPattern: samplesAddress), count: sampleCount)
                                for k in stride(from: worker, to: candidates.count, by: threads) {
                                    let f = candidates[k]
                                    results[f] = Self.best(search, presorted, f, samples, start, counts, workspaces[worker])
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The best split of `feature`: from its presorted keys for wide features, else by `search.best`.
    private static func best(
        _ search: SplitSearch, _ presorted: PresortedColumns, _ feature: Int, _ samples: UnsafeBufferPointer<Int32>, _ start: Int,
        _ counts: UnsafePointer<Int>,
        _ workspace: SplitWorkspace
    ) -> FeatureSplit {
        if let keys = presorted.keys[feature] {
            return search.presortedSplit(
                feature: feature, keys: keys + start, count: samples.count, columns: presorted, counts: counts,
                workspace: workspace)
        }
        return search.best(feature: feature, samples: samples, counts: counts, workspace: workspace)
    }

    /// Keeps every wide feature's keys sorted within both children after `order[start..<end]` was split at
    /// `position`; features constant in the node are never evaluated again and are skipped.
    private func partitionPresorted(start: Int, end: Int, position: Int, constants: [Int]) {
        var skip = [Bool](repeating: false, count: features.count)
        for f in constants { skip[f] = true }
        let (presorted, workspaces) = (presorted, workspaces)
        let wide = features.indices.filter { presorted.keys[$0] != nil && !skip[$0] }
        guard !wide.isEmpty else { return }
        let goesLeft = presorted.goesLeft
        order.withUnsafeBufferPointer { order in
            for j in start..<position { goesLeft[Int(order[j])] = 1 }
            for j in position..<end { goesLeft[Int(order[j])] = 0 }
        }
        let threads = min(parameters.threads, wide.count)
        if threads <= 1 || (end - start) * wide.count < 1 << 15 {
            for f in wide { presorted.partition(feature: f, start: start, end: end, temporary: workspaces[0].keysTemporary) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            for k in stride(from: worker, to: wide.count, by: threads) {
                presorted.partition(feature: wide[k], start: start, end: end, temporary: workspaces[worker].keysTemporary)
            }
        }
    }

    /// Moves the examples of `order[start..<end]` whose code on `feature` is at most `bound` to the front;
    /// returns where the rest begin.
    /// - Complexity: O(end − start)
    private mutating func partition(start: Int, end: Int, feature: Int, bound: Int) -> Int {
        let coded = features[feature]
        return order.withUnsafeMutableBufferPointer { order in
            if coded.isNarrow {
                return coded.narrow.withUnsafeBufferPointer { Self.partition(order, start, end, $0, bound) }
            }
            return coded.wide.withUnsafeBufferPointer { Self.partition(order, start, end, $0, bound) }
        }
    }

    private static func partition<Code: FixedWidthInteger & UnsignedInteger>(
        _ order: UnsafeMutableBufferPointer<Int32>, _ start: Int, _ end: Int, _ codes: UnsafeBufferPointer<Code>, _ bound: Int
    ) -> Int {
        var i = start
        var j = end - 1
        while true {
            while i <= j && Int(codes[Int(order[i])]) <= bound { i += 1 }
            while i <= j && Int(codes[Int(order[j])]) > bound { j -= 1 }
            if i >= j { return i }
            order.swapAt(i, j)
            i += 1
            j -= 1
        }
    }
}

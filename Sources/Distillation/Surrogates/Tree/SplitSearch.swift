/// Finds the best threshold of one feature for one node, exactly as scikit-learn's best splitter scans a
/// sorted feature: candidates between consecutive distinct values more than 1e-7 apart (scikit-learn's
/// `FEATURE_THRESHOLD`), both children at least `minSamplesLeaf`, the first strictly highest proxy kept,
/// threshold `a/2 + b/2` (or `a` when that rounds up to `b`).
///
/// Large nodes on few-valued features count a (value, class) histogram; other nodes sort their
/// `(code, class)` keys (radix sort on the code bits when large). Both are exact.
struct SplitSearch: @unchecked Sendable {
    let features: [CodedFeature]
    let labels: UnsafePointer<Int32>
    let classCount: Int
    let criterion: DecisionTree.Parameters.Criterion
    let minSamplesLeaf: Int

    /// Values closer than this are not separated (scikit-learn's `FEATURE_THRESHOLD`).
    static let tieTolerance = 1e-7

    /// The midpoint threshold between consecutive distinct values `a < b`.
    @inline(__always)
    static func threshold(_ a: Double, _ b: Double) -> Double {
        let t = a / 2.0 + b / 2.0
        return t == b || t.isInfinite ? a : t
    }

    /// Whether a histogram beats sorting for `count` examples on a feature with `valueCount` values.
    func usesHistogram(count: Int, valueCount: Int, workspace: SplitWorkspace) -> Bool {
        let cells = valueCount * classCount
        return cells <= workspace.histogramCapacity && valueCount <= workspace.binCapacity && cells <= 4 * count + 64
    }

    /// The best split of the examples `samples` (whose class counts are `counts`) on `feature`.
    /// - Complexity: O(n + values·classes) by histogram, O(n log n) or O(n·passes) by sorting.
    func best(feature: Int, samples: UnsafeBufferPointer<Int32>, counts: UnsafePointer<Int>, workspace: SplitWorkspace) -> FeatureSplit {
        let coded = features[feature]
        if usesHistogram(count: samples.count, valueCount: coded.valueCount, workspace: workspace) {
            return coded.isNarrow
                ? coded.narrow.withUnsafeBufferPointer { histogramSplit(codes: $0, coded, samples, counts, workspace) }
                : coded.wide.withUnsafeBufferPointer { histogramSplit(codes: $0, coded, samples, counts, workspace) }
        }
        return coded.isNarrow
            ? coded.narrow.withUnsafeBufferPointer { sortedSplit(codes: $0, coded, samples, counts, workspace) }
            : coded.wide.withUnsafeBufferPointer { sortedSplit(codes: $0, coded, samples, counts, workspace) }
    }

    private func histogramSplit<Code: FixedWidthInteger & UnsignedInteger>(
        codes: UnsafeBufferPointer<Code>, _ coded: CodedFeature, _ samples: UnsafeBufferPointer<Int32>,
        _ counts: UnsafePointer<Int>, _ workspace: SplitWorkspace
    ) -> FeatureSplit {
        let bins = coded.valueCount
        let classCount = classCount
        let histogram = workspace.histogram
        let binTotals = workspace.binTotals
        histogram.initialize(repeating: 0, count: bins * classCount)
        binTotals.initialize(repeating: 0, count: bins)
        let labels = labels
        let codeBase = codes.baseAddress!
        if classCount == 2 {
            // Two classes: count class 1 and the totals; class 0 is the difference.
            for i in samples {
                let code = Int(codeBase[Int(i)])
                binTotals[code] &+= 1
                histogram[code &* 2 &+ 1] &+= labels[Int(i)]
            }
            for b in 0..<bins { histogram[b * 2] = binTotals[b] - histogram[b * 2 + 1] }
        } else {
            for i in samples {
                let code = Int(codeBase[Int(i)])
                binTotals[code] &+= 1
                histogram[code &* classCount &+ Int(labels[Int(i)])] &+= 1
            }
        }
        var scan = Scan(counts: counts, total: samples.count, workspace: workspace, classCount: classCount)
        var best = FeatureSplit()
        var first = -1
        var previous = -1
        coded.values.withUnsafeBufferPointer { values in
            for b in 0..<bins where binTotals[b] != 0 {
                if previous >= 0 {
                    if values[b] > values[previous] + Self.tieTolerance { consider(&scan, &best, previous, values[previous], values[b]) }
                } else {
                    first = b
                }
                let row = histogram + b * classCount
                for c in 0..<classCount where row[c] != 0 { scan.move(c, Int(row[c])) }
                previous = b
            }
            if first >= 0 { best.constant = values[previous] <= values[first] + Self.tieTolerance }
        }
        return best
    }

    private func sortedSplit<Code: FixedWidthInteger & UnsignedInteger>(
        codes: UnsafeBufferPointer<Code>, _ coded: CodedFeature, _ samples: UnsafeBufferPointer<Int32>,
        _ counts: UnsafePointer<Int>, _ workspace: SplitWorkspace
    ) -> FeatureSplit {
        let n = samples.count
        let labels = labels
        let codeBase = codes.baseAddress!
        var keys = workspace.keys
        for j in 0..<n {
            let i = Int(samples[j])
            keys[j] = UInt64(codeBase[i]) << 32 | UInt64(UInt32(bitPattern: labels[i]))
        }
        keys = RadixSort.sortByHighWord(keys, count: n, temporary: workspace.keysTemporary, maxHighWord: coded.valueCount - 1)
        return scan(keys, count: n, coded, counts, workspace) { Int($0 & 0xFFFF_FFFF) }
    }

    /// The best split from keys `(code << 32) | low` sorted by code, where `label(key)` is the class.
    @inline(__always)
    private func scan(
        _ keys: UnsafePointer<UInt64>, count n: Int, _ coded: CodedFeature, _ counts: UnsafePointer<Int>,
        _ workspace: SplitWorkspace, label: (UInt64) -> Int
    ) -> FeatureSplit {
        var scan = Scan(counts: counts, total: n, workspace: workspace, classCount: classCount)
        var best = FeatureSplit()
        guard n > 0 else { return best }
        coded.values.withUnsafeBufferPointer { values in
            var j = 0
            var previous = -1
            while j < n {
                let code = Int(keys[j] >> 32)
                if previous >= 0 && values[code] > values[previous] + Self.tieTolerance {
                    consider(&scan, &best, previous, values[previous], values[code])
                }
                repeat {
                    scan.move(label(keys[j]), 1)
                    j += 1
                } while j < n && Int(keys[j] >> 32) == code
                previous = code
            }
            best.constant = values[previous] <= values[Int(keys[0] >> 32)] + Self.tieTolerance
        }
        return best
    }

    /// The best split of a node whose examples are `keys[0..<count]`, `PresortedColumns` keys sorted by code.
    /// - Complexity: O(count)
    func presortedSplit(
        feature: Int, keys: UnsafePointer<UInt64>, count: Int, columns: PresortedColumns, counts: UnsafePointer<Int>,
        workspace: SplitWorkspace
    ) -> FeatureSplit {
        let (shift, mask) = (columns.exampleBits, columns.exampleMask)
        if columns.carriesClass {
            return scan(keys, count: count, features[feature], counts, workspace) { Int(($0 & 0xFFFF_FFFF) >> shift) }
        }
        let labels = labels
        return scan(keys, count: count, features[feature], counts, workspace) { Int(labels[Int($0 & mask)]) }
    }

    /// Evaluates the split between the values `a` (code `bound`, last on the left) and `b`.
    @inline(__always)
    private func consider(_ scan: inout Scan, _ best: inout FeatureSplit, _ bound: Int, _ a: Double, _ b: Double) {
        let countLeft = scan.countLeft
        let countRight = scan.total - countLeft
        guard countLeft >= minSamplesLeaf && countRight >= minSamplesLeaf else { return }
        let proxy: Double
        switch criterion {
        case .gini:
            proxy = SplitImpurity.giniProxy(
                squaresLeft: scan.squaresLeft, countLeft: countLeft, squaresRight: scan.squaresRight, countRight: countRight)
        case .entropy:
            proxy = SplitImpurity.proxy(
                left: scan.left, countLeft: countLeft, right: scan.right, countRight: countRight, classCount: classCount,
                criterion: .entropy)
        }
        if proxy > best.proxy {
            best.proxy = proxy
            best.bound = bound
            best.threshold = Self.threshold(a, b)
        }
    }

    /// Class counts left and right of a split point moving up through the sorted examples, with the sums
    /// of their squares for the Gini proxy.
    struct Scan {
        let left: UnsafeMutablePointer<Int>
        let right: UnsafeMutablePointer<Int>
        let total: Int
        var countLeft = 0
        var squaresLeft = 0
        var squaresRight = 0

        init(counts: UnsafePointer<Int>, total: Int, workspace: SplitWorkspace, classCount: Int) {
            left = workspace.left
            right = workspace.right
            left.initialize(repeating: 0, count: classCount)
            right.update(from: counts, count: classCount)
            self.total = total
            for c in 0..<classCount { squaresRight += counts[c] * counts[c] }
        }

        /// Moves `k` examples of class `c` from right to left.
        @inline(__always)
        mutating func move(_ c: Int, _ k: Int) {
            let l = left[c]
            let r = right[c]
            squaresLeft += (2 * l + k) * k
            squaresRight -= (2 * r - k) * k
            left[c] = l + k
            right[c] = r - k
            countLeft += k
        }
    }
}

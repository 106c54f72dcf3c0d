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
    /// For entropy: `k·ln k` for k in 0...n (`SplitWorkspace`-independent, shared), else nil.
    let xLogX: UnsafePointer<Double>?

    /// Whether a split may fall between present values `a < b`: scikit-learn skips values within its
    /// `FEATURE_THRESHOLD` (1e-7), compared in float32 (`b > a + 1e-7f`), which is used when both values are
    /// float32 numbers (as scikit-learn's inputs always are); other values compare in Double.
    @inline(__always)
    static func separated(_ a: Double, _ b: Double) -> Bool {
        let (fa, fb) = (Float(a), Float(b))
        if Double(fa) == a && Double(fb) == b { return fb > fa + Float(1e-7) }
        return b > a + 1e-7
    }

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
    func best(feature: Int, samples: UnsafeBufferPointer<Int32>, counts: UnsafePointer<Int>, workspace: SplitWorkspace)
        -> FeatureSplit
    {
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
            for i in samples { histogram[Int(codeBase[Int(i)]) &* classCount &+ Int(labels[Int(i)])] &+= 1 }
            for b in 0..<bins {
                var total: Int32 = 0
                for c in 0..<classCount { total &+= histogram[b &* classCount &+ c] }
                binTotals[b] = total
            }
        }
        var scan = Scan(counts: counts, total: samples.count, workspace: workspace, classCount: classCount, xLogX: xLogX)
        var best = FeatureSplit()
        var first = -1
        var previous = -1
        coded.values.withUnsafeBufferPointer { values in
            for b in 0..<bins where binTotals[b] != 0 {
                if previous >= 0 {
                    if Self.separated(values[previous], values[b]) { consider(&scan, &best, previous, b, values) }
                } else {
                    first = b
                }
                let row = histogram + b * classCount
                for c in 0..<classCount where row[c] != 0 { scan.move(c, Int(row[c])) }
                previous = b
            }
            if first >= 0 { best.constant = !Self.separated(values[first], values[previous]) }
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
        return scan(keys, count: n, coded, counts, workspace, closeFlag: 0) { Int($0 & 0xFFFF_FFFF) }
    }

    /// The best split from keys `(code << 32) | low` sorted by code, where `label(key)` is the class. When
    /// `closeFlag` is not 0, keys without that bit hold values more than 1e-7 above the next smaller distinct
    /// value, so their boundary needs no look at the values.
    @inline(__always)
    private func scan(
        _ keys: UnsafePointer<UInt64>, count n: Int, _ coded: CodedFeature, _ counts: UnsafePointer<Int>,
        _ workspace: SplitWorkspace, closeFlag: UInt64, label: (UInt64) -> Int
    ) -> FeatureSplit {
        var scan = Scan(counts: counts, total: n, workspace: workspace, classCount: classCount, xLogX: xLogX)
        var best = FeatureSplit()
        guard n > 0 else { return best }
        coded.values.withUnsafeBufferPointer { values in
            var j = 0
            var previous = -1
            while j < n {
                let code = Int(keys[j] >> 32)
                if previous >= 0
                    && ((closeFlag != 0 && keys[j] & closeFlag == 0) || Self.separated(values[previous], values[code]))
                {
                    consider(&scan, &best, previous, code, values)
                }
                repeat {
                    scan.move(label(keys[j]), 1)
                    j += 1
                } while j < n && Int(keys[j] >> 32) == code
                previous = code
            }
            best.constant = !Self.separated(values[Int(keys[0] >> 32)], values[previous])
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
            let classMask = columns.classMask
            return scan(keys, count: count, features[feature], counts, workspace, closeFlag: PresortedColumns.closeFlag) {
                Int(($0 >> shift) & classMask)
            }
        }
        let labels = labels
        return scan(keys, count: count, features[feature], counts, workspace, closeFlag: 0) { Int(labels[Int($0 & mask)]) }
    }

    /// Evaluates the split between codes `bound` (the last on the left) and `next`; reads their values only
    /// for a new best.
    @inline(__always)
    private func consider(
        _ scan: inout Scan, _ best: inout FeatureSplit, _ bound: Int, _ next: Int, _ values: UnsafeBufferPointer<Double>
    ) {
        let countLeft = scan.countLeft
        let countRight = scan.total - countLeft
        guard countLeft >= minSamplesLeaf && countRight >= minSamplesLeaf else { return }
        let proxy: Double
        switch criterion {
        case .gini:
            // The proxy is n_L·gini_L... = S_L/n_L + S_R/n_R − n for sums of squared counts S; a candidate whose
            // cross-multiplied value falls clearly short of the best so far cannot win, and skips the divisions.
            if best.proxy > -Double.infinity {
                let wL = Double(countLeft)
                let wR = Double(countRight)
                let bound = (best.proxy + Double(scan.total)) * wL * wR
                if Double(scan.squaresLeft) * wR + Double(scan.squaresRight) * wL < bound - abs(bound) * 1e-9 { return }
            }
            proxy = SplitImpurity.giniProxy(
                squaresLeft: scan.squaresLeft, countLeft: countLeft, squaresRight: scan.squaresRight, countRight: countRight)
        case .entropy:
            // n·entropy = (n ln n − Σ c ln c) / ln 2, so the proxy is (S_L − f(n_L) + S_R − f(n_R)) / ln 2 with
            // S = Σ f(c), f(k) = k ln k, kept as running sums. Their rounding grows at most like
            // n · ulp(n ln n) ≈ 1e-16 · n · tail, which the margin exceeds a hundredfold.
            if best.proxy > -Double.infinity, let f = xLogX {
                let tail = f[countLeft] + f[countRight]
                let approximate = (scan.sumsLeft + scan.sumsRight - tail) / SplitImpurity.ln2
                let margin = (1e-8 + 1e-14 * Double(scan.total)) * (tail / SplitImpurity.ln2 + 1)
                if approximate < best.proxy - margin { return }
            }
            proxy = SplitImpurity.proxy(
                left: scan.left, countLeft: countLeft, right: scan.right, countRight: countRight, classCount: classCount,
                criterion: .entropy)
        }
        if proxy > best.proxy {
            best.proxy = proxy
            best.bound = bound
            best.threshold = Self.threshold(values[bound], values[next])
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
        /// Σ c·ln c over the classes of each side, when `xLogX` is given (entropy).
        let xLogX: UnsafePointer<Double>?
        var sumsLeft = 0.0
        var sumsRight = 0.0

        init(counts: UnsafePointer<Int>, total: Int, workspace: SplitWorkspace, classCount: Int, xLogX: UnsafePointer<Double>?) {
            left = workspace.left
            right = workspace.right
            left.initialize(repeating: 0, count: classCount)
            right.update(from: counts, count: classCount)
            self.total = total
            self.xLogX = xLogX
            for c in 0..<classCount {
                squaresRight += counts[c] * counts[c]
                if let f = xLogX { sumsRight += f[counts[c]] }
            }
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
            if let f = xLogX {
                sumsLeft += f[l + k] - f[l]
                sumsRight += f[r - k] - f[r]
            }
        }
    }
}

/// The training examples prepared for rule search: every feature cut into bins (each distinct value its own
/// bin unless there are more than `maxThresholds + 1`), every example's bin and class, and the evaluation
/// that scores every single condition on a group of examples at once from per-bin class histograms.
///
/// A condition is a `Literal`: `x <= cut`, `x > cut` (a cut between consecutive bins) or, on an integer
/// feature with more than two values, `x = value`. Scoring a group of m examples over F features, K classes
/// and V bins per feature costs O(m·F + Σ V·K): one histogram per feature, then one pass over its bins with
/// running class counts gives every `<=` and `>` literal, and the bins themselves every `=` literal.
struct RuleSearch: Sendable {
    let exampleCount: Int
    let featureKinds: [FeatureKind]
    /// The distinct labels, increasing; rules predict `classes[k]`.
    let classes: [Int]
    var classCount: Int { classes.count }
    /// Each example's class index.
    let classIndex: [Int32]
    /// `bin[f][i]`: the bin of example i's value of feature f.
    let bin: [[Int32]]
    /// `cuts[f][j]`: the threshold between bins j and j + 1 of feature f (`x <= cuts[f][j]` ⟺ bin ≤ j).
    let cuts: [[Double]]
    /// `values[f]`: the value of each bin, when feature f may be tested with `=` (an integer feature with more
    /// than two values, every value its own bin); nil otherwise.
    let equalValues: [[Double]?]
    /// Bits of each literal's condition: `[f][op][j]`.
    let literalBits: [[[Double]]]
    /// The fewest bits of any literal's condition (0 when there is none).
    let cheapestLiteralBits: Double
    var parameters: RuleParameters
    /// |Y| and |D| of the description length.
    let outputCount: Int
    let domainSize: Int

    /// One condition: `op` 0 is `<= cuts[feature][index]`, 1 is `> cuts[feature][index]`, 2 is
    /// `= equalValues[feature][index]`.
    struct Literal: Hashable, Comparable, Sendable {
        var feature: Int
        var op: Int
        var index: Int

        static func < (a: Literal, b: Literal) -> Bool { (a.feature, a.op, a.index) < (b.feature, b.op, b.index) }
    }

    /// What a literal's coverage of a group holds, for scoring: its size, its two largest class counts (and the
    /// first one's class), its count of class `focus`, and the largest class count of the reference examples it
    /// leaves (`restMax`).
    struct Coverage: Sendable {
        var total: Int
        var first: Int
        var firstClass: Int
        var second: Int
        var focus: Int
        var restMax: Int

        /// The largest class count among classes other than `focus`, and that class.
        func best(excluding focus: Int, secondClass: Int) -> (count: Int, label: Int) {
            firstClass == focus ? (second, secondClass) : (first, firstClass)
        }
    }

    /// - Precondition: at least one example; finite feature values.
    /// - Complexity: O(n log n · F)
    init(table: FeatureTable, parameters: RuleParameters) {
        precondition(table.rowCount > 0, "rules need at least one example")
        let n = table.rowCount
        exampleCount = n
        let kinds = FeatureKind.of(table)
        featureKinds = kinds
        let (classes, indices) = DecisionTree.classIndices(table.labels)
        self.classes = classes
        classIndex = indices
        self.parameters = parameters
        outputCount = parameters.outputCount ?? classes.count
        domainSize = parameters.domainSize ?? n
        var bin: [[Int32]] = []
        var cuts: [[Double]] = []
        var equalValues: [[Double]?] = []
        var literalBits: [[[Double]]] = []
        for (f, column) in table.columns.enumerated() {
            precondition(column.allSatisfy(\.isFinite), "feature values must be finite")
            let (chosen, distinct) = Self.candidateCuts(column, limit: parameters.maxThresholds)
            cuts.append(chosen)
            // bin(v) = the number of cuts below v (v <= cut ⟺ bin ≤ that cut's index).
            bin.append(
                column.map { v in
                    var low = 0, high = chosen.count
                    while low < high {
                        let mid = (low + high) / 2
                        if v > chosen[mid] { low = mid + 1 } else { high = mid }
                    }
                    return Int32(low)
                })
            let equal = kinds[f] == .integer && distinct.count > 2 && chosen.count == distinct.count - 1 ? distinct : nil
            equalValues.append(equal)
            let base = DescriptionLength.choice(kinds.count) + Condition.comparisonBits(kinds[f])
            literalBits.append([
                chosen.map { base + kinds[f].thresholdBits($0) }, chosen.map { base + kinds[f].thresholdBits($0) },
                (equal ?? []).map { base + kinds[f].thresholdBits($0) },
            ])
        }
        self.bin = bin
        self.cuts = cuts
        self.equalValues = equalValues
        self.literalBits = literalBits
        cheapestLiteralBits = literalBits.joined().joined().min() ?? 0
        let (d, y) = (domainSize, outputCount)
        var costs = (0...n).map { DescriptionLength.exceptions($0, domainSize: d, outputCount: y) }
        for e in costs.indices.dropFirst() { costs[e] = max(costs[e], costs[e - 1]) }
        exceptionCosts = costs
    }

    /// Cuts at the midpoints between consecutive distinct values (as the tree's thresholds) — every one when
    /// there are at most `limit`, else `limit` of them at the boundaries nearest to evenly spaced example
    /// quantiles — and the distinct values.
    static func candidateCuts(_ column: [Double], limit: Int) -> (cuts: [Double], distinct: [Double]) {
        let sorted = column.sorted()
        var distinct: [Double] = []
        var upTo: [Int] = []  // examples at or below each distinct value
        for (i, v) in sorted.enumerated() {
            if distinct.last != v {
                distinct.append(v)
                upTo.append(0)
            }
            upTo[upTo.count - 1] = i + 1
        }
        let boundaries = distinct.count - 1
        guard boundaries > 0 else { return ([], distinct) }
        var chosen: [Int]
        if boundaries <= limit {
            chosen = Array(0..<boundaries)
        } else {
            chosen = []
            var k = 0
            for j in 1...limit {
                let target = j * sorted.count / (limit + 1)
                while k < boundaries - 1 && upTo[k] < target { k += 1 }
                if chosen.last != k { chosen.append(k) }
            }
        }
        return (chosen.map { SplitSearch.threshold(distinct[$0], distinct[$0 + 1]) }, distinct)
    }

    /// The literal as a rule condition.
    func condition(_ literal: Literal) -> Condition {
        switch literal.op {
        case 0: Condition(feature: literal.feature, .lessOrEqual, cuts[literal.feature][literal.index])
        case 1: Condition(feature: literal.feature, .greater, cuts[literal.feature][literal.index])
        default: Condition(feature: literal.feature, .equal, equalValues[literal.feature]![literal.index])
        }
    }

    /// Whether example `i` satisfies `literal`.
    @inline(__always)
    func holds(_ literal: Literal, _ i: Int) -> Bool {
        let b = Int(bin[literal.feature][i])
        switch literal.op {
        case 0: return b <= literal.index
        case 1: return b > literal.index
        default: return b == literal.index
        }
    }

    /// Calls `body` with each member of `group` that satisfies `literal`, in order; the comparison is chosen
    /// once, not per member.
    /// - Complexity: O(|group|), one comparison of bins per member.
    @inline(__always)
    func forEach(in group: [Int32], satisfying literal: Literal, _ body: (Int32) -> Void) {
        let j = Int32(literal.index)
        bin[literal.feature].withUnsafeBufferPointer { bins in
            switch literal.op {
            case 0: for i in group where bins[Int(i)] <= j { body(i) }
            case 1: for i in group where bins[Int(i)] > j { body(i) }
            default: for i in group where bins[Int(i)] == j { body(i) }
            }
        }
    }

    /// The members of `group` that satisfy `literal`, in order.
    /// - Complexity: O(|group|)
    func filter(_ group: [Int32], _ literal: Literal) -> [Int32] {
        [Int32](unsafeUninitializedCapacity: group.count) { kept, count in
            var k = 0
            forEach(in: group, satisfying: literal) { i in
                kept[k] = i
                k += 1
            }
            count = k
        }
    }

    /// Every example satisfying all of `literals`, in order.
    /// - Complexity: O(n · literals)
    func everyExample(_ literals: [Literal]) -> [Int32] {
        literals.reduce((0..<exampleCount).map { Int32($0) }) { filter($0, $1) }
    }

    /// `filter(group, literal)` and `classCounts` of it, in one pass.
    /// - Complexity: O(|group| + classes)
    func filterCounting(_ group: [Int32], _ literal: Literal) -> (members: [Int32], counts: [Int]) {
        var counts = [Int](repeating: 0, count: classCount)
        let members = classIndex.withUnsafeBufferPointer { labels in
            counts.withUnsafeMutableBufferPointer { counts in
                [Int32](unsafeUninitializedCapacity: group.count) { kept, count in
                    var k = 0
                    forEach(in: group, satisfying: literal) { i in
                        kept[k] = i
                        k += 1
                        counts[Int(labels[Int(i)])] += 1
                    }
                    count = k
                }
            }
        }
        return (members, counts)
    }

    /// Bits of a rule with these literals (`Rule.bits`).
    func bits(_ literals: [Literal]) -> Double {
        Rule.conditionCountBits(literals.count) + literals.reduce(0) { $0 + literalBits[$1.feature][$1.op][$1.index] }
            + DescriptionLength.choice(outputCount)
    }

    /// `exceptionCosts[e]`: bits of an exception table of e examples (`DescriptionLength.exceptions`), for every
    /// e up to the number of examples, so that scoring a candidate does not compute them again — made
    /// non-decreasing (the most any table of at most e costs): past half the domain the subset code gets
    /// cheaper again ("all but these"), and a covering run that starts there would otherwise see every
    /// first rule as a loss. Only the search uses it; models are measured with the code itself.
    let exceptionCosts: [Double]

    /// Examples per class among `group`.
    func classCounts(_ group: [Int32]) -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        counts.withUnsafeMutableBufferPointer { counts in
            classIndex.withUnsafeBufferPointer { labels in
                for i in group { counts[Int(labels[Int(i)])] += 1 }
            }
        }
        return counts
    }

    /// The classes a group of examples has, numbered by slot, so that its histograms are as wide as it needs:
    /// a group of a few examples has a few classes.
    struct Slots: Sendable {
        /// The class index of each slot.
        let classes: [Int]
        /// The slot of each class index, -1 when the group has none of it.
        let slot: [Int32]
        /// The group's examples per slot.
        let counts: [Int]
        /// `reference` per slot, and its largest value over the classes without a slot (-1 when none).
        let reference: [Int]
        let otherReference: Int
        /// The slots by `reference`, largest first.
        let byReference: [Int32]
        /// The first two slots holding examples of the group (-1 when there is one): where the largest counts
        /// of a side with no examples are found, as a scan in slot order finds them.
        let leading: (Int, Int)

        /// The classes with a nonzero count in `counts` (every class when `all`). `order`, when given, is
        /// `order(reference)` over every class, which the slots' order is read from rather than sorted again.
        init(counts dense: [Int], reference dense_reference: [Int], all: Bool = false, order: [Int32]? = nil) {
            var classes: [Int] = []
            var slot = [Int32](repeating: -1, count: dense.count)
            var other = -1
            for c in dense.indices {
                if all || dense[c] > 0 {
                    slot[c] = Int32(classes.count)
                    classes.append(c)
                } else {
                    other = max(other, dense_reference[c])
                }
            }
            self.classes = classes
            self.slot = slot
            counts = classes.map { dense[$0] }
            reference = classes.map { dense_reference[$0] }
            otherReference = other
            byReference = order.map { Self.order(of: slot, from: $0) } ?? Self.order(reference)
            leading = (0, classes.count > 1 ? 1 : -1)
        }

        /// A slot for every class, so that histograms by class index can be read by slot; scored as the
        /// numbering of the classes with examples (`init(counts:reference:)`) is, literal for literal.
        init(everyClass dense: [Int], reference denseReference: [Int], order: [Int32]? = nil) {
            classes = Array(dense.indices)
            slot = dense.indices.map { Int32($0) }
            counts = dense
            reference = denseReference
            otherReference = -1
            byReference = order ?? Self.order(reference)
            let present = dense.indices.lazy.filter { dense[$0] > 0 }.prefix(2)
            leading = (present.first ?? 0, present.count > 1 ? present.last! : -1)
        }

        /// The indices of `reference` (values not below 0) by their values, largest first (ties: the lower index first).
        static func order(_ reference: [Int]) -> [Int32] {
            // As one integer each (the value's complement in the high half, the index in the low), so that a plain
            // sort orders them.
            let top = reference.max() ?? 0
            return reference.indices.map { (top - reference[$0]) << 32 | $0 }.sorted().map { Int32(truncatingIfNeeded: $0) }
        }

        /// `order(reference)` of slots numbered in class order (`slot`, -1 for classes without one), read from
        /// `classOrder`, `order` of every class's reference: the slots keep their classes' order.
        /// - Complexity: O(classes)
        static func order(of slot: [Int32], from classOrder: [Int32]) -> [Int32] {
            var slots: [Int32] = []
            slots.reserveCapacity(classOrder.count)
            for c in classOrder where slot[Int(c)] >= 0 { slots.append(slot[Int(c)]) }
            return slots
        }

        /// `slots`' numbering with a group's class `counts` and `reference` (classes without a slot must have
        /// no examples in the group).
        init(keeping slots: Slots, counts dense: [Int], reference denseReference: [Int], order: [Int32]? = nil) {
            classes = slots.classes
            slot = slots.slot
            counts = classes.map { dense[$0] }
            reference = classes.map { denseReference[$0] }
            var other = -1
            for c in dense.indices where slot[c] < 0 { other = max(other, denseReference[c]) }
            otherReference = other
            let numbering = slots.slot
            byReference = order.map { Self.order(of: numbering, from: $0) } ?? Self.order(reference)
            leading = (0, classes.count > 1 ? 1 : -1)
        }
    }

    /// Every literal's counts on the examples a covering run has not yet covered (`LiteralCounts`, one per feature),
    /// kept up to date as rules cover examples and renumbered to fewer slots when half of their classes are gone.
    struct Histograms: Sendable {
        private(set) var slots: Slots
        private(set) var counts: [LiteralCounts]

        init(_ search: RuleSearch, group: [Int32], classCounts: [Int]) {
            let slots = Slots(counts: classCounts, reference: classCounts)
            self.slots = slots
            counts = search.bin.indices.map { f in
                LiteralCounts(
                    bins: search.cuts[f].count + 1, width: slots.classes.count, equal: search.equalValues[f] != nil, group: group,
                    bin: search.bin[f], classIndex: search.classIndex, slotOf: slots.slot)
            }
        }

        /// Removes `covered` (examples of the group); `group` and `classCounts` are what is left.
        mutating func remove(_ covered: [Int32], _ search: RuleSearch, group: [Int32], classCounts: [Int]) {
            let active = classCounts.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
            if active * 2 < slots.classes.count {
                self = Histograms(search, group: group, classCounts: classCounts)
                return
            }
            let coveredSlots = covered.map { slots.slot[Int(search.classIndex[Int($0)])] }
            for f in counts.indices {
                counts[f].remove(zip(covered, coveredSlots).map { (search.bin[f][Int($0)], $1) })
            }
        }
    }

    /// Histograms by class index (a `BinHistogram` per feature) of the examples of the group a conjunction
    /// covers, for the conjunctions a covering run's beam refines, kept from one search to the next and brought
    /// up to date as rules cover examples: the beam's broad conjunctions come back search after search, and
    /// removing the few examples a rule covers is cheaper than counting theirs again.
    struct Refinements: Sendable {
        /// Each conjunction's literals, sorted, and its histograms by feature (nil: not counted), a beam's few.
        fileprivate var entries: [(literals: [Literal], histograms: [BinHistogram?])] = []
        /// The examples `remove` has removed so far, in order.
        fileprivate(set) var log: [Int32] = []
        /// How many examples `remove` has removed so far.
        var removed: Int { log.count }
        /// What the last sweep of each conjunction the searches refined found, by feature (`Sweep`), with the last
        /// search that used them.
        fileprivate var sweeps: [[Literal]: (search: Int, features: [Sweep?])] = [:]

        init() {}

        /// None kept yet, after `previous`'s removals; its sweeps of the last `sweepSearches` searches.
        init(after previous: Refinements) {
            log = previous.log
            searches = previous.searches + 1
            lead = previous.lead
        }

        /// Takes over `previous`'s sweeps that this one lacks, those used in the last `sweepSearches` searches.
        mutating func inherit(_ previous: Refinements) {
            for (key, value) in previous.sweeps where sweeps[key] == nil && value.search + Self.sweepSearches > searches {
                sweeps[key] = value
            }
        }

        /// How many searches a sweep is kept for after its last use.
        static let sweepSearches = 8
        /// Searches so far.
        fileprivate(set) var searches = 0
        /// The feature of the first condition of the rule the last search found: where the next one starts (the rank
        /// found there first is what the other features' literals are bounded against).
        fileprivate var lead: Int?

        /// The histograms of the conjunction of `literals` (sorted), if kept.
        /// - Complexity: O(entries · conditions)
        subscript(literals: [Literal]) -> [BinHistogram?]? {
            entries.first { $0.literals == literals }?.histograms
        }

        /// Keeps `histograms` for the conjunction of `literals` (sorted).
        mutating func keep(_ literals: [Literal], _ histograms: [BinHistogram?]) {
            if self[literals] == nil { entries.append((literals, histograms)) }
        }

        /// Removes `covered` (examples of the group) from every histogram whose conjunction holds for them.
        /// - Complexity: O(|covered| · entries · (conditions + F))
        mutating func remove(_ covered: [Int32], _ search: RuleSearch) {
            log += covered
            for e in entries.indices {
                for i in covered where entries[e].literals.allSatisfy({ search.holds($0, Int(i)) }) {
                    let c = Int(search.classIndex[Int(i)])
                    for f in 0..<search.bin.count where entries[e].histograms[f] != nil {
                        entries[e].histograms[f]!.remove(bin: Int(search.bin[f][Int(i)]), slot: c)
                    }
                }
            }
        }
    }

    /// What a sweep of a conjunction's refinements by one feature found of each literal covering at least
    /// `minCoverage` of the group: its largest class count on the group, that class, its second-largest count,
    /// the examples it covers, and the literal's bits; with `Refinements.removed` when swept. Counts only fall as
    /// rules cover examples, so these bound the refinements in later searches of the same covering run.
    struct Sweep: Sendable {
        var removed: Int
        /// A literal: its largest class count, that class, its second-largest count, its size, `index · 3 + op`,
        /// and its bits.
        struct Entry {
            var first: Int32
            var firstClass: Int32
            var second: Int32
            var total: Int32
            var literal: Int32
            var bits: Double
        }
        var entries: [Entry] = []

        init(removed: Int) { self.removed = removed }

        mutating func append(_ coverage: Coverage, _ literal: Literal, bits: Double) {
            entries.append(
                Entry(
                    first: Int32(coverage.first), firstClass: Int32(coverage.firstClass), second: Int32(max(coverage.second, 0)),
                    total: Int32(coverage.total), literal: Int32(literal.index * 3 + literal.op), bits: bits))
        }
    }

    /// Upper bounds on the ranks and (unless `ranksOnly`) the optimistic bounds of the refinements `sweep` found
    /// by feature `f`, now that `gone` (examples of the group since removed that satisfied the conjunction then)
    /// are gone: each literal covers what it did less those, has at most `first` of its largest class then less
    /// that class's examples gone and at most `second` of any other class. `baseBits` are the conjunction's bits
    /// but a literal's (`Rule.bits` with one more condition); bounds below `floor` come back as `floor`. `sweep` is
    /// brought up to date: its counts become
    /// those, as of `removed` examples removed, so that the next call reads only the examples gone after.
    /// - Complexity: O(literals + |gone| + classes + bins · the classes gone)
    func bounds(
        of sweep: inout Sweep, gone: ArraySlice<Int32>, removed: Int, feature f: Int, focus: Int, baseBits: Double, refining: Double,
        bound: Bound, ranksOnly: Bool, floor: Double = -.infinity
    ) -> (rank: Double, optimistic: Double) {
        let width = cuts[f].count + 2  // a row: 0, then the examples gone at or below each bin
        var row = [Int32](repeating: -1, count: gone.isEmpty ? 0 : classCount)  // each class's row, -1: none gone
        var rows = 1  // row 0: every class
        for i in gone where row[Int(classIndex[Int(i)])] < 0 {
            row[Int(classIndex[Int(i)])] = Int32(rows)
            rows += 1
        }
        var counts = [Int32](repeating: 0, count: gone.isEmpty ? 0 : rows * width)
        let column = bin[f]
        for i in gone {
            let b = Int(column[Int(i)]) + 1
            counts[b] += 1
            counts[Int(row[Int(classIndex[Int(i)])]) * width + b] += 1
        }
        if !gone.isEmpty {
            for r in 0..<rows {
                for j in 1..<width { counts[r * width + j] += counts[r * width + j - 1] }
            }
        }
        let focusClass = Int32(focus)
        let adjusts = !gone.isEmpty
        var rank = floor, optimistic = floor
        // The counts now are written back: the sweep is as if made after `removed` examples were.
        sweep.removed = removed
        sweep.entries.withUnsafeMutableBufferPointer { entries in
            counts.withUnsafeBufferPointer { counts in
                row.withUnsafeBufferPointer { row in
                    for k in entries.indices {
                        let e = entries[k]
                        var (total, own) = (e.total, e.first)
                        if adjusts {
                            let (j, op) = (Int(e.literal) / 3, e.literal % 3)
                            // Examples gone from the literal's coverage in a row: at or below bin j, above it, or in it.
                            @inline(__always) func lost(_ r: Int) -> Int32 {
                                let at = r * width
                                switch op {
                                case 0: return counts[at + j + 1]
                                case 1: return counts[at + width - 1] - counts[at + j + 1]
                                default: return counts[at + j + 1] - counts[at + j]
                                }
                            }
                            total -= lost(0)
                            let r = Int(row[Int(e.firstClass)])
                            if r > 0 { own -= lost(r) }
                            (entries[k].total, entries[k].first) = (total, own)
                        }
                        guard total > 0 else { continue }
                        let isFocus = e.firstClass == focusClass
                        let other = Int(min(isFocus ? e.second : max(own, e.second), total))
                        let h = min(bound.hits(other: other, focus: Int(isFocus ? own : e.second)), Int(total))
                        guard h > 0 else { continue }
                        let ruleBits = baseBits + e.bits
                        rank = bound.raise(rank, rank: h, Int(total), ruleBits)
                        if !ranksOnly && other > 0 { optimistic = bound.raise(optimistic, optimistic: other, ruleBits + refining) }
                    }
                }
            }
        }
        return (rank, optimistic)
    }

    /// Below this many examples a conjunction's histograms are counted afresh (`BinMembers`) rather than kept by
    /// class (`Refinements`): the results are the same either way.
    static let keptRefinementSize = 256

    /// Per-bin counts of feature `f` over `group` by class index.
    /// - Complexity: O(|group| + bins · classes)
    func histogram(_ f: Int, _ group: [Int32]) -> BinHistogram {
        bin[f].withUnsafeBufferPointer { bins in
            classIndex.withUnsafeBufferPointer { labels in
                group.withUnsafeBufferPointer { group in
                    BinHistogram(bins: cuts[f].count + 1, width: classCount, examples: group.count) { e in
                        let i = Int(group[e])
                        return (Int(bins[i]), Int(labels[i]))
                    }
                }
            }
        }
    }

    /// Every literal of feature `f` on a group whose per-bin counts by slot are `histogram`, each with its
    /// `Coverage` and the class of its second-largest count (`focus` names the class counted separately;
    /// `slots.reference` is what the rest is taken from: a literal covering h leaves `reference − h`). Literals
    /// covering none of the group are skipped, and so are those covering all of it unless `keepsWholeGroup`
    /// (a refinement that only narrows what a rule covers outside the group), as are the operations `skip`
    /// says a rule already has. Literals come in order: `<=` then `>` at each cut, cuts increasing, then `=`.
    ///
    /// The `<=` side's counts only grow as the cut moves up and the `>` side's as it moves down, so one sweep
    /// each way keeps the two largest counts of one side and the largest leftover of the other up to date from
    /// the (bin, class) pairs that occur alone; those are listed once first (`BinCounts.withPairs`), so that the
    /// sweeps and the pass over values for `=` read a compact list.
    /// - Complexity: O(bins + the nonzero (bin, slot) counts + slots)
    func literals<State>(
        feature f: Int, histogram: some BinCounts, slots: Slots, focus: Int, keepsWholeGroup: Bool = false, skip: (Int) -> Bool,
        into state: inout State, _ body: (inout State, Literal, Coverage, Int) -> Void
    ) {
        let k = slots.classes.count
        let bins = cuts[f].count + 1
        let other = slots.otherReference
        let groupSize = slots.counts.reduce(0, +)
        let focusSlot = Int(slots.slot[focus])
        let ownFocus = focusSlot < 0 ? 0 : slots.counts[focusSlot]
        let emitsLE = !skip(0), emitsGT = !skip(1)
        let sides = (emitsLE || emitsGT) && bins > 1
        let equal = equalValues[f] != nil && !skip(2)
        guard sides || equal else { return }
        // Per slot: `reference − own` (what a side covering c of it leaves is that plus c), the reference, the class,
        // two counters, and the last bin holding it (in the pass over values). One allocation a call.
        let scratch = UnsafeMutablePointer<Int>.allocate(capacity: 6 * k)
        defer { scratch.deallocate() }
        let leftover = scratch, reference = scratch + k, classOf = scratch + 2 * k
        let running = scratch + 3 * k, suffix = scratch + 4 * k, mark = scratch + 5 * k
        var emptyRest = other  // the largest leftover of a side covering nothing of the group
        for c in 0..<k {
            reference[c] = slots.reference[c]
            classOf[c] = slots.classes[c]
            leftover[c] = reference[c] - slots.counts[c]
            emptyRest = max(emptyRest, leftover[c])
        }
        running.initialize(repeating: 0, count: 2 * k)
        mark.initialize(repeating: -1, count: k)
        // Per cut: each side's coverage and second class, and whether the cut is scored (1) or not (0); per value
        // of `=`: its coverage, its second class, and whether it is scored. Read only where set.
        let cutCount = sides ? bins - 1 : 0, valueCount = equal ? bins : 0
        let coverages = UnsafeMutablePointer<Coverage>.allocate(capacity: max(1, 2 * cutCount + valueCount))
        let numbers = UnsafeMutablePointer<Int>.allocate(capacity: max(1, 3 * cutCount + 2 * valueCount))
        defer {
            coverages.deallocate()
            numbers.deallocate()
        }
        let le = coverages, gt = coverages + cutCount, equalCover = coverages + 2 * cutCount
        let leSecond = numbers, gtSecond = numbers + cutCount, kept = numbers + 2 * cutCount
        let equalSecond = numbers + 3 * cutCount, valueKept = numbers + 3 * cutCount + valueCount
        kept.initialize(repeating: 0, count: cutCount)
        valueKept.initialize(repeating: 0, count: valueCount)
        histogram.withPairs { pairs in
            if equal {
                // Each value's own counts for `=`.
                for j in 0..<bins {
                    var binTotal = 0, focusCount = 0
                    var valueTop = TopTwo(slots.leading)
                    var rest = other
                    for p in pairs.start[j]..<pairs.start[j + 1] {
                        let s = Int(pairs.slots[p]), a = Int(pairs.counts[p])
                        if a == 0 { continue }  // examples that have left the group
                        binTotal &+= a
                        valueTop.raise(s, to: a)
                        rest = max(rest, reference[s] &- a)
                        if s == focusSlot { focusCount = a }
                        mark[s] = j
                    }
                    guard binTotal > 0 && (binTotal < groupSize || keepsWholeGroup) else { continue }
                    // The classes this value has none of leave all of their reference: the largest of those.
                    for s in slots.byReference where mark[Int(s)] != j {
                        rest = max(rest, reference[Int(s)])
                        break
                    }
                    (equalCover + j).initialize(
                        to: Coverage(
                            total: binTotal, first: valueTop.first, firstClass: classOf[valueTop.firstSlot], second: valueTop.second,
                            focus: focusCount, restMax: rest))
                    equalSecond[j] = classOf[valueTop.secondSlot]
                    valueKept[j] = 1
                }
            }
            if sides {
                // Forward: the `<=` side's counts and the `>` side's leftover.
                var top = TopTwo(slots.leading)
                var gtRest = emptyRest
                var runningTotal = 0
                for j in 0..<(bins - 1) {
                    var binTotal = 0
                    for p in pairs.start[j]..<pairs.start[j + 1] {
                        let s = Int(pairs.slots[p]), a = Int(pairs.counts[p])
                        if a == 0 { continue }  // examples that have left the group
                        let now = running[s] &+ a
                        running[s] = now
                        binTotal &+= a
                        top.raise(s, to: now)
                        gtRest = max(gtRest, leftover[s] &+ now)
                    }
                    runningTotal += binTotal
                    if binTotal == 0 && j > 0 && !keepsWholeGroup { continue }  // the same coverage as the previous cut
                    guard runningTotal > 0 || keepsWholeGroup, runningTotal < groupSize || keepsWholeGroup else { continue }
                    kept[j] = 1
                    let focusCount = focusSlot < 0 ? 0 : running[focusSlot]
                    (le + j).initialize(
                        to: Coverage(
                            total: runningTotal, first: top.first, firstClass: classOf[top.firstSlot], second: top.second,
                            focus: focusCount, restMax: 0))
                    leSecond[j] = classOf[top.secondSlot]
                    (gt + j).initialize(
                        to: Coverage(
                            total: groupSize - runningTotal, first: 0, firstClass: 0, second: 0, focus: ownFocus - focusCount,
                            restMax: gtRest))
                }
                // Backward: the `>` side's counts and the `<=` side's leftover.
                top = TopTwo(slots.leading)
                var leRest = emptyRest
                for j in stride(from: bins - 2, through: 0, by: -1) {
                    for p in pairs.start[j + 1]..<pairs.start[j + 2] {
                        let s = Int(pairs.slots[p]), a = Int(pairs.counts[p])
                        if a == 0 { continue }  // examples that have left the group
                        let now = suffix[s] &+ a
                        suffix[s] = now
                        top.raise(s, to: now)
                        leRest = max(leRest, leftover[s] &+ now)
                    }
                    guard kept[j] != 0 else { continue }
                    le[j].restMax = leRest
                    (gt[j].first, gt[j].firstClass, gt[j].second) = (top.first, classOf[top.firstSlot], top.second)
                    gtSecond[j] = classOf[top.secondSlot]
                }
            }
        }
        if sides {
            for j in 0..<(bins - 1) where kept[j] != 0 {
                if emitsLE { body(&state, Literal(feature: f, op: 0, index: j), le[j], leSecond[j]) }
                if emitsGT { body(&state, Literal(feature: f, op: 1, index: j), gt[j], gtSecond[j]) }
            }
        }
        for j in 0..<valueCount where valueKept[j] != 0 {
            body(&state, Literal(feature: f, op: 2, index: j), equalCover[j], equalSecond[j])
        }
    }
}

extension RuleSearch {
    /// How a candidate rule would change the description: its bits saved (`gain`, positive = shorter), the
    /// `rank` candidates are chosen by (Classy's normalized gain: bits saved per example covered), an
    /// optimistic bound on the rank refining it further could reach, its output class and how many of its
    /// examples have that class. `nil` drops the candidate; a rank of -∞ keeps it only for refining.
    typealias Score = (rank: Double, gain: Double, optimistic: Double, output: Int, hits: Int)

    /// The rule found by `bestRule`: its literals, the group members it covers, its output class, its gain.
    struct Found {
        var literals: [Literal]
        var members: [Int32]
        var output: Int
        var hits: Int
        var gain: Double
    }

    /// Whether no class is more common than class index `target` among `examples`.
    /// - Complexity: O(|examples|)
    func isPlurality<S: Sequence<Int>>(_ target: Int, among examples: S) -> Bool {
        var counts = [Int32](repeating: 0, count: classCount)
        var hits: Int32 = 0, most: Int32 = 0
        for i in examples {
            let c = Int(classIndex[i])
            counts[c] += 1
            if c == target { hits += 1 } else { most = max(most, counts[c]) }
        }
        return hits >= most
    }

    /// Whether no class is more common than class index `target` among the members of `group` that satisfy
    /// `literal` (`isPlurality(_:among:)` of `filter(group, literal)`, without listing them).
    /// - Complexity: O(|group|)
    func isPlurality(_ target: Int, among group: [Int32], satisfying literal: Literal) -> Bool {
        var counts = [Int32](repeating: 0, count: classCount)
        var hits: Int32 = 0, most: Int32 = 0
        classIndex.withUnsafeBufferPointer { labels in
            counts.withUnsafeMutableBufferPointer { counts in
                forEach(in: group, satisfying: literal) { i in
                    let c = Int(labels[Int(i)])
                    counts[c] += 1
                    if c == target { hits += 1 } else { most = max(most, counts[c]) }
                }
            }
        }
        return hits >= most
    }

    /// Conjunctions whose output is not the most common class of every example they cover: static, so a covering run
    /// checks each once (with another output, as its group changes, one may pass). Kept by the parent's literals
    /// (sorted) and the literal added with the output, so that a search looks each parent up once.
    struct Refusals: Sendable {
        struct Child: Hashable, Sendable {
            var literal: Literal
            var output: Int
        }
        private var byParent: [[Literal]: Set<Child>] = [:]

        init() {}

        /// How many are kept.
        var count: Int { byParent.values.reduce(0) { $0 + $1.count } }

        /// The refinements of the conjunction of `parent` (sorted) refused so far.
        subscript(parent: [Literal]) -> Set<Child> { byParent[parent] ?? [] }

        mutating func insert(_ child: Child, parent: [Literal]) { byParent[parent, default: []].insert(child) }
    }

    /// Where a feature's literal sits among its `2 · cuts + values` literals: `<=` and `>` at each cut, then `=`.
    @inline(__always)
    static func literalSlot(op: Int, index: Int, cuts: Int) -> Int { op == 2 ? 2 * cuts + index : 2 * index + op }

    /// What `bestRule` may skip by: upper bounds, for a search, on what a candidate can score.
    struct Bound: Sendable {
        private let normalized: Bool
        /// `most[h]`: the most bits saved by h' ≤ h hits; `perHit[h]`: the most saved per hit by h' ≤ h hits.
        private let most: [Double]
        private let perHit: [Double]
        /// `1 / h` for h ≤ `largest`: a quick estimate of `bits / h` (`raise`).
        private let reciprocal: [Double]
        /// How many examples of the search's focus class a candidate needs before the rest count as hits (those
        /// first ones only make up for examples the focus leaves as errors elsewhere); nil: they never count.
        let focusGap: Int?
        /// `focusGap`, or more than any count.
        private let gap: Int
        /// A bound that bounds nothing (where one is needed as a value but not read).
        static let none = Bound(normalized: false, largest: 0, focusGap: nil) { _ in 0 }
        /// How far below a score (the best so far, the beam's last member) a bound must be to skip what it bounds. A
        /// bound sums its terms in another order than the score it bounds and can come out below it by rounding
        /// (~1e-14 seen); the search takes a candidate that beats another by 1e-12, so a bound within this margin
        /// of that is swept, not skipped.
        static let margin = 1e-9

        /// For scores that save `saved(h) − bits` bits at most when a rule of `bits` bits has h hits (h at most
        /// `largest`; its optimistic bound is that of its hits of a class other than the focus), ranked by bits
        /// saved per example covered (`normalized`) or by bits saved. Prefix maxima, so `saved` need not grow
        /// with h.
        /// - Complexity: O(largest) to build, O(1) a call.
        init(normalized: Bool, largest: Int, focusGap: Int?, saved: (Int) -> Double) {
            self.normalized = normalized
            self.focusGap = focusGap
            gap = focusGap ?? Int(Int32.max)
            var most = [-Double.infinity], perHit = [-Double.infinity]
            for h in stride(from: 1, through: max(largest, 1), by: 1) {
                most.append(max(most[h - 1], saved(h)))
                perHit.append(max(perHit[h - 1], saved(h) / Double(h)))
            }
            self.most = most
            self.perHit = perHit
            reciprocal = (0..<most.count).map { 1 / Double(max($0, 1)) }
        }

        /// `max(floor, f(h, bits))` for `f` = `rank` (with `t`) or `optimistic`: both are at most
        /// `perHit[h] − bits / h` when normalized, so where that (estimated with a reciprocal, far within the
        /// margin) is below `floor`, `floor` is returned without dividing; the value is the same either way.
        @inline(__always)
        func raise(_ floor: Double, rank h: Int, _ t: Int, _ bits: Double) -> Double {
            if normalized && h < reciprocal.count && perHit[max(h, 1)] - bits * reciprocal[h] < floor - 1e-9 { return floor }
            return max(floor, rank(h, t, bits))
        }

        /// Whether neither `raise` can lift `floor` for a candidate with at most h hits (or h examples of a class but
        /// the focus) of at least `bits` bits: both bounds are at most `perHit[h] − bits / h` when normalized.
        @inline(__always)
        func cannotRaise(_ floor: Double, hits h: Int, _ bits: Double) -> Bool {
            normalized && h < reciprocal.count && perHit[max(h, 1)] - bits * reciprocal[h] < floor - 1e-9
        }

        @inline(__always)
        func raise(_ floor: Double, optimistic h: Int, _ bits: Double) -> Double {
            if normalized && h < reciprocal.count && perHit[max(h, 1)] - bits * reciprocal[h] < floor - 1e-9 { return floor }
            return max(floor, optimistic(h, bits))
        }

        /// At most how many hits a candidate has with at most `other` examples of any one class but the focus and
        /// at most `focus` of the focus.
        @inline(__always)
        func hits(other: Int, focus: Int) -> Int { max(other, focus - gap) }

        /// Its rank, for a candidate with at most h hits (`hits(other:focus:)`), covering at least t of the group, of
        /// at least `bits` bits, wherever the rank is not negative.
        @inline(__always)
        func rank(_ h: Int, _ t: Int, _ bits: Double) -> Double {
            let k = min(max(h, 1), most.count - 1)
            // Per example: h' ≤ h hits of at least `bits` bits save at most perHit[h] − bits / h per hit, and a
            // candidate saving g ≥ 0 bits over t examples ranks g / t.
            return normalized ? min(perHit[k] - bits / Double(h), (most[k] - bits) / Double(max(t, 1))) : most[k] - bits
        }

        /// Its optimistic bound, for a candidate with at most h examples of any class but the search's `focus`, of
        /// at least `bits` bits, wherever that is not negative.
        @inline(__always)
        func optimistic(_ h: Int, _ bits: Double) -> Double {
            let k = min(max(h, 1), most.count - 1)
            return normalized ? perHit[k] - bits / Double(h) : most[k] - bits
        }
    }

    /// A 64-bit fingerprint of a sorted list of examples (multiply–xorshift), for telling coverages apart.
    static func fingerprint(_ members: [Int32]) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in members {
            h = (h ^ UInt64(UInt32(bitPattern: i))) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
        }
        return h
    }

    /// Beam search over conjunctions for the rule with the highest rank (bits saved per example covered), on
    /// `group`, whose class counts are `reference`.
    ///
    /// Depth 1 scores every literal on the group (read from `histograms`, the counts of every literal a covering
    /// run keeps up to date, when given); each further depth refines by every literal, on their own examples, the
    /// `beamWidth` conjunctions with the best optimistic bound above the best rank so far (distinct coverages, at
    /// most one per feature and comparison of the condition added to a parent). `score` turns a
    /// literal's `Coverage` (with the class of its second-largest count) and the conjunction's bits into a
    /// `Score`; conjunctions in `excluded` (sorted) are only refined, and with `majorityOfAll` so is a conjunction
    /// whose output is not the most common class of every example it covers (the group's and the others'; each
    /// refusal, with the output refused, is added to `imprecise`, which such a check consults first; `pluralities`,
    /// when given, makes a single condition's check a lookup and decides most others by bounds). Ties go to
    /// fewer literals, then to the earlier literal. The search goes one depth deeper only while deepening pays: it
    /// ends at a depth that found no rule better than one of fewer conditions that shortens the description (gain
    /// above 0); before such a rule is found it goes on to `maxConditions` (a conjunction of three may be needed
    /// where no two of its conditions help).
    ///
    /// With `bound`, a refinement of a beam member by a feature is not scored where its bounds show it can hold
    /// neither the best rule nor a member of the next beam: they come from the last sweep of that (member,
    /// feature) in an earlier search of the covering run (`refinements`, brought up to date for the examples
    /// removed since), else from the member's class counts and depth 1's. What is found is the same as without.
    /// - Complexity: O(maxConditions · beamWidth · (m·F + Σ bins · K)) for a group of m examples.
    func bestRule(
        group: [Int32], histograms: Histograms?, refinements: inout Refinements, reference: [Int], focus: Int,
        excluded: Set<[Literal]> = [], majorityOfAll: Bool = false, pluralities: LiteralPluralities? = nil,
        imprecise: inout Refusals,
        bound: Bound? = nil,
        score: @escaping @Sendable (Coverage, Int, Double, Double) -> Score?
    ) -> Found? {
        struct Member: Sendable {
            var literals: [Literal]
            var members: [Int32]
            var slots: Slots
            /// Every example (not only the group's) satisfying `literals`, when `majorityOfAll` (nil: not listed yet, as
            /// for a member of one condition, whose class counts `pluralities` gives: `everyExample` lists it where
            /// needed), and their class counts when `pluralities` is given.
            var everyMember: [Int32]?
            var everyCounts: [Int32] = []
        }
        struct Child: Sendable {
            var parent: Int
            var literal: Literal
            var score: Score
            /// Its rank as scored, before any refusal: what the beam keeps first.
            var promise: Double
            /// Its coverage of the group: size, largest class count and that class (equal for equal coverages).
            var signature: (total: Int, first: Int, firstClass: Int)
        }
        /// What depth 1 found of a literal on the group: its coverage, and its two largest class counts with their
        /// classes (total −1: not scored, as for a literal covering none or all of it).
        struct Seen: Sendable {
            var total = -1
            var first = 0
            var firstClass = 0
            /// Every class but `firstClass` has at most this many (0 when the group has one class).
            var second = 0
            var secondClass = -1
        }
        /// What sweeping a (parent, feature) gives: the children kept, the parent's histogram of the feature when
        /// counted now, depth 1's counts of each literal, and what later searches may bound its refinements by.
        struct Swept: Sendable {
            var children: [Child]
            var counted: BinHistogram?
            var seen: [(Literal, Seen)]
            var record: Sweep?
        }
        /// What a sweep of a (parent, feature) keeps as it goes, handed to each literal (not captured by the closure that
        /// scores it).
        ///
        /// Without refusals the best rank only rises: a child ranked below the best so far (`floor`, from -∞ with
        /// refusals, where a lower rank may still be taken) cannot be the best, nor one whose optimistic bound is not
        /// above it a member of the beam (`bar` below), and neither is kept. Of the others, a child is read only as the
        /// best (the first of the highest rank), as one of the first `beamWidth` of its comparison in the beam's order
        /// (the beam takes one per (parent, feature, comparison), and passes over a child before it only where that
        /// child's coverage is a member's, which a comparison's children, all of different coverages, can each be for
        /// at most `beamWidth − 1` members), or as the first of its comparison's largest optimistic bound (what `tops`
        /// reads): `keep` keeps those (`read`: in the order found). With refusals every child is kept (`children`).
        struct SweepState {
            var floor: Double
            var children: [Child] = []
            var scored: [(Literal, Seen)] = []
            var record: Sweep
            /// The first child of the highest rank, and by comparison the first of the largest optimistic bound and the
            /// first `beamWidth` in the beam's order (places in `children`).
            var highest = (rank: -Double.infinity, place: -1)
            var leading = [(optimistic: Double, place: Int)](repeating: (-.infinity, -1), count: 3)
            var firsts: [[Int]] = [[], [], []]

            init(floor: Double, record: Sweep) {
                self.floor = floor
                self.record = record
            }

            mutating func keep(_ child: Child, beamWidth: Int) {
                let s = child.score
                floor = max(floor, s.rank)
                let place = children.count
                var keeps = false
                if s.rank > highest.rank {
                    highest = (s.rank, place)
                    keeps = true
                }
                if s.optimistic > s.rank + 1e-12 {
                    let op = child.literal.op
                    if s.optimistic > leading[op].optimistic {
                        leading[op] = (s.optimistic, place)
                        keeps = true
                    }
                    // Its place among the comparison's first in the beam's order (a later child comes after an earlier one
                    // with the same optimistic bound and promise).
                    var k = firsts[op].count
                    while k > 0 {
                        let before = children[firsts[op][k - 1]]
                        let (o, b) = (s.optimistic, before.score.optimistic)
                        guard o > b || (o == b && child.promise > before.promise) else { break }
                        k -= 1
                    }
                    if k < beamWidth {
                        firsts[op].insert(place, at: k)
                        if firsts[op].count > beamWidth { firsts[op].removeLast() }
                        keeps = true
                    }
                }
                if keeps { children.append(child) }
            }

            /// What a child's optimistic bound must reach for `keep` to keep it for the beam (-∞ until `beamWidth` are).
            func beamBar(_ op: Int, beamWidth: Int) -> Double {
                firsts[op].count < beamWidth ? -.infinity : children[firsts[op][beamWidth - 1]].score.optimistic
            }

            /// The children `keep` kept that are read, in the order found.
            func read() -> [Child] {
                var read = [Bool](repeating: false, count: children.count)
                for place in [highest.place] + leading.map(\.place) + firsts.joined() where place >= 0 { read[place] = true }
                return children.indices.filter { read[$0] }.map { children[$0] }
            }
        }
        /// A parent's class counts for the bounds: what a refinement by a literal can keep of a class is at most the
        /// parent's count and the literal's.
        struct Largest {
            let slots: Slots
            /// The four largest counts with their classes, largest first.
            let counts: [(count: Int, label: Int)]

            init(_ slots: Slots) {
                self.slots = slots
                counts = Array(
                    slots.counts.indices.filter { slots.counts[$0] > 0 }.map { (slots.counts[$0], slots.classes[$0]) }
                        .sorted { $0.count > $1.count }.prefix(4))
            }

            /// The parent's count of class `label`.
            func count(_ label: Int) -> Int {
                let k = Int(slots.slot[label])
                return k < 0 ? 0 : slots.counts[k]
            }

            /// The parent's largest count of a class other than `excluded` (-1: any class).
            func most(excluding excluded: Int) -> Int { counts.first { $0.label != excluded }?.count ?? 0 }

            /// The most a refinement by `literal` can have of one class other than `excluded`.
            func shared(with literal: Seen, excluding excluded: Int) -> Int {
                var most = 0
                if literal.firstClass != excluded { most = min(count(literal.firstClass), literal.first) }
                if literal.secondClass >= 0 && literal.secondClass != excluded {
                    most = max(most, min(count(literal.secondClass), literal.second))
                }
                // Every other class: at most the literal's second count.
                if let rest = counts.first(where: { $0.label != excluded && $0.label != literal.firstClass && $0.label != literal.secondClass }) {
                    most = max(most, min(rest.count, literal.second))
                }
                return most
            }
        }
        assert(reference == classCounts(group), "reference: the group's class counts")
        let referenceOrder = Slots.order(reference)  // every `Slots` of this search has this reference
        var beam = [
            Member(
                literals: [], members: group,
                slots: histograms.map { Slots(keeping: $0.slots, counts: reference, reference: reference, order: referenceOrder) }
                    ?? Slots(counts: reference, reference: reference, order: referenceOrder),
                everyMember: majorityOfAll ? (0..<exampleCount).map { Int32($0) } : [],
                everyCounts: majorityOfAll ? pluralities?.totals ?? [] : [])
        ]
        var best: (literals: [Literal], parent: Int, score: Score, members: [Int32])?
        let featureCount = bin.count
        // Depth 1's counts of every literal, by feature and `literalSlot`: a refinement's count of a class is at
        // most its parent's and its last literal's, and it covers at least what they share.
        // (Read from `histograms` when given.)
        var seen = cuts.indices.map { f in
            [Seen](repeating: Seen(), count: histograms == nil ? 2 * cuts[f].count + (equalValues[f]?.count ?? 0) : 0)
        }
        var kept = Refinements(after: refinements)  // the refinements this search used: what the next one may find again
        defer {
            kept.inherit(refinements)
            refinements = kept
        }
        let cheapestLiteral = cheapestLiteralBits
        for depth in 1...parameters.maxConditions {
            let current = beam
            let items = current.indices.flatMap { p in (0..<featureCount).map { (p, $0) } }
            // The large conjunctions are read from histograms by class index, kept or counted now and kept.
            let keys = current.map { $0.literals.sorted() }
            let large = current.map { depth > 1 && $0.members.count >= Self.keptRefinementSize }
            let found = current.indices.map { p in large[p] ? refinements[keys[p]] ?? kept[keys[p]] : nil }
            let everyClass = current.indices.map { p in
                large[p] ? Slots(everyClass: classCounts(current[p].members), reference: reference, order: referenceOrder) : nil
            }
            let work = current.reduce(0) { $0 + $1.members.count } * featureCount + items.count * classCount * 8
            let threads = work > 200_000 ? parameters.threads : 1
            // Past depth 1, a (parent, feature) whose refinements can neither outrank the best so far nor (before
            // the last depth) have an optimistic bound above it is not scored: those are all the beam reads.
            let outranked = best?.score.rank ?? -Double.infinity
            let prunes = depth > 1 && outranked >= 0 && bound != nil
            // Past depth 1, what a sweep of a (parent, feature) records for the searches after this one; and each
            // member's largest class counts, for the check below and the bounds.
            let records = depth > 1 && bound != nil
            let largest = records ? current.map { Largest($0.slots) } : []
            // Once no conjunction two conditions longer than a member of the beam (at most its count of any class, at
            // least two more conditions' bits) can outrank the best so far, the depths after this one cannot change
            // what the search finds: this one is the last, and only ranks count in it.
            let deeperUseless =
                prunes && depth < parameters.maxConditions
                && current.indices.allSatisfy { p in
                    let member = current[p]
                    let k = member.literals.count
                    let most = bound!.hits(other: largest[p].most(excluding: focus), focus: largest[p].count(focus))
                    let longer = bits(member.literals) - Rule.conditionCountBits(k) + Rule.conditionCountBits(k + 2) + 2 * cheapestLiteral
                    return most == 0 || bound!.rank(most, most, longer) <= outranked - Bound.margin
                }
            let lastDepth = depth == parameters.maxConditions || deeperUseless
            // A refinement of a conjunction of this depth has one more condition: at least its count's bits and the
            // cheapest literal's more. What a child's optimistic bound is priced at.
            let refining = Rule.conditionCountBits(depth + 1) - Rule.conditionCountBits(depth) + cheapestLiteral
            let found1 = seen
            let groupSize = group.count
            // A child is read later only as a candidate (rank above the best so far) or to refine (optimistic bound
            // above its rank and the best, which only rises): the others are not kept.
            let keptAbove = (best?.score.rank ?? -Double.infinity) + 1e-12
            let removedNow = refinements.removed
            // `floor`: the best rank found so far at this depth (-∞ with refusals, where a lower rank may still be taken).
            let sweep: @Sendable ((Int, Int), Double) -> Swept = { item, floor in
                let (p, f) = item
                let parent = current[p]
                let used = parent.literals.filter { $0.feature == f }.map(\.op)
                let baseBits = bits(parent.literals) - Rule.conditionCountBits(parent.literals.count)
                let natural = Rule.conditionCountBits(parent.literals.count + 1)
                let skip = { (op: Int) in used.contains(op) || used.contains(2) || (op == 2 && !used.isEmpty) }
                // Each comparison's literal bits, and the bounds that may pass a literal over (below), taken out once a sweep.
                let (bitsLE, bitsGT, bitsEQ) = (literalBits[f][0], literalBits[f][1], literalBits[f][2])
                // The literals that make this parent an excluded conjunction (a literal is never in its parent).
                let excluding = excluded.compactMap { e -> Literal? in
                    guard e.count == parent.literals.count + 1, parent.literals.allSatisfy(e.contains) else { return nil }
                    return e.first { !parent.literals.contains($0) }
                }
                let skipping = !majorityOfAll && excluding.isEmpty ? bound : nil
                let skips = skipping != nil, bounds = skipping ?? Bound.none
                let (minCoverage, beamWidth) = (parameters.minCoverage, parameters.beamWidth)
                var state = SweepState(floor: floor, record: Sweep(removed: removedNow))
                state.children.reserveCapacity(majorityOfAll ? 3 * cuts[f].count + 3 : 16)
                if records { state.record.entries.reserveCapacity(3 * cuts[f].count + 3) }
                func bitsOf(_ literal: Literal) -> Double {
                    literal.op == 0 ? bitsLE[literal.index] : literal.op == 1 ? bitsGT[literal.index] : bitsEQ[literal.index]
                }
                // Whether a literal need not be scored: its bounds show it would not be kept, its rank below the best so
                // far, and its optimistic bound too, or below the last of its comparison's first (`SweepState.keep`).
                // (Its counts may be bounds, as a stale literal's are.)
                func passesOver(_ state: SweepState, _ literal: Literal, _ coverage: Coverage, _ ruleBits: Double) -> Bool {
                    let floor = max(state.floor, keptAbove)
                    let other = coverage.firstClass == focus ? max(coverage.second, 0) : coverage.first
                    let hits = bounds.hits(other: other, focus: coverage.focus)
                    return floor >= 0
                        && (hits == 0 || bounds.cannotRaise(floor, hits: hits, ruleBits)
                            || bounds.rank(hits, coverage.total, ruleBits) < floor - Bound.margin)
                        && (other == 0
                            || bounds.cannotRaise(
                                max(floor, state.beamBar(literal.op, beamWidth: beamWidth)), hits: other, ruleBits + refining))
                }
                func add(_ state: inout SweepState, _ literal: Literal, _ coverage: Coverage, _ second: Int) {
                    if depth == 1 && bound != nil && histograms == nil {  // else read from `histograms` when needed
                        state.scored.append(
                            (
                                literal,
                                Seen(
                                    total: coverage.total, first: coverage.first, firstClass: coverage.firstClass,
                                    second: max(coverage.second, 0), secondClass: coverage.second > 0 ? second : -1)
                            ))
                    }
                    guard coverage.total >= minCoverage else { return }
                    let literalBits = bitsOf(literal)
                    if records { state.record.append(coverage, literal, bits: literalBits) }
                    let ruleBits = baseBits + natural + literalBits
                    if skips && passesOver(state, literal, coverage, ruleBits) { return }
                    guard var s = score(coverage, second, ruleBits, ruleBits + refining) else { return }
                    let promise = s.rank
                    if !excluding.isEmpty && excluding.contains(literal) {
                        (s.rank, s.gain) = (-.infinity, -.infinity)  // still refined
                    }
                    guard s.rank > keptAbove || (s.optimistic > keptAbove && s.optimistic > s.rank + 1e-12) else { return }
                    let floor = state.floor
                    guard s.rank >= floor || (s.optimistic > floor + 1e-12 && s.optimistic > s.rank + 1e-12) else { return }
                    let child = Child(
                        parent: p, literal: literal, score: s, promise: promise,
                        signature: (coverage.total, coverage.first, coverage.firstClass))
                    if majorityOfAll { state.children.append(child) } else { state.keep(child, beamWidth: beamWidth) }
                }
                var counted: BinHistogram?
                if depth == 1, let histograms {
                    let slots = histograms.slots
                    histograms.counts[f].forEach(
                        focus: focus, slotOf: slots.slot, classes: slots.classes, into: &state,
                        admits: { state, op, index, coverage in
                            let literal = Literal(feature: f, op: op, index: index)
                            return coverage.total >= minCoverage
                                && !(skips && passesOver(state, literal, coverage, baseBits + natural + bitsOf(literal)))
                        }
                    ) { state, op, index, coverage, second in
                        add(&state, Literal(feature: f, op: op, index: index), coverage, second)
                    }
                } else if let slots = everyClass[p] {
                    let keptHistogram = found[p].flatMap { $0[f] }
                    let byClass = keptHistogram ?? histogram(f, parent.members)
                    if keptHistogram == nil { counted = byClass }
                    literals(
                        feature: f, histogram: byClass, slots: slots, focus: focus, keepsWholeGroup: majorityOfAll && depth > 1,
                        skip: skip, into: &state, add)
                } else {
                    let slot = parent.slots.slot
                    let members = BinMembers(
                        bin: bin[f], bins: cuts[f].count + 1, width: parent.slots.classes.count, group: parent.members
                    ) { slot[Int(classIndex[Int($0)])] }
                    literals(
                        feature: f, histogram: members, slots: parent.slots, focus: focus, keepsWholeGroup: majorityOfAll && depth > 1,
                        skip: skip, into: &state, add)
                }
                return Swept(
                    children: majorityOfAll ? state.children : state.read(), counted: counted, seen: state.scored,
                    record: records ? state.record : nil)
            }
            // Upper bounds on the ranks of the refinements of a (parent, feature) and, before the last depth, on their
            // optimistic bounds: from what a sweep of it found in an earlier search of this run (counts of a class only
            // fall as rules cover examples, and a literal covers what it did less the examples removed since that it
            // held: `bounds(of:)`), else from the parent's class counts and depth 1's counts of each literal. +∞ at
            // depth 1 or without `bound`; valid wherever they are not negative.
            // Each parent's earlier sweeps, and the examples removed since the oldest of them that satisfy it (with
            // their places in `Refinements.log`).
            // (Taken out, so that they are brought up to date in place.)
            var previous = current.indices.map { p in records ? refinements.sweeps.removeValue(forKey: keys[p])?.features : nil }
            var goneOf: [[Int32]] = [], gonePositions: [[Int]] = []
            for p in current.indices {
                let oldest = previous[p]?.compactMap { $0?.removed }.min() ?? refinements.removed
                let parent = current[p].literals
                var (examples, positions) = ([Int32](), [Int]())
                for position in oldest..<refinements.removed {
                    let i = refinements.log[position]
                    if parent.allSatisfy({ holds($0, Int(i)) }) {
                        examples.append(i)
                        positions.append(position)
                    }
                }
                goneOf.append(examples)
                gonePositions.append(positions)
            }
            // A refinement's bits but its last literal's.
            let baseBitsOf = current.map {
                bits($0.literals) - Rule.conditionCountBits($0.literals.count) + Rule.conditionCountBits($0.literals.count + 1)
            }
            // Bounds at or below the best rank so far (less the margin) skip their item whatever they are: they are read
            // as that.
            let floor = prunes ? outranked - Bound.margin : -Double.infinity
            let boundsOf = items.map { item -> (rank: Double, optimistic: Double) in
                guard records, let bound else { return (.infinity, .infinity) }
                let (p, f) = item
                let baseBits = baseBitsOf[p]
                if let removed = previous[p]?[f]?.removed {
                    // The examples gone since this sweep: those from its place in the log on.
                    let positions = gonePositions[p]
                    var (low, high) = (0, positions.count)
                    while low < high {
                        let mid = (low + high) / 2
                        if positions[mid] < removed { low = mid + 1 } else { high = mid }
                    }
                    return self.bounds(
                        of: &previous[p]![f]!, gone: goneOf[p][low...], removed: refinements.removed, feature: f, focus: focus,
                        baseBits: baseBits, refining: refining, bound: bound, ranksOnly: lastDepth, floor: floor)
                }
                let counts = largest[p]
                let used = current[p].literals.filter { $0.feature == f }.map(\.op)
                let skip = { (op: Int) in used.contains(op) || used.contains(2) || (op == 2 && !used.isEmpty) }
                var rank = floor, optimistic = floor
                let (parentFocus, parentOther) = (counts.count(focus), counts.most(excluding: focus))
                let parentTotal = current[p].members.count
                let keptCounts = histograms?.counts[f], keptClasses = histograms?.slots.classes ?? []
                for op in 0..<3 where !skip(op) {
                    for j in literalBits[f][op].indices {
                        let slot = Self.literalSlot(op: op, index: j, cuts: cuts[f].count)
                        var l = Seen()
                        if let keptCounts {
                            if let c = keptCounts.coverage(slot, classes: keptClasses) {
                                l = Seen(total: c.total, first: c.first, firstClass: c.firstClass, second: c.second, secondClass: c.secondClass)
                            }
                        } else {
                            l = found1[f][slot]
                        }
                        let ruleBits = baseBits + literalBits[f][op][j]
                        if l.total >= 0 {
                            // No class has more than the literal's largest count: where even that cannot raise either
                            // bound, the classes are not looked at.
                            let most = min(parentOther, l.first)
                            if bound.cannotRaise(rank, hits: bound.hits(other: most, focus: min(parentFocus, l.first)), ruleBits)
                                && (lastDepth || most == 0 || bound.cannotRaise(optimistic, hits: most, ruleBits + refining))
                            {
                                continue
                            }
                        }
                        // A literal depth 1 did not score covers none of the group (no refinement) or all of it.
                        let other = l.total < 0 ? parentOther : counts.shared(with: l, excluding: focus)
                        let focusCount = l.total < 0 ? parentFocus : min(parentFocus, l.firstClass == focus ? l.first : l.second)
                        let first = bound.hits(other: other, focus: focusCount)
                        let shared = l.total < 0 ? parentTotal : parentTotal + l.total - groupSize
                        guard first > 0 else { continue }
                        rank = bound.raise(rank, rank: first, max(shared, first), ruleBits)
                        if !lastDepth && other > 0 { optimistic = bound.raise(optimistic, optimistic: other, ruleBits + refining) }
                    }
                }
                return (rank, optimistic)
            }
            // The (parent, feature) items by their bounds, highest first, each swept unless it can neither hold the best
            // rule (its rank bound below the best found so far) nor a member of the next beam (its optimistic bound
            // below the `beamWidth`-th largest optimistic bound found so far, of distinct (item, comparison)).
            // (At depth 1, where every bound is +∞, the order does not change what is found; the last search's best
            // feature comes first.)
            let lead = depth == 1 ? refinements.lead : nil
            let order = items.indices.sorted { a, b in
                if let lead, items[a].1 == lead || items[b].1 == lead { return items[a].1 == lead && items[b].1 != lead }
                let (x, y) = (max(boundsOf[a].rank, boundsOf[a].optimistic), max(boundsOf[b].rank, boundsOf[b].optimistic))
                return x > y || (x == y && a < b)
            }
            var results = [Swept?](repeating: nil, count: items.count)
            var skipped: [Int] = []
            var runningBest = outranked
            // The largest optimistic bounds of children the beam may take (distinct (item, comparison), distinct
            // coverages), largest first, at most `beamWidth`.
            var tops: [(value: Double, signature: (total: Int, first: Int, firstClass: Int))] = []
            // A depth after the first, once the search holds a rule that pays, is its last unless it finds a better
            // one (below): its items are swept first only where they may hold that, and those skipped only for the
            // beam are swept once a better rule shows the beam is needed (the check of the skipped items below).
            let mayEnd = depth > 1 && (best.map { $0.score.gain > 1e-9 } ?? false)
            func needed(_ i: Int) -> Bool {
                let (rank, optimistic) = boundsOf[i]
                let threshold = tops.count == parameters.beamWidth ? tops[tops.count - 1].value : -Double.infinity
                // With refusals (`majorityOfAll`) a lower rank than the best so far may still be taken.
                let rankSkips =
                    (outranked >= 0 && rank <= outranked - Bound.margin) || (!majorityOfAll && runningBest >= 0 && rank < runningBest - Bound.margin)
                let optimisticSkips =
                    mayEnd || lastDepth || (outranked >= 0 && optimistic <= outranked - Bound.margin) || (threshold >= 0 && optimistic < threshold - Bound.margin)
                return !(rankSkips && optimisticSkips)
            }
            var position = 0
            while position < order.count {
                var wave: [Int] = []
                while wave.count < threads && position < order.count {
                    let i = order[position]
                    position += 1
                    if needed(i) { wave.append(i) } else { skipped.append(i) }
                }
                guard !wave.isEmpty else { continue }
                let floorNow = majorityOfAll ? -Double.infinity : runningBest
                for (i, result) in zip(wave, parallelMap(wave.map { items[$0] }, threads: threads) { sweep($0, floorNow) }) {
                    results[i] = result
                    var most = [-Double.infinity, -Double.infinity, -Double.infinity]  // per comparison
                    for child in result.children {
                        if !majorityOfAll { runningBest = max(runningBest, child.score.rank) }
                        if child.score.optimistic > child.score.rank + 1e-12 {
                            most[child.literal.op] = max(most[child.literal.op], child.score.optimistic)
                        }
                    }
                    for child in result.children where child.score.optimistic == most[child.literal.op] {
                        // One per coverage, as the beam takes them (distinct signatures are distinct coverages).
                        most[child.literal.op] = -Double.infinity
                        let value = child.score.optimistic
                        if let k = tops.firstIndex(where: { $0.signature == child.signature }) {
                            guard value > tops[k].value else { continue }
                            tops.remove(at: k)
                        }
                        tops.append((value, child.signature))
                        tops.sort { $0.value > $1.value }
                        if tops.count > parameters.beamWidth { tops.removeLast() }
                    }
                }
            }
            let startBest = best
            let stopsHere = depth >= parameters.maxConditions || deeperUseless
            var settled = false
            var next: [Member] = []
            var refusedOf = majorityOfAll ? keys.map { imprecise[$0] } : []  // each parent's refusals so far
            // Every example a member of the beam covers (`Member.everyMember`), listed once where it was not.
            var listed: [Int: [Int32]] = [:]
            func everyOf(_ p: Int) -> [Int32] {
                if let every = current[p].everyMember ?? listed[p] { return every }
                let every = everyExample(current[p].literals)
                listed[p] = every
                return every
            }
            while true {
                best = startBest
                var children = results.flatMap { $0?.children ?? [] }
                // The best child: in rank order (then the order found), the first one that passes the majority check,
                // found in one pass (a child is checked where it would beat the best found so far); every child before
                // it is refused, as checking them in order would refuse them. (So the beam reads a refused child's rank
                // as −∞ exactly where that order would have checked it.)
                let ranks = children.map(\.score.rank)
                let threshold = (best?.score.rank ?? -Double.infinity) + 1e-12
                func refused(_ child: Child) -> Bool {
                    let parent = current[child.parent]
                    if parent.literals.isEmpty, let pluralities { return !pluralities.isPlurality(child.score.output, child.literal) }
                    // Is its output the most common class of every example it covers? Static, so remembered. The
                    // literal's counts over every example bound that; where they leave it open, the parent's examples are
                    // counted.
                    let key = Refusals.Child(literal: child.literal, output: child.score.output)
                    if refusedOf[child.parent].contains(key) { return true }
                    let bounded = pluralities?.isPlurality(child.score.output, child.literal, within: parent.everyCounts)
                    guard
                        !(bounded
                            ?? isPlurality(child.score.output, among: everyOf(child.parent), satisfying: child.literal))
                    else { return false }
                    refusedOf[child.parent].insert(key)
                    imprecise.insert(key, parent: keys[child.parent])
                    return true
                }
                var chosen = -1
                for c in children.indices where ranks[c] > threshold && (chosen < 0 || ranks[c] > ranks[chosen]) {
                    if majorityOfAll && refused(children[c]) { continue }
                    chosen = c
                }
                if majorityOfAll {
                    for c in children.indices
                    where ranks[c] > threshold && (chosen < 0 || ranks[c] > ranks[chosen] || (ranks[c] == ranks[chosen] && c < chosen)) {
                        (children[c].score.rank, children[c].score.gain) = (-.infinity, -.infinity)
                    }
                }
                if chosen >= 0 {
                    let child = children[chosen]
                    best = (current[child.parent].literals + [child.literal], child.parent, child.score, [])
                }
                // A skipped item cannot hold the best rule (its rank bound is below the best when it was skipped).
                // The search deepens only while that pays: once it holds a rule that shortens the description and this
                // depth found none better, it ends here.
                settled = depth > 1 && (best.map { $0.score.gain > 1e-9 && $0.literals.count < depth } ?? false)
                guard !stopsHere && !settled else { break }
                let bar = best?.score.rank ?? -Double.infinity
                children = children.filter { $0.score.optimistic > bar + 1e-12 && $0.score.optimistic > $0.score.rank + 1e-12 }
                // The conjunctions with the best optimistic bound, at most one per (feature, comparison) of the condition
                // added (else one broad condition at many thresholds fills the beam); distinct coverages only.
                let (optimistics, promises) = (children.map(\.score.optimistic), children.map(\.promise))
                var order = RankOrder(Array(children.indices), scanLimit: 2 * parameters.beamWidth) { a, b in
                    if optimistics[a] != optimistics[b] { return optimistics[a] > optimistics[b] }
                    if promises[a] != promises[b] { return promises[a] > promises[b] }
                    return a < b
                }
                next = []
                var lowest = Double.infinity  // the lowest optimistic bound taken
                // The coverages taken, told apart by size and a 64-bit fingerprint; a fingerprint is computed only once
                // a second coverage of its size comes (most differ in size).
                // (With `majorityOfAll`, coverages of every example: a member of one condition gets its class counts from
                // `pluralities`, and its examples are listed only where a coverage of the same size is taken.)
                var taken: [(size: Int, coverage: [Int32]?, literals: [Literal], fingerprint: UInt64?)] = []
                var kinds = Set<[Int]>()
                while next.count < parameters.beamWidth, let c = order.next() {
                    let child = children[c]
                    guard !kinds.contains([child.parent, child.literal.feature, child.literal.op]) else { continue }
                    let parent = current[child.parent]
                    let (members, memberCounts) = filterCounting(parent.members, child.literal)
                    guard !members.isEmpty else { continue }
                    let literals = parent.literals + [child.literal]
                    var everyMember: [Int32]?, everyCounts: [Int32] = []
                    if majorityOfAll {
                        if let pluralities, parent.literals.isEmpty {
                            everyCounts = pluralities.counts(child.literal)
                        } else {
                            let among = everyOf(child.parent)
                            if pluralities != nil {
                                let (every, counts) = filterCounting(among, child.literal)
                                (everyMember, everyCounts) = (every, counts.map { Int32($0) })
                            } else {
                                everyMember = filter(among, child.literal)
                            }
                        }
                    }
                    var coverage = majorityOfAll ? everyMember : members
                    let size = coverage?.count ?? Int(everyCounts.reduce(0, +))
                    var fingerprint: UInt64?
                    var duplicate = false
                    for k in taken.indices where taken[k].size == size {
                        if taken[k].fingerprint == nil {
                            taken[k].fingerprint = Self.fingerprint(taken[k].coverage ?? everyExample(taken[k].literals))
                        }
                        if fingerprint == nil {
                            coverage = coverage ?? everyExample(literals)
                            fingerprint = Self.fingerprint(coverage!)
                        }
                        if taken[k].fingerprint == fingerprint {
                            duplicate = true
                            break
                        }
                    }
                    guard !duplicate else { continue }
                    taken.append((size, coverage, literals, fingerprint))
                    kinds.insert([child.parent, child.literal.feature, child.literal.op])
                    lowest = min(lowest, child.score.optimistic)
                    next.append(
                        Member(
                            literals: literals, members: members,
                            slots: Slots(counts: memberCounts, reference: reference, order: referenceOrder),
                            everyMember: everyMember, everyCounts: everyCounts))
                }
                // A skipped item's children come after every member taken (or are filtered out): else it is swept now
                // and the best and the beam are chosen again.
                let full = next.count == parameters.beamWidth
                let unsafe = skipped.filter { i in
                    let optimistic = boundsOf[i].optimistic
                    return !((bar >= 0 && optimistic <= bar - Bound.margin) || (full && lowest >= 0 && optimistic < lowest - Bound.margin))
                }
                if unsafe.isEmpty { break }
                let floorNow = majorityOfAll ? -Double.infinity : runningBest
                for (i, result) in zip(unsafe, parallelMap(unsafe.map { items[$0] }, threads: threads) { sweep($0, floorNow) }) { results[i] = result }
                skipped.removeAll { unsafe.contains($0) }
            }
            if let b = best, b.members.isEmpty, b.literals.count == depth {
                best!.members = filter(current[b.parent].members, b.literals.last!)
            }
            for p in current.indices where large[p] {
                // The histograms found or counted now are kept; a later search counts the others if it needs them.
                var histograms = found[p] ?? [BinHistogram?](repeating: nil, count: featureCount)
                for f in 0..<featureCount where histograms[f] == nil { histograms[f] = results[p * featureCount + f]?.counted }
                if histograms.contains(where: { $0 != nil }) { kept.keep(keys[p], histograms) }
            }
            for result in results {
                for (l, counts) in result?.seen ?? [] { seen[l.feature][Self.literalSlot(op: l.op, index: l.index, cuts: cuts[l.feature].count)] = counts }
            }
            if records {
                for p in current.indices {
                    let features = (0..<featureCount).map { f in results[p * featureCount + f]?.record ?? previous[p]?[f] }
                    if features.contains(where: { $0 != nil }) { kept.sweeps[keys[p]] = (kept.searches, features) }
                }
            }
            if stopsHere || settled || next.isEmpty { break }
            beam = next
        }
        guard let b = best else { return nil }
        kept.lead = b.literals.first?.feature
        return Found(literals: b.literals, members: b.members, output: b.score.output, hits: b.score.hits, gain: b.score.gain)
    }
}

extension RuleSearch {
    /// Runs `learn` on `table` (given this search, whether to rank by bits saved per example covered, and
    /// the exhaustive limit) with both rankings side by side, sharing the threads, and keeps the
    /// shorter result of each kind (`choose`).
    /// `learn` reports its progress through its last argument: (probes covered so far, rules so far); `tally`
    /// adds up both runs' reports.
    ///
    /// The stopped models rank candidates by the exception table's own code (`exceptionCosts`). The exhaustive
    /// ones come from a second run per ranking that prices every exception at an explicit index
    /// (`log₂|D| + log₂|Y|`, the fourth argument of `learn`): the subset code makes an exception cheap where errors
    /// are many, and a run that stops by it leaves the beam, once only errors count, among broad conditions that
    /// isolate none. With a finite `exhaustiveLimit` such a run is cut as soon as it cannot end in an exact model of
    /// at most that many rules (its errors can no longer all go, or the classes they need rules for outnumber the
    /// rules left), and an exhaustive model is an exact one or none; the runs that rank by the code stop where it
    /// does (only their stopped models are kept).
    func fitBothRankings<Model: Sendable>(
        table: FeatureTable, exhaustiveLimit: Int, tally: CoverageTally? = nil,
        learn: @escaping @Sendable (RuleSearch, Bool, Int, Bool, @escaping @Sendable (Int, Int) -> Void) -> (exhaustive: Model?, stopped: Model),
        measure: (Model, Int, FeatureTable) -> (bits: Double, predictions: [Int], rules: Int)
    ) -> (exhaustive: Model?, stopped: Model) {
        let n = exampleCount
        // Four independent runs (ranking × pricing), the long one first. Each also spreads its own searches over
        // every thread (`bestRule`): the normalized, description-length-priced run takes most of the time
        // (hundreds of rules where the others stop after a few), and the threads left idle by the others join it.
        let tasks = [(run: 0, indexPriced: false), (run: 0, indexPriced: true), (run: 1, indexPriced: false), (run: 1, indexPriced: true)]
        let results = parallelMap(tasks, threads: parameters.threads) { [self] task -> (exhaustive: Model?, stopped: Model) in
            if task.indexPriced { return learn(self, task.run == 0, exhaustiveLimit, true) { _, _ in } }
            defer { tally?.update(run: task.run, covered: n, rules: nil) }
            return learn(self, task.run == 0, exhaustiveLimit, false) { covered, rules in
                tally?.update(run: task.run, covered: covered, rules: rules)
            }
        }
        return choose(
            [0, 1].map { run in (results[2 * run + 1].exhaustive, results[2 * run].stopped) }, table: table, measure: measure)
    }

    /// Of several runs' models: the stopped model with the shortest description of `table` (its bits plus the
    /// exception table of the examples it gets wrong; ties → the earlier run), and the exhaustive model with the
    /// fewest errors, then the fewest rules (ties → the earlier run). `measure` gives a model's bits for |Y|,
    /// its predictions on a table and its rule count.
    func choose<Model>(
        _ runs: [(exhaustive: Model?, stopped: Model)], table: FeatureTable,
        measure: (Model, Int, FeatureTable) -> (bits: Double, predictions: [Int], rules: Int)
    ) -> (exhaustive: Model?, stopped: Model) {
        func errors(_ predictions: [Int]) -> Int { zip(predictions, table.labels).filter { $0 != $1 }.count }
        var stopped = runs[0].stopped
        var stoppedBits = Double.infinity
        var exhaustive: Model?
        var exhaustiveKey = (Int.max, Int.max)
        for run in runs {
            let m = measure(run.stopped, outputCount, table)
            let total = m.bits + DescriptionLength.exceptions(errors(m.predictions), domainSize: domainSize, outputCount: outputCount)
            if total < stoppedBits - 1e-9 { (stopped, stoppedBits) = (run.stopped, total) }
            if let e = run.exhaustive {
                let me = measure(e, outputCount, table)
                let key = (errors(me.predictions), me.rules)
                if key < exhaustiveKey { (exhaustive, exhaustiveKey) = (e, key) }
            }
        }
        return (exhaustive, stopped)
    }
}

extension RuleSearch {
    /// An exception found by `bestException`: the sub-rule, the change in the list's training errors it makes
    /// (negative: fewer), and its bits (`Rule.bits` and 1 bit for its count).
    struct FoundException {
        var rule: Rule
        var errorChange: Int
        var bits: Double
    }

    /// The exception that most shortens a rule list's description for a rule about to be added: `members` are
    /// the examples the rule covers, `output` its class index; with the rule in, the list gets `errors` training
    /// examples wrong, has `rules` rules, and `carrying` of them have an exception. A candidate covers some of
    /// `members` and predicts the most common class among them other than `output`; it saves the exception-table
    /// bits (`exceptions`) of the errors it removes less those of the rule's examples it now gets wrong, and costs
    /// its own bits plus the bits of naming one more rule as carrying one (`RuleModel.exceptionBits`). `nil`
    /// unless the best saves bits. Searched as rules are (`bestRule`), among `members` alone, and not at all where
    /// even one fixing every member of their commonest class but `output` could not pay for the cheapest
    /// one-condition rule.
    /// - Precondition: `exceptions` does not decrease as the count grows (both pricings the covering runs use).
    /// - Complexity: as `bestRule` on |members| examples.
    func bestException(
        members: [Int32], output: Int, errors: Int, rules: Int, carrying: Int, exceptions: @escaping @Sendable (Int) -> Double
    ) -> FoundException? {
        let marking =
            RuleList.markingBits(rules: rules, carrying: carrying + 1) - RuleList.markingBits(rules: rules, carrying: carrying)
        let count = DescriptionLength.natural(0)
        let before = exceptions(errors)
        let reference = classCounts(members)
        // An exception fixes at most the members of the commonest class but `output` (the exception table's bits
        // only grow with its size) and costs at least a rule of one condition, the cheapest: where that cannot pay,
        // there is nothing to search.
        let most = reference.indices.reduce(0) { $1 == output ? $0 : max($0, reference[$1]) }
        let cheapest = Rule.conditionCountBits(1) + cheapestLiteralBits + DescriptionLength.choice(outputCount)
        guard most > 0, before - exceptions(max(errors - most, 0)) - (cheapest + count + marking) > 1e-9 else { return nil }
        var unused = Refusals()
        var refinements = Refinements()
        guard
            let found = bestRule(
                group: members, histograms: nil, refinements: &refinements, reference: reference, focus: output,
                imprecise: &unused,
                bound: parameters.skipsByBounds
                    ? Bound(normalized: false, largest: members.count, focusGap: nil) { h in before - exceptions(max(errors - h, 0)) - count - marking } : nil,
                score: { cover, second, bits, refined in
                    let (hits, label) = cover.best(excluding: output, secondClass: second)
                    guard hits > 0 else { return nil }
                    let cost = bits + count + marking
                    let gain = before - exceptions(max(errors + cover.focus - hits, 0)) - cost
                    let optimistic = before - exceptions(max(errors - hits, 0)) - (refined + count + marking)
                    return (gain, gain, optimistic, label, hits)
                }), found.gain > 1e-9
        else { return nil }
        let covered = found.members
        let wrong = covered.reduce(0) { $0 + (Int(classIndex[Int($1)]) == output ? 1 : 0) }
        let rule = Rule(
            conditions: found.literals.sorted().map(condition), output: classes[found.output],
            precision: Double(found.hits) / Double(covered.count), coverage: covered.count)
        return FoundException(rule: rule, errorChange: wrong - found.hits, bits: bits(found.literals) + count)
    }
}

/// The candidates in the order of `precedes` (a strict total order), taken one at a time: the first few by a scan
/// each, the rest from a heap built once that many were taken, so that a search that takes only the first few (the
/// usual case: the best candidate, a beam's few) orders none of the others, and one that takes more orders only
/// those it takes.
struct RankOrder: IteratorProtocol {
    private var rest: [Int]
    private let precedes: (Int, Int) -> Bool
    /// Scans before the rest is made a heap.
    private let scanLimit: Int
    private var scans = 0
    private var heap = false

    init(_ candidates: [Int], scanLimit: Int = 8, by precedes: @escaping (Int, Int) -> Bool) {
        rest = candidates
        self.scanLimit = scanLimit
        self.precedes = precedes
    }

    /// - Complexity: O(candidates) for each of the first `scanLimit` and to build the heap, then O(log candidates).
    mutating func next() -> Int? {
        guard !rest.isEmpty else { return nil }
        if !heap && scans < scanLimit {
            scans += 1
            var first = 0
            for k in rest.indices.dropFirst() where precedes(rest[k], rest[first]) { first = k }
            rest.swapAt(first, rest.count - 1)
            return rest.removeLast()
        }
        if !heap {
            // The first in the order at the root: each node precedes its children.
            for k in stride(from: rest.count / 2 - 1, through: 0, by: -1) { siftDown(k) }
            heap = true
        }
        rest.swapAt(0, rest.count - 1)
        let first = rest.removeLast()
        siftDown(0)
        return first
    }

    private mutating func siftDown(_ start: Int) {
        var k = start
        while true {
            let (left, right) = (2 * k + 1, 2 * k + 2)
            var top = k
            if left < rest.count && precedes(rest[left], rest[top]) { top = left }
            if right < rest.count && precedes(rest[right], rest[top]) { top = right }
            if top == k { return }
            rest.swapAt(k, top)
            k = top
        }
    }
}

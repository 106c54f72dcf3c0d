/// Every literal of one feature on a covering run's uncovered examples, as the first depth of each search scores
/// them (`RuleSearch.literals`): the examples of each class at or below each bin, and each literal's two largest
/// class counts, kept up to date as rules cover examples rather than counted again for every search.
///
/// Covering an example of class c lowers c's count in every literal holding it, and a literal's two largest counts
/// change only where c was one of them (a class below both stays below both as its count falls, ties included, for
/// a tie goes to the lower class either way): only those literals are stale, and they are counted again when read,
/// not before: until then their keys are bounds (no class has more than the stale first count, and none but its
/// class more than the stale second), which is all a search reads of a literal it passes over. Classes are numbered by slot
/// (`RuleSearch.Slots`, the run's `Histograms.slots`), and the two largest are those a scan of the slots in order
/// keeping the first strictly larger count finds, as `TopTwo` does (a slot without examples counts 0).
struct LiteralCounts: Sendable {
    let bins: Int
    /// Slots per row.
    let width: Int
    /// `below[j · width + s]`: the uncovered examples of slot s in bins 0...j; the last row is the group's counts.
    private var below: [Int32]
    /// Examples in each bin, and in bins 0...j.
    private var binTotals: [Int32]
    private var belowTotals: [Int32]
    /// The literals' keys, shared by the copies of these counts that a search reads (`forEach` counts a stale
    /// literal again where the search reads it; the covering run marks them stale as it removes examples).
    private let keys: Keys
    let equal: Bool

    /// Each literal's two largest counts as `TopTwo` keys (count in the high 32 bits, `UInt32.max − slot` in the
    /// low ones): `x <= cut j` and `x > cut j` for each of the `bins − 1` cuts, then `x = bin j` for each bin when
    /// `equal`; for `x = bin j` also the largest count the group has of a class outside the bin (the group's count of
    /// the slot less the bin's) and the slot of the first to reach it; and which are stale.
    ///
    /// A reference, so that reading counts the stale ones again in place. Safe to share: a covering run changes it
    /// only between searches, and within one search only the sweep of its own feature writes it (`forEach`) while
    /// nothing else reads it. Plain buffers (indices checked by the callers), read and written without the run-time
    /// exclusivity checks of a class's variables.
    private final class Keys: @unchecked Sendable {
        let first: UnsafeMutablePointer<Int>
        let second: UnsafeMutablePointer<Int>
        let rest: UnsafeMutablePointer<Int>
        let isStale: UnsafeMutablePointer<Bool>

        init(literals: Int, equalBins: Int) {
            first = .allocate(capacity: max(literals, 1))
            first.initialize(repeating: 0, count: max(literals, 1))
            second = .allocate(capacity: max(literals, 1))
            second.initialize(repeating: 0, count: max(literals, 1))
            rest = .allocate(capacity: max(equalBins, 1))
            rest.initialize(repeating: 0, count: max(equalBins, 1))
            isStale = .allocate(capacity: max(literals, 1))
            isStale.initialize(repeating: false, count: max(literals, 1))
        }

        deinit {
            first.deallocate()
            second.deallocate()
            rest.deallocate()
            isStale.deallocate()
        }
    }

    private static let slotMask = Int(UInt32.max)

    @inline(__always)
    private static func key(_ count: Int32, _ slot: Int) -> Int { Int(count) << 32 | (slotMask - slot) }

    @inline(__always)
    private static func slot(_ key: Int) -> Int { slotMask - key & slotMask }

    private var cuts: Int { bins - 1 }

    /// The counts of the examples of `group` whose bin and slot are `bin[i]` and `slotOf[class[i]]`.
    /// - Complexity: O(|group| + bins · width + literals · width)
    init(bins: Int, width: Int, equal: Bool, group: [Int32], bin: [Int32], classIndex: [Int32], slotOf: [Int32]) {
        self.bins = bins
        self.width = width
        self.equal = equal
        var below = [Int32](repeating: 0, count: bins * width)
        var binTotals = [Int32](repeating: 0, count: bins)
        for i in group {
            let b = Int(bin[Int(i)])
            below[b * width + Int(slotOf[Int(classIndex[Int(i)])])] += 1
            binTotals[b] += 1
        }
        for j in stride(from: 1, to: bins, by: 1) {
            for s in 0..<width { below[j * width + s] += below[(j - 1) * width + s] }
        }
        var running: Int32 = 0
        belowTotals = binTotals.map {
            running += $0
            return running
        }
        self.below = below
        self.binTotals = binTotals
        let literals = 2 * (bins - 1) + (equal ? bins : 0)
        keys = Keys(literals: literals, equalBins: equal ? bins : 0)
        for l in 0..<literals { recount(l) }
    }

    /// Counts the uncovered examples `covered` fewer (each given by its bin and slot), marking the literals whose
    /// keys this may change as stale (`forEach` counts those again where they are read).
    /// - Complexity: O(|covered| + the slots covered · bins)
    mutating func remove(_ covered: [(bin: Int32, slot: Int32)]) {
        guard !covered.isEmpty else { return }
        let (cuts, width, bins, equal) = (self.cuts, self.width, self.bins, self.equal)
        // By slot, then bin: each slot's examples once, lowest bin first.
        // (As one integer each, slot in the high half, so that a plain sort orders them.)
        let sorted = covered.map { Int($0.slot) << 32 | Int($0.bin) }.sorted().map { (bin: Int32(truncatingIfNeeded: $0), slot: Int32($0 >> 32)) }
        let (first, second, rest, isStale) = (keys.first, keys.second, keys.rest, keys.isStale)
        @inline(__always) func touch(_ l: Int, _ low: Int) {
            if first[l] & Self.slotMask == low || second[l] & Self.slotMask == low { isStale[l] = true }
        }
        below.withUnsafeMutableBufferPointer { below in
            belowTotals.withUnsafeMutableBufferPointer { totals in
                binTotals.withUnsafeMutableBufferPointer { binTotals in
                    var k = 0
                    while k < sorted.count {
                        let slot = Int(sorted[k].slot)
                        let low = Self.slotMask - slot
                        let lowest = Int(sorted[k].bin)
                        // The slot's examples gone at or below each bin, as the bins are passed.
                        var gone: Int32 = 0
                        var highest = lowest
                        for j in lowest..<bins {
                            while k < sorted.count && Int(sorted[k].slot) == slot && Int(sorted[k].bin) == j {
                                gone += 1
                                binTotals[j] -= 1
                                k += 1
                                highest = j
                                if equal { touch(2 * cuts + j, low) }
                            }
                            below[j * width + slot] -= gone
                            totals[j] -= gone
                        }
                        // `x <= cut j` holds one of them for j ≥ the lowest bin, `x > cut j` for j below the highest.
                        for j in lowest..<cuts { touch(2 * j, low) }
                        for j in 0..<min(highest, cuts) { touch(2 * j + 1, low) }
                        // A bin's rest is the group's count of a slot less the bin's: it falls for the other bins, so each
                        // bin whose rest this slot gives is stale.
                        if equal {
                            for j in 0..<bins where rest[j] & Self.slotMask == low { isStale[2 * cuts + j] = true }
                        }
                    }
                }
            }
        }
    }

    /// Whether literal l's keys are stale.
    @inline(__always)
    private func isStale(_ l: Int) -> Bool { keys.isStale[l] }

    /// Literal l's keys from the counts (no longer stale): the literal's count of every slot into a row of room, then
    /// its largest (the first slot holding it) and the largest of the others, as whole-row passes the compiler can
    /// vectorize.
    private func recount(_ l: Int) {
        let (cuts, width) = (self.cuts, self.width)
        keys.isStale[l] = false
        guard width > 0 else { return }  // no examples left: nothing is read
        var keys = (first: 0, second: 0, rest: 0)
        below.withUnsafeBufferPointer { below in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: width) { scratch in
                let group = below.baseAddress! + (bins - 1) * width
                let counts = scratch.baseAddress!
                if l < 2 * cuts {
                    let row = below.baseAddress! + (l / 2) * width
                    if l % 2 == 1 {
                        for s in 0..<width { counts[s] = group[s] &- row[s] }
                    } else {
                        for s in 0..<width { counts[s] = row[s] }
                    }
                } else {
                    let j = l - 2 * cuts
                    let row = below.baseAddress! + j * width
                    if j > 0 {
                        let previous = row - width
                        for s in 0..<width { counts[s] = row[s] &- previous[s] }
                    } else {
                        for s in 0..<width { counts[s] = row[s] }
                    }
                }
                @inline(__always) func largest() -> (count: Int32, slot: Int) {
                    var most = Int32.min
                    for s in 0..<width { most = max(most, counts[s]) }
                    var slot = 0
                    while counts[slot] != most { slot += 1 }
                    return (most, slot)
                }
                let first = largest()
                keys.first = Self.key(first.count, first.slot)
                if width == 1 {
                    keys.second = Self.key(-1, 0)  // one slot: no second class (`TopTwo`'s -1)
                } else {
                    counts[first.slot] = Int32.min
                    let second = largest()
                    keys.second = Self.key(second.count, second.slot)
                    counts[first.slot] = first.count
                }
                if l >= 2 * cuts {
                    for s in 0..<width { counts[s] = group[s] &- counts[s] }
                    let rest = largest()
                    keys.rest = Self.key(rest.count, rest.slot)
                }
            }
        }
        self.keys.first[l] = keys.first
        self.keys.second[l] = keys.second
        if l >= 2 * cuts { self.keys.rest[l - 2 * cuts] = keys.rest }
    }

    /// The uncovered examples, in all.
    private var groupSize: Int { Int(belowTotals[bins - 1]) }

    /// How many uncovered examples literal l (`RuleSearch.literalSlot`) covers; nil where `forEach` gives no such
    /// literal: it covers none or all of them, or (a cut) the same as the cut before it.
    private func total(_ l: Int) -> Int? {
        let groupSize = self.groupSize
        if l < 2 * cuts {
            let j = l / 2
            let running = Int(belowTotals[j])
            guard binTotals[j] != 0 || j == 0, running > 0, running < groupSize else { return nil }
            return l % 2 == 0 ? running : groupSize - running
        }
        let total = Int(binTotals[l - 2 * cuts])
        return total > 0 && total < groupSize ? total : nil
    }

    /// Literal l's (`RuleSearch.literalSlot`) coverage as `forEach` gives it: its size, its largest count and that
    /// class, and its second-largest count (0 when none) and that class (-1 when it has no examples); nil where
    /// `forEach` gives no such literal. Where the literal is stale, the counts are bounds: no class has more than
    /// `first`, and none but `firstClass` more than `second`.
    /// - Complexity: O(1)
    func coverage(_ l: Int, classes: [Int]) -> (total: Int, first: Int, firstClass: Int, second: Int, secondClass: Int)? {
        guard let total = total(l) else { return nil }
        let (first, second) = (keys.first[l], keys.second[l])
        let secondCount = max(second >> 32, 0)
        return (total, first >> 32, classes[Self.slot(first)], secondCount, secondCount > 0 ? classes[Self.slot(second)] : -1)
    }

    /// Every literal of the feature as `RuleSearch.literals` gives it on the uncovered examples with
    /// `keepsWholeGroup` off and nothing skipped: its cut or bin j and operation, its `Coverage` (`focus` counted, a
    /// class index) and the class of its second-largest count, in the same order. `classes` are the slots' classes.
    /// A stale literal is first shown to `admits` with its stale counts (bounds, as `coverage` gives them; its size
    /// and count of `focus` are exact): where it admits it, it is counted again (a cut's `<=` and `>` together, each
    /// being the other's `restMax`) and given to `body`; else it is passed over and stays stale.
    /// - Complexity: O(literals), and O(width) for each stale literal admitted.
    func forEach<State>(
        focus: Int, slotOf: [Int32], classes: [Int], into state: inout State,
        admits: (inout State, _ op: Int, _ index: Int, RuleSearch.Coverage) -> Bool,
        _ body: (inout State, _ op: Int, _ index: Int, RuleSearch.Coverage, Int) -> Void
    ) {
        let focusSlot = Int(slotOf[focus])
        let width = self.width
        let group = (bins - 1) * width
        let ownFocus = focusSlot < 0 ? 0 : Int(below[group + focusSlot])
        let groupSize = self.groupSize
        let keys = self.keys
        for j in 0..<cuts {
            guard let running = total(2 * j) else { continue }
            let focusCount = focusSlot < 0 ? 0 : Int(below[j * width + focusSlot])
            @inline(__always) func coverages() -> (le: RuleSearch.Coverage, gt: RuleSearch.Coverage) {
                let (leFirst, leSecond) = (keys.first[2 * j], keys.second[2 * j])
                let (gtFirst, gtSecond) = (keys.first[2 * j + 1], keys.second[2 * j + 1])
                return (
                    RuleSearch.Coverage(
                        total: running, first: leFirst >> 32, firstClass: classes[Self.slot(leFirst)], second: leSecond >> 32,
                        focus: focusCount, restMax: gtFirst >> 32),
                    RuleSearch.Coverage(
                        total: groupSize - running, first: gtFirst >> 32, firstClass: classes[Self.slot(gtFirst)],
                        second: gtSecond >> 32, focus: ownFocus - focusCount, restMax: leFirst >> 32)
                )
            }
            var (le, gt) = coverages()
            if isStale(2 * j) || isStale(2 * j + 1) {
                let (takesLE, takesGT) = (admits(&state, 0, j, le), admits(&state, 1, j, gt))
                guard takesLE || takesGT else { continue }
                if isStale(2 * j) { recount(2 * j) }
                if isStale(2 * j + 1) { recount(2 * j + 1) }
                (le, gt) = coverages()
            }
            body(&state, 0, j, le, classes[Self.slot(keys.second[2 * j])])
            body(&state, 1, j, gt, classes[Self.slot(keys.second[2 * j + 1])])
        }
        guard equal else { return }
        for j in 0..<bins {
            let l = 2 * cuts + j
            guard let total = total(l) else { continue }
            let focusCount = focusSlot < 0 ? 0 : Int(below[j * width + focusSlot] - (j > 0 ? below[(j - 1) * width + focusSlot] : 0))
            @inline(__always) func coverage() -> RuleSearch.Coverage {
                let (first, second) = (keys.first[l], keys.second[l])
                return RuleSearch.Coverage(
                    total: total, first: first >> 32, firstClass: classes[Self.slot(first)], second: second >> 32, focus: focusCount,
                    restMax: max(keys.rest[j] >> 32, 0))
            }
            var c = coverage()
            if isStale(l) {
                guard admits(&state, 2, j, c) else { continue }
                recount(l)
                c = coverage()
            }
            body(&state, 2, j, c, classes[Self.slot(keys.second[l])])
        }
    }
}

/// A feature's (bin, slot) counts as lists: bin b's pairs are `slots[start[b] ..< start[b + 1]]` with their
/// `counts`, each slot at most once in a bin. A count may be 0 (its examples have left the group): readers skip it.
struct BinPairs {
    let start: UnsafeBufferPointer<Int>
    let slots: UnsafeBufferPointer<Int32>
    let counts: UnsafeBufferPointer<Int32>
}

/// What scoring a feature's conditions reads of a group of examples: the classes (by slot, `RuleSearch.Slots`)
/// of its examples in each of the feature's bins.
protocol BinCounts {
    /// Calls `body` with the group's counts by bin and slot.
    func withPairs<R>(_ body: (BinPairs) -> R) -> R
}

/// Per-bin class counts of one feature over a group of examples, by slot, each bin's nonzero counts listed
/// together, so that scoring reads the (bin, class) pairs that occur in order rather than every bin against every
/// class; kept up to date as examples leave the group.
struct BinHistogram: BinCounts, Sendable {
    let bins: Int
    /// Slots per bin.
    let width: Int
    /// Bin b's pairs are `start[b] ..< start[b + 1]` of `slots` and `counts`, in the order their first examples came.
    private var start: [Int]
    private var slots: [Int32]
    /// Examples of each pair; 0 once they have all left the group.
    private var counts: [Int32]
    /// `position[bin · width + slot]`: the index of that pair plus 1, 0 when there is none.
    private var position: [Int32]
    /// Pairs whose count is 0.
    private var emptied = 0

    /// The histogram of `examples` examples whose bin and slot `example(i)` gives.
    /// - Complexity: O(bins · width + examples), the first a clearing of memory
    init(bins: Int, width: Int, examples: Int, _ example: (Int) -> (bin: Int, slot: Int)) {
        self.bins = bins
        self.width = width
        var position = [Int32](repeating: 0, count: bins * width)
        var start = [Int](repeating: 0, count: bins + 1)
        var slots: [Int32] = []
        var counts: [Int32] = []
        position.withUnsafeMutableBufferPointer { dense in
            // Counted in place; each pair's first example lists it, then the pairs are put in bin order (a counting
            // sort) and the place of each noted where its count was (cells without examples keep their 0).
            let touched = UnsafeMutablePointer<Int>.allocate(capacity: max(1, examples))
            defer { touched.deallocate() }
            var pairs = 0
            for i in 0..<examples {
                let (b, slot) = example(i)
                let cell = b * width + slot
                if dense[cell] == 0 {
                    touched[pairs] = cell
                    pairs += 1
                    start[b + 1] += 1
                }
                dense[cell] += 1
            }
            for b in 0..<bins { start[b + 1] += start[b] }
            slots = [Int32](repeating: 0, count: pairs)
            counts = [Int32](repeating: 0, count: pairs)
            var next = start
            slots.withUnsafeMutableBufferPointer { slots in
                counts.withUnsafeMutableBufferPointer { counts in
                    for t in 0..<pairs {
                        let cell = touched[t]
                        let b = cell / width
                        let p = next[b]
                        next[b] = p + 1
                        slots[p] = Int32(truncatingIfNeeded: cell - b * width)
                        counts[p] = dense[cell]
                        dense[cell] = Int32(truncatingIfNeeded: p + 1)
                    }
                }
            }
        }
        self.position = position
        self.start = start
        self.slots = slots
        self.counts = counts
    }

    /// Counts one example of `slot` in `bin` fewer; the pairs are listed again without the emptied ones once those
    /// are an eighth of them (every sweep reads them).
    /// - Precondition: that count is not zero.
    /// - Complexity: O(1), amortized
    @inline(__always)
    mutating func remove(bin: Int, slot: Int) {
        let p = Int(position[bin * width + slot]) - 1
        counts[p] -= 1
        if counts[p] == 0 {
            emptied += 1
            if emptied * 8 > counts.count { dropEmptied() }
        }
    }

    /// Lists the pairs again without those whose count is 0.
    /// - Complexity: O(pairs)
    private mutating func dropEmptied() {
        var kept = 0
        for b in 0..<bins {
            let (low, high) = (start[b], start[b + 1])
            start[b] = kept
            for p in low..<high {
                let i = b * width + Int(slots[p])
                if counts[p] == 0 {
                    position[i] = 0
                } else {
                    position[i] = Int32(truncatingIfNeeded: kept + 1)
                    (slots[kept], counts[kept]) = (slots[p], counts[p])
                    kept += 1
                }
            }
        }
        start[bins] = kept
        slots.removeLast(slots.count - kept)
        counts.removeLast(counts.count - kept)
        emptied = 0
    }

    func withPairs<R>(_ body: (BinPairs) -> R) -> R {
        start.withUnsafeBufferPointer { start in
            slots.withUnsafeBufferPointer { slots in
                counts.withUnsafeBufferPointer { counts in
                    body(BinPairs(start: start, slots: slots, counts: counts))
                }
            }
        }
    }
}

/// A group's examples sorted by their bin of one feature (a counting sort), each as its slot: for a group much
/// smaller than bins × slots, cheaper to build than a `BinHistogram`.
struct BinMembers: BinCounts {
    /// `slots[start[bin] ..< start[bin + 1]]`: the slots of the examples in `bin`.
    let start: [Int32]
    let slots: [Int32]
    /// Slots in all.
    let width: Int

    /// - Complexity: O(|group| + bins)
    init(bin: [Int32], bins: Int, width: Int, group: [Int32], slotOf: (Int32) -> Int32) {
        var start = [Int32](repeating: 0, count: bins + 1)
        for i in group { start[Int(bin[Int(i)]) + 1] += 1 }
        for b in 0..<bins { start[b + 1] += start[b] }
        var next = start
        var slots = [Int32](repeating: 0, count: group.count)
        for i in group {
            let b = Int(bin[Int(i)])
            slots[Int(next[b])] = slotOf(i)
            next[b] += 1
        }
        self.start = start
        self.slots = slots
        self.width = width
    }

    /// Each bin's slots, in the order of their first example, with their examples counted.
    /// - Complexity: O(|group| + bins + width)
    func withPairs<R>(_ body: (BinPairs) -> R) -> R {
        let bins = start.count - 1
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: bins + 1)
        let pairSlots = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * max(1, slots.count) + width)
        defer {
            offsets.deallocate()
            pairSlots.deallocate()
        }
        let counts = pairSlots + max(1, slots.count), tally = counts + max(1, slots.count)
        tally.initialize(repeating: 0, count: width)
        slots.withUnsafeBufferPointer { s in
            start.withUnsafeBufferPointer { start in
                var p = 0
                for b in 0..<bins {
                    offsets[b] = p
                    for i in Int(start[b])..<Int(start[b + 1]) {
                        let slot = Int(s[i])
                        if tally[slot] == 0 {
                            pairSlots[p] = Int32(truncatingIfNeeded: slot)
                            p += 1
                        }
                        tally[slot] &+= 1
                    }
                    for q in offsets[b]..<p {
                        let slot = Int(pairSlots[q])
                        counts[q] = tally[slot]
                        tally[slot] = 0
                    }
                }
                offsets[bins] = p
            }
        }
        return body(
            BinPairs(
                start: UnsafeBufferPointer(start: offsets, count: bins + 1),
                slots: UnsafeBufferPointer(start: pairSlots, count: slots.count),
                counts: UnsafeBufferPointer(start: counts, count: slots.count)))
    }
}

/// The two largest of a set of counts that only grow, with their slots; ties go to the lower slot, as a scan of
/// the slots in increasing order keeping the first strictly larger count would find. Starts with every count 0.
///
/// Each of the two is kept as one key, the count in the high 32 bits and `UInt32.max − slot` in the low ones, so
/// that the larger key is the one that ranks first and `raise` is three comparisons without branches: a sweep's
/// counts race each other closely, and branches on them are mispredicted.
struct TopTwo {
    private var firstKey: Int
    private var secondKey: Int

    private static let slotMask = Int(UInt32.max)

    @inline(__always)
    private static func key(_ count: Int, _ slot: Int) -> Int { count << 32 | (slotMask - slot) }

    var first: Int { firstKey >> 32 }
    var firstSlot: Int { Self.slotMask - firstKey & Self.slotMask }
    /// -1 (and the first's slot) when there is one slot.
    var second: Int { secondKey >> 32 }
    var secondSlot: Int { Self.slotMask - secondKey & Self.slotMask }

    /// Every count at 0, the two largest in `leading` (the second -1 when there is one slot with examples).
    init(_ leading: (Int, Int)) {
        firstKey = Self.key(0, leading.0)
        secondKey = leading.1 >= 0 ? Self.key(0, leading.1) : Self.key(-1, leading.0)
    }

    /// Slot `slot`'s count has grown to `count`.
    /// - Complexity: O(1)
    @inline(__always)
    mutating func raise(_ slot: Int, to count: Int) {
        // The slot's new key is above its old one. If it is the first's slot, the first grows and the second stays;
        // else the second becomes the larger of itself and the smaller of the first and the new key (the old
        // first when the new key passes it, the new key when it passes only the second, itself otherwise — the
        // second's own slot included, whose old key is below the new one).
        let key = Self.key(count, slot)
        let sameAsFirst = (firstKey ^ key) & Self.slotMask == 0
        secondKey = max(secondKey, sameAsFirst ? secondKey : min(firstKey, key))
        firstKey = max(firstKey, key)
    }
}

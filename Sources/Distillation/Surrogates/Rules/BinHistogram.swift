/// What scoring a feature's conditions reads of a group of examples: the classes (by slot, `RuleSearch.Slots`)
/// of its examples in each of the feature's bins.
protocol BinCounts {
    /// At least the number of (bin, slot) pairs holding examples.
    var pairBound: Int { get }
    /// Writes the (slot, count) pairs holding examples, bin by bin, each slot once in a bin: bin b's at
    /// `start[b] ..< start[b + 1]` of `slots` and `counts` (`pairBound` of each, and bins + 1 starts). `tally` is
    /// scratch of one zero per slot, left zero.
    func pairs(
        start: UnsafeMutablePointer<Int>, slots: UnsafeMutablePointer<Int32>, counts: UnsafeMutablePointer<Int32>,
        tally: UnsafeMutablePointer<Int32>)
}

/// Per-bin class counts of one feature over a group of examples, by slot, with a bitset of the slots each bin
/// holds, so that scoring walks only the (bin, class) pairs that occur rather than every bin against every
/// class; kept up to date as examples leave the group.
struct BinHistogram: BinCounts, Sendable {
    let bins: Int
    /// Slots per bin.
    let width: Int
    /// 64-bit words in each bin's bitset.
    let words: Int
    /// `counts[bin · width + slot]`: examples of that bin and slot.
    private(set) var counts: [Int32]
    /// Bit `slot % 64` of `occupied[bin · words + slot / 64]` is set when that count is not zero.
    private(set) var occupied: [UInt64]

    /// An empty histogram of `bins` bins and `width` slots.
    /// - Complexity: O(bins · width)
    init(bins: Int, width: Int) {
        self.bins = bins
        self.width = width
        words = (width + 63) / 64
        counts = [Int32](repeating: 0, count: bins * width)
        occupied = [UInt64](repeating: 0, count: bins * words)
    }

    /// Counts one more example of `slot` in `bin`.
    /// - Complexity: O(1)
    @inline(__always)
    mutating func add(bin: Int, slot: Int) {
        let i = bin * width + slot
        if counts[i] == 0 { occupied[bin * words + slot >> 6] |= 1 << UInt64(slot & 63) }
        counts[i] += 1
    }

    /// Counts one example of `slot` in `bin` fewer.
    /// - Precondition: that count is not zero.
    /// - Complexity: O(1)
    @inline(__always)
    mutating func remove(bin: Int, slot: Int) {
        let i = bin * width + slot
        counts[i] -= 1
        if counts[i] == 0 { occupied[bin * words + slot >> 6] &= ~(1 << UInt64(slot & 63)) }
    }

    /// The nonzero counts.
    /// - Complexity: O(bins · words)
    var pairBound: Int { occupied.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Each bin's nonzero counts, slots increasing.
    /// - Complexity: O(bins · words + nonzero counts)
    func pairs(
        start: UnsafeMutablePointer<Int>, slots: UnsafeMutablePointer<Int32>, counts out: UnsafeMutablePointer<Int32>,
        tally: UnsafeMutablePointer<Int32>
    ) {
        counts.withUnsafeBufferPointer { h in
            occupied.withUnsafeBufferPointer { bits in
                var p = 0
                for b in 0..<bins {
                    start[b] = p
                    let row = b * width
                    for w in 0..<words {
                        var word = bits[b * words + w]
                        while word != 0 {
                            let slot = w << 6 | word.trailingZeroBitCount
                            word &= word - 1
                            slots[p] = Int32(truncatingIfNeeded: slot)
                            out[p] = h[row + slot]
                            p += 1
                        }
                    }
                }
                start[bins] = p
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

    /// - Complexity: O(|group| + bins)
    init(bin: [Int32], bins: Int, group: [Int32], slotOf: (Int32) -> Int32) {
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
    }

    /// The examples.
    var pairBound: Int { slots.count }

    /// Each bin's slots, in the order of their first example, with their examples counted.
    /// - Complexity: O(|group| + bins)
    func pairs(
        start out: UnsafeMutablePointer<Int>, slots outSlots: UnsafeMutablePointer<Int32>, counts: UnsafeMutablePointer<Int32>,
        tally: UnsafeMutablePointer<Int32>
    ) {
        let bins = start.count - 1
        slots.withUnsafeBufferPointer { s in
            start.withUnsafeBufferPointer { start in
                var p = 0
                for b in 0..<bins {
                    out[b] = p
                    for i in Int(start[b])..<Int(start[b + 1]) {
                        let slot = Int(s[i])
                        if tally[slot] == 0 {
                            outSlots[p] = Int32(truncatingIfNeeded: slot)
                            p += 1
                        }
                        tally[slot] &+= 1
                    }
                    for q in out[b]..<p {
                        let slot = Int(outSlots[q])
                        counts[q] = tally[slot]
                        tally[slot] = 0
                    }
                }
                out[bins] = p
            }
        }
    }
}

/// The two largest of a set of counts that only grow, with their slots; ties go to the lower slot, as a scan of
/// the slots in increasing order keeping the first strictly larger count would find. Starts with every count 0.
struct TopTwo {
    var first: Int
    var firstSlot: Int
    /// -1 (and slot 0) when there is one slot.
    var second: Int
    var secondSlot: Int

    /// Every count at 0, the two largest in `leading` (the second -1 when there is one slot with examples).
    init(_ leading: (Int, Int)) {
        (first, firstSlot) = (0, leading.0)
        (second, secondSlot) = leading.1 >= 0 ? (0, leading.1) : (-1, leading.0)
    }

    /// Slot `slot`'s count has grown to `count`.
    /// - Complexity: O(1)
    @inline(__always)
    mutating func raise(_ slot: Int, to count: Int) {
        // Below the second, the slot is neither of the two (whose counts only grow) and stays below both: the usual
        // case once a sweep is under way, decided by one comparison.
        if count < second { return }
        if slot == firstSlot {
            first = count
        } else if slot == secondSlot {
            second = count
            if count > first || (count == first && slot < firstSlot) {
                (first, firstSlot, second, secondSlot) = (second, secondSlot, first, firstSlot)
            }
        } else if count > first || (count == first && slot < firstSlot) {
            (second, secondSlot, first, firstSlot) = (first, firstSlot, count, slot)
        } else if count > second || (count == second && slot < secondSlot) {
            (second, secondSlot) = (count, slot)
        }
    }
}

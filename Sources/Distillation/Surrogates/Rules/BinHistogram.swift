/// What scoring a feature's conditions reads of a group of examples: the classes (by slot, `RuleSearch.Slots`)
/// of its examples in each of the feature's bins.
protocol BinCounts {
    /// Calls `body(slot, count)` for slots with examples in `bin`: each such slot once or more, the counts adding
    /// up to the bin's examples of that slot.
    func forEach(inBin bin: Int, _ body: (Int, Int) -> Void)
}

/// Per-bin class counts of one feature over a group of examples, by slot, with a bitset of the slots each bin
/// holds, so that scoring walks only the (bin, class) pairs that occur rather than every bin against every
/// class; kept up to date as examples leave the group.
struct BinHistogram: BinCounts, Sendable {
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

    /// Calls `body(slot, count)` for every slot with a nonzero count in `bin`, slots increasing.
    /// - Complexity: O(words + slots it holds)
    @inline(__always)
    func forEach(inBin bin: Int, _ body: (Int, Int) -> Void) {
        counts.withUnsafeBufferPointer { h in
            occupied.withUnsafeBufferPointer { bits in
                let row = bin * width
                for w in 0..<words {
                    var word = bits[bin * words + w]
                    while word != 0 {
                        let slot = w << 6 | word.trailingZeroBitCount
                        word &= word - 1
                        body(slot, Int(h[row + slot]))
                    }
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

    /// Each example of `bin` as (its slot, 1).
    @inline(__always)
    func forEach(inBin bin: Int, _ body: (Int, Int) -> Void) {
        slots.withUnsafeBufferPointer { s in
            for i in Int(start[bin])..<Int(start[bin + 1]) { body(Int(s[i]), 1) }
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

/// A BPE vocabulary's merges: for an adjacent pair of ids, its rank (lower merges first) and the id of
/// the merged token.
struct MergeTable: Sendable {
    /// `left << 32 | right` → `rank << 32 | merged`.
    private var entries: [UInt64: UInt64] = [:]

    /// Words up to this many symbols are merged by rescanning all pairs; longer ones through a heap.
    static let scanLimit = 24

    init(minimumCapacity: Int) { entries.reserveCapacity(minimumCapacity) }

    /// The number of distinct pairs.
    var count: Int { entries.count }

    /// Records that `left right` merges into `merged` at `rank`; a pair listed twice keeps its later
    /// rank, as in `tokenizers`.
    mutating func insert(left: Int32, right: Int32, rank: Int32, merged: Int32) {
        entries[Self.key(left, right)] = UInt64(UInt32(rank)) << 32 | UInt64(UInt32(merged))
    }

    /// The rank and merged id of `left right`, or nil when the pair does not merge.
    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
        guard let value = entries[Self.key(left, right)] else { return nil }
        return (Int32(truncatingIfNeeded: value >> 32), Int32(truncatingIfNeeded: value))
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Merges `symbols` in place until no adjacent pair merges: always the pair of lowest rank, the
    /// leftmost of equal ones — the order of `tokenizers`' `Word::merge_all`.
    /// - Complexity: O(n²) for words up to `scanLimit` symbols, O(n log n) beyond.
    func apply(to symbols: inout [Int32]) {
        if symbols.count <= Self.scanLimit { applyByScanning(to: &symbols) } else { applyByHeap(to: &symbols) }
    }

    /// The merge loop for short words: find the lowest-ranked pair, merge it, repeat.
    func applyByScanning(to symbols: inout [Int32]) {
        while symbols.count > 1 {
            var best = -1
            var bestRank = Int32.max
            var bestMerged: Int32 = 0
            for i in 0..<(symbols.count - 1) {
                if let m = merge(symbols[i], symbols[i + 1]), m.rank < bestRank {
                    best = i
                    bestRank = m.rank
                    bestMerged = m.merged
                }
            }
            if best < 0 { return }
            symbols[best] = bestMerged
            symbols.remove(at: best + 1)
        }
    }

    /// The merge loop for long words: candidate merges in a min-heap keyed by (rank, position) over a
    /// linked list of symbols; a popped candidate is applied only if its pair is still there.
    func applyByHeap(to symbols: inout [Int32]) {
        let n = symbols.count
        guard n > 1 else { return }
        var next = [Int32](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = Int32(i + 1) }
            count = n
        }
        var previous = [Int32](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = Int32(i - 1) }
            count = n
        }
        var heap = MinHeap()
        heap.reserve(n)
        for i in 0..<(n - 1) {
            if let m = merge(symbols[i], symbols[i + 1]) { heap.push(rank: m.rank, position: Int32(i)) }
        }
        while let top = heap.pop() {
            let (rank, position) = top
            let p = Int(position)
            let q = Int(next[p])
            guard symbols[p] >= 0, q < n, let current = merge(symbols[p], symbols[q]), current.rank == rank else { continue }
            let merged = current.merged
            symbols[p] = merged
            symbols[q] = -1
            next[p] = next[q]
            if Int(next[q]) < n { previous[Int(next[q])] = position }
            let before = Int(previous[p])
            if before >= 0, let m = merge(symbols[before], merged) { heap.push(rank: m.rank, position: Int32(before)) }
            let after = Int(next[p])
            if after < n, let m = merge(merged, symbols[after]) { heap.push(rank: m.rank, position: position) }
        }
        symbols.removeAll { $0 < 0 }
    }
}

/// A binary min-heap of (rank, position) packed into one `UInt64`, so ties in rank go to the leftmost.
private struct MinHeap {
    private var items: [UInt64] = []

    mutating func reserve(_ capacity: Int) { items.reserveCapacity(capacity) }

    mutating func push(rank: Int32, position: Int32) {
        items.append(UInt64(UInt32(rank)) << 32 | UInt64(UInt32(position)))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> (rank: Int32, position: Int32)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                if left >= items.count { break }
                let right = left + 1
                let child = right < items.count && items[right] < items[left] ? right : left
                if items[parent] <= items[child] { break }
                items.swapAt(parent, child)
                parent = child
            }
        }
        return (Int32(truncatingIfNeeded: top >> 32), Int32(truncatingIfNeeded: top))
    }
}

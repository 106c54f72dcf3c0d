/// The expressions the search keeps, with their values on every example, and a hash set of those value
/// vectors for observational equivalence.
///
/// Values are Int32, stored in blocks that never move (so pointers to kept vectors stay valid while the
/// bank grows); a candidate is evaluated straight into the next free slot (`scratch`) and kept by `commit`.
/// The hash set is open-addressed on a 64-bit hash of the vector, with a full comparison on a hash match.
final class CandidateBank {
    let exampleCount: Int
    private(set) var nodes: [SearchCandidate] = []
    private var blocks: [UnsafeMutablePointer<Int32>] = []
    private let vectorsPerBlock: Int
    private var slots: [Int32]
    private var slotHashes: [UInt64]
    private var mask: Int

    init(exampleCount: Int) {
        self.exampleCount = exampleCount
        vectorsPerBlock = max(1, (4 << 20) / max(1, exampleCount * MemoryLayout<Int32>.stride))
        slots = [Int32](repeating: -1, count: 1024)
        slotHashes = [UInt64](repeating: 0, count: 1024)
        mask = 1023
    }

    deinit {
        for block in blocks { block.deallocate() }
    }

    var count: Int { nodes.count }

    /// The values of kept candidate `id`.
    /// - Complexity: O(1)
    @inline(__always)
    func values(_ id: Int) -> UnsafeMutablePointer<Int32> {
        blocks[id / vectorsPerBlock] + (id % vectorsPerBlock) * exampleCount
    }

    /// The slot the next kept candidate's values go to.
    /// - Complexity: O(1) amortised (allocates a block when the last is full).
    var scratch: UnsafeMutablePointer<Int32> {
        if nodes.count == blocks.count * vectorsPerBlock {
            blocks.append(.allocate(capacity: vectorsPerBlock * max(1, exampleCount)))
        }
        return values(nodes.count)
    }

    /// The id of a kept candidate whose values equal the scratch slot's (with hash `hash`), or nil.
    /// - Complexity: O(examples) per hash match, O(1) expected otherwise.
    func lookup(hash: UInt64) -> Int? {
        let vector = scratch
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 {
            let id = Int(slots[slot])
            if slotHashes[slot] == hash, Self.equal(values(id), vector, exampleCount) { return id }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Keeps the scratch slot's values as a new candidate `node` with hash `hash`; returns its id.
    /// - Complexity: O(examples) to classify the vector as constant; O(1) amortised otherwise.
    @discardableResult
    func commit(_ node: SearchCandidate, hash: UInt64) -> Int {
        let vector = scratch
        var node = node
        node.isConstant = Self.isConstant(vector, exampleCount)
        let id = nodes.count
        nodes.append(node)
        if 2 * nodes.count > slots.count { rehash(capacity: slots.count * 2) }
        insert(id: id, hash: hash)
        return id
    }

    /// Replaces the description of kept candidate `id` (same values, a cheaper expression).
    func replace(_ id: Int, with node: SearchCandidate) {
        let isConstant = nodes[id].isConstant
        nodes[id] = node
        nodes[id].isConstant = isConstant
    }

    private func insert(id: Int, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(id)
        slotHashes[slot] = hash
    }

    private func rehash(capacity: Int) {
        let oldSlots = slots
        let oldHashes = slotHashes
        slots = [Int32](repeating: -1, count: capacity)
        slotHashes = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
        for (slot, id) in oldSlots.enumerated() where id >= 0 { insert(id: Int(id), hash: oldHashes[slot]) }
    }

    private static func equal(_ a: UnsafePointer<Int32>, _ b: UnsafePointer<Int32>, _ count: Int) -> Bool {
        var difference: Int32 = 0
        var start = 0
        while start < count {
            let end = min(start + 256, count)
            for i in start..<end { difference |= a[i] ^ b[i] }
            if difference != 0 { return false }
            start = end
        }
        return true
    }

    private static func isConstant(_ a: UnsafePointer<Int32>, _ count: Int) -> Bool {
        guard count > 0 else { return true }
        let first = a[0]
        var difference: Int32 = 0
        for i in 0..<count { difference |= a[i] ^ first }
        return difference == 0
    }

    /// A 64-bit hash of a value vector: four independent multiply-xor lanes, then a final mix.
    /// - Complexity: O(count)
    static func hash(_ a: UnsafePointer<Int32>, _ count: Int) -> UInt64 {
        let k: UInt64 = 0x9E37_79B9_7F4A_7C15
        var h0: UInt64 = 0x243F_6A88_85A3_08D3
        var h1: UInt64 = 0x1319_8A2E_0370_7344
        var h2: UInt64 = 0xA409_3822_299F_31D0
        var h3: UInt64 = 0x082E_FA98_EC4E_6C89
        var i = 0
        while i + 4 <= count {
            h0 = (h0 ^ UInt64(UInt32(bitPattern: a[i]))) &* k
            h1 = (h1 ^ UInt64(UInt32(bitPattern: a[i + 1]))) &* k
            h2 = (h2 ^ UInt64(UInt32(bitPattern: a[i + 2]))) &* k
            h3 = (h3 ^ UInt64(UInt32(bitPattern: a[i + 3]))) &* k
            i += 4
        }
        while i < count {
            h0 = (h0 ^ UInt64(UInt32(bitPattern: a[i]))) &* k
            i += 1
        }
        var h = h0 ^ ((h1 << 17) | (h1 >> 47)) ^ ((h2 << 31) | (h2 >> 33)) ^ ((h3 << 47) | (h3 >> 17))
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
}

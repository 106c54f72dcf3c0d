/// A set of training examples as a bitset, for counting rule coverage with AND and popcount.
struct ExampleSet: Sendable, Hashable {
    private(set) var words: [UInt64]
    let count: Int

    /// The empty set over `count` examples, or the full one.
    init(count: Int, full: Bool = false) {
        self.count = count
        words = [UInt64](repeating: full ? ~0 : 0, count: (count + 63) / 64)
        if full && count % 64 != 0 { words[words.count - 1] = (1 << UInt64(count % 64)) - 1 }
    }

    /// The examples `i` for which `member(i)` holds.
    init(count: Int, where member: (Int) -> Bool) {
        self.init(count: count)
        for i in 0..<count where member(i) { words[i >> 6] |= 1 << UInt64(i & 63) }
    }

    func contains(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }

    /// The number of members.
    /// - Complexity: O(n/64)
    var cardinality: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    func intersection(_ other: ExampleSet) -> ExampleSet {
        var result = self
        for k in words.indices { result.words[k] &= other.words[k] }
        return result
    }

    func subtracting(_ other: ExampleSet) -> ExampleSet {
        var result = self
        for k in words.indices { result.words[k] &= ~other.words[k] }
        return result
    }

    func union(_ other: ExampleSet) -> ExampleSet {
        var result = self
        for k in words.indices { result.words[k] |= other.words[k] }
        return result
    }

    /// `|self ∩ other|`.
    /// - Complexity: O(n/64)
    func intersectionCount(_ other: ExampleSet) -> Int {
        var total = 0
        for k in words.indices { total += (words[k] & other.words[k]).nonzeroBitCount }
        return total
    }

    /// `|self ∩ a|` and `|self ∩ a ∩ b|` in one pass; `complement` takes `a` as its complement.
    /// - Complexity: O(n/64)
    func intersectionCounts(_ a: ExampleSet, complement: Bool, _ b: ExampleSet) -> (total: Int, inBoth: Int) {
        var total = 0
        var both = 0
        let flip: UInt64 = complement ? ~0 : 0
        for k in words.indices {
            let covered = words[k] & (a.words[k] ^ flip)
            total += covered.nonzeroBitCount
            both += (covered & b.words[k]).nonzeroBitCount
        }
        return (total, both)
    }

    /// The members, increasing.
    func forEach(_ body: (Int) -> Void) {
        for k in words.indices {
            var word = words[k]
            while word != 0 {
                body(k << 6 | word.trailingZeroBitCount)
                word &= word - 1
            }
        }
    }
}

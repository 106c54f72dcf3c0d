/// Every literal's class counts over all the examples (not a covering run's group), for the rule set's check that a
/// rule predicts the most common class of every example it covers: what one literal covers of all the examples never
/// changes as rules cover some, so for a rule of one condition the check is a lookup rather than a pass over them.
struct LiteralPluralities: Sendable {
    private let classCount: Int
    /// Per feature: `below[j · classCount + c]`, the examples of class c in bins 0...j (the last row: every example).
    private let below: [[Int32]]
    /// Per feature and `RuleSearch.literalSlot`: the literal's largest class count.
    private let largest: [[Int32]]
    private let cuts: [Int]
    /// The examples of each class.
    let totals: [Int32]

    /// - Complexity: O(n · F + literals · classes)
    init(_ search: RuleSearch) {
        let k = search.classCount
        classCount = k
        cuts = search.cuts.map(\.count)
        var below: [[Int32]] = []
        var largest: [[Int32]] = []
        for f in search.bin.indices {
            let bins = search.cuts[f].count + 1
            var rows = [Int32](repeating: 0, count: bins * k)
            for (b, c) in zip(search.bin[f], search.classIndex) { rows[Int(b) * k + Int(c)] += 1 }
            for j in stride(from: 1, to: bins, by: 1) {
                for c in 0..<k { rows[j * k + c] += rows[(j - 1) * k + c] }
            }
            let values = search.equalValues[f]?.count ?? 0
            let literals = (0..<(bins - 1)).flatMap { j in [(0, j), (1, j)] } + (0..<values).map { (2, $0) }
            largest.append(
                literals.map { op, j in
                    (0..<k).reduce(0) { max($0, Self.count(rows, classes: k, cuts: bins - 1, op: op, index: j, class: $1)) }
                })
            below.append(rows)
        }
        self.below = below
        self.largest = largest
        totals = search.classCounts((0..<search.exampleCount).map { Int32($0) }).map { Int32($0) }
    }

    /// How many examples of class index `c` satisfy `literal`.
    func count(_ literal: RuleSearch.Literal, _ c: Int) -> Int32 {
        Self.count(
            below[literal.feature], classes: classCount, cuts: cuts[literal.feature], op: literal.op, index: literal.index, class: c)
    }

    /// How many examples of each class index satisfy `literal`.
    /// - Complexity: O(classes)
    func counts(_ literal: RuleSearch.Literal) -> [Int32] {
        (0..<classCount).map { count(literal, $0) }
    }

    /// The examples of class `c` satisfying the literal (`op`, `index`) of a feature whose cumulative counts are `rows`.
    private static func count(_ rows: [Int32], classes k: Int, cuts: Int, op: Int, index j: Int, class c: Int) -> Int32 {
        switch op {
        case 0: return rows[j * k + c]
        case 1: return rows[cuts * k + c] - rows[j * k + c]
        default: return rows[j * k + c] - (j > 0 ? rows[(j - 1) * k + c] : 0)
        }
    }

    /// Whether no class is more common than class index `target` among the examples that satisfy `literal` and a
    /// conjunction whose class counts over every example are `within`, where the literal's counts tell: a class
    /// has at most its count among either, and at least what its count among the literal's exceeds its examples
    /// outside the conjunction's. Nil where these bounds leave it open.
    /// - Complexity: O(classes)
    func isPlurality(_ target: Int, _ literal: RuleSearch.Literal, within: [Int32]) -> Bool? {
        var (mostAtLeast, mostAtMost): (Int32, Int32) = (0, 0)  // over the classes but `target`
        var (targetAtLeast, targetAtMost): (Int32, Int32) = (0, 0)
        for c in 0..<classCount {
            let count = count(literal, c), outside = totals[c] - within[c]
            let (atLeast, atMost) = (max(0, count - outside), min(count, within[c]))
            if c == target {
                (targetAtLeast, targetAtMost) = (atLeast, atMost)
            } else {
                mostAtLeast = max(mostAtLeast, atLeast)
                mostAtMost = max(mostAtMost, atMost)
            }
        }
        if mostAtLeast > targetAtMost { return false }
        if targetAtLeast >= mostAtMost { return true }
        return nil
    }

    /// Whether no class is more common than class index `target` among the examples satisfying `literal`
    /// (`RuleSearch.isPlurality(_:among:satisfying:)` over every example).
    /// - Complexity: O(1)
    func isPlurality(_ target: Int, _ literal: RuleSearch.Literal) -> Bool {
        count(literal, target) == largest[literal.feature][RuleSearch.literalSlot(op: literal.op, index: literal.index, cuts: cuts[literal.feature])]
    }
}

/// The training examples prepared for rule search: candidate thresholds per feature with the bitset of
/// examples at or below each, the class bitsets, and the beam search that grows conjunctions of them.
struct RuleSearch {
    let exampleCount: Int
    let featureKinds: [FeatureKind]
    /// The distinct labels, increasing; rules predict `classes[target]`.
    let classes: [Int]
    /// Each example's class index.
    let classIndex: [Int32]
    /// The examples of each class.
    let classMembers: [ExampleSet]
    /// Candidate thresholds of each feature, increasing.
    let thresholds: [[Double]]
    /// `atMost[f][k]`: the examples with `x[f] <= thresholds[f][k]`.
    let atMost: [[ExampleSet]]
    let parameters: RuleParameters
    /// |Y| and |D| of the description length.
    let outputCount: Int
    let domainSize: Int

    /// One condition as an index into the candidate thresholds.
    struct Literal: Hashable, Comparable {
        var feature: Int
        var threshold: Int
        var greater: Bool

        static func < (a: Literal, b: Literal) -> Bool {
            (a.feature, a.threshold, a.greater ? 1 : 0) < (b.feature, b.threshold, b.greater ? 1 : 0)
        }
    }

    /// A conjunction found by the beam, with its coverage of the pool it was searched on.
    struct Candidate {
        var literals: [Literal]
        var target: Int
        var covered: ExampleSet
        var total: Int
        var positives: Int
        var laplace: Double
    }

    /// - Precondition: at least one example; finite feature values.
    /// - Complexity: O(n log n · F + n · F · maxThresholds / 64) words.
    init(table: FeatureTable, parameters: RuleParameters) {
        precondition(table.rowCount > 0, "rules need at least one example")
        let n = table.rowCount
        exampleCount = n
        featureKinds = FeatureKind.of(table)
        let (classes, indices) = DecisionTree.classIndices(table.labels)
        self.classes = classes
        classIndex = indices
        classMembers = classes.indices.map { c in ExampleSet(count: n) { indices[$0] == Int32(c) } }
        var thresholds: [[Double]] = []
        var atMost: [[ExampleSet]] = []
        for column in table.columns {
            precondition(column.allSatisfy(\.isFinite), "feature values must be finite")
            let chosen = Self.candidateThresholds(column, limit: parameters.maxThresholds)
            thresholds.append(chosen)
            atMost.append(chosen.map { t in ExampleSet(count: n) { column[$0] <= t } })
        }
        self.thresholds = thresholds
        self.atMost = atMost
        self.parameters = parameters
        outputCount = parameters.outputCount ?? classes.count
        domainSize = parameters.domainSize ?? n
    }

    /// Midpoints between consecutive distinct values (as the tree's thresholds), thinned to `limit` at the
    /// boundaries nearest to evenly spaced example quantiles.
    static func candidateThresholds(_ column: [Double], limit: Int) -> [Double] {
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
        guard boundaries > 0 else { return [] }
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
        return chosen.map { SplitSearch.threshold(distinct[$0], distinct[$0 + 1]) }
    }

    func condition(_ literal: Literal) -> Condition {
        Condition(
            feature: literal.feature, literal.greater ? .greater : .lessOrEqual, thresholds[literal.feature][literal.threshold])
    }

    /// The examples of the whole training set that satisfy every literal.
    func covered(by literals: [Literal]) -> ExampleSet {
        var set = ExampleSet(count: exampleCount, full: true)
        for literal in literals {
            let bound = atMost[literal.feature][literal.threshold]
            set = literal.greater ? set.subtracting(bound) : set.intersection(bound)
        }
        return set
    }

    /// Examples per class in `set`.
    func classCounts(_ set: ExampleSet) -> [Int] {
        classMembers.map { set.intersectionCount($0) }
    }

    /// Bits of a rule with these literals (`Rule.bits`).
    func bits(_ literals: [Literal]) -> Double {
        DescriptionLength.natural(literals.count)
            + literals.reduce(0) { $0 + condition($1).bits(featureKinds: featureKinds) }
            + DescriptionLength.choice(outputCount)
    }

    /// Bits of one exception: `log₂|D| + log₂|Y|`.
    var exceptionBits: Double { DescriptionLength.choice(domainSize) + DescriptionLength.choice(outputCount) }

    /// Bits of a list or set of `ruleCount` rules whose own bits sum to `ruleBits`, with a default, and an
    /// exception table of `errors` examples.
    func totalBits(ruleCount: Int, ruleBits: Double, errors: Int) -> Double {
        DescriptionLength.natural(ruleCount) + ruleBits + DescriptionLength.choice(outputCount)
            + DescriptionLength.exceptions(errors, domainSize: domainSize, outputCount: outputCount)
    }

    /// Beam search for rules predicting class `target` over `pool`, whose members in `positives` count as
    /// hits: refine every beam member by one more literal, rank by Laplace precision
    /// `(hits + 1) / (covered + laplaceClasses)` (then hits, then literals), keep `beamWidth` distinct
    /// coverages. Returns every beam member of every depth.
    /// - Complexity: O(depth · beam · F · thresholds · n/64)
    func beam(target: Int, pool: ExampleSet, positives: ExampleSet, laplaceClasses: Int) -> [Candidate] {
        var beam = [
            Candidate(
                literals: [], target: target, covered: pool, total: pool.cardinality, positives: positives.cardinality, laplace: 0
            )
        ]
        var found: [Candidate] = []
        for _ in 0..<parameters.maxConditions {
            var refinements: [(literals: [Literal], parent: Int, total: Int, positives: Int, laplace: Double)] = []
            for (p, rule) in beam.enumerated() {
                for f in thresholds.indices {
                    for k in thresholds[f].indices {
                        for greater in [false, true] {
                            if rule.literals.contains(where: { $0.feature == f && $0.greater == greater }) { continue }
                            let (total, hits) = rule.covered.intersectionCounts(atMost[f][k], complement: greater, positives)
                            guard hits > 0, total >= parameters.minCoverage, total < rule.total else { continue }
                            let literals = (rule.literals + [Literal(feature: f, threshold: k, greater: greater)]).sorted()
                            let laplace = Double(hits + 1) / Double(total + laplaceClasses)
                            refinements.append((literals, p, total, hits, laplace))
                        }
                    }
                }
            }
            refinements.sort { a, b in
                if a.laplace != b.laplace { return a.laplace > b.laplace }
                if a.positives != b.positives { return a.positives > b.positives }
                return a.literals.lexicographicallyPrecedes(b.literals)
            }
            var next: [Candidate] = []
            var seenLiterals = Set<[Literal]>()
            var seenCoverage = Set<ExampleSet>()
            for r in refinements where next.count < parameters.beamWidth {
                guard seenLiterals.insert(r.literals).inserted else { continue }
                let last = r.literals.first { !beam[r.parent].literals.contains($0) }!
                let bound = atMost[last.feature][last.threshold]
                let parent = beam[r.parent].covered
                let covered = last.greater ? parent.subtracting(bound) : parent.intersection(bound)
                guard seenCoverage.insert(covered).inserted else { continue }
                next.append(
                    Candidate(
                        literals: r.literals, target: target, covered: covered, total: r.total, positives: r.positives,
                        laplace: r.laplace))
            }
            if next.isEmpty { break }
            found += next
            beam = next
        }
        return found
    }
}

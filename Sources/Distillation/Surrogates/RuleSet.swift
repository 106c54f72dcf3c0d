import WeightFiles

/// Unordered rules per class: of the rules whose conditions hold, the one with the highest training
/// precision gives the output (ties → the earlier rule); the default class otherwise.
///
/// The default is the most frequent training label (ties → the smallest) and gets no rules. Every other class,
/// in increasing order, is covered one-vs-rest: a beam search (`RuleParameters`) proposes conjunctions that
/// hit its examples not yet covered while missing other classes', the one giving the shortest total
/// description length of the whole set (its bits plus the exception table of the training examples it then
/// gets wrong) is added, until none shortens it (or, with `stopsOnDescriptionLength` off, until the class
/// is covered) or `maxRules`.
public struct RuleSet: RuleModel {
    /// The rules, grouped by class in learning order.
    public let rules: [Rule]
    /// The output when no rule matches.
    public let defaultOutput: Int
    public let featureKinds: [FeatureKind]
    /// The distinct training labels, increasing.
    public let classes: [Int]

    /// A set from its parts.
    /// - Precondition: every condition's feature is below `featureKinds.count`.
    /// - Complexity: O(total conditions)
    public init(rules: [Rule], defaultOutput: Int, featureKinds: [FeatureKind], classes: [Int]) {
        precondition(rules.allSatisfy { $0.conditions.allSatisfy { featureKinds.indices.contains($0.feature) } })
        self.rules = rules
        self.defaultOutput = defaultOutput
        self.featureKinds = featureKinds
        self.classes = classes
    }

    /// Learns a rule set for `table`'s labels.
    /// - Precondition: at least one example; finite feature values.
    /// - Complexity: O(rules · maxConditions · beamWidth · F · maxThresholds · n/64 + rules · beam · n)
    public static func fit(_ table: FeatureTable, parameters: RuleParameters = RuleParameters()) -> RuleSet {
        let search = RuleSearch(table: table, parameters: parameters)
        let n = search.exampleCount
        let all = ExampleSet(count: n, full: true)
        let counts = search.classCounts(all)
        let defaultIndex = RuleList.majority(counts)
        // Each example's current prediction and the precision of the rule giving it (-1: the default).
        var predicted = [Int32](repeating: Int32(defaultIndex), count: n)
        var winning = [Double](repeating: -1, count: n)
        var errors = n - counts[defaultIndex]
        var rules: [Rule] = []
        var ruleBits = 0.0
        var total = search.totalBits(ruleCount: 0, ruleBits: 0, errors: errors)
        for target in search.classes.indices where target != defaultIndex {
            var uncovered = search.classMembers[target]
            while rules.count < parameters.maxRules && !uncovered.isEmpty {
                let pool = all.subtracting(search.classMembers[target].subtracting(uncovered))
                var best:
                    (
                        total: Double, candidate: RuleSearch.Candidate, covered: ExampleSet, precision: Double, bits: Double,
                        delta: Int
                    )?
                for candidate in search.beam(target: target, pool: pool, positives: uncovered, laplaceClasses: 2) {
                    let covered = search.covered(by: candidate.literals)
                    let coverage = covered.cardinality
                    let precision = Double(covered.intersectionCount(search.classMembers[target])) / Double(coverage)
                    var delta = 0
                    covered.forEach { i in
                        guard precision > winning[i] else { return }
                        let label = search.classIndex[i]
                        delta += (label == Int32(target) ? 0 : 1) - (label == predicted[i] ? 0 : 1)
                    }
                    let bits = search.bits(candidate.literals)
                    let newTotal = search.totalBits(ruleCount: rules.count + 1, ruleBits: ruleBits + bits, errors: errors + delta)
                    if let current = best, !RuleList.isBetter(-newTotal, candidate, than: -current.total, current.candidate) {
                        continue
                    }
                    best = (newTotal, candidate, covered, precision, bits, delta)
                }
                guard let chosen = best else { break }
                if parameters.stopsOnDescriptionLength && chosen.total >= total - 1e-9 { break }
                rules.append(
                    Rule(
                        conditions: chosen.candidate.literals.map(search.condition), output: search.classes[target],
                        precision: chosen.precision, coverage: chosen.covered.cardinality))
                chosen.covered.forEach { i in
                    if chosen.precision > winning[i] {
                        winning[i] = chosen.precision
                        predicted[i] = Int32(target)
                    }
                }
                errors += chosen.delta
                ruleBits += chosen.bits
                uncovered = uncovered.subtracting(chosen.covered)
                total = chosen.total
            }
        }
        return RuleSet(
            rules: rules, defaultOutput: search.classes[defaultIndex], featureKinds: search.featureKinds, classes: search.classes)
    }

    /// The output for `row`: the matching rule with the highest precision (the earlier on ties), else the default.
    /// - Complexity: O(total conditions)
    public func predict(row: [Double]) -> Int {
        choose { $0.matches(row) }
    }

    /// The output for every example of `table`.
    /// - Complexity: O(n · total conditions)
    public func predict(_ table: FeatureTable) -> [Int] {
        let columns = table.columns
        return (0..<table.rowCount).map { i in choose { $0.matches(columns: columns, example: i) } }
    }

    private func choose(_ matches: (Rule) -> Bool) -> Int {
        var best: Rule?
        for rule in rules where matches(rule) && rule.precision > (best?.precision ?? -1) { best = rule }
        return best?.output ?? defaultOutput
    }

    /// One `IF … THEN y  (precision p, n examples)` line per rule, then `OTHERWISE y`.
    /// - Complexity: O(total conditions)
    public func text(featureNames: [String]) -> String {
        var lines = rules.map { rule in
            rule.text(featureNames: featureNames, featureKinds: featureKinds)
                + "  (precision \(Self.percent(rule.precision)), \(rule.coverage) examples)"
        }
        lines.append("OTHERWISE \(defaultOutput)")
        return lines.joined(separator: "\n")
    }

    private static func percent(_ p: Double) -> String {
        let tenths = Int((p * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}

import WeightFiles

/// An ordered if-then-else list: the first rule whose conditions hold gives the output, the default otherwise.
///
/// Learning is sequential covering (`RuleParameters`): the default is the majority label of the examples no
/// rule covers yet; for every other label a beam search proposes conjunctions, and the proposal that saves the
/// most bits is appended and its examples removed. A rule saves `(hits − rival) · (log₂|D| + log₂|Y|)` minus its
/// own bits, where `rival` is the most examples of any other single label it covers: the exceptions it removes
/// over the best other output for the same examples, so a broad rule gains nothing from examples it merely
/// takes from the default. Learning stops when the rule would not shorten the total description length (the
/// list's bits plus the exception table of the training examples it gets wrong), or, with
/// `stopsOnDescriptionLength` off, when the examples left share one label; and at `maxRules`.
public struct RuleList: RuleModel {
    /// The rules in the order they are tried.
    public let rules: [Rule]
    /// The output when no rule matches.
    public let defaultOutput: Int
    /// The kind of every feature (threshold codes, text).
    public let featureKinds: [FeatureKind]
    /// The distinct training labels, increasing; the output alphabet the description length defaults to.
    public let classes: [Int]

    /// A list from its parts.
    /// - Precondition: every condition's feature is below `featureKinds.count`.
    /// - Complexity: O(total conditions)
    public init(rules: [Rule], defaultOutput: Int, featureKinds: [FeatureKind], classes: [Int]) {
        precondition(rules.allSatisfy { $0.conditions.allSatisfy { featureKinds.indices.contains($0.feature) } })
        self.rules = rules
        self.defaultOutput = defaultOutput
        self.featureKinds = featureKinds
        self.classes = classes
    }

    /// Learns a rule list for `table`'s labels.
    /// - Precondition: at least one example; finite feature values.
    /// - Complexity: O(rules · classes · maxConditions · beamWidth · F · maxThresholds · n/64)
    public static func fit(_ table: FeatureTable, parameters: RuleParameters = RuleParameters()) -> RuleList {
        let (full, stopped) = fitBoth(table, parameters: parameters)
        return parameters.stopsOnDescriptionLength ? stopped : full
    }

    /// Both lists in one search: covering until the examples are explained (or `maxRules`), and its prefix
    /// that stops where no rule shortens the description, which is what `fit` with
    /// `stopsOnDescriptionLength` learns (the rules chosen never depend on the stopping rule).
    /// `parameters.stopsOnDescriptionLength` is ignored.
    /// - Complexity: as `fit` without stopping.
    public static func fitBoth(_ table: FeatureTable, parameters: RuleParameters) -> (exhaustive: RuleList, stopped: RuleList) {
        let search = RuleSearch(table: table, parameters: parameters)
        let classCount = search.classes.count
        var remaining = ExampleSet(count: search.exampleCount, full: true)
        var rules: [Rule] = []
        var ruleBits = 0.0
        var committedErrors = 0
        var counts = search.classCounts(remaining)
        var total = search.totalBits(ruleCount: 0, ruleBits: 0, errors: counts.reduce(0, +) - counts.max()!)
        var stop: (rules: Int, remaining: ExampleSet)?
        func finish(_ rules: [Rule], _ remaining: ExampleSet) -> RuleList {
            let counts = search.classCounts(remaining)
            let defaultCounts =
                remaining.isEmpty ? search.classCounts(ExampleSet(count: search.exampleCount, full: true)) : counts
            return RuleList(
                rules: rules, defaultOutput: search.classes[majority(defaultCounts)], featureKinds: search.featureKinds,
                classes: search.classes)
        }
        while rules.count < parameters.maxRules && counts.filter({ $0 > 0 }).count > 1 {
            let currentDefault = majority(counts)
            var best: (gain: Double, total: Double, candidate: RuleSearch.Candidate, bits: Double, errors: Int)?
            let targets = (0..<classCount).filter { counts[$0] > 0 && $0 != currentDefault }
            let pool = remaining
            // Each class's beam and its candidates' class counts (the costly part: classes × examples/64 words
            // per candidate) run in parallel; choosing among them stays sequential and in class order.
            let beams = parallelMap(targets, threads: parameters.threads) { target in
                search.beam(
                    target: target, pool: pool, positives: pool.intersection(search.classMembers[target]),
                    laplaceClasses: classCount
                ).map { ($0, search.classCounts($0.covered)) }
            }
            for (target, found) in zip(targets, beams) {
                for (candidate, covered) in found {
                    let rest = zip(counts, covered).map { $0 - $1 }
                    let errors = candidate.total - candidate.positives + rest.reduce(0, +) - rest.max()!
                    let bits = search.bits(candidate.literals)
                    let rival = covered.indices.reduce(0) { $1 == target ? $0 : max($0, covered[$1]) }
                    let gain = Double(candidate.positives - rival) * search.exceptionBits - bits
                    if let current = best, !isBetter(gain, candidate, than: current.gain, current.candidate) { continue }
                    let newTotal = search.totalBits(
                        ruleCount: rules.count + 1, ruleBits: ruleBits + bits, errors: committedErrors + errors)
                    best = (gain, newTotal, candidate, bits, candidate.total - candidate.positives)
                }
            }
            guard let chosen = best else { break }
            if stop == nil && chosen.total >= total - 1e-9 { stop = (rules.count, remaining) }
            let candidate = chosen.candidate
            rules.append(
                Rule(
                    conditions: candidate.literals.map(search.condition), output: search.classes[candidate.target],
                    precision: Double(candidate.positives) / Double(candidate.total), coverage: candidate.total))
            ruleBits += chosen.bits
            committedErrors += chosen.errors
            remaining = remaining.subtracting(candidate.covered)
            counts = search.classCounts(remaining)
            total = chosen.total
        }
        let exhaustive = finish(rules, remaining)
        guard let stop else { return (exhaustive, exhaustive) }
        return (exhaustive, finish(Array(rules.prefix(stop.rules)), stop.remaining))
    }

    /// The most frequent class index (ties → the smallest).
    static func majority(_ counts: [Int]) -> Int {
        counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }!
    }

    /// Whether a candidate with `score` (higher is better) beats the best so far: a higher score, then higher
    /// Laplace precision, then fewer conditions (earlier candidates win remaining ties).
    static func isBetter(_ score: Double, _ candidate: RuleSearch.Candidate, than bestScore: Double, _ best: RuleSearch.Candidate)
        -> Bool
    {
        if abs(score - bestScore) > 1e-9 { return score > bestScore }
        if candidate.laplace != best.laplace { return candidate.laplace > best.laplace }
        return candidate.literals.count < best.literals.count
    }

    /// The output for `row` (one value per feature): the first matching rule's, else the default.
    /// - Complexity: O(total conditions)
    public func predict(row: [Double]) -> Int {
        rules.first { $0.matches(row) }?.output ?? defaultOutput
    }

    /// The output for every example of `table`.
    /// - Complexity: O(n · total conditions)
    public func predict(_ table: FeatureTable) -> [Int] {
        let columns = table.columns
        return (0..<table.rowCount).map { i in rules.first { $0.matches(columns: columns, example: i) }?.output ?? defaultOutput }
    }

    /// `IF … THEN y` for the first rule, `ELSE IF … THEN y` for the others, then `ELSE y`.
    /// - Complexity: O(total conditions)
    public func text(featureNames: [String]) -> String {
        var lines = rules.enumerated().map { i, rule in
            (i == 0 ? "" : "ELSE ") + rule.text(featureNames: featureNames, featureKinds: featureKinds)
        }
        lines.append(rules.isEmpty ? String(defaultOutput) : "ELSE \(defaultOutput)")
        return lines.joined(separator: "\n")
    }
}

import WeightFiles

/// Unordered rules: of the rules whose conditions hold, the one with the highest training precision gives the
/// output (ties → the earlier rule); the default class otherwise.
///
/// The default is the most frequent training label (ties → the smallest) and gets no rules. Learning is
/// natively multi-class and chosen by description length, like `RuleList`'s: each step adds the rule that
/// most shortens the total description (the set's bits plus the exception table of the training examples it
/// gets wrong), searched on the examples no rule covers yet and predicting their majority class other than
/// the default. A rule must predict the most common class of every training example it covers (else a
/// catch-all rule of 3% precision could outrank one of 2% on examples neither names), and its effect on
/// examples other rules cover (where its precision beats theirs) is counted exactly before it is added.
/// Learning stops when no rule shortens the description (or, with `stopsOnDescriptionLength` off, when no
/// rule removes a training error) or at `maxRules`. On integer
/// features a rule can test `=`, so one condition names one class: `IF a+b = 57 THEN 57`.
public struct RuleSet: RuleModel {
    /// The rules in learning order.
    public let rules: [Rule]
    /// The output when no rule matches.
    public let defaultOutput: Int
    /// None: in a set, a more precise rule overlapping another already is its exception (the tie rule).
    public static let carriesExceptions = false
    public let featureKinds: [FeatureKind]
    /// The distinct training labels, increasing.
    public let classes: [Int]

    /// A set from its parts.
    /// - Precondition: every condition's feature is below `featureKinds.count`.
    /// - Complexity: O(total conditions)
    public init(rules: [Rule], defaultOutput: Int, featureKinds: [FeatureKind], classes: [Int]) {
        precondition(rules.allSatisfy { $0.conditions.allSatisfy { featureKinds.indices.contains($0.feature) } })
        precondition(rules.allSatisfy(\.exceptions.isEmpty), "a rule set's rules carry no exceptions")
        self.rules = rules
        self.defaultOutput = defaultOutput
        self.featureKinds = featureKinds
        self.classes = classes
    }

    /// Learns a rule set for `table`'s labels.
    /// - Precondition: at least one example; finite feature values.
    /// - Complexity: as `RuleList.fit`, plus O(n · conditions) per rule added.
    public static func fit(_ table: FeatureTable, parameters: RuleParameters = RuleParameters()) -> RuleSet {
        let (full, stopped) = fitBoth(table, parameters: parameters)
        return parameters.stopsOnDescriptionLength ? stopped : (full ?? stopped)
    }

    /// Both sets, as `RuleList.fitBoth`: the one that stops where no rule shortens the description, and one that
    /// adds rules while they remove training errors; with a limit, only an exact one of at most `exhaustiveLimit`
    /// rules (else nil).
    /// - Complexity: as `fit`.
    /// - Parameter progress: called as rules are added, from the search's threads one call at a time.
    public static func fitBoth(
        _ table: FeatureTable, parameters: RuleParameters, exhaustiveLimit: Int = .max,
        progress: ((FitProgress) -> Void)? = nil
    )
        -> (exhaustive: RuleSet?, stopped: RuleSet)
    {
        let search = RuleSearch(table: table, parameters: parameters)
        let pluralities = LiteralPluralities(search)
        return search.fitBothRankings(
            table: table, exhaustiveLimit: exhaustiveLimit,
            tally: progress.map { CoverageTally(runs: 2, probes: table.rowCount, family: .ruleSet, report: SerialProgress($0)) },
            learn: { learn($0, pluralities: pluralities, normalized: $1, exhaustiveLimit: $2, indexPriced: $3, report: $4) },
            measure: { ($0.descriptionLength(outputCount: $1), $0.predict($2), $0.rules.count) })
    }

    /// One covering run, ranking candidates by bits saved per example covered (`normalized`) or by bits saved.
    static func learn(_ search: RuleSearch, pluralities: LiteralPluralities, normalized: Bool, exhaustiveLimit: Int, indexPriced: Bool = false, report: (_ covered: Int, _ rules: Int) -> Void = { _, _ in }) -> (exhaustive: RuleSet?, stopped: RuleSet) {
        let parameters = search.parameters
        let costs = search.exceptionCosts, domain = search.domainSize, outputs = search.outputCount
        let perIndex = DescriptionLength.choice(domain) + DescriptionLength.choice(outputs)
        @Sendable func exceptions(_ count: Int) -> Double {
            if indexPriced { return DescriptionLength.natural(count) + Double(count) * perIndex }
            return count < costs.count ? costs[count] : DescriptionLength.exceptions(count, domainSize: domain, outputCount: outputs)
        }
        let n = search.exampleCount
        let counts = search.classCounts((0..<n).map { Int32($0) })
        let defaultIndex = RuleList.majority(counts)
        // Each example's current prediction and the precision of the rule giving it (-1: the default).
        var predicted = [Int32](repeating: Int32(defaultIndex), count: n)
        var winning = [Double](repeating: -1, count: n)
        var errors = n - counts[defaultIndex]
        let everyExample = (0..<n).map { Int32($0) }
        var uncovered = everyExample
        var uncoveredCounts = counts
        var histograms: RuleSearch.Histograms?  // counted at the first search (a run given up at once needs none)
        var refinements = RuleSearch.Refinements()
        var rules: [Rule] = []
        var ruleBits = 0.0
        var stop: Int?
        var limited = false  // no exhaustive set: cut at `exhaustiveLimit`, or it could not be exact within it
        var imprecise = RuleSearch.Refusals()  // conjunctions whose output is not their probes' most common class
        // With a limit the exhaustive set is an exact one: it has no training errors. A probe answered wrongly is
        // answered rightly only by a later rule predicting its class, so each class among them needs a rule of its own
        // within the limit. A run that can no longer reach that is given up.
        func canBeExact(rules: Int) -> Bool {
            guard exhaustiveLimit < .max else { return true }
            var wrong = [Bool](repeating: false, count: search.classCount)
            var needed = 0
            for i in 0..<n where predicted[i] != search.classIndex[i] && !wrong[Int(search.classIndex[i])] {
                wrong[Int(search.classIndex[i])] = true
                needed += 1
            }
            return rules + needed <= exhaustiveLimit
        }
        while rules.count < parameters.maxRules && !uncovered.isEmpty {
            report(n - uncovered.count, rules.count)
            let exhaustive = stop != nil
            if exhaustive && errors == 0 { break }
            if exhaustive && rules.count >= exhaustiveLimit || indexPriced && rules.count >= exhaustiveLimit {
                limited = true
                break
            }
            if (exhaustive || indexPriced) && !canBeExact(rules: rules.count) {
                limited = true
                break
            }
            let current = DescriptionLength.natural(rules.count) + ruleBits + DescriptionLength.choice(outputs) + exceptions(errors)
            let base = DescriptionLength.natural(rules.count + 1) + ruleBits + DescriptionLength.choice(search.outputCount)
            let errorsNow = errors
            // A rule with h hits leaves at least errors − h.
            let bound = RuleSearch.Bound(normalized: normalized, largest: uncoveredCounts.max() ?? 0, focusGap: nil) { h in
                current - base - exceptions(max(errorsNow - h, 0))
            }
            // The best candidate on the uncovered probes, checked over every probe: a rule must predict the most
            // common class of what it covers (so no catch-all rule outranks another by a sliver of precision) and, over every probe
            // whose rule it beats in precision, must still shorten the description (or remove an error, past the
            // stop). A refused candidate is excluded and the search repeated, a few times.
            if histograms == nil { histograms = RuleSearch.Histograms(search, group: uncovered, classCounts: uncoveredCounts) }
            var excluded = Set<[RuleSearch.Literal]>()
            var accepted: (found: RuleSearch.Found, covered: [Int], precision: Double, delta: Int, bits: Double)?
            for _ in 0..<16 {
                guard
                    let found = search.bestRule(
                        group: uncovered, histograms: histograms, refinements: &refinements, reference: uncoveredCounts, focus: defaultIndex, excluded: excluded,
                        majorityOfAll: true, pluralities: pluralities, imprecise: &imprecise,
                        bound: parameters.skipsByBounds ? bound : nil,
                        score: { cover, second, bits, refined in
                            let (hits, label) = cover.best(excluding: defaultIndex, secondClass: second)
                            guard hits > 0 else { return nil }
                            let after = errorsNow - hits + cover.focus
                            let optimistic = current - (base + refined + exceptions(errorsNow - hits))
                            let optimisticRank = normalized ? optimistic / Double(hits) : optimistic
                            if exhaustive && after >= errorsNow { return (-.infinity, -.infinity, optimisticRank, label, hits) }
                            let gain = current - (base + bits + exceptions(after))
                            return (normalized ? gain / Double(cover.total) : gain, gain, optimisticRank, label, hits)
                        })
                else { break }
                let literals = found.literals
                let covered = search.everyExample(literals).map { Int($0) }
                let target = Int32(found.output)
                let hits = covered.reduce(0) { $0 + (search.classIndex[$1] == target ? 1 : 0) }
                let precision = Double(hits) / Double(covered.count)
                var delta = 0
                for i in covered where precision > winning[i] {
                    let label = search.classIndex[i]
                    delta += (label == target ? 0 : 1) - (label == predicted[i] ? 0 : 1)
                }
                let bits = search.bits(literals)
                let exact = current - (base + bits + exceptions(errors + delta))
                // bestRule took it only as the most common class of every probe it covers (`majorityOfAll`).
                assert(search.isPlurality(found.output, among: covered), "a rule's output is its probes' most common class")
                if exhaustive ? delta >= 0 : exact <= 1e-9 {
                    excluded.insert(literals.sorted())
                    continue
                }
                accepted = (found, covered, precision, delta, bits)
                break
            }
            guard let (found, covered, precision, delta, bits) = accepted else {
                if exhaustive { break }
                stop = rules.count
                // Only the index-priced run's continuation is kept (`RuleSearch.fitBothRankings`).
                if !indexPriced { break }
                continue
            }
            let literals = found.literals
            let target = Int32(found.output)
            rules.append(
                Rule(
                    conditions: literals.sorted().map(search.condition), output: search.classes[found.output], precision: precision,
                    coverage: covered.count))
            ruleBits += bits
            errors += delta
            for i in covered where precision > winning[i] {
                winning[i] = precision
                predicted[i] = target
            }
            var taken = [Bool](repeating: false, count: n)
            for i in found.members { taken[Int(i)] = true }
            uncovered.removeAll { taken[Int($0)] }
            for i in found.members {
                let c = Int(search.classIndex[Int(i)])
                uncoveredCounts[c] -= 1
            }
            refinements.remove(found.members, search)
            histograms?.remove(found.members, search, group: uncovered, classCounts: uncoveredCounts)
        }
        func set(_ rules: [Rule]) -> RuleSet {
            RuleSet(
                rules: rules, defaultOutput: search.classes[defaultIndex], featureKinds: search.featureKinds,
                classes: search.classes)
        }
        let full = set(rules)
        if exhaustiveLimit < .max && errors > 0 { limited = true }
        guard let stop else { return (limited ? nil : full, full) }
        return (limited ? nil : full, set(Array(rules.prefix(stop))))
    }

    /// The output for `row`: the matching rule with the highest precision (the earlier on ties), else the default.
    /// - Complexity: O(total conditions)
    public func predict(row: [Double]) -> Int {
        choose { $0.matches(row) }
    }

    /// The output for every example of `table`.
    /// - Complexity: O(n · total conditions)
    public func predict(_ table: FeatureTable) -> [Int] {
        // Rule by rule over every example, as `choose` reads them: the first rule of the highest precision that matches.
        let columns = table.columns
        var outputs = [Int](repeating: defaultOutput, count: table.rowCount)
        var precision = [Double](repeating: -1, count: table.rowCount)
        let every = (0..<table.rowCount).map { Int32($0) }
        for rule in rules {
            for i in rule.matching(every, columns: columns) where rule.precision > precision[Int(i)] {
                (outputs[Int(i)], precision[Int(i)]) = (rule.output, rule.precision)
            }
        }
        return outputs
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

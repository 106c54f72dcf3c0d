import WeightFiles

/// An ordered if-then-else list: the first rule whose conditions hold gives the output, the default otherwise.
///
/// Learning follows Classy (Proença & van Leeuwen 2020): natively multi-class sequential covering chosen by
/// description length, with no tuning. The description is the list's bits plus the exception table of the
/// training examples it gets wrong, where the examples no rule covers go to the default, the majority of what
/// is left. Each step appends the rule that shortens it most per example covered (Classy's normalized gain) —
/// or, in a second run side by side, most in all; the shorter list is kept — and removes the examples it
/// covers; a rule predicts the majority class of the examples that reach it. Candidates are conjunctions of conditions over
/// every threshold a feature has (`RuleParameters.maxThresholds`), and `=` on integer features, found by a beam
/// search (`RuleSearch.bestRule`) whose first level scores every condition from its class counts, which are kept
/// up to date as examples are covered (`LiteralCounts`). Learning stops when no rule shortens the
/// description, or, with `stopsOnDescriptionLength` off, when no rule removes a training error; and at `maxRules`.
/// A rule that gets some of its examples wrong may take an exception (`Rule.exceptions`,
/// `RuleSearch.bestException`), kept only where it shortens the description.
public struct RuleList: RuleModel {
    /// The rules in the order they are tried.
    public let rules: [Rule]
    /// The output when no rule matches.
    public let defaultOutput: Int
    /// One level (`Rule.exceptions`), kept where they shorten the description.
    public static let carriesExceptions = true
    /// The kind of every feature (threshold codes, text).
    public let featureKinds: [FeatureKind]
    /// The distinct training labels, increasing; the output alphabet the description length defaults to.
    public let classes: [Int]

    /// A list from its parts.
    /// - Precondition: every condition's feature is below `featureKinds.count`.
    /// - Complexity: O(total conditions)
    public init(rules: [Rule], defaultOutput: Int, featureKinds: [FeatureKind], classes: [Int]) {
        precondition(
            rules.allSatisfy { rule in
                (rule.conditions + rule.exceptions.flatMap(\.conditions)).allSatisfy { featureKinds.indices.contains($0.feature) }
                    && rule.exceptions.allSatisfy(\.exceptions.isEmpty)
            })
        self.rules = rules
        self.defaultOutput = defaultOutput
        self.featureKinds = featureKinds
        self.classes = classes
    }

    /// Learns a rule list for `table`'s labels.
    /// - Precondition: at least one example; finite feature values.
    /// - Complexity: O(rules · maxConditions · beamWidth · (n·F + Σ bins · K)) at worst; the first level of
    ///   each search reads every literal's kept counts, O(Σ bins), and covering a rule's examples costs O(F) each,
    ///   O(bins) per feature and class covered, and O(K) per literal whose two largest counts it may change.
    public static func fit(_ table: FeatureTable, parameters: RuleParameters = RuleParameters()) -> RuleList {
        let (full, stopped) = fitBoth(table, parameters: parameters)
        return parameters.stopsOnDescriptionLength ? stopped : (full ?? stopped)
    }

    /// Both lists: the list that stops where no rule shortens the description (what `fit` learns), and one that
    /// adds rules while they remove training errors (what `fit` learns with `stopsOnDescriptionLength` off), from
    /// a search that prices each exception at an explicit index (`RuleSearch.fitBothRankings`). With a limit,
    /// that one is an exact list (no training errors) of at most `exhaustiveLimit` rules, or nil: its run is given
    /// up as soon as it cannot reach one. `parameters.stopsOnDescriptionLength` is ignored.
    /// - Complexity: as `fit`.
    /// - Parameter progress: called as rules are added, from the search's threads one call at a time.
    public static func fitBoth(
        _ table: FeatureTable, parameters: RuleParameters, exhaustiveLimit: Int = .max,
        progress: ((FitProgress) -> Void)? = nil
    )
        -> (exhaustive: RuleList?, stopped: RuleList)
    {
        let search = RuleSearch(table: table, parameters: parameters)
        let (exhaustive, stopped) = search.fitBothRankings(
            table: table, exhaustiveLimit: exhaustiveLimit,
            tally: progress.map { CoverageTally(runs: 2, probes: table.rowCount, family: .ruleList, report: SerialProgress($0)) },
            learn: { learn($0, normalized: $1, exhaustiveLimit: $2, indexPriced: $3, report: $4) },
            measure: { ($0.descriptionLength(outputCount: $1), $0.predict($2), $0.rules.count) })
        return (exhaustive, stopped.keepingPayingExceptions(table, domainSize: search.domainSize, outputCount: search.outputCount))
    }

    /// This list without each exception whose rule's description of `table` (the list's bits plus the exception
    /// table of the examples it gets wrong, over a domain of `domainSize` and `outputCount` outputs) is no
    /// longer without it, rule by rule in order: the search prices an exception before the list is complete
    /// (how many rules it will have, and so which-rule bits, is not known yet); this checks it on the whole list.
    /// An exception changes answers only among the examples its rule is the first to match, so dropping one
    /// recounts the errors there alone.
    /// - Complexity: O(n · total conditions)
    func keepingPayingExceptions(_ table: FeatureTable, domainSize: Int, outputCount: Int) -> RuleList {
        guard rules.contains(where: { !$0.exceptions.isEmpty }) else { return self }
        let columns = table.columns, labels = table.labels
        // The examples each rule is the first to match.
        var reaching = [[Int]](repeating: [], count: rules.count)
        var errors = 0
        for (i, r) in firstRules(table).enumerated() {
            if r >= 0 {
                reaching[r].append(i)
                if rules[r].answer(columns: columns, example: i) != labels[i] { errors += 1 }
            } else if defaultOutput != labels[i] {
                errors += 1
            }
        }
        func total(_ list: RuleList, _ errors: Int) -> Double {
            list.descriptionLength(outputCount: outputCount)
                + DescriptionLength.exceptions(errors, domainSize: domainSize, outputCount: outputCount)
        }
        var kept = self
        var bits = total(self, errors)
        for r in rules.indices where !rules[r].exceptions.isEmpty {
            var without = kept.rules
            without[r].exceptions = []
            let candidate = RuleList(rules: without, defaultOutput: defaultOutput, featureKinds: featureKinds, classes: classes)
            // Without its exceptions the rule answers its output on every example it is the first to match.
            let change = reaching[r].reduce(0) { change, i in
                change + (rules[r].output != labels[i] ? 1 : 0) - (rules[r].answer(columns: columns, example: i) != labels[i] ? 1 : 0)
            }
            let candidateBits = total(candidate, errors + change)
            if candidateBits <= bits { (kept, bits, errors) = (candidate, candidateBits, errors + change) }
        }
        return kept
    }

    /// One covering run: candidates ranked by bits saved per example covered (`normalized`, Classy's choice,
    /// which keeps a broad rule from taking examples later rules would name) or by bits saved.
    static func learn(_ search: RuleSearch, normalized: Bool, exhaustiveLimit: Int, indexPriced: Bool = false, report: (_ covered: Int, _ rules: Int) -> Void = { _, _ in }) -> (exhaustive: RuleList?, stopped: RuleList) {
        let parameters = search.parameters
        let costs = search.exceptionCosts, domain = search.domainSize, outputs = search.outputCount
        let perIndex = DescriptionLength.choice(domain) + DescriptionLength.choice(outputs)
        @Sendable func exceptions(_ count: Int) -> Double {
            if indexPriced { return DescriptionLength.natural(count) + Double(count) * perIndex }
            return count < costs.count ? costs[count] : DescriptionLength.exceptions(count, domainSize: domain, outputCount: outputs)
        }
        let n = search.exampleCount
        var remaining = (0..<n).map { Int32($0) }
        var counts = search.classCounts(remaining)
        var histograms: RuleSearch.Histograms?  // counted at the first search (a run given up at once needs none)
        var refinements = RuleSearch.Refinements()
        var rules: [Rule] = []
        var ruleBits = 0.0  // the rules' bits, their exceptions' own included (not which rules carry them)
        var carrying = 0  // rules with an exception
        var committed = 0  // errors of the rules so far
        var stop: (rules: Int, counts: [Int])?
        var limited = false  // no exhaustive list: cut at `exhaustiveLimit`, or it could not be exact within it
        func defaultErrors(_ counts: [Int]) -> Int { counts.reduce(0, +) - counts.max()! }
        // With a limit the exhaustive list is an exact one: it has no training errors, so none may be committed, and
        // every class left but the default's needs a rule of its own within the limit. A run that can no longer reach
        // that is given up.
        func canBeExact(rules: Int, counts: [Int]) -> Bool {
            guard exhaustiveLimit < .max else { return true }
            return committed == 0 && rules + counts.reduce(0) { $0 + ($1 > 0 ? 1 : 0) } - 1 <= exhaustiveLimit
        }
        func finish(_ rules: [Rule], _ counts: [Int]) -> RuleList {
            let defaultCounts = counts.reduce(0, +) == 0 ? search.classCounts((0..<n).map { Int32($0) }) : counts
            return RuleList(
                rules: rules, defaultOutput: search.classes[majority(defaultCounts)], featureKinds: search.featureKinds,
                classes: search.classes)
        }
        while rules.count < parameters.maxRules && !remaining.isEmpty {
            report(n - remaining.count, rules.count)
            let errors = committed + defaultErrors(counts)
            let exhaustive = stop != nil
            if exhaustive && errors == 0 { break }
            if exhaustive && rules.count >= exhaustiveLimit || indexPriced && rules.count >= exhaustiveLimit {
                limited = true
                break
            }
            if (exhaustive || indexPriced) && !canBeExact(rules: rules.count, counts: counts) {
                limited = true
                break
            }
            let current = DescriptionLength.natural(rules.count) + ruleBits + DescriptionLength.choice(outputs) + exceptions(errors)
            let base = DescriptionLength.natural(rules.count + 1) + ruleBits + DescriptionLength.choice(search.outputCount)
            let remainingCount = remaining.count, committedNow = committed
            let focus = majority(counts)
            var unused = RuleSearch.Refusals()
            // A rule with h examples of its class leaves at least errors − h (its own and the default's). One that
            // predicts the default class makes the next largest class the default's rival: its first examples of the
            // default only make up for those left behind, up to the gap between the two.
            let rival = counts.indices.lazy.filter { $0 != focus }.map { counts[$0] }.max() ?? 0
            let bound = RuleSearch.Bound(normalized: normalized, largest: counts.max() ?? 0, focusGap: counts[focus] - rival) { h in
                current - base - exceptions(max(errors - h, 0))
            }
            if histograms == nil { histograms = RuleSearch.Histograms(search, group: remaining, classCounts: counts) }
            let found = search.bestRule(
                group: remaining, histograms: histograms, refinements: &refinements, reference: counts, focus: focus, imprecise: &unused,
                bound: parameters.skipsByBounds ? bound : nil
            ) {
                cover, second, bits, refined in
                let after = committedNow + (cover.total - cover.first) + (remainingCount - cover.total - cover.restMax)
                let best = cover.best(excluding: focus, secondClass: second).count
                let optimistic =
                    current - (base + refined + exceptions(max(errors - best, 0)))
                let optimisticRank = normalized ? optimistic / Double(max(best, 1)) : optimistic
                if exhaustive && after >= errors { return (-.infinity, -.infinity, optimisticRank, cover.firstClass, cover.first) }
                let gain = current - (base + bits + exceptions(after))
                return (normalized ? gain / Double(cover.total) : gain, gain, optimisticRank, cover.firstClass, cover.first)
            }
            guard let found else { break }
            if !exhaustive && found.gain <= 1e-9 {
                stop = (rules.count, counts)
                // Only the index-priced run's continuation is kept (`RuleSearch.fitBothRankings`).
                if !indexPriced { break }
                continue
            }
            var rule = Rule(
                conditions: found.literals.sorted().map(search.condition), output: search.classes[found.output],
                precision: Double(found.hits) / Double(found.members.count), coverage: found.members.count)
            ruleBits += search.bits(found.literals)
            committed += found.members.count - found.hits
            if parameters.exceptions && !exhaustive && !indexPriced && found.hits < found.members.count {
                // Errors once the rule is in: its own and the default's on what it leaves.
                var left = counts
                for i in found.members { left[Int(search.classIndex[Int(i)])] -= 1 }
                let errorsAfter = committed + defaultErrors(left)
                if let exception = search.bestException(
                    members: found.members, output: found.output, errors: errorsAfter, rules: rules.count + 1,
                    carrying: carrying, exceptions: exceptions)
                {
                    rule.exceptions = [exception.rule]
                    committed += exception.errorChange
                    ruleBits += exception.bits
                    carrying += 1
                }
            }
            rules.append(rule)
            // Remove the covered examples from the remaining ones and from every histogram.
            var covered = [Bool](repeating: false, count: n)
            for i in found.members { covered[Int(i)] = true }
            remaining.removeAll { covered[Int($0)] }
            for i in found.members {
                let c = Int(search.classIndex[Int(i)])
                counts[c] -= 1
            }
            refinements.remove(found.members, search)
            histograms?.remove(found.members, search, group: remaining, classCounts: counts)
        }
        let full = finish(rules, counts)
        if exhaustiveLimit < .max && committed + defaultErrors(counts) > 0 { limited = true }
        guard let stop else { return (limited ? nil : full, full) }
        let stopped = finish(Array(rules.prefix(stop.rules)), stop.counts)
        return (limited ? nil : full, stopped)
    }

    /// The most frequent class index (ties → the smallest).
    static func majority(_ counts: [Int]) -> Int {
        counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }!
    }

    /// The output for `row` (one value per feature): the first matching rule's, else the default.
    /// - Complexity: O(total conditions)
    public func predict(row: [Double]) -> Int {
        rules.first { $0.matches(row) }?.answer(row) ?? defaultOutput
    }

    /// The output for every example of `table`.
    /// - Complexity: O(n · total conditions)
    public func predict(_ table: FeatureTable) -> [Int] {
        let columns = table.columns
        return firstRules(table).enumerated().map { i, r in
            r < 0 ? defaultOutput : rules[r].answer(columns: columns, example: i)
        }
    }

    /// The index of the first rule each example of `table` matches, -1 where none does (the default answers): rule by
    /// rule, over the examples no rule before it matched.
    /// - Complexity: O(n · total conditions)
    func firstRules(_ table: FeatureTable) -> [Int] {
        let columns = table.columns
        var first = [Int](repeating: -1, count: table.rowCount)
        var remaining = (0..<table.rowCount).map { Int32($0) }
        for (r, rule) in rules.enumerated() where !remaining.isEmpty {
            let matched = rule.matching(remaining, columns: columns)
            guard !matched.isEmpty else { continue }
            for i in matched { first[Int(i)] = r }
            remaining.removeAll { first[Int($0)] >= 0 }
        }
        return first
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

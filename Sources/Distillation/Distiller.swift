import Foundation

/// Fits surrogate families to a network's probed behaviour.
public enum Distiller {
    /// An exact rule model with at most this many rules is preferred to a shorter inexact one.
    public static let exactRuleLimit = 16

    /// How the families are fitted.
    public struct Options: Sendable {
        /// The program search's limits.
        public var programLimits = ProgramSearch.Limits()
        /// The tree's split criterion.
        public var treeCriterion = DecisionTree.Parameters.Criterion.gini
        /// Threads for the tree's split search and the rule searches: at least 1.
        public var threads = 1
        /// The most conditions a rule of a rule list or set may have (`RuleParameters.maxConditions`): 1 to
        /// `RuleParameters.maxConditionsLimit`.
        public var ruleConditions = RuleParameters.defaultMaxConditions
        /// The conjunctions a rule search refines at each step (`RuleParameters.beamWidth`): 1 to
        /// `RuleParameters.beamWidthLimit`.
        public var ruleBeamWidth = RuleParameters.defaultBeamWidth
        public init() {}

        /// Throws `invalidOption` for an option outside its range (each is a precondition of the fitting it feeds).
        func validate() throws(DistillationError) {
            guard threads >= 1 else {
                throw .invalidOption(name: "threads", reason: "\(threads); at least 1 thread is needed")
            }
            let limit = RuleParameters.maxConditionsLimit
            guard (1...limit).contains(ruleConditions) else {
                throw .invalidOption(name: "ruleConditions", reason: "\(ruleConditions); a rule has 1 to \(limit) conditions")
            }
            guard (1...RuleParameters.beamWidthLimit).contains(ruleBeamWidth) else {
                throw .invalidOption(
                    name: "ruleBeamWidth", reason: "\(ruleBeamWidth); a beam keeps 1 to \(RuleParameters.beamWidthLimit) conjunctions")
            }
            let program = programLimits
            guard program.maxSize >= 1 else {
                throw .invalidOption(name: "programLimits.maxSize", reason: "\(program.maxSize); at least 1 node")
            }
            guard program.maxSeconds >= 0 else {
                throw .invalidOption(name: "programLimits.maxSeconds", reason: "\(program.maxSeconds); 0 seconds or more")
            }
            guard (0...Int(Int32.max)).contains(program.maxKept) else {
                throw .invalidOption(
                    name: "programLimits.maxKept", reason: "\(program.maxKept); 0 to \(Int32.max) (candidate ids are 32-bit)")
            }
        }
    }

    /// Fits one family on `probes`.
    ///
    /// Programs are chosen by description length, but an exact expression among the sizes the search built is
    /// kept over a shorter one with exceptions, as an exact rule model with few rules is (`exactRuleLimit`).
    /// Trees are chosen by description length: trees grown best-first to 2, 4, 8, … leaves (up to one
    /// per probe) are scored by model bits plus the bits of their exceptions, and the shortest is kept.
    /// - Parameter progress: called as the fit proceeds (a few times a second at most in the long searches, one
    ///   call at a time, on the calling thread or the rule search's threads) with the work done so far.
    public static func fit(
        _ family: SurrogateFamily, probes: ProbeSet, task: TaskDescription, features: TaskFeatures,
        options: Options = Options(), progress: ((FitProgress) -> Void)? = nil
    ) throws(DistillationError) -> FittedSurrogate {
        try options.validate()
        let domain = task.domainSize, outputs = task.outputValues.count
        let n = probes.count
        func exceptionBits(_ e: Int) -> Double { DescriptionLength.exceptions(e, domainSize: domain, outputCount: outputs) }
        switch family {
        case .table:
            let table = LookupTable(probes: probes)
            return FittedSurrogate(
                family: .table, model: .table(table), featureNames: [],
                modelBits: table.descriptionLength(domainSize: domain, outputCount: outputs), exceptionBits: exceptionBits(0),
                exceptionCount: 0, probeCount: n)
        case .program:
            let vc = probes.region.variableCount
            let columns = (0..<vc).map { v in (0..<n).map { probes.region.values[$0 * vc + v] } }
            var constants = task.constants
            for v in task.variables { constants += [v.count, v.max + 1] }
            let search = ProgramSearch(
                variables: task.variables.map(\.name), columns: columns, targets: probes.outputs, domainSize: domain,
                outputCount: outputs, constants: constants, digitBase: min(max(task.digitBase, 2), 65536),
                limits: options.programLimits)
            let sizes = options.programLimits.maxSize, limit = options.programLimits.maxSeconds
            progress?(FitProgress(family: .program, done: 0, total: sizes, unit: "sizes", note: "size 1"))
            let result = search.run(
                progress: { size, kept in
                    progress?(FitProgress(family: .program, done: size, total: sizes, unit: "sizes", note: "size \(size) done, \(kept) kept"))
                },
                during: progress.map { report in
                    { size, evaluated, kept, seconds in
                        report(
                            FitProgress(
                                family: .program, done: size - 1, total: sizes, unit: "sizes",
                                note: "size \(size): \(evaluated) candidates tried, \(kept) kept",
                                secondsLeftAtMost: max(0, limit - seconds)))
                    }
                })
            // As for rules, an exact expression is kept even when the best one with an exception table is shorter
            // (small domains); its bits are its own, larger ones.
            let program = result.exact ?? result.surrogate
            return FittedSurrogate(
                family: .program, model: .program(program), featureNames: [], modelBits: program.expressionBits,
                exceptionBits: program.exceptionBits, exceptionCount: result.exact == nil ? result.mismatches : 0, probeCount: n)
        case .tree:
            let table = try features.table(probes)
            var best: FittedSurrogate?
            var leaves = 2
            // Budgets 2, 4, … up to one leaf per probe.
            let budgets = max(1, Int(log2(Double(max(n, 2))).rounded(.up)))
            var tried = 0
            while true {
                let parameters = DecisionTree.Parameters(
                    criterion: options.treeCriterion, maxLeafNodes: leaves, threads: options.threads)
                let tree = DecisionTree.fit(table, parameters: parameters)
                let predictions = tree.predict(table)
                let errors = zip(predictions, table.labels).filter { $0 != $1 }.count
                let candidate = FittedSurrogate(
                    family: .tree, model: .tree(tree), featureNames: features.names,
                    modelBits: tree.descriptionLength(outputCount: outputs), exceptionBits: exceptionBits(errors),
                    exceptionCount: errors, probeCount: n)
                tried += 1
                progress?(
                    FitProgress(
                        family: .tree, done: tried, total: budgets, unit: "leaf budgets",
                        note: "\(tree.leafCount) leaves, \(errors) errors, \(Int(candidate.totalBits)) bits"))
                if best == nil || candidate.totalBits < best!.totalBits { best = candidate }
                if errors == 0 || tree.leafCount < leaves || leaves >= n { break }
                leaves *= 2
            }
            return best!
        case .ruleList, .ruleSet:
            // Two models: stopping where no rule shortens the description, and an exact one (no probe errors) of at
            // most `exactRuleLimit` rules, from adding rules while they remove probe errors, where there is one. The
            // exact one is kept even when listing its exceptions would be shorter (small domains, where a table of a few
            // exceptions costs less than any rule).
            let table = try features.table(probes)
            var parameters = RuleParameters(
                beamWidth: options.ruleBeamWidth, maxConditions: options.ruleConditions, domainSize: domain, outputCount: outputs)
            parameters.threads = options.threads
            let model: FittedSurrogate.Model
            if family == .ruleList {
                let (exact, stopped) = RuleList.fitBoth(
                    table, parameters: parameters, exhaustiveLimit: Self.exactRuleLimit, progress: progress)
                model = .ruleList(exact ?? stopped)
            } else {
                let (exact, stopped) = RuleSet.fitBoth(
                    table, parameters: parameters, exhaustiveLimit: Self.exactRuleLimit, progress: progress)
                model = .ruleSet(exact ?? stopped)
            }
            let (bits, predictions): (Double, [Int])
            switch model {
            case .ruleList(let list): (bits, predictions) = (list.descriptionLength(outputCount: outputs), list.predict(table))
            case .ruleSet(let set): (bits, predictions) = (set.descriptionLength(outputCount: outputs), set.predict(table))
            default: preconditionFailure("rule models only")
            }
            let errors = zip(predictions, table.labels).filter { $0 != $1 }.count
            return FittedSurrogate(
                family: family, model: model, featureNames: features.names, modelBits: bits,
                exceptionBits: exceptionBits(errors), exceptionCount: errors, probeCount: n)
        }
    }
}

/// How `RuleList.fit` and `RuleSet.fit` search for rules: sequential covering chosen by description length,
/// each rule found by a beam search over conjunctions of conditions (`RuleSearch.bestRule`). The defaults
/// serve every task; none of them needs tuning to the data.
public struct RuleParameters: Sendable, Equatable {
    /// Conjunctions kept per refinement step (`defaultBeamWidth` unless given).
    public var beamWidth: Int
    /// The most conditions a rule may have.
    public var maxConditions: Int
    /// The fewest examples a rule must cover (among those it is learned on).
    public var minCoverage: Int
    /// The most rules to learn.
    public var maxRules: Int
    /// Stop when no rule shortens the total description length (model bits + the exception table of the
    /// training examples it gets wrong); `false` learns while a rule removes a training error.
    public var stopsOnDescriptionLength: Bool
    /// Candidate thresholds per feature: every midpoint between consecutive distinct values when there are at
    /// most this many (so sums, digits and variables keep all of theirs), else this many at evenly spaced
    /// example quantiles; `=` tests only on integer features that keep all of theirs.
    public var maxThresholds: Int
    /// |D| for the exception table; `nil` takes the number of training examples.
    public var domainSize: Int?
    /// |Y| for outputs and exceptions; `nil` takes the number of distinct training labels.
    public var outputCount: Int?
    /// Threads scoring conditions at once; the rules found do not depend on it.
    public var threads = 1
    /// Let a rule list's rules carry an exception (`Rule.exceptions`), searched among the examples each rule
    /// covers and kept only where it shortens the description.
    public var exceptions = true
    /// Let the beam skip the refinements of a conjunction by a feature when bounds show none of them can be chosen
    /// or kept (`RuleSearch.Bound`); the rules found do not depend on it.
    var skipsByBounds = true

    /// What `beamWidth` is unless given. Wider beams search more conjunctions, not better ones: on the bundled
    /// networks and on sixteen other tasks over the addition example's inputs (`scripts/compare_beams.py`), a beam of
    /// four gave descriptions no shorter in total than one of two, for about two thirds more fitting time.
    public static let defaultBeamWidth = 2
    /// The most `beamWidth` may be (each step refines every member by every condition).
    public static let beamWidthLimit = 64
    /// What `maxConditions` is unless given.
    public static let defaultMaxConditions = 4
    /// The most `maxConditions` may be (the beam's work grows with it; no task here needs more than a few).
    public static let maxConditionsLimit = 16

    /// - Precondition: every count at least 1; `beamWidth` at most `beamWidthLimit`, `maxConditions` at most
    ///   `maxConditionsLimit`.
    public init(
        beamWidth: Int = Self.defaultBeamWidth, maxConditions: Int = Self.defaultMaxConditions, minCoverage: Int = 1, maxRules: Int = 4096,
        stopsOnDescriptionLength: Bool = true, maxThresholds: Int = 255, domainSize: Int? = nil, outputCount: Int? = nil
    ) {
        precondition((1...Self.beamWidthLimit).contains(beamWidth) && (1...Self.maxConditionsLimit).contains(maxConditions) && minCoverage >= 1 && maxRules >= 0 && maxThresholds >= 1)
        self.beamWidth = beamWidth
        self.maxConditions = maxConditions
        self.minCoverage = minCoverage
        self.maxRules = maxRules
        self.stopsOnDescriptionLength = stopsOnDescriptionLength
        self.maxThresholds = maxThresholds
        self.domainSize = domainSize
        self.outputCount = outputCount
    }
}

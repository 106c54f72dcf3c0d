import Foundation

/// How far a surrogate fit has got, for a progress bar: `done` of `total` units of work and a short note.
///
/// Rule lists and rule sets count the probes their rules cover (both rankings together, so twice the probes);
/// the program search counts expression sizes and knows its time limit; trees count the leaf budgets tried.
public struct FitProgress: Sendable {
    /// The family being fitted.
    public var family: SurrogateFamily
    /// Units done, of `total`.
    public var done: Int
    public var total: Int
    /// What a unit is ("probes covered", "sizes", …), for display after the counts.
    public var unit: String
    /// What is happening now, in a few words.
    public var note: String
    /// Seconds at most before the fit ends, when a time limit bounds it (the program search).
    public var secondsLeftAtMost: Double?

    public init(
        family: SurrogateFamily, done: Int, total: Int, unit: String, note: String = "", secondsLeftAtMost: Double? = nil
    ) {
        self.family = family
        self.done = done
        self.total = total
        self.unit = unit
        self.note = note
        self.secondsLeftAtMost = secondsLeftAtMost
    }
}

/// A progress callback shared by worker threads: calls are serialised by a lock, so the callback itself need
/// not be thread-safe.
final class SerialProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let report: (FitProgress) -> Void

    init(_ report: @escaping (FitProgress) -> Void) { self.report = report }

    func callAsFunction(_ progress: FitProgress) {
        lock.lock()
        defer { lock.unlock() }
        report(progress)
    }
}

/// Sums the covered-probe counts of the rule search's parallel runs (one per ranking) into one progress.
final class CoverageTally: @unchecked Sendable {
    private let lock = NSLock()
    private var covered: [Int]
    private let total: Int
    private let family: SurrogateFamily
    private let report: SerialProgress?

    init(runs: Int, probes: Int, family: SurrogateFamily, report: SerialProgress?) {
        covered = [Int](repeating: 0, count: runs)
        total = runs * probes
        self.family = family
        self.report = report
    }

    /// Run `run` has covered `count` probes so far with `rules` rules (`nil`: it has finished).
    func update(run: Int, covered count: Int, rules: Int?) {
        guard let report else { return }
        // Reported under the lock, so the counts arrive in the order they grow.
        lock.lock()
        defer { lock.unlock() }
        covered[run] = count
        let done = covered.reduce(0, +)
        report(
            FitProgress(
                family: family, done: done, total: total, unit: "probes covered", note: rules.map { "\($0) rules so far" } ?? ""))
    }
}

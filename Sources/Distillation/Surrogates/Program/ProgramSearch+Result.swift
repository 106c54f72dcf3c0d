extension ProgramSearch {
    /// The shortest program found, and what the search did to find it.
    public struct Result: Sendable {
        /// The best expression with its exception table on the examples.
        public var surrogate: ProgramSurrogate
        /// Examples on which the expression is wrong (the exception count the search scored).
        public var mismatches: Int
        /// The shortest expression right on every example among the sizes the search built, when the best one
        /// has exceptions (on a small domain a short exception table can cost fewer bits than the exact
        /// expression: `0` with 4 exceptions against `x3 div (x1 + x2)` on 16 inputs); nil otherwise.
        public var exact: ProgramSurrogate?
        /// Why the search ended.
        public var stopReason: StopReason
        /// The largest size whose candidates were all built (0 if none).
        public var completedSize: Int
        /// `generatedBySize[s]`: candidates of size s built (before observational-equivalence pruning).
        public var generatedBySize: [Int]
        /// `keptBySize[s]`: candidates of size s kept as building blocks (distinct value vectors).
        public var keptBySize: [Int]
        /// Candidates whose values were computed (the rest were skipped because their size alone lost).
        public var evaluated: Int
        /// Whether `Limits.maxKept` was reached.
        public var keptLimitReached: Bool
        /// Seconds from the start until the best program was first seen.
        public var secondsToBest: Double
        /// Seconds the whole search took.
        public var seconds: Double

        /// Total bits of the best program (`surrogate.bits`).
        public var bits: Double { surrogate.bits }
        /// Candidates kept, all sizes.
        public var kept: Int { keptBySize.reduce(0, +) }
    }
}

extension ProgramSearch {
    /// When the search stops: it enumerates sizes 1, 2, … up to `maxSize` unless the clock runs out first.
    public struct Limits: Sendable {
        /// The largest expression, in nodes.
        public var maxSize: Int
        /// Wall-clock budget in seconds; the search returns the best program found so far when it is spent.
        public var maxSeconds: Double
        /// How many distinct value vectors the search keeps as building blocks; past it, new candidates are
        /// still scored but not kept. Memory is about `maxKept × examples × 4` bytes.
        public var maxKept: Int

        public init(maxSize: Int = 5, maxSeconds: Double = 30, maxKept: Int = 20_000) {
            precondition(maxSize >= 1 && maxSeconds >= 0, "the size limit must be positive and the time limit not negative")
            precondition((0...Int(Int32.max)).contains(maxKept), "candidate ids are 32-bit")
            self.maxSize = maxSize
            self.maxSeconds = maxSeconds
            self.maxKept = maxKept
        }
    }
}

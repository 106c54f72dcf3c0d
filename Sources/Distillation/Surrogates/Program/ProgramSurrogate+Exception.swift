extension ProgramSurrogate {
    /// One special case: an input on which the expression is wrong, and the output to give instead.
    public struct Exception: Sendable, Hashable {
        /// One value per task variable.
        public var input: [Int]
        /// The output the surrogate gives for `input`.
        public var output: Int

        public init(input: [Int], output: Int) {
            self.input = input
            self.output = output
        }
    }
}

extension ProgramSearch {
    /// Why the search ended.
    public enum StopReason: String, Sendable {
        /// Every size up to `Limits.maxSize` was enumerated.
        case sizeLimit = "size_limit"
        /// No larger expression can be shorter than the best one (its size alone costs more bits).
        case shortestFound = "shortest_found"
        /// `Limits.maxSeconds` ran out.
        case timeLimit = "time_limit"
    }
}

/// The checks shared by everything fitted or probed for a task and later used with one: surrogate files
/// (`SurrogateFile`, read by `retort fidelity`) and saved probes (`ProbeSet`, read by `retort distill --probes`).
extension TaskDescription {
    /// Checks that `names` are this task's variables, in order.
    /// - Throws: `mismatch` at `path`, naming both lists; `subject` says what reads them ("the surrogate reads").
    /// - Complexity: O(variables)
    public func requireVariables(_ names: [String], subject: String, path: String) throws(DistillationError) {
        let own = variables.map(\.name)
        guard names == own else {
            throw .mismatch(
                path: path,
                reason: "\(subject) variables \(names.joined(separator: ", ")); "
                    + "the task \"\(name)\" has \(own.joined(separator: ", "))")
        }
    }

    /// Checks that every value of `outputs` lies in the task's output alphabet.
    /// - Throws: `mismatch` at `path` naming the first foreign value; `subject` says what has it
    ///   ("the surrogate can output").
    /// - Complexity: O(outputs + alphabet)
    public func requireOutputs(_ outputs: some Sequence<Int>, subject: String, path: String) throws(DistillationError) {
        let alphabet = Set(outputValues)
        if let foreign = outputs.first(where: { !alphabet.contains($0) }) {
            throw .mismatch(
                path: path,
                reason: "\(subject) \(foreign), which is not in the task's output alphabet (\(outputAlphabetDescription))")
        }
    }

    /// The output alphabet for messages: listed when short, else its size and range.
    public var outputAlphabetDescription: String { Self.describe(outputValues) }

    /// `values` for messages: listed when there are at most 8, else their count and range.
    static func describe(_ values: [Int]) -> String {
        guard let low = values.min(), let high = values.max() else { return "none" }
        return values.count <= 8
            ? values.map(String.init).joined(separator: ", ")
            : "\(values.count) values, \(low)…\(high)"
    }
}

import Distillation

/// How well a surrogate reproduces the network on one region of the task (formats/report.md).
public struct RegionFidelity: Sendable {
    /// The region's name (`probe`, `held_out`, `trained`, `untrained`, `out_of_range`, `domain`, or the task's own).
    public var region: String
    /// Inputs where the surrogate's output equals the network's, of all the region's inputs, with its interval.
    public var agreement: WilsonInterval
    /// Mean squared difference between surrogate and network outputs (regression decoders only).
    public var meanSquaredError: Double?
    /// Among inputs where the network is wrong, how often the surrogate is wrong the same way (tasks with a truth).
    public var errorAgreement: ErrorAgreement?

    public init(region: String, agreement: WilsonInterval, meanSquaredError: Double?, errorAgreement: ErrorAgreement?) {
        self.region = region
        self.agreement = agreement
        self.meanSquaredError = meanSquaredError
        self.errorAgreement = errorAgreement
    }
}

/// Error agreement: of the inputs where the network's output differs from the task's truth, the share where
/// the surrogate gives the same wrong output (a surrogate that has learnt the network's mistakes scores 1).
public struct ErrorAgreement: Sendable {
    /// Same mistake, out of the inputs the network gets wrong (0 trials when the network is never wrong).
    public var sameMistake: WilsonInterval
    /// Of those inputs, how many the surrogate gets right (it "corrects" the network there).
    public var surrogateRight: Int

    /// The number of inputs the network gets wrong.
    public var networkWrong: Int { sameMistake.trials }
}

/// One input where a surrogate and the network disagree.
public struct Disagreement: Sendable, Equatable {
    /// The variable values.
    public var input: [Int]
    public var network: Int
    public var surrogate: Int
    /// The task's right answer, when the task has a truth.
    public var truth: Int?
}

/// What the evidence supports about one surrogate (design.md §5; thresholds in `formats/report.md`).
public enum Verdict: String, Sendable, CaseIterable {
    /// The surrogate does not even reproduce the network's input → output behaviour.
    case notEvenBehaviour = "not_even_behaviour"
    /// It reproduces the behaviour, so it is a valid reading of the network; nothing yet says the weights compute it.
    case interpretationOnly = "interpretation_only"
    /// It reproduces the behaviour and its intermediate variables are found in the network, beating the controls.
    case representationSupported = "representation_supported"

    /// The words a report prints.
    public var words: String {
        switch self {
        case .notEvenBehaviour: "not even behaviour"
        case .interpretationOnly: "interpretation only"
        case .representationSupported: "representation supported"
        }
    }
}

/// The numbers the behavioural verdict compares against (`formats/report.md`, "Verdict").
public enum BehaviourThresholds {
    /// Least agreement with the network for a surrogate to count as reproducing its behaviour: the exact
    /// agreement over the whole domain when it was enumerated, else the 95% Wilson lower bound on the
    /// first evaluated region of `held_out`, `untrained`, `probe`.
    public static let agreement = 0.95
    /// Largest compression ratio (design.md §5, test 3) at which a behaviourally faithful surrogate is called
    /// an algorithm rather than "a lookup table and special cases".
    public static let algorithmCompression = 0.05
}

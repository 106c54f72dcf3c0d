import Foundation

/// What the evidence supports about one surrogate (thresholds in `formats/report.md`).
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
    /// Least bits a behaviourally faithful surrogate must save against the lookup table of the domain —
    /// `|D|·log2|Y| − (model bits + E·(log2|D| + log2|Y|))` — to be called an algorithm rather than "a lookup
    /// table and special cases". By the no-hypercompression inequality (Grünwald, *The MDL Principle*) a
    /// function drawn from a table-like baseline is compressed by k bits with probability at most 2^−k, so
    /// 20 bits is evidence at p ≤ 2^−20 ≈ 9.5·10^−7.
    public static let algorithmBitsSaved = 20.0

    /// The p-value bound `2^−bits` of saving `bits` over the lookup table (1 when nothing is saved).
    public static func pValue(bitsSaved bits: Double) -> Double { bits <= 0 ? 1 : pow(2, -bits) }
}

/// The verdict's thresholds, in one place (`formats/report.md` quotes them).
///
/// A variable's representation is supported when its best alignment's held-out interchange intervention
/// accuracy is at least `minimumIIA`, the lower end of its 95% Wilson interval is at least
/// `minimumLowerBound`, and it beats the same search on the randomly initialised control by at least
/// `minimumMarginOverControl` (Sutter et al. 2025: unrestricted maps reach high IIA even on random networks,
/// so a result the control matches is vacuous), and it is also right on the pairs where the counterfactual
/// output differs from the base output — at least `minimumChangedPairs` of them, with IIA at least
/// `minimumIIA` there. Without that last test a variable that rarely matters scores high by leaving the output
/// alone. A surrogate's representation is supported when every variable's is.
public struct RepresentationThresholds: Sendable, Equatable {
    /// Held-out IIA needed (0.9).
    public var minimumIIA: Double
    /// Lower end of the held-out IIA's Wilson interval needed (0.85).
    public var minimumLowerBound: Double
    /// Held-out IIA minus the control's held-out IIA needed (0.2).
    public var minimumMarginOverControl: Double
    /// Held-out pairs whose counterfactual output differs from the base output needed to judge (10).
    public var minimumChangedPairs = 10

    /// The thresholds Retort reports with.
    public static let standard = RepresentationThresholds(minimumIIA: 0.9, minimumLowerBound: 0.85, minimumMarginOverControl: 0.2)

    /// The rule in one sentence, for reports.
    public var summary: String {
        "held-out IIA ≥ \(minimumIIA) with Wilson lower bound ≥ \(minimumLowerBound), at least \(minimumChangedPairs) "
            + "held-out pairs where the variable changes the output with IIA ≥ \(minimumIIA) on them, and IIA ≥ "
            + "\(minimumMarginOverControl) above the random-init control's"
    }

    /// Thresholds from their parts.
    public init(minimumIIA: Double, minimumLowerBound: Double, minimumMarginOverControl: Double) {
        self.minimumIIA = minimumIIA
        self.minimumLowerBound = minimumLowerBound
        self.minimumMarginOverControl = minimumMarginOverControl
    }
}

/// The verdict's thresholds, in one place (`formats/report.md` quotes them and says why).
///
/// A variable's representation is judged on the held-out pairs where it changes the surrogate's output —
/// where a network that ignores the intervention scores 0. It is supported when there are at least
/// `minimumChangedPairs` of them, its best alignment's IIA on them is at least `minimumIIA` with the lower
/// end of its 95% Wilson interval at least `minimumLowerBound`, and it beats the same search on the randomly
/// initialised control, on the same pairs, by at least `minimumMarginOverControl` (Sutter et al. 2025:
/// unrestricted maps reach high IIA even on random networks, so a result the control matches is vacuous).
/// A surrogate's representation is supported when every variable's is.
public struct RepresentationThresholds: Sendable, Equatable {
    /// IIA needed on the held-out pairs where the variable changes the output (0.9).
    public var minimumIIA: Double
    /// Lower end of that IIA's Wilson interval needed (0.85).
    public var minimumLowerBound: Double
    /// That IIA minus the control's on the same pairs needed (0.2).
    public var minimumMarginOverControl: Double
    /// Held-out pairs whose counterfactual output differs from the base output needed to judge (10).
    public var minimumChangedPairs = 10

    /// The thresholds Retort reports with.
    public static let standard = RepresentationThresholds(minimumIIA: 0.9, minimumLowerBound: 0.85, minimumMarginOverControl: 0.2)

    /// The rule in one sentence, for reports.
    public var summary: String {
        "on the held-out pairs where the variable changes the output (at least \(minimumChangedPairs)): IIA ≥ "
            + "\(minimumIIA) with Wilson lower bound ≥ \(minimumLowerBound), and ≥ \(minimumMarginOverControl) above the "
            + "random-init control's on the same pairs"
    }

    /// Thresholds from their parts.
    public init(minimumIIA: Double, minimumLowerBound: Double, minimumMarginOverControl: Double) {
        self.minimumIIA = minimumIIA
        self.minimumLowerBound = minimumLowerBound
        self.minimumMarginOverControl = minimumMarginOverControl
    }
}

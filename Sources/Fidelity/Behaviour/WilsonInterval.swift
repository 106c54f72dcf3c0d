/// A proportion with its 95% Wilson score interval (Wilson 1927), the interval every fidelity figure carries.
///
/// The Wilson interval stays inside [0, 1] and keeps sensible width at 0 or n successes, where the normal
/// approximation collapses to a point; it is SciPy's `binomtest(k, n).proportion_ci(method="wilson")`.
public struct WilsonInterval: Sendable, Equatable, Codable {
    /// Successes and trials.
    public var successes: Int
    public var trials: Int
    /// The interval's ends (both 0 … 1; 0 and 1 when there are no trials).
    public var lower: Double
    public var upper: Double

    /// The 0.975 quantile of the standard normal distribution (two-sided 95%).
    public static let z95 = 1.959963984540054

    /// The interval for `successes` out of `trials` at the normal quantile `z`.
    /// - Complexity: O(1)
    public init(successes: Int, trials: Int, z: Double = WilsonInterval.z95) {
        precondition(trials >= 0 && successes >= 0 && successes <= trials, "successes must be within 0…trials")
        self.successes = successes
        self.trials = trials
        guard trials > 0 else {
            lower = 0
            upper = 1
            return
        }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        // At 0 or n successes the exact end is 0 or 1; rounding must not leave it a hair inside.
        lower = successes == 0 ? 0 : max(0, centre - half)
        upper = successes == trials ? 1 : min(1, centre + half)
    }

    /// The observed proportion (0 when there are no trials).
    public var proportion: Double { trials == 0 ? 0 : Double(successes) / Double(trials) }
}

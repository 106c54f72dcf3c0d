import Distillation
import Testing

@testable import Fidelity

@Test func wilsonIntervalsMatchSciPy() throws {
    let cases = try fidelityReference()["scipy_wilson"] as! [[String: Any]]
    #expect(cases.count > 40)
    for c in cases {
        let k = c["successes"] as! Int, n = c["trials"] as! Int
        let interval = WilsonInterval(successes: k, trials: n)
        #expect(abs(interval.lower - (c["lower"] as! Double)) < 1e-12, "\(k)/\(n) lower")
        #expect(abs(interval.upper - (c["upper"] as! Double)) < 1e-12, "\(k)/\(n) upper")
    }
}

@Test func wilsonIntervalOfNoTrialsIsTheWholeRange() {
    let interval = WilsonInterval(successes: 0, trials: 0)
    #expect(interval.lower == 0 && interval.upper == 1 && interval.proportion == 0)
}

@Test func compressionRatiosMatchTheFormulaComputedIndependently() throws {
    let cases = try fidelityReference()["compression"] as! [[String: Any]]
    for c in cases {
        let ratio = DescriptionLength.compressionRatio(
            modelBits: c["model_bits"] as! Double, exceptions: c["exceptions"] as! Int, domainSize: c["domain"] as! Int,
            outputCount: c["outputs"] as! Int)
        let expected = c["ratio"] as! Double
        #expect(abs(ratio - expected) <= 1e-12 * max(1, abs(expected)), "\(c)")
    }
}

import Foundation
@testable import Network
import Testing

/// The vectorised exp and softmax in CRetortKernels/activations.c.
struct ActivationKernelTests {
    /// Values around exp's edges and ordinary ones, each run in a vector lane and through the
    /// scalar tail (an array of 9: eight lanes, then one element).
    private static let edges: [Float] = [
        .nan, -.infinity, .infinity, -87.34, -87.3365478515625, -87.3, -100, -1e-3, 0, 1, 2.5, 10, 88.3, 89, -50,
    ]

    @Test func expOfNaNIsNaNInEveryLane() {
        var lanes = [Float](repeating: .nan, count: 9)
        Activations.sigmoidInPlace(&lanes)
        #expect(lanes.allSatisfy { $0.isNaN })
    }

    @Test func everyLaneAndTheTailMatchLibmNearTheEdges() {
        for value in Self.edges where !value.isNaN && value < 88.3762626647949 {
            // sigmoid(-v) = 1 / (1 + exp(v)): exp(v) recovered from each lane.
            var x = [Float](repeating: -value, count: 9)
            Activations.sigmoidInPlace(&x)
            let expected = Foundation.exp(Double(value))
            for lane in [0, 8] {
                let got = 1 / Double(x[lane]) - 1
                if value < -87.3365478515625 {
                    #expect(x[lane] == 1, "exp(\(value)) below FLT_MIN is flushed to 0")
                } else if expected > 1e-6 {
                    #expect(abs(got - expected) <= 1e-6 * expected, "exp(\(value)) lane \(lane)")
                }
            }
        }
    }

    @Test func maskedSoftmaxGivesZerosAndMatchesDouble() {
        // A causal mask as attention builds it: row i sees positions 0...i.
        let n = 64
        var scores = [Float](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { scores[i * n + j] = j > i ? -.infinity : Float((i * 7 + j * 13) % 17) / 5 } }
        let original = scores
        Activations.softmaxRows(&scores, width: n)
        for i in 0..<n {
            let row = original[(i * n)..<((i + 1) * n)].map(Double.init)
            let top = row.max()!
            let total = row.reduce(0) { $0 + ($1 == -.infinity ? 0 : exp($1 - top)) }
            for j in 0..<n {
                let expected = j > i ? 0 : exp(row[j] - top) / total
                if j > i {
                    #expect(scores[i * n + j] == 0)
                } else {
                    #expect(abs(Double(scores[i * n + j]) - expected) <= 1e-6 * max(expected, 1e-3))
                }
            }
        }
    }
}

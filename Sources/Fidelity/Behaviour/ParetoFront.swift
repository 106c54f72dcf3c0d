/// The fidelity–description-length Pareto front: the surrogates no other surrogate beats on both axes.
public enum ParetoFront {
    /// The indices of the non-dominated points, by ascending bits. A point is dominated when another has no
    /// more bits and no less fidelity, and is strictly better on one of them; equal points all stay.
    /// - Complexity: O(n²)
    public static func indices(bits: [Double], fidelity: [Double]) -> [Int] {
        precondition(bits.count == fidelity.count)
        let front = bits.indices.filter { i in
            !bits.indices.contains { j in
                j != i && bits[j] <= bits[i] && fidelity[j] >= fidelity[i] && (bits[j] < bits[i] || fidelity[j] > fidelity[i])
            }
        }
        return front.sorted { (bits[$0], $0) < (bits[$1], $1) }
    }
}

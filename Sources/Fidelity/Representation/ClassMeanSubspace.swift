import Foundation

/// A gradient-free subspace for a variable at one site: the top principal directions of the variable's
/// class means (the mean clean activation per value, centred and weighted by the square root of each
/// value's count) — the between-class scatter's leading eigenvectors, a linear probe's subspace. For a
/// two-valued variable it is the difference of the two means.
enum ClassMeanSubspace {
    /// `dimension` orthonormal rows spanning the leading directions of the class means of `rows` grouped by `values`;
    /// fewer when the class means span fewer directions (identical activations, say).
    /// - Complexity: O(dimension × iterations × classes × width) by power iteration with deflation.
    static func basis(_ rows: [[Float]], values: [Int], dimension: Int, iterations: Int = 300) -> [[Double]] {
        let width = rows.first?.count ?? 0
        var sums: [Int: [Double]] = [:]
        var counts: [Int: Int] = [:]
        var total = [Double](repeating: 0, count: width)
        for (row, v) in zip(rows, values) {
            var sum = sums[v] ?? [Double](repeating: 0, count: width)
            for j in 0..<width {
                sum[j] += Double(row[j])
                total[j] += Double(row[j])
            }
            sums[v] = sum
            counts[v, default: 0] += 1
        }
        let n = Double(rows.count)
        let mean = total.map { $0 / n }
        // M: one row per value, √n_v (μ_v − μ).
        let m: [[Double]] = sums.keys.sorted().map { v in
            let c = Double(counts[v]!)
            return (0..<width).map { c.squareRoot() * (sums[v]![$0] / c - mean[$0]) }
        }
        var basis: [[Double]] = []
        for r in 0..<dimension {
            // Power iteration on MᵀM, deflated against the directions found, from a fixed start.
            var x = (0..<width).map { j in 1 + Double((j * 7 + r * 13) % 11) / 11 }
            for _ in 0..<iterations {
                let projected = m.map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } }
                var y = [Double](repeating: 0, count: width)
                for (row, c) in zip(m, projected) { for j in 0..<width { y[j] += c * row[j] } }
                // y with the directions found taken out, normalised; none left: the means span no more.
                guard let next = orthonormalised(basis + [y]).dropFirst(basis.count).first else { return basis }
                x = next
            }
            basis.append(x)
        }
        return basis
    }

    /// The rows made orthonormal by Gram–Schmidt (twice, for stability); a row dependent on those before it is dropped.
    /// - Complexity: O(rows² × width)
    static func orthonormalised(_ rows: [[Double]]) -> [[Double]] {
        var out: [[Double]] = []
        for row in rows {
            var v = row
            let original = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for _ in 0..<2 {
                for q in out {
                    let dot = zip(q, v).reduce(0) { $0 + $1.0 * $1.1 }
                    for j in v.indices { v[j] -= dot * q[j] }
                }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 1e-9 * max(original, 1e-300) else { continue }
            out.append(v.map { $0 / norm })
        }
        return out
    }
}

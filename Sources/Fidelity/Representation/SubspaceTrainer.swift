import Distillation
import Foundation
import Network
import WeightFiles

/// Distributed alignment search (Geiger et al.): learns a `k`-row orthonormal basis W at one site so that the
/// interchange `h' = h_b + WᵀW(h_s − h_b)` makes the network output the surrogate's counterfactual.
///
/// Loss: mean cross-entropy of the tail's logits at h' against the counterfactual's class, over the fitting
/// pairs (full batch). Gradient: with `c = W·d`, `d = h_s − h_b` and `g = ∂loss/∂h'` from the tail's reverse
/// mode, `∂loss/∂W = c·gᵀ + (W·g)·dᵀ`. Adam steps, each followed by the QR retraction to orthonormal rows.
struct SubspaceTrainer {
    struct Example {
        var base: [Double]
        var source: [Double]
        var context: [Double]?
        var target: Int
    }

    let tail: NetworkTail
    let examples: [Example]

    /// Trains a basis of `k` rows from a seeded random start.
    /// - Complexity: O(steps × examples × (k·width + tail weights))
    func train(k: Int, steps: Int, learningRate: Double, seed: UInt64, threads: Int) -> [[Double]] {
        let width = tail.width
        var generator = SplitMix64(seed: seed)
        var w = orthonormalRows((0..<k).map { _ in (0..<width).map { _ in generator.gaussian() } })
        var m = [[Double]](repeating: [Double](repeating: 0, count: width), count: k)
        var v = m
        let beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
        let chunks = max(1, min(threads, examples.count))
        for step in 1...max(steps, 1) {
            let basis = w
            let tail = self.tail
            let examples = self.examples
            // Partial gradients per chunk of examples, summed after.
            let parts = parallelMap(Array(0..<chunks), threads: threads) { @Sendable chunk -> [[Double]] in
                var grad = [[Double]](repeating: [Double](repeating: 0, count: width), count: k)
                for e in stride(from: chunk, to: examples.count, by: chunks) {
                    let ex = examples[e]
                    let d = zip(ex.source, ex.base).map { $0 - $1 }
                    let c = basis.map { row in zip(row, d).reduce(0) { $0 + $1.0 * $1.1 } }
                    var h = ex.base
                    for r in 0..<k { for j in 0..<width { h[j] += basis[r][j] * c[r] } }
                    let g = tail.lossAndGradient(h, context: ex.context, target: ex.target).gradient
                    for r in 0..<k {
                        let wg = zip(basis[r], g).reduce(0) { $0 + $1.0 * $1.1 }
                        for j in 0..<width { grad[r][j] += c[r] * g[j] + wg * d[j] }
                    }
                }
                return grad
            }
            let scale = 1 / Double(max(examples.count, 1))
            for r in 0..<k {
                for j in 0..<width {
                    let g = parts.reduce(0) { $0 + $1[r][j] } * scale
                    m[r][j] = beta1 * m[r][j] + (1 - beta1) * g
                    v[r][j] = beta2 * v[r][j] + (1 - beta2) * g * g
                    let mHat = m[r][j] / (1 - pow(beta1, Double(step)))
                    let vHat = v[r][j] / (1 - pow(beta2, Double(step)))
                    w[r][j] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
                }
            }
            w = orthonormalRows(w)
        }
        return w
    }
}

/// Orthonormal rows by modified Gram–Schmidt (twice, for stability): the QR retraction of the subspace
/// basis after each optimiser step. A row that collapses onto the ones before it is replaced by a
/// standard basis vector outside their span, so the basis keeps its rank.
func orthonormalRows(_ rows: [[Double]]) -> [[Double]] {
    var out: [[Double]] = []
    let width = rows.first?.count ?? 0
    func reduce(_ v: [Double]) -> [Double]? {
        var v = v
        for _ in 0..<2 {
            for q in out {
                let dot = zip(q, v).reduce(0) { $0 + $1.0 * $1.1 }
                for j in 0..<width { v[j] -= dot * q[j] }
            }
        }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 1e-9 && norm.isFinite ? v.map { $0 / norm } : nil
    }
    for row in rows {
        if let v = reduce(row) {
            out.append(v)
            continue
        }
        for e in 0..<width {
            var unit = [Double](repeating: 0, count: width)
            unit[e] = 1
            if let v = reduce(unit) {
                out.append(v)
                break
            }
        }
    }
    return out
}

/// `body(i)` for `i` in `0..<count` on up to `threads` threads, results in order.
func parallelMap<T: Sendable>(_ count: Int, threads: Int, _ body: @Sendable (Int) -> T) -> [T] {
    guard threads > 1 && count > 1 else { return (0..<count).map(body) }
    let slots = ResultSlots<T>(count: count)
    let workers = min(threads, count)
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        for i in stride(from: worker, to: count, by: workers) { slots.set(i, body(i)) }
    }
    return slots.values()
}

private final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: T) { lock.withLock { slots[i] = value } }
    func values() -> [T] { lock.withLock { slots.map { $0! } } }
}

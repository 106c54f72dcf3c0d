import Distillation
import Foundation
import Network
import WeightFiles

/// Distributed alignment search (Geiger et al.): learns a `k`-row orthonormal basis W at one site so that the
/// interchange `h' = h_b + WᵀW(h_s − h_b)` makes the network output the surrogate's counterfactual.
///
/// Loss: mean cross-entropy of the tail's logits at h' against the counterfactual's class, over the training
/// pairs (full batch, Float32, every product on `Matmul`). In matrix form over the pairs, with D = H_s − H_b
/// and C = D·Wᵀ the aligned coordinates, H' = H_b + C·W. When the tail starts with a linear map L the
/// interchange is folded into it, Z = H_b·L + C·(W·L), so a step costs O(pairs·k·(width + outputs)) before
/// the rest of the tail instead of O(pairs·width·outputs). Gradient: with G = ∂loss/∂Z and P = W·L,
/// `∂loss/∂W = (G·Pᵀ)ᵀ·D + (Cᵀ·G)·Lᵀ` (L = identity when not folded).
///
/// W stays on the Stiefel manifold (`StiefelAdam`). Training stops early when the loss on a held-back validation
/// share of the pairs has not improved for `patience` checks (`ValidationStopping`), and returns the basis that
/// scored best there.
struct SubspaceTrainer {
    /// Pairs as row-major matrices: base and source features `[pairs, width]`, the clean base activation
    /// of the tail's context hook `[pairs, contextWidth]` when it needs one, and the target class per pair.
    struct Examples {
        var base: [Float]
        var source: [Float]
        var context: [Float]?
        var targets: [Int]
        var count: Int { targets.count }

        /// The rows `rows`, in that order.
        func rows(_ rows: [Int], width: Int, contextWidth: Int) -> Examples {
            func gather(_ m: [Float], _ w: Int) -> [Float] {
                var out = [Float](repeating: 0, count: rows.count * w)
                for (j, r) in rows.enumerated() { for t in 0..<w { out[j * w + t] = m[r * w + t] } }
                return out
            }
            return Examples(
                base: gather(base, width), source: gather(source, width), context: context.map { gather($0, contextWidth) },
                targets: rows.map { targets[$0] })
        }
    }

    /// What training did: the basis, the steps taken, and its validation score (nil without a validation split).
    struct Outcome {
        var basis: [[Double]]
        var steps: Int
        var validationAccuracy: Double?
    }

    let tail: BatchedTail
    let examples: Examples
    /// Validation checks without progress before stopping.
    var patience = 4
    /// Steps between validation checks.
    var checkInterval = 10
    /// The share of pairs held back for validation (none when fewer than 20 pairs).
    var validationShare = 0.2

    private struct Problem {
        /// H_b·L + bias (folded) or H_b, `[rows, liftedWidth]`.
        var lifted: [Float]
        var difference: [Float]
        var context: [Float]?
        var targets: [Int]
        var rows: Int { targets.count }
    }

    private func problem(_ e: Examples, width: Int, threads: Int) -> Problem {
        let n = e.count
        var difference = e.source
        for j in difference.indices { difference[j] -= e.base[j] }
        guard let linear = tail.leadingLinear else {
            return Problem(lifted: e.base, difference: difference, context: e.context, targets: e.targets)
        }
        var lifted = [Float](repeating: 0, count: n * linear.outputs)
        if let bias = linear.bias { for r in 0..<n { for o in 0..<linear.outputs { lifted[r * linear.outputs + o] = bias[o] } } }
        multiply(e.base, linear.weight, into: &lifted, m: n, n: linear.outputs, k: width, accumulate: true, threads: threads)
        return Problem(lifted: lifted, difference: difference, context: e.context, targets: e.targets)
    }

    /// Trains a basis of `k` rows from a seeded random start for at most `steps` Adam steps.
    /// - Complexity: O(steps × pairs × (k·width + weights of the tail after its first linear op))
    func train(k: Int, steps: Int, learningRate: Double, seed: UInt64, threads: Int) -> Outcome {
        let width = tail.width
        var generator = SplitMix64(seed: seed)
        var w = orthonormalRows((0..<k).map { _ in (0..<width).map { _ in generator.gaussian() } })
        // The validation split: a seeded share of the pairs, when there are enough of them.
        let n = examples.count
        let contextWidth = examples.context.map { $0.count / max(n, 1) } ?? 0
        let held = n >= 20 ? max(1, Int((Double(n) * validationShare).rounded())) : 0
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, generator.below(i + 1)) }
        let training = held > 0 ? examples.rows(Array(order[held...]).sorted(), width: width, contextWidth: contextWidth) : examples
        let validation = held > 0 ? examples.rows(Array(order[..<held]).sorted(), width: width, contextWidth: contextWidth) : nil
        let train = problem(training, width: width, threads: threads)
        let check = validation.map { problem($0, width: width, threads: threads) }
        let linear = tail.leadingLinear
        let rest = tail.rest
        let lifted = linear?.outputs ?? width

        var optimiser = StiefelAdam(start: w, learningRate: learningRate)
        var stopping = ValidationStopping(patience: patience)
        var taken = 0

        // Z = lifted + C·P with C = D·Wᵀ and P = W·L (or W).
        func logits(_ p: Problem, _ wf: [Float], _ projected: [Float]) -> (c: [Float], z: [Float]) {
            var c = [Float](repeating: 0, count: p.rows * k)
            multiply(p.difference, wf, into: &c, m: p.rows, n: k, k: width, bTransposed: true, threads: threads)
            var z = p.lifted
            multiply(c, projected, into: &z, m: p.rows, n: lifted, k: k, accumulate: true, threads: threads)
            return (c, z)
        }
        func project(_ wf: [Float]) -> [Float] {
            guard let linear else { return wf }
            var out = [Float](repeating: 0, count: k * lifted)
            multiply(wf, linear.weight, into: &out, m: k, n: lifted, k: width, threads: threads)
            return out
        }
        func score(_ p: Problem, _ wf: [Float], _ projected: [Float]) -> (Double, Int) {
            let (_, z) = logits(p, wf, projected)
            var out = rest.logits(z, rows: p.rows, context: p.context, threads: threads)
            return BatchedTail.softmaxCrossEntropy(&out, rows: p.rows, width: tail.outputWidth, targets: p.targets)
        }

        for step in 1...max(steps, 1) {
            taken = step
            let wf = w.flatMap { $0.map(Float.init) }
            let projected = project(wf)
            let (c, z) = logits(train, wf, projected)
            let result = rest.lossAndGradient(z, rows: train.rows, context: train.context, targets: train.targets, threads: threads)
            let g = result.gradient
            // dC = G·Pᵀ, dP = Cᵀ·G; ∇W = dCᵀ·D + dP·Lᵀ (or + dP).
            var dC = [Float](repeating: 0, count: train.rows * k)
            multiply(g, projected, into: &dC, m: train.rows, n: k, k: lifted, bTransposed: true, threads: threads)
            var grad = [Float](repeating: 0, count: k * width)
            multiply(transpose(dC, rows: train.rows, columns: k), train.difference, into: &grad, m: k, n: width, k: train.rows, threads: threads)
            var dP = [Float](repeating: 0, count: k * lifted)
            multiply(transpose(c, rows: train.rows, columns: k), g, into: &dP, m: k, n: lifted, k: train.rows, threads: threads)
            if let linear {
                multiply(dP, linear.weight, into: &grad, m: k, n: width, k: lifted, accumulate: true, bTransposed: true, threads: threads)
            } else {
                for j in grad.indices { grad[j] += dP[j] }
            }
            optimiser.step(gradient: grad, scale: 1 / Double(max(train.rows, 1)))
            w = optimiser.basis
            if let check, step % checkInterval == 0 || step == steps {
                let wf = w.flatMap { $0.map(Float.init) }
                let (loss, correct) = score(check, wf, project(wf))
                if stopping.record(loss: loss, correct: correct, basis: w) { break }
            }
        }
        guard let best = stopping.best, let validation else { return Outcome(basis: w, steps: taken, validationAccuracy: nil) }
        return Outcome(basis: best.basis, steps: taken, validationAccuracy: Double(best.correct) / Double(validation.count))
    }
}

/// `a·b` (or `a·bᵀ`) into `c` on the project's GEMM; `a` `[m, k]`, `b` `[k, n]` (`[n, k]` transposed).
func multiply(
    _ a: [Float], _ b: [Float], into c: inout [Float], m: Int, n: Int, k: Int, accumulate: Bool = false,
    bTransposed: Bool = false, threads: Int
) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        if !accumulate { for j in 0..<(m * n) { c[j] = 0 } }
        return
    }
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
                Matmul.multiply(
                    a.baseAddress!, b.baseAddress!, into: c.baseAddress!, m: m, n: n, k: k, accumulate: accumulate,
                    bTransposed: bTransposed, threads: threads)
            }
        }
    }
}

/// The transpose of a row-major `[rows, columns]` matrix.
func transpose(_ x: [Float], rows: Int, columns: Int) -> [Float] {
    var out = [Float](repeating: 0, count: x.count)
    for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = x[r * columns + c] } }
    return out
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

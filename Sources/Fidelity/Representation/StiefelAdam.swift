import Foundation

/// Adam on the Stiefel manifold for a `k`-row orthonormal basis W (distributed alignment search's rotation):
/// each step projects the Euclidean gradient onto the tangent space at W (`ξ = ∇ − sym(∇·Wᵀ)·W`), takes an
/// Adam step along it, and restores orthonormal rows by a QR retraction (Gram–Schmidt, `orthonormalRows`).
/// Shared by the network-tail trainer (`SubspaceTrainer`) and the language-model one (`PromptSubspaceTrainer`).
struct StiefelAdam {
    /// The basis, `k` orthonormal rows of `width`.
    private(set) var basis: [[Double]]
    let learningRate: Double
    private var m: [Float]
    private var v: [Float]
    private var steps = 0
    private let beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8

    /// Starts from `start`, which has orthonormal rows (`orthonormalRows`).
    init(start: [[Double]], learningRate: Double) {
        basis = start
        self.learningRate = learningRate
        let count = basis.count * (basis.first?.count ?? 0)
        m = [Float](repeating: 0, count: count)
        v = m
    }

    /// The basis as Float32, row-major `[k, width]`.
    var floats: [Float] { basis.flatMap { $0.map(Float.init) } }

    /// One step along `gradient` (`∂loss/∂W`, row-major `[k, width]`), scaled by `scale` (1/pairs for a mean loss).
    /// - Complexity: O(k² × width)
    mutating func step(gradient grad: [Float], scale: Double) {
        let k = basis.count, width = basis.first?.count ?? 0
        steps += 1
        var a = [Double](repeating: 0, count: k * k)
        for r in 0..<k {
            for q in 0..<k {
                var s = 0.0
                for j in 0..<width { s += Double(grad[r * width + j]) * basis[q][j] }
                a[r * k + q] = s
            }
        }
        var xi = [[Double]](repeating: [Double](repeating: 0, count: width), count: k)
        for r in 0..<k {
            for j in 0..<width { xi[r][j] = Double(grad[r * width + j]) }
            for q in 0..<k {
                let sym = 0.5 * (a[r * k + q] + a[q * k + r])
                if sym != 0 { for j in 0..<width { xi[r][j] -= sym * basis[q][j] } }
            }
        }
        let correction1 = 1 - pow(beta1, Double(steps)), correction2 = 1 - pow(beta2, Double(steps))
        for r in 0..<k {
            for j in 0..<width {
                let gj = xi[r][j] * scale
                let i = r * width + j
                let mi = beta1 * Double(m[i]) + (1 - beta1) * gj
                let vi = beta2 * Double(v[i]) + (1 - beta2) * gj * gj
                m[i] = Float(mi)
                v[i] = Float(vi)
                basis[r][j] -= learningRate * (mi / correction1) / ((vi / correction2).squareRoot() + epsilon)
            }
        }
        basis = orthonormalRows(basis)
    }
}

/// Early stopping on a validation split: a check is progress when more validation pairs are right, or as many
/// with a loss at least 1% lower; after `patience` checks without progress training stops. The best basis seen
/// is kept (a lower loss with as many right replaces it without counting as progress: a slow slide of the loss
/// with nothing more right does not keep a hopeless search going).
struct ValidationStopping {
    let patience: Int
    private(set) var best: (loss: Double, correct: Int, basis: [[Double]])?
    private var sinceBest = 0

    init(patience: Int) { self.patience = patience }

    /// Records a check; returns whether training should stop.
    mutating func record(loss: Double, correct: Int, basis: [[Double]]) -> Bool {
        guard let current = best else {
            best = (loss, correct, basis)
            return false
        }
        if correct > current.correct || (correct == current.correct && loss < current.loss * 0.99) {
            best = (loss, correct, basis)
            sinceBest = 0
            return false
        }
        if correct == current.correct && loss < current.loss { best = (loss, correct, basis) }
        sinceBest += 1
        return sinceBest >= patience
    }
}

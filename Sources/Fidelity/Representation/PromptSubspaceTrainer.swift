import Distillation
import Foundation
import Network
import WeightFiles

/// Distributed alignment search at a language-model prompt site: learns a `k`-row orthonormal basis W at one
/// hook and position so that the interchange `h' = h_b + WᵀW(h_s − h_b)` makes the model answer the surrogate's
/// counterfactual.
///
/// Objective (the first answer token): the mean cross-entropy, at the prompt's last position, of the first
/// token of the counterfactual answer, over the training pairs (full batch). Its gradient comes from reverse
/// mode through the rest of the model (`DecoderTail`): with D = H_s − H_b, C = D·Wᵀ and G = ∂loss/∂H',
/// `∂loss/∂W = Cᵀ·G + (G·Wᵀ)ᵀ·D`. W stays on the Stiefel manifold (`StiefelAdam`); training stops early on a
/// validation share of the pairs (`ValidationStopping`, scored by the same loss and by how many pairs get the
/// target token as the top logit).
struct PromptSubspaceTrainer {
    /// A training pair: prompt indices (into the tail's prompts) and the target token id.
    struct Example {
        var base: Int
        var source: Int
        var target: Int
    }

    let tail: DecoderTail
    let examples: [Example]
    /// Validation checks without progress before stopping.
    var patience = 4
    /// Steps between validation checks.
    var checkInterval = 10
    /// The share of pairs held back for validation (none when fewer than 20 pairs).
    var validationShare = 0.2

    /// Trains a basis of `k` rows from a seeded random start for at most `steps` Adam steps; `progress` gets
    /// the steps taken.
    /// - Complexity: O(steps × pairs × (the tail's forward and reverse pass))
    func train(
        k: Int, steps: Int, learningRate: Double, seed: UInt64, threads: Int, progress: (Int) -> Void = { _ in }
    ) -> SubspaceTrainer.Outcome {
        let width = tail.width
        var generator = SplitMix64(seed: seed)
        let start = orthonormalRows((0..<k).map { _ in (0..<width).map { _ in generator.gaussian() } })
        let n = examples.count
        let held = n >= 20 ? max(1, Int((Double(n) * validationShare).rounded())) : 0
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, generator.below(i + 1)) }
        let training = (held > 0 ? Array(order[held...]).sorted() : Array(0..<n)).map { examples[$0] }
        let validation = held > 0 ? Array(order[..<held]).sorted().map { examples[$0] } : []

        func matrices(_ set: [Example]) -> (base: [Float], difference: [Float]) {
            var base: [Float] = [], difference: [Float] = []
            base.reserveCapacity(set.count * width)
            difference.reserveCapacity(set.count * width)
            for e in set {
                let b = tail.clean(e.base), s = tail.clean(e.source)
                base += b
                for j in 0..<width { difference.append(s[j] - b[j]) }
            }
            return (base, difference)
        }
        let train = matrices(training), check = matrices(validation)
        // H' = H_b + C·W with C = D·Wᵀ.
        func interchanged(_ m: (base: [Float], difference: [Float]), rows: Int, _ wf: [Float]) -> (c: [Float], h: [Float]) {
            var c = [Float](repeating: 0, count: rows * k)
            multiply(m.difference, wf, into: &c, m: rows, n: k, k: width, bTransposed: true, threads: threads)
            var h = m.base
            multiply(c, wf, into: &h, m: rows, n: width, k: k, accumulate: true, threads: threads)
            return (c, h)
        }
        var optimiser = StiefelAdam(start: start, learningRate: learningRate)
        var stopping = ValidationStopping(patience: patience)
        var taken = 0
        let budget = max(steps, 1)
        for step in 1...budget {
            taken = step
            let wf = optimiser.floats
            let (c, h) = interchanged(train, rows: training.count, wf)
            let g = tail.lossAndGradient(h, prompts: training.map(\.base), targets: training.map(\.target)).gradient
            // ∇W = Cᵀ·G + (G·Wᵀ)ᵀ·D.
            var grad = [Float](repeating: 0, count: k * width)
            multiply(
                transpose(c, rows: training.count, columns: k), g, into: &grad, m: k, n: width, k: training.count,
                threads: threads)
            var dC = [Float](repeating: 0, count: training.count * k)
            multiply(g, wf, into: &dC, m: training.count, n: k, k: width, bTransposed: true, threads: threads)
            multiply(
                transpose(dC, rows: training.count, columns: k), train.difference, into: &grad, m: k, n: width, k: training.count,
                accumulate: true, threads: threads)
            optimiser.step(gradient: grad, scale: 1 / Double(max(training.count, 1)))
            progress(step)
            if !validation.isEmpty, step % checkInterval == 0 || step == budget {
                let (loss, correct) = score(check, validation, optimiser.floats, k: k, threads: threads)
                if stopping.record(loss: loss, correct: correct, basis: optimiser.basis) { break }
            }
        }
        guard let best = stopping.best, !validation.isEmpty else {
            return SubspaceTrainer.Outcome(basis: optimiser.basis, steps: taken, validationAccuracy: nil)
        }
        return SubspaceTrainer.Outcome(
            basis: best.basis, steps: taken, validationAccuracy: Double(best.correct) / Double(validation.count))
    }

    /// The mean cross-entropy of the targets and how many pairs have the target as their top logit.
    private func score(_ m: (base: [Float], difference: [Float]), _ set: [Example], _ wf: [Float], k: Int, threads: Int) -> (
        Double, Int
    ) {
        let width = tail.width, rows = set.count
        var c = [Float](repeating: 0, count: rows * k)
        multiply(m.difference, wf, into: &c, m: rows, n: k, k: width, bTransposed: true, threads: threads)
        var h = m.base
        multiply(c, wf, into: &h, m: rows, n: width, k: k, accumulate: true, threads: threads)
        let logits = tail.logits(h, prompts: set.map(\.base))
        let vocab = tail.vocabularySize
        var loss = 0.0, correct = 0
        for (r, e) in set.enumerated() {
            let row = logits[(r * vocab)..<((r + 1) * vocab)]
            let top = row.max() ?? 0
            let sum = row.reduce(0.0) { $0 + Foundation.exp(Double($1 - top)) }
            loss += Double(top) + Foundation.log(sum) - Double(row[r * vocab + e.target])
            if row[r * vocab + e.target] >= top { correct += 1 }
        }
        return (loss / Double(max(rows, 1)), correct)
    }

    /// The token each task output value starts with, for the first-answer-token objective: for a `next_token`
    /// decoder, its candidate's first token; for `generate`, the first token the model generated on a clean prompt
    /// whose answer is that value, else — when that convention holds for every value seen — the first token of
    /// the value's decimal text. Values with neither are absent (their pairs are not trained on).
    static func answerTokens(_ runner: PromptInterchangeRunner, values: Set<Int>) -> [Int: Int] {
        let prompt = runner.prompt
        var tokens: [Int: Int] = [:]
        switch prompt.task.decoder {
        case .nextToken(let candidates, let outputs):
            for (candidate, value) in zip(candidates, outputs) where values.contains(value) {
                if let first = prompt.tokenizer.encode(candidate).first { tokens[value] = first }
            }
        default:
            for (output, first) in zip(runner.outputs, runner.firstTokens) where first >= 0 && tokens[output] == nil {
                tokens[output] = first
            }
            let textual = !tokens.isEmpty && tokens.allSatisfy { prompt.tokenizer.encode(String($0.key)).first == $0.value }
            if textual {
                for value in values where tokens[value] == nil {
                    if let first = prompt.tokenizer.encode(String(value)).first { tokens[value] = first }
                }
            }
        }
        return tokens.filter { values.contains($0.key) }
    }
}

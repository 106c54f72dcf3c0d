import Distillation
import Foundation
import Network

extension PromptRepresentationTests {
    /// What DAS at a prompt site needs beside the site: the runner, the surrogate, the pairs and the options.
    struct DASContext {
        let runner: PromptInterchangeRunner
        let model: SurrogateCausalModel
        /// The language model's weights in Float32 (nil: no reverse mode for this network, so no DAS).
        let weights: DecoderTailWeights?
        /// Fitting pairs (the localisation pairs) and the held-out pairs with their targets for the variable.
        let fittingPairs: [InterchangePair]
        let heldOutPairs: [InterchangePair]
        let options: RepresentationOptions
        /// The runs whose clean answers give each answer's first token (`nil`: `runner`'s); the control trains on the
        /// model's tokens, since its own clean answers are not the surrogate's.
        var answerTokenRuns: PromptInterchangeRunner? = nil
        /// The tails prepared so far, by site and the prompts they run: every variable searched at a site with the
        /// same pairs reuses its tail.
        let tails = TailCache()
    }

    /// `DecoderTail`s by block, hook, position and prompts, for one runner and one set of weights.
    final class TailCache {
        private var tails: [String: DecoderTail] = [:]

        /// The tail at `key`, prepared by `make` the first time.
        func tail(_ key: String, _ make: () throws(NetworkError) -> DecoderTail) throws(NetworkError) -> DecoderTail {
            if let tail = tails[key] { return tail }
            let tail = try make()
            tails[key] = tail
            return tail
        }
    }

    /// Distributed alignment search at `site` for `variable`: one subspace per dimension trained on the fitting
    /// pairs (`PromptSubspaceTrainer`, the first answer token's cross-entropy) and scored on the held-out pairs by
    /// patched generation read with the task's decoder, as the whole site and the class-mean subspaces are.
    /// Empty when the network has no reverse mode or the site's hook is not `hook_resid_post`, `hook_attn_out` or
    /// `hook_mlp_out` of a block.
    /// - Complexity: per dimension, at most `subspaceSteps` forward and reverse passes of the model after the site
    ///   over the training pairs, then one patched generation per held-out pair.
    static func dasScores(
        _ context: DASContext, site: AlignmentSite, variable: SurrogateVariable, heldOutTargets: PairTargets,
        dimensions: [Int], seed: UInt64, progress: (_ done: Int, _ total: Int) -> Void
    ) throws(RepresentationError) -> [PromptDASScore] {
        guard let weights = context.weights, let position = site.position else { return [] }
        let parts = site.hook.split(separator: ".")
        guard parts.count == 3, parts[0] == "blocks", let layer = Int(parts[1]),
            let hook = DecoderTail.Hook(rawValue: String(parts[2]))
        else { return [] }
        let runner = context.runner, model = context.model, options = context.options
        let dimensions = dimensions.filter { $0 < weights.dModel }
        guard !dimensions.isEmpty else { return [] }
        let counterfactuals = context.fittingPairs.map {
            model.counterfactual(variable, base: runner.inputs[$0.base], source: runner.inputs[$0.source])
        }
        let tokens = PromptSubspaceTrainer.answerTokens(context.answerTokenRuns ?? runner, values: Set(counterfactuals))
        var examples: [PromptSubspaceTrainer.Example] = []
        for (pair, value) in zip(context.fittingPairs, counterfactuals) {
            guard examples.count < options.promptSubspacePairs, let token = tokens[value] else { continue }
            examples.append(PromptSubspaceTrainer.Example(base: pair.base, source: pair.source, target: token))
        }
        guard examples.count >= 2 else { return [] }
        // The tail runs clean only the prompts the pairs use (the sources through the site's block alone), numbered
        // in the order of their indices in the runner.
        let used = Array(Set(examples.flatMap { [$0.base, $0.source] })).sorted()
        let bases = Array(Set(examples.map(\.base))).sorted()
        let slot = Dictionary(uniqueKeysWithValues: used.enumerated().map { ($1, $0) })
        let tail: DecoderTail
        do {
            let key = "\(layer).\(hook.rawValue)@\(runner.length + position) \(used) \(bases)"
            tail = try context.tails.tail(key) { () throws(NetworkError) in
                try DecoderTail(
                    weights: weights, prompts: used.map { runner.ids[$0] }, sharedPrefix: runner.sharedPrefix, layer: layer,
                    hook: hook, position: runner.length + position, contextPrompts: bases.map { slot[$0]! })
            }
        } catch {
            throw .network(error)
        }
        let trainer = PromptSubspaceTrainer(
            tail: tail,
            examples: examples.map { .init(base: slot[$0.base]!, source: slot[$0.source]!, target: $0.target) })
        let width = tail.width
        var scores: [PromptDASScore] = []
        let budget = max(options.subspaceSteps, 1)
        for (i, d) in dimensions.enumerated() {
            let started = ContinuousClock.now
            let outcome = trainer.train(
                k: d, steps: options.subspaceSteps, learningRate: options.learningRate, seed: seed &+ UInt64(d) &* 0x9E37,
                threads: weights.threads
            ) { progress(i * budget + $0, dimensions.count * budget) }
            let elapsed = ContinuousClock.now - started
            let alignment = Alignment(site: site, map: .subspace(basis: outcome.basis), width: width)
            let patches = context.heldOutPairs.map { pair in
                PromptInterchangeRunner.Patch(
                    base: pair.base, hook: site.hook, position: position,
                    values: alignment.interchange(
                        base: Array(runner.features(site.hook, position, pair.base)),
                        source: Array(runner.features(site.hook, position, pair.source))))
            }
            let outputs = try runner.outputs(patches)
            scores.append(
                PromptDASScore(
                    dimension: d, accuracy: Analysis.interchangeAccuracy(outputs, heldOutTargets), trainingPairs: examples.count,
                    steps: outcome.steps, validationAccuracy: outcome.validationAccuracy,
                    seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18))
            progress((i + 1) * budget, dimensions.count * budget)
        }
        return scores
    }
}

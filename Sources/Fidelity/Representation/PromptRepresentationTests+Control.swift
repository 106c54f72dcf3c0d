import Distillation
import Foundation
import Network
import WeightFiles

extension PromptRepresentationTests {
    /// The random-init control of a language model for these tests: `LanguageModels.randomInitialised` — the same
    /// configuration, tokenizer and tensor shapes, weights drawn as transformers initialises a fresh model
    /// (normal(0, `initializer_range`) linear and embedding weights, norm gains 1, biases 0), in Float32.
    /// - Complexity: O(parameters), and the memory of a Float32 copy of the model.
    public static func controlModel(of network: any NeuralNetwork, file: any WeightFile, seed: UInt64, threads: Int)
        throws(RepresentationError) -> any NeuralNetwork
    {
        guard let model = network as? any LanguageModel else {
            throw .invalidOptions(reason: "a prompt task's random-init control needs a language model; this is \(type(of: network))")
        }
        do { return try LanguageModels.randomInitialised(model, file: file, seed: seed, threads: threads) } catch {
            throw .network(error)
        }
    }

    /// Scores every alignment of `results` (the whole site, each class-mean subspace and each DAS subspace at each
    /// variable's best sites) on `control`, on the same inputs and held-out pairs, against the same surrogate
    /// counterfactuals (`targets`, one per variable): the class-mean subspaces are computed again from the control's
    /// own clean activations and the DAS subspaces trained again through it on the same fitting pairs (aiming at the
    /// model's answer tokens), as on the network. Fills `controlWholeSite` and each subspace's `controlAccuracy`.
    /// `ranks[k][t]`: the rank of `results[k].top[t]` among variable k's best sites, which seeds its DAS (`nil`: t;
    /// a shard's results hold only its items' sites).
    /// - Returns: the language-model runs made (clean and patched).
    /// - Complexity: inputs clean runs + (distinct best sites + Σ subspaces) × held-out pairs patched runs, and the
    ///   DAS training of every DAS subspace.
    static func scoreControl(
        _ control: any NeuralNetwork, task: TaskDescription, model: SurrogateCausalModel, runner: PromptInterchangeRunner,
        fitting: [InterchangePair], heldOut: [InterchangePair], targets: [PairTargets], options: RepresentationOptions,
        results: inout [PromptVariableResult], ranks: [[Int]]? = nil, progress: (_ stage: String, _ done: Int, _ total: Int) -> Void
    ) throws(RepresentationError) -> Int {
        let prompt: PromptRunner
        do { prompt = try PromptRunner(network: control, task: task) } catch { throw .task(error) }
        var sites: [AlignmentSite] = []
        for v in results { for t in v.top where !sites.contains(t.site) { sites.append(t.site) } }
        let hooks = Array(Set(sites.map(\.hook))).sorted()
        let clean = try PromptInterchangeRunner(
            prompt: prompt, inputs: runner.inputs, ids: runner.ids, sharedPrefix: runner.sharedPrefix, hooks: hooks
        ) { progress("control: clean runs", $0, runner.inputs.count) }
        let subspaces = results.reduce(0) { $0 + $1.top.reduce(0) { $0 + $1.subspaces.count } }
        let planned = (sites.count + subspaces) * heldOut.count
        var done = 0
        // One Float32 copy of the control's weights, and one tail per site, serve every variable's DAS.
        let anyDAS = results.contains { $0.top.contains { !$0.das.isEmpty } }
        let das = DASContext(
            runner: clean, model: model, weights: anyDAS ? try? DecoderTailWeights(network: prompt.model) : nil,
            fittingPairs: fitting, heldOutPairs: heldOut, options: options, answerTokenRuns: runner)
        var whole: [AlignmentSite: [Int]] = [:]
        for site in sites {
            let patches = heldOut.map { pair in
                PromptInterchangeRunner.Patch(
                    base: pair.base, hook: site.hook, position: site.position!,
                    values: Array(clean.features(site.hook, site.position!, pair.source)))
            }
            whole[site] = try clean.outputs(patches) { progress("control: interchanges", done + $0, planned) }
            done += patches.count
        }
        for k in results.indices {
            let variable = results[k].variable
            let values = clean.inputs.map { model.value(variable, $0) }
            for t in results[k].top.indices {
                let site = results[k].top[t].site
                results[k].top[t].controlWholeSite = Analysis.interchangeAccuracy(whole[site]!, targets[k])
                let width = clean.widths[site.hook]!
                let rows = (0..<clean.inputs.count).map { Array(clean.features(site.hook, site.position!, $0)) }
                for s in results[k].top[t].subspaces.indices {
                    let d = results[k].top[t].subspaces[s].dimension
                    let basis = ClassMeanSubspace.basis(rows, values: values, dimension: d)
                    // The control's class means may span fewer directions: then it has no subspace of this size.
                    guard basis.count == d else { continue }
                    let alignment = Alignment(site: site, map: .subspace(basis: basis), width: width)
                    let patches = heldOut.map { pair in
                        PromptInterchangeRunner.Patch(
                            base: pair.base, hook: site.hook, position: site.position!,
                            values: alignment.interchange(base: rows[pair.base], source: rows[pair.source]))
                    }
                    let out = try clean.outputs(patches) { progress("control: interchanges", done + $0, planned) }
                    done += patches.count
                    results[k].top[t].subspaces[s].controlAccuracy = Analysis.interchangeAccuracy(out, targets[k])
                }
                let dimensions = results[k].top[t].das.map(\.dimension)
                guard !dimensions.isEmpty else { continue }
                let scores = try dasScores(
                    das, site: site, variable: variable, heldOutTargets: targets[k], dimensions: dimensions,
                    seed: (options.seed ^ 0x5EED_C0A7) &+ UInt64(ranks?[k][t] ?? t) &* 7919 &+ UInt64(k)
                ) { progress("control: DAS \(variable.name) at \(site.hook) \(site.position!)", $0, $1) }
                done += scores.count * heldOut.count
                for score in scores {
                    if let i = results[k].top[t].das.firstIndex(where: { $0.dimension == score.dimension }) {
                        results[k].top[t].das[i].controlAccuracy = score.accuracy
                    }
                }
            }
        }
        return clean.inputs.count + done
    }
}

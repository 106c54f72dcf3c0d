import Distillation
import Foundation
import Network

/// Runs a prompt task's inputs through a language model for interchange interventions: every prompt has the
/// same token length, so a position named from the prompt's end (−1 = the last prompt token) is the same
/// token role in every prompt; the few-shot prefix they share runs once per batch (`PromptBatch`).
///
/// Clean runs capture the candidate hooks at the positions after the shared prefix; a patched run sets one
/// hook at one position to given values (a source's clean activation, or a mix of base and source) and
/// decodes the continuation with the task's own decoder. While their states fit in `stateBudget`, the clean
/// runs keep them (`PromptState`) and patched runs resume from them: only the blocks and positions a patch
/// can change are computed again, with the same outputs as a whole run.
struct PromptInterchangeRunner: Sendable {
    let prompt: PromptRunner
    /// The inputs (the task's variable values), their prompt ids and their clean task outputs.
    let inputs: [[Int]]
    let ids: [[Int]]
    let outputs: [Int]
    /// The first token each clean run generated (−1 for none, or for a `next_token` decoder).
    let firstTokens: [Int]
    /// Tokens every prompt starts with (run once per batch), and each prompt's length.
    let sharedPrefix: Int
    let length: Int
    /// Clean activations per hook: `[inputs, length − sharedPrefix, width]`, row-major.
    let clean: [String: [Float]]
    let widths: [String: Int]
    /// Each input's clean state to resume patched runs from; empty when the model keeps none or they
    /// would take more than `stateBudget` bytes.
    var states: [PromptState]

    /// The most memory the clean states may take (bytes); beyond it patched runs run whole.
    static let stateBudget = 1 << 30

    /// Patched runs per `PromptBatch`.
    static let batchSize = 64

    /// The positions after the shared prefix, as offsets from the prompt's end (−n … −1).
    var positions: [Int] { Array((-(length - sharedPrefix))...(-1)) }

    /// Runs the clean prompts of `inputs` (ids `ids`, all of one length) capturing `hooks`.
    /// - Complexity: one generation per input.
    init(
        prompt: PromptRunner, inputs: [[Int]], ids: [[Int]], sharedPrefix: Int, hooks: [String],
        progress: (Int) -> Void = { _ in }
    ) throws(RepresentationError) {
        self.prompt = prompt
        self.inputs = inputs
        self.ids = ids
        self.sharedPrefix = sharedPrefix
        length = ids.first?.count ?? 0
        var clean: [String: [Float]] = [:]
        var widths: [String: Int] = [:]
        var outputs: [Int] = []
        var firstTokens: [Int] = []
        var states: [PromptState] = []
        var keep = true, bytes = 0
        let capture = Set(hooks)
        for start in stride(from: 0, to: ids.count, by: Self.batchSize) {
            let part = Array(ids[start..<min(ids.count, start + Self.batchSize)])
            let run = try Self.run(prompt, PromptBatch(
                prompts: part, sharedPrefix: sharedPrefix, maxNewTokens: prompt.newTokens, stop: prompt.stopIDs, capture: capture,
                keepStates: keep))
            if keep {
                bytes += run.states.reduce(0) { $0 + $1.byteCount }
                states += run.states
                if bytes > Self.stateBudget || run.states.count != part.count {
                    keep = false
                    states = []
                }
            }
            outputs += Self.decode(prompt, run)
            firstTokens += run.generated.count == part.count ? run.generated.map { $0.first ?? -1 } : part.map { _ in -1 }
            for captured in run.activations {
                for hook in hooks {
                    guard let a = captured[hook] else { continue }
                    widths[hook] = a.shape.dropFirst(2).reduce(1, *)
                    clean[hook, default: []] += a.scalars
                }
            }
            progress(start + part.count)
        }
        self.outputs = outputs
        self.firstTokens = firstTokens
        self.clean = clean
        self.widths = widths
        self.states = states
    }

    /// The task outputs of the prompts `ids` (any lengths) with no interventions, in batches.
    static func cleanOutputs(_ prompt: PromptRunner, ids: [[Int]], sharedPrefix: Int) throws(RepresentationError) -> [Int] {
        var outputs: [Int] = []
        for start in stride(from: 0, to: ids.count, by: batchSize) {
            let part = Array(ids[start..<min(ids.count, start + batchSize)])
            outputs += decode(prompt, try run(prompt, PromptBatch(
                prompts: part, sharedPrefix: sharedPrefix, maxNewTokens: prompt.newTokens, stop: prompt.stopIDs)))
        }
        return outputs
    }

    private static func run(_ prompt: PromptRunner, _ batch: PromptBatch) throws(RepresentationError) -> PromptBatchRun {
        do { return try prompt.model.run(batch) } catch { throw .network(error) }
    }

    private static func decode(_ prompt: PromptRunner, _ run: PromptBatchRun) -> [Int] {
        if let logits = run.logits, prompt.newTokens == 0 { return logits.map { prompt.output(nextTokenLogits: $0) } }
        return run.generated.map { prompt.output(generated: $0) }
    }

    /// Input i's clean activation at `hook`, position `position` (from the end).
    func features(_ hook: String, _ position: Int, _ i: Int) -> ArraySlice<Float> {
        let width = widths[hook]!, span = length - sharedPrefix
        let start = (i * span + span + position) * width
        return clean[hook]![start..<(start + width)]
    }

    /// One patched run: input `base` with `hook` at `position` (from the end) set to `values`.
    struct Patch: Sendable {
        var base: Int
        var hook: String
        var position: Int
        var values: [Float]
    }

    /// The decoded outputs of `patches`, run in batches of `batchSize`; `progress` gets the count done.
    /// - Complexity: one generation per patch after the shared prefix.
    func outputs(_ patches: [Patch], progress: (Int) -> Void = { _ in }) throws(RepresentationError) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(patches.count)
        for start in stride(from: 0, to: patches.count, by: Self.batchSize) {
            let part = patches[start..<min(patches.count, start + Self.batchSize)]
            let batch = PromptBatch(
                prompts: part.map { ids[$0.base] }, sharedPrefix: sharedPrefix, maxNewTokens: prompt.newTokens,
                stop: prompt.stopIDs,
                interventions: part.map { p in
                    [Intervention(hook: p.hook, positions: [length + p.position], units: nil, kind: .set(p.values))]
                },
                resume: states.isEmpty ? [] : part.map { states[$0.base] })
            out += Self.decode(prompt, try Self.run(prompt, batch))
            progress(start + part.count)
        }
        return out
    }
}

import CRetortKernels
import Foundation

/// The part of a decoder transformer (Llama family or GPT-2) after one site — block `l`'s `hook_resid_post`,
/// `hook_attn_out` or `hook_mlp_out` at one token position `p` of a prompt — in Float32 with reverse mode:
/// the next-token logits at the prompt's last position as a function of the activation at the site, and the
/// gradient of their cross-entropy against a target token with respect to that activation.
///
/// The activation at position p reaches later positions through attention, so the tail covers the rest of
/// block l at position p (for `hook_attn_out`: the MLP; for `hook_mlp_out`: the residual add) and then every
/// later block at every position from p to the prompt's end — attention with its causal mask, GQA head
/// sharing and RoPE, RMSNorm or LayerNorm, SwiGLU or GELU (tanh) — then the final norm and the output
/// embedding (tied or not). Positions before p do not depend on the site: their keys and values are computed
/// once, from each prompt's clean run, and kept (those of a prefix all prompts share, once). Positions after p
/// in block l are also the clean run's. A prompt that only gives activations to put at the site (a DAS source)
/// needs its clean run through block l alone; `contextPrompts` names the prompts rows may run on.
///
/// The clean runs use the same Float32 weights (`DecoderTailWeights`), so with a block-quantized model the tail
/// is the dequantized model's: its logits can differ from the quantized forward pass in the last bits.
public struct DecoderTail: Sendable {
    /// Where in block `layer` the site is.
    public enum Hook: String, Sendable, CaseIterable {
        case residPost = "hook_resid_post"
        case attnOut = "hook_attn_out"
        case mlpOut = "hook_mlp_out"
    }

    let weights: DecoderTailWeights
    /// The site's block, hook and position (from the prompt's start).
    public let layer: Int
    public let hook: Hook
    public let position: Int
    /// The prompts' common length.
    public let length: Int
    /// Tokens all prompts share; their keys and values are kept once.
    let sharedPrefix: Int
    /// Per later block (index layer − l − 1): the shared prefix's keys and values `[sharedPrefix, kvWidth]`.
    let sharedKeys: [[Float]]
    let sharedValues: [[Float]]
    /// Per prompt, per later block: keys and values of positions sharedPrefix..<p `[p − sharedPrefix, kvWidth]`.
    let ownKeys: [[[Float]]]
    let ownValues: [[[Float]]]
    /// Per prompt: the clean activation at the site `[d_model]`.
    let cleanSite: [[Float]]
    /// Per prompt: what the site adds to (`hook_attn_out`: block l's residual stream before it; `hook_mlp_out`:
    /// after attention), `[d_model]`; empty for `hook_resid_post`.
    let residualBeside: [[Float]]
    /// Per prompt: block l's clean output at positions p+1..<length, `[length − p − 1, d_model]`.
    let laterRows: [[Float]]
    /// Per prompt: whether rows may run on it (its keys, values and later rows are kept).
    let context: [Bool]

    /// The site's width (the residual stream's).
    public var width: Int { weights.dModel }
    /// The number of logits.
    public var vocabularySize: Int { weights.vocabularySize }
    /// The number of prompts prepared.
    public var promptCount: Int { cleanSite.count }

    /// Prepares the tail after `hook` of block `layer` at position `position` (from the start) for `prompts`,
    /// which must all have one length and share their first `sharedPrefix` tokens, by running them clean.
    /// `contextPrompts` (indices into `prompts`; nil: all) are the prompts rows of `logits` and `lossAndGradient`
    /// may run on; the others give only their clean activation at the site (`clean`).
    /// - Throws: `invalidInput` naming the problem (no prompts, unequal lengths, a prefix not shared, a
    ///   position outside the prompt or inside the prefix, a token outside the vocabulary, a context prompt
    ///   outside `prompts`).
    /// - Complexity: a clean forward pass over the prompts' tokens after the shared prefix through block `layer`,
    ///   and over the context prompts' tokens before `position` through the later blocks.
    public init(
        weights: DecoderTailWeights, prompts: [[Int]], sharedPrefix: Int = 0, layer: Int, hook: Hook, position: Int,
        contextPrompts: [Int]? = nil
    ) throws(NetworkError) {
        let c = weights.config
        guard let first = prompts.first else { throw .invalidInput(reason: "no prompts to prepare the tail on") }
        let length = first.count
        if let i = prompts.firstIndex(where: { $0.count != length }) {
            throw .invalidInput(
                reason: "prompt \(i) has \(prompts[i].count) tokens, prompt 0 has \(length); the tail needs one length")
        }
        guard (0..<c.layers).contains(layer) else {
            throw .invalidInput(reason: "block \(layer) is outside the model's \(c.layers) blocks")
        }
        guard (0..<length).contains(position) else {
            throw .invalidInput(reason: "position \(position) is outside the prompts' \(length) tokens")
        }
        guard sharedPrefix >= 0, sharedPrefix <= position else {
            throw .invalidInput(
                reason: "the shared prefix (\(sharedPrefix) tokens) must end at or before the site's position \(position)")
        }
        guard length <= c.contextLength else {
            throw .invalidInput(reason: "the prompts' \(length) tokens exceed the model's context of \(c.contextLength)")
        }
        for (i, prompt) in prompts.enumerated() {
            if let t = prompt.first(where: { !(0..<c.vocabularySize).contains($0) }) {
                throw .invalidInput(reason: "prompt \(i) has token \(t), outside the vocabulary of \(c.vocabularySize)")
            }
            if prompt[..<sharedPrefix] != first[..<sharedPrefix] {
                throw .invalidInput(reason: "prompt \(i) does not start with the \(sharedPrefix) tokens prompt 0 starts with")
            }
        }
        var context = [Bool](repeating: contextPrompts == nil, count: prompts.count)
        for i in contextPrompts ?? [] {
            guard prompts.indices.contains(i) else {
                throw .invalidInput(reason: "context prompt \(i) is outside the \(prompts.count) prompts")
            }
            context[i] = true
        }
        self.context = context
        self.weights = weights
        self.layer = layer
        self.hook = hook
        self.position = position
        self.length = length
        self.sharedPrefix = sharedPrefix
        let engine = DecoderEngine(weights: weights)
        let d = c.dModel, kvWidth = c.kvHeads * c.dHead

        // The shared prefix, once.
        var prefixKeys: [[Float]] = [], prefixValues: [[Float]] = []
        if sharedPrefix > 0 {
            var resid = engine.embed([Array(first[..<sharedPrefix])], start: 0)
            for l in 0..<c.layers {
                let trace = engine.blockForward(l, &resid, batch: 1, rows: sharedPrefix, start: 0, prefix: { _ in [] })
                prefixKeys.append(trace.k)
                prefixValues.append(trace.v)
            }
        }
        // Each prompt's tokens after it, in chunks, through block l; then, for the prompts rows may run on, only
        // the positions before p through the later blocks (their keys and values: nothing at or after p in a later
        // block is the clean run's in the tail, and causal attention keeps earlier positions from later ones).
        let n = length - sharedPrefix, own = position - sharedPrefix, after = length - position - 1
        var ownKeys: [[[Float]]] = [], ownValues: [[[Float]]] = []
        var cleanSite: [[Float]] = [], beside: [[Float]] = [], later: [[Float]] = []
        let chunk = 32
        for chunkStart in stride(from: 0, to: prompts.count, by: chunk) {
            let indices = Array(chunkStart..<min(prompts.count, chunkStart + chunk))
            let part = indices.map { Array(prompts[$0][sharedPrefix...]) }
            let b = part.count
            var resid = engine.embed(part, start: sharedPrefix)
            let shared: (Int) -> [DecoderEngine.KeyValues] = { l in
                sharedPrefix > 0
                    ? [DecoderEngine.KeyValues(keys: prefixKeys[l], values: prefixValues[l], length: sharedPrefix)] : []
            }
            for l in 0...layer {
                let trace = engine.blockForward(l, &resid, batch: b, rows: n, start: sharedPrefix) { _ in shared(l) }
                guard l == layer else { continue }
                for (s, i) in indices.enumerated() {
                    let row = s * n + own
                    let range = (row * d)..<((row + 1) * d)
                    switch hook {
                    case .residPost: cleanSite.append(Array(resid[range]))
                    case .attnOut: cleanSite.append(Array(trace.attnOut[range]))
                    case .mlpOut: cleanSite.append(Array(trace.mlpOut[range]))
                    }
                    guard context[i] else {
                        beside.append([])
                        later.append([])
                        continue
                    }
                    switch hook {
                    case .residPost: beside.append([])
                    case .attnOut: beside.append(Array(trace.input[range]))
                    case .mlpOut: beside.append(Array(trace.mid[range]))
                    }
                    later.append(Array(resid[((row + 1) * d)..<((row + 1 + after) * d)]))
                }
            }
            var keys = [[[Float]]](repeating: [], count: b), values = keys
            let kept = indices.indices.filter { context[indices[$0]] }
            if own > 0, !kept.isEmpty, layer + 1 < c.layers {
                var early: [Float] = []
                early.reserveCapacity(kept.count * own * d)
                for s in kept { early += resid[(s * n * d)..<((s * n + own) * d)] }
                for l in (layer + 1)..<c.layers {
                    let (k, v): ([Float], [Float])
                    if l + 1 < c.layers {
                        let trace = engine.blockForward(l, &early, batch: kept.count, rows: own, start: sharedPrefix) { _ in
                            shared(l)
                        }
                        (k, v) = (trace.k, trace.v)
                    } else {
                        (k, v) = engine.keysAndValues(l, early, batch: kept.count, rows: own, start: sharedPrefix)
                    }
                    for (j, s) in kept.enumerated() {
                        keys[s].append(Array(k[(j * own * kvWidth)..<((j + 1) * own * kvWidth)]))
                        values[s].append(Array(v[(j * own * kvWidth)..<((j + 1) * own * kvWidth)]))
                    }
                }
            }
            ownKeys += keys
            ownValues += values
        }
        if layer + 1 < c.layers {
            sharedKeys = sharedPrefix > 0 ? Array(prefixKeys[(layer + 1)...]) : []
            sharedValues = sharedPrefix > 0 ? Array(prefixValues[(layer + 1)...]) : []
        } else {
            (sharedKeys, sharedValues) = ([], [])
        }
        self.ownKeys = ownKeys
        self.ownValues = ownValues
        self.cleanSite = cleanSite
        self.residualBeside = beside
        self.laterRows = later
    }

    /// Prompt `prompt`'s clean activation at the site.
    public func clean(_ prompt: Int) -> [Float] { cleanSite[prompt] }

    /// The logits at the last position `[rows, vocab]` when the site holds `activations` (`[rows, width]`),
    /// row r on prompt `prompts[r]` (a context prompt).
    /// - Complexity: O(rows × (length − position) × parameters of the later blocks + rows × vocab × d_model)
    public func logits(_ activations: [Float], prompts: [Int]) -> [Float] {
        run(activations, prompts: prompts, targets: nil).logits
    }

    /// The cross-entropy of `targets` (token ids) under the last position's logits, per row, and its gradient
    /// with respect to `activations` (`[rows, width]`, each row's gradient that of its own loss), row r on
    /// prompt `prompts[r]` (a context prompt).
    /// - Complexity: about three times `logits`.
    public func lossAndGradient(_ activations: [Float], prompts: [Int], targets: [Int]) -> (losses: [Float], gradient: [Float]) {
        let result = run(activations, prompts: prompts, targets: targets)
        return (result.losses, result.gradient)
    }

    private func run(_ activations: [Float], prompts: [Int], targets: [Int]?) -> (
        logits: [Float], losses: [Float], gradient: [Float]
    ) {
        let c = weights.config, d = c.dModel
        let b = prompts.count
        precondition(activations.count == b * d, "DecoderTail: activations are [rows, d_model]")
        precondition(targets == nil || targets!.count == b, "DecoderTail: one target per row")
        precondition(prompts.allSatisfy { context[$0] }, "DecoderTail: a row on a prompt outside the context prompts")
        let engine = DecoderEngine(weights: weights)
        let n = length - position
        // Block l at position p.
        var site = activations
        var mlpTrace: DecoderEngine.MLPTrace?
        switch hook {
        case .residPost:
            break
        case .mlpOut:
            for r in 0..<b { for j in 0..<d { site[r * d + j] += residualBeside[prompts[r]][j] } }
        case .attnOut:
            for r in 0..<b { for j in 0..<d { site[r * d + j] += residualBeside[prompts[r]][j] } }
            mlpTrace = engine.mlpForward(layer, &site, rows: b)
        }
        // The later blocks at positions p..<length.
        var resid = [Float](repeating: 0, count: b * n * d)
        for r in 0..<b {
            for j in 0..<d { resid[r * n * d + j] = site[r * d + j] }
            let rest = laterRows[prompts[r]]
            for j in rest.indices { resid[(r * n + 1) * d + j] = rest[j] }
        }
        var traces: [DecoderEngine.BlockTrace] = []
        for l in (layer + 1)..<max(layer + 1, c.layers) {
            let i = l - layer - 1
            let shared =
                sharedPrefix > 0
                ? [DecoderEngine.KeyValues(keys: sharedKeys[i], values: sharedValues[i], length: sharedPrefix)] : []
            let ownLength = position - sharedPrefix
            let trace = engine.blockForward(l, &resid, batch: b, rows: n, start: position) { s in
                ownLength > 0
                    ? shared + [
                        DecoderEngine.KeyValues(keys: ownKeys[prompts[s]][i], values: ownValues[prompts[s]][i], length: ownLength)
                    ]
                    : shared
            }
            if targets != nil { traces.append(trace) }
        }
        // The final norm and logits at the last position.
        var last = [Float](repeating: 0, count: b * d)
        for r in 0..<b { for j in 0..<d { last[r * d + j] = resid[((r + 1) * n - 1) * d + j] } }
        let (normed, stats) = engine.normForward(last, weights.finalNorm)
        let logits = engine.linear(normed, weights.unembed, rows: b)
        guard let targets else { return (logits, [], []) }

        // Cross-entropy and its gradient with respect to the logits.
        let vocab = weights.unembed.outputs
        var dLogits = logits
        var losses = [Float](repeating: 0, count: b)
        // Rows on the kernel pool: a vocabulary of Double exponentials each.
        logits.withUnsafeBufferPointer { lp in
            dLogits.withUnsafeMutableBufferPointer { dp in
                losses.withUnsafeMutableBufferPointer { lossp in
                    let (lp, dp, lossp) = (lp.baseAddress!, dp.baseAddress!, lossp.baseAddress!)
                    Parallel.forEach(b, threads: weights.threads) { r in
                        let row = UnsafeBufferPointer(start: lp + r * vocab, count: vocab)
                        let top = row.max() ?? 0
                        var sum = 0.0
                        for v in row { sum += Foundation.exp(Double(v - top)) }
                        let logSum = Double(top) + Foundation.log(sum)
                        lossp[r] = Float(logSum - Double(row[targets[r]]))
                        let out = dp + r * vocab
                        for j in 0..<vocab { out[j] = Float(Foundation.exp(Double(row[j]) - logSum)) }
                        out[targets[r]] -= 1
                    }
                }
            }
        }
        let dNormed = engine.linearBackward(dLogits, weights.unembed, rows: b)
        let dLast = engine.normBackward(dNormed, last, stats, weights.finalNorm)
        var dResid = [Float](repeating: 0, count: b * n * d)
        for r in 0..<b { for j in 0..<d { dResid[((r + 1) * n - 1) * d + j] = dLast[r * d + j] } }
        for (i, trace) in traces.enumerated().reversed() {
            dResid = engine.blockBackward(layer + 1 + i, dResid, trace, batch: b, rows: n, start: position)
        }
        var gradient = [Float](repeating: 0, count: b * d)
        for r in 0..<b { for j in 0..<d { gradient[r * d + j] = dResid[r * n * d + j] } }
        if let mlpTrace {
            let dMid = engine.mlpBackward(layer, gradient, mlpTrace, rows: b)
            for j in gradient.indices { gradient[j] += dMid[j] }
        }
        return (logits, losses, gradient)
    }
}

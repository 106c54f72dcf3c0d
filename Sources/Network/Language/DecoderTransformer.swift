import CRetortKernels
import Dispatch
import Foundation
import WeightFiles

/// The forward pass shared by `LlamaNetwork` and `GPT2Network`: Hugging Face `transformers`' math
/// (`LlamaForCausalLM`, `Qwen2ForCausalLM`, `GPT2LMHeadModel`) with TransformerLens hook names.
///
/// One pass takes several *segments*: runs of new tokens, each continuing its own sequence (its
/// KV cache). The projections and MLPs run on all their rows together; attention runs per
/// segment and head. `run` passes equal-length segments from position 0; a decode step passes one
/// token per prompt.
struct DecoderTransformer: NeuralNetwork {
    let config: LanguageModelConfig
    /// `[vocab, d_model]`; also the unembedding when `unembed` is nil (tied embeddings).
    let embedding: DecoderMatrix
    /// GPT-2's learned positions `[context, d_model]`.
    let positional: [Float]?
    let blocks: [DecoderBlock]
    let finalNorm: DecoderNorm
    let unembed: DecoderLinear?
    /// RoPE's inverse frequencies, `d_head / 2` of them (Llama family).
    let inverseFrequencies: [Float]
    var threads: Int
    /// How products by block-quantized (GGUF) weights are computed; Float32 weights ignore it.
    var arithmetic: QuantizedArithmetic = .int16
    let hookNames: [String]

    init(
        config: LanguageModelConfig, embedding: DecoderMatrix, positional: [Float]?, blocks: [DecoderBlock],
        finalNorm: DecoderNorm, unembed: DecoderLinear?, inverseFrequencies: [Float], threads: Int
    ) {
        self.config = config
        self.embedding = embedding
        self.positional = positional
        self.blocks = blocks
        self.finalNorm = finalNorm
        self.unembed = unembed
        self.inverseFrequencies = inverseFrequencies
        self.threads = max(1, threads)
        let llama = config.architecture.isLlamaFamily
        var hooks = llama ? ["hook_embed"] : ["hook_embed", "hook_pos_embed"]
        for i in 0..<config.layers {
            let p = "blocks.\(i)"
            hooks += ["\(p).hook_resid_pre", "\(p).ln1.hook_normalized", "\(p).attn.hook_q", "\(p).attn.hook_k", "\(p).attn.hook_v"]
            if llama { hooks += ["\(p).attn.hook_rot_q", "\(p).attn.hook_rot_k"] }
            hooks += [
                "\(p).attn.hook_attn_scores", "\(p).attn.hook_pattern", "\(p).attn.hook_z", "\(p).hook_attn_out",
                "\(p).hook_resid_mid", "\(p).ln2.hook_normalized", "\(p).mlp.hook_pre",
            ]
            if llama { hooks += ["\(p).mlp.hook_pre_linear"] }
            hooks += ["\(p).mlp.hook_post", "\(p).hook_mlp_out", "\(p).hook_resid_post"]
        }
        hooks += ["ln_final.hook_normalized"]
        self.hookNames = hooks
    }

    var vocabularySize: Int { unembed?.outputs ?? config.vocabularySize }

    // MARK: Segments and hooks

    /// New tokens continuing one sequence.
    struct Segment {
        var tokens: [Int]
        var cache: KVCache
        /// This sequence's interventions (generation), or nil.
        var hooks: HookContext?
        /// The positions the sequence may reach (for checking the positions interventions name).
        var total: Int
        /// Where the residual stream entering each block is recorded (a clean prompt pass), or nil.
        var state: PromptState? = nil
    }

    /// Where the hooks of a pass go: one context for a `[batch, seq]` run, or one per segment.
    private struct Hooks {
        let uniform: HookContext?
        let batch: Int
        let seq: Int
        let segments: [Segment]
        let offsets: [Int]
        let starts: [Int]

        /// Visits hook `name` on row-major `[rows, trailing…]` values.
        func visit(_ name: String, _ values: inout [Float], _ trailing: [Int]) throws(NetworkError) {
            if let uniform {
                if uniform.wants(name) { try uniform.visit(name, &values, .positional([batch, seq] + trailing)) }
                return
            }
            let width = trailing.reduce(1, *)
            for (s, segment) in segments.enumerated() {
                guard let context = segment.hooks, context.wants(name) else { continue }
                let n = segment.tokens.count
                let range = (offsets[s] * width)..<((offsets[s] + n) * width)
                var part = Array(values[range])
                var layout = HookLayout.positional([1, n] + trailing)
                layout.firstPosition = starts[s]
                layout.totalPositions = segment.total
                try context.visit(name, &part, layout)
                values.replaceSubrange(range, with: part)
            }
        }

        /// Visits an attention hook on the concatenated per-segment `[heads, n, length]` blocks.
        func visitAttention(_ name: String, _ values: inout [Float], heads: Int, blockOffsets: [Int]) throws(NetworkError) {
            if let uniform {
                if uniform.wants(name) {
                    try uniform.visit(name, &values, .attention(batch: batch, heads: heads, positions: seq))
                }
                return
            }
            for (s, segment) in segments.enumerated() {
                guard let context = segment.hooks, context.wants(name) else { continue }
                let n = segment.tokens.count, length = starts[s] + n
                let range = blockOffsets[s]..<(blockOffsets[s] + heads * n * length)
                var part = Array(values[range])
                var layout = HookLayout.attention(batch: 1, heads: heads, queries: n, keys: length)
                layout.firstPosition = starts[s]
                layout.totalPositions = segment.total
                try context.visit(name, &part, layout)
                values.replaceSubrange(range, with: part)
            }
        }
    }

    /// Which rows get logits.
    enum LogitRows {
        case all
        /// The last row of each segment.
        case last
    }

    // MARK: Forward

    /// Runs the segments' new tokens through the network, appending their keys and values to the
    /// segments' caches, and returns the logits of `logitRows` (`[rows, vocab]`).
    /// - Parameters:
    ///   - uniform: the hook context of a `[batch, seq]` run whose segments all start at 0; nil to use
    ///     each segment's own context.
    ///   - fromLayer: the first block to run; with `fromLayer > 0`, `residual` is the residual stream
    ///     entering it (`[rows, d_model]`), and the caches already hold the layers below at these positions.
    func forward(
        _ segments: [Segment], uniform: HookContext?, logitRows: LogitRows, fromLayer: Int = 0, residual: [Float]? = nil
    ) throws(NetworkError) -> [Float] {
        let c = config
        let d = c.dModel, dh = c.dHead, heads = c.heads, kvHeads = c.kvHeads
        let kvWidth = kvHeads * dh
        var offsets: [Int] = [], starts: [Int] = [], positions: [Int] = [], tokens: [Int] = []
        for segment in segments {
            offsets.append(tokens.count)
            starts.append(segment.cache.length)
            segment.cache.reserve(segment.tokens.count)
            for (i, token) in segment.tokens.enumerated() {
                tokens.append(token)
                positions.append(segment.cache.length + i)
            }
        }
        let rows = tokens.count
        let hooks = Hooks(
            uniform: uniform, batch: segments.count, seq: segments.first?.tokens.count ?? 0, segments: segments,
            offsets: offsets, starts: starts)
        let threads = self.threads

        // Embeddings.
        var resid: [Float]
        if fromLayer > 0 {
            precondition(residual?.count == rows * d, "a forward pass from block \(fromLayer) needs the residual stream entering it")
            resid = residual!
        } else {
            resid = [Float](repeating: 0, count: rows * d)
            resid.withUnsafeMutableBufferPointer { r in
                for (row, token) in tokens.enumerated() { embedding.copyRow(token, width: d, into: r.baseAddress! + row * d) }
            }
            try hooks.visit("hook_embed", &resid, [d])
        }
        if fromLayer == 0, let positional {
            var pos = [Float](repeating: 0, count: rows * d)
            for (row, p) in positions.enumerated() {
                for j in 0..<d { pos[row * d + j] = positional[p * d + j] }
            }
            try hooks.visit("hook_pos_embed", &pos, [d])
            for i in resid.indices { resid[i] += pos[i] }
        }
        let (cosines, sines) = ropeTables(positions)

        for layer in fromLayer..<blocks.count {
            let block = blocks[layer]
            let p = "blocks.\(layer)"
            try hooks.visit("\(p).hook_resid_pre", &resid, [d])
            for (s, segment) in segments.enumerated() {
                guard let state = segment.state else { continue }
                let n = segment.tokens.count, first = starts[s] - state.sharedPrefix
                state.residuals.replaceSubrange(
                    ((layer * state.rows + first) * d)..<((layer * state.rows + first + n) * d),
                    with: resid[(offsets[s] * d)..<((offsets[s] + n) * d)])
            }
            var x = normalized(resid, block.norm1)
            try hooks.visit("\(p).ln1.hook_normalized", &x, [d])
            // q, k and v all read x, so computing them together leaves the hooks' view unchanged.
            // Moved out of the array (not copied), so that RoPE's in-place rotation does not copy them.
            var qkv = block.qkv.apply(x, rows: rows, threads: threads, arithmetic: arithmetic)
            var v = qkv.removeLast(), k = qkv.removeLast(), q = qkv.removeLast()
            try hooks.visit("\(p).attn.hook_q", &q, [heads, dh])
            try hooks.visit("\(p).attn.hook_k", &k, [kvHeads, dh])
            try hooks.visit("\(p).attn.hook_v", &v, [kvHeads, dh])
            if c.architecture.isLlamaFamily {
                rotate(&q, heads: heads, cosines: cosines, sines: sines)
                try hooks.visit("\(p).attn.hook_rot_q", &q, [heads, dh])
                rotate(&k, heads: kvHeads, cosines: cosines, sines: sines)
                try hooks.visit("\(p).attn.hook_rot_k", &k, [kvHeads, dh])
            }
            // Append the new keys and values to each sequence's cache (sequences split across threads).
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    let (kp, vp) = (kp.baseAddress!, vp.baseAddress!)
                    Self.forRows(segments.count, width: rows / max(segments.count, 1) * kvWidth * 2, threads: threads) { first, end in
                        for s in first..<end {
                            let n = segments[s].tokens.count
                            (segments[s].cache.keys(layer) + starts[s] * kvWidth).update(from: kp + offsets[s] * kvWidth, count: n * kvWidth)
                            (segments[s].cache.values(layer) + starts[s] * kvWidth).update(from: vp + offsets[s] * kvWidth, count: n * kvWidth)
                        }
                    }
                }
            }
            var z = try attention(q: q, segments: segments, layer: layer, starts: starts, offsets: offsets, hooks: hooks, prefix: p)
            try hooks.visit("\(p).attn.hook_z", &z, [heads, dh])
            var attnOut = block.o.apply(z, rows: rows, threads: threads, arithmetic: arithmetic)
            try hooks.visit("\(p).hook_attn_out", &attnOut, [d])
            add(&resid, attnOut)
            try hooks.visit("\(p).hook_resid_mid", &resid, [d])
            var y = normalized(resid, block.norm2)
            try hooks.visit("\(p).ln2.hook_normalized", &y, [d])
            var mlpIn = block.mlpIn.apply(y, rows: rows, threads: threads, arithmetic: arithmetic)
            var pre = mlpIn.removeFirst()
            try hooks.visit("\(p).mlp.hook_pre", &pre, [c.dMLP])
            var post: [Float]
            if !mlpIn.isEmpty {
                var linear = mlpIn.removeFirst()
                try hooks.visit("\(p).mlp.hook_pre_linear", &linear, [c.dMLP])
                post = Self.swiGLU(gate: pre, up: linear, width: c.dMLP, threads: threads)
            } else {
                post = pre
                post.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] = Activations.geluTanh(b[i]) } }
            }
            try hooks.visit("\(p).mlp.hook_post", &post, [c.dMLP])
            var mlpOut = block.down.apply(post, rows: rows, threads: threads, arithmetic: arithmetic)
            try hooks.visit("\(p).hook_mlp_out", &mlpOut, [d])
            add(&resid, mlpOut)
            try hooks.visit("\(p).hook_resid_post", &resid, [d])
        }
        for segment in segments { segment.cache.length += segment.tokens.count }

        var selected: [Float]
        switch logitRows {
        case .all:
            selected = resid
        case .last:
            selected = []
            selected.reserveCapacity(segments.count * d)
            for (s, segment) in segments.enumerated() {
                let row = offsets[s] + segment.tokens.count - 1
                selected += resid[(row * d)..<((row + 1) * d)]
            }
        }
        // The final norm is per row, so normalising only the selected rows gives the same values;
        // a hook on it needs every row.
        if logitRows == .all || uniform?.wants("ln_final.hook_normalized") == true
            || segments.contains(where: { $0.hooks?.wants("ln_final.hook_normalized") == true })
        {
            normalize(&resid, finalNorm)
            try hooks.visit("ln_final.hook_normalized", &resid, [d])
            if logitRows == .all {
                selected = resid
            } else {
                for (s, segment) in segments.enumerated() {
                    let row = offsets[s] + segment.tokens.count - 1
                    selected.replaceSubrange((s * d)..<((s + 1) * d), with: resid[(row * d)..<((row + 1) * d)])
                }
            }
        } else {
            normalize(&selected, finalNorm)
        }
        let outRows = selected.count / d
        if let unembed { return unembed.apply(selected, rows: outRows, threads: threads, arithmetic: arithmetic) }
        let vocab = config.vocabularySize
        return [Float](unsafeUninitializedCapacity: outRows * vocab) { out, count in
            selected.withUnsafeBufferPointer { x in
                embedding.multiplyTransposed(
                    x.baseAddress!, m: outRows, n: vocab, k: d, into: out.baseAddress!, accumulate: false, threads: threads,
                    arithmetic: arithmetic)
            }
            count = outRows * vocab
        }
    }

    /// Causal attention of the new queries over each segment's cached keys and values; returns z `[rows, heads·d_head]`.
    private func attention(
        q: [Float], segments: [Segment], layer: Int, starts: [Int], offsets: [Int], hooks: Hooks, prefix p: String
    ) throws(NetworkError) -> [Float] {
        let c = config
        let dh = c.dHead, heads = c.heads, group = c.heads / c.kvHeads
        let qWidth = heads * dh, kvWidth = c.kvHeads * dh
        let rows = q.count / qWidth
        var blockOffsets: [Int] = []
        var total = 0
        var work = 0
        for (s, segment) in segments.enumerated() {
            blockOffsets.append(total)
            let n = segment.tokens.count, length = starts[s] + n
            total += heads * n * length
            work += heads * n * length * dh
        }
        // Every score is written by QKᵀ below (a k = 0 product zeroes its output).
        var scores = [Float](unsafeUninitializedCapacity: total) { _, count in count = total }
        let scale = 1 / Float(Double(dh).squareRoot())
        let tasks = segments.count * heads
        let parallel = threads > 1 && work >= 1 << 16 && tasks > 1
        let caches = segments.map(\.cache), counts = segments.map(\.tokens.count), blockStarts = blockOffsets
        // Workers write disjoint blocks; pointers cross into them as addresses.
        scores.withUnsafeMutableBufferPointer { sp in
            q.withUnsafeBufferPointer { qp in
                let sAddress = UInt(bitPattern: sp.baseAddress!), qAddress = UInt(bitPattern: qp.baseAddress!)
                let body: @Sendable (Int) -> Void = { task in
                    let s = task / heads, h = task % heads
                    let n = counts[s], start = starts[s], length = start + n
                    let out = UnsafeMutablePointer<Float>(bitPattern: sAddress)! + blockStarts[s] + h * n * length
                    let query = UnsafePointer<Float>(bitPattern: qAddress)! + offsets[s] * qWidth + h * dh
                    let keys = UnsafePointer(caches[s].keys(layer)) + (h / group) * dh
                    Matmul.multiply(
                        query, keys, into: out, m: n, n: length, k: dh, bTransposed: true, threads: 1, aStride: qWidth,
                        bStride: kvWidth, cStride: length)
                    for i in 0..<n {
                        let row = out + i * length
                        for j in 0..<length { row[j] = j > start + i ? -.infinity : row[j] * scale }
                    }
                }
                Parallel.forEach(tasks, threads: parallel ? threads : 1, body)
            }
        }
        try hooks.visitAttention("\(p).attn.hook_attn_scores", &scores, heads: heads, blockOffsets: blockOffsets)
        scores.withUnsafeMutableBufferPointer { sp in
            let sAddress = UInt(bitPattern: sp.baseAddress!)
            let body: @Sendable (Int) -> Void = { task in
                let s = task / heads, h = task % heads
                let n = counts[s], length = starts[s] + n
                retort_softmax_rows(UnsafeMutablePointer<Float>(bitPattern: sAddress)! + blockStarts[s] + h * n * length, n, length)
            }
            Parallel.forEach(tasks, threads: parallel ? threads : 1, body)
        }
        try hooks.visitAttention("\(p).attn.hook_pattern", &scores, heads: heads, blockOffsets: blockOffsets)
        // Every (segment, head) block of z is written by one P·V product below.
        var z = [Float](unsafeUninitializedCapacity: rows * qWidth) { _, count in count = rows * qWidth }
        scores.withUnsafeBufferPointer { sp in
            z.withUnsafeMutableBufferPointer { zp in
                let sAddress = UInt(bitPattern: sp.baseAddress!), zAddress = UInt(bitPattern: zp.baseAddress!)
                let body: @Sendable (Int) -> Void = { task in
                    let s = task / heads, h = task % heads
                    let n = counts[s], length = starts[s] + n
                    let pattern = UnsafePointer<Float>(bitPattern: sAddress)! + blockStarts[s] + h * n * length
                    let out = UnsafeMutablePointer<Float>(bitPattern: zAddress)! + offsets[s] * qWidth + h * dh
                    let values = UnsafePointer(caches[s].values(layer)) + (h / group) * dh
                    Matmul.multiply(
                        pattern, values, into: out, m: n, n: dh, k: length, threads: 1, aStride: length, bStride: kvWidth,
                        cStride: qWidth)
                }
                Parallel.forEach(tasks, threads: parallel ? threads : 1, body)
            }
        }
        return z
    }

    // MARK: Elementwise pieces

    /// Runs `body(start, end)` over row ranges of `rows` rows of `width` elements, split across
    /// `threads` when there are enough elements to be worth it. Each element's value does not depend
    /// on the split.
    static func forRows(_ rows: Int, width: Int, threads: Int, _ body: (Int, Int) -> Void) {
        let parts = rows * width >= 1 << 14 ? max(1, min(threads, rows)) : 1
        if parts == 1 { return body(0, rows) }
        Parallel.forEach(parts, threads: parts) { part in body(rows * part / parts, rows * (part + 1) / parts) }
    }

    /// `x` normalised: each thread copies its rows and normalises them while they are in its cache.
    private func normalized(_ x: [Float], _ norm: DecoderNorm) -> [Float] {
        let d = config.dModel
        guard d > 0, !x.isEmpty else { return x }
        return [Float](unsafeUninitializedCapacity: x.count) { out, count in
            x.withUnsafeBufferPointer { source in
                norm.weight.withUnsafeBufferPointer { w in
                    let (source, target, w) = (source.baseAddress!, out.baseAddress!, w.baseAddress!)
                    Self.forRows(x.count / d, width: d, threads: threads) { first, end in
                        (target + first * d).update(from: source + first * d, count: (end - first) * d)
                        normalizeRows(target, first..<end, norm, weight: w)
                    }
                }
            }
            count = x.count
        }
    }

    /// RMSNorm (`x · rsqrt(mean(x²) + eps) · w`, as `LlamaRMSNorm`) or LayerNorm (GPT-2), per row.
    private func normalize(_ x: inout [Float], _ norm: DecoderNorm) {
        let d = config.dModel
        guard d > 0, !x.isEmpty else { return }
        x.withUnsafeMutableBufferPointer { p in
            norm.weight.withUnsafeBufferPointer { w in
                let rows = p.count / d
                let (p, w) = (p.baseAddress!, w.baseAddress!)
                Self.forRows(rows, width: d, threads: threads) { first, end in normalizeRows(p, first..<end, norm, weight: w) }
            }
        }
    }

    /// Normalises rows `rows` of the `[·, d_model]` matrix at `p` in place.
    private func normalizeRows(_ p: UnsafeMutablePointer<Float>, _ rows: Range<Int>, _ norm: DecoderNorm, weight w: UnsafePointer<Float>) {
        let d = config.dModel, eps = config.normEps
        for row in rows {
            let r = p + row * d
            if let bias = norm.bias {
                Activations.layerNormRow(r, width: d, eps: eps, weight: w, bias: bias)
                continue
            }
            var sum: Float = 0
            for j in 0..<d { sum += r[j] * r[j] }
            let inverse = 1 / (sum / Float(d) + eps).squareRoot()
            for j in 0..<d { r[j] = w[j] * (r[j] * inverse) }
        }
    }

    private func add(_ x: inout [Float], _ y: [Float]) {
        let d = config.dModel
        guard d > 0, !x.isEmpty else { return }
        x.withUnsafeMutableBufferPointer { a in
            y.withUnsafeBufferPointer { b in
                let rows = a.count / d
                let (a, b) = (a.baseAddress!, b.baseAddress!)
                Self.forRows(rows, width: d, threads: threads) { first, end in
                    for i in (first * d)..<(end * d) { a[i] += b[i] }
                }
            }
        }
    }

    /// `silu(gate) · up`, with the vectorised exp; rows of `width` split across `threads`.
    static func swiGLU(gate: [Float], up: [Float], width: Int = 1, threads: Int = 1) -> [Float] {
        var out = gate
        guard !out.isEmpty else { return out }
        out.withUnsafeMutableBufferPointer { o in
            gate.withUnsafeBufferPointer { g in
                up.withUnsafeBufferPointer { u in
                    let (o, g, u) = (o.baseAddress!, g.baseAddress!, u.baseAddress!)
                    forRows(gate.count / max(width, 1), width: max(width, 1), threads: threads) { first, end in
                        let range = (first * width)..<(end * width)
                        for i in range { o[i] = -o[i] }
                        retort_exp(o + range.lowerBound, range.count)
                        for i in range { o[i] = g[i] / (1 + o[i]) * u[i] }
                    }
                }
            }
        }
        return out
    }

    /// cos and sin of position × inverse frequency, `[rows, d_head/2]`, the angle rounded to Float32 as transformers does.
    private func ropeTables(_ positions: [Int]) -> ([Float], [Float]) {
        let half = inverseFrequencies.count
        guard half > 0 else { return ([], []) }
        var cosines = [Float](repeating: 0, count: positions.count * half)
        var sines = cosines
        for (r, position) in positions.enumerated() {
            for i in 0..<half {
                let angle = Double(Float(position) * inverseFrequencies[i])
                cosines[r * half + i] = Float(cos(angle))
                sines[r * half + i] = Float(sin(angle))
            }
        }
        return (cosines, sines)
    }

    /// Rotary embedding in transformers' rotate-half layout: `(x₁, x₂) → (x₁cos − x₂sin, x₂cos + x₁sin)` per head.
    private func rotate(_ x: inout [Float], heads: Int, cosines: [Float], sines: [Float]) {
        let dh = config.dHead, half = dh / 2, width = heads * dh
        guard width > 0, half > 0, !x.isEmpty, !cosines.isEmpty else { return }
        x.withUnsafeMutableBufferPointer { p in
            cosines.withUnsafeBufferPointer { cp in
                sines.withUnsafeBufferPointer { sp in
                    let rows = p.count / width
                    let (p, cp, sp) = (p.baseAddress!, cp.baseAddress!, sp.baseAddress!)
                    Self.forRows(rows, width: width, threads: threads) { first, end in
                        for r in first..<end {
                            let cr = cp + r * half, sr = sp + r * half
                            for h in 0..<heads {
                                let base = p + r * width + h * dh
                                for i in 0..<half {
                                    let a = base[i], b = base[i + half]
                                    base[i] = a * cr[i] - b * sr[i]
                                    base[i + half] = b * cr[i] + a * sr[i]
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension DecoderTransformer {
    /// The decoder inside `network` when it is a Llama-family or GPT-2 network, else nil.
    static func core(of network: any NeuralNetwork) -> DecoderTransformer? {
        (network as? LlamaNetwork)?.core ?? (network as? GPT2Network)?.core
    }
}

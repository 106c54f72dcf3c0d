import Foundation
import WeightFiles

/// A decoder-only transformer with TransformerLens naming and math (`formats/network.md`, preset `transformer`).
public struct TransformerNetwork: NeuralNetwork {
    struct Norm: Sendable {
        var weight: [Float]?
        var bias: [Float]?
    }

    struct Block: Sendable {
        var ln1: Norm?
        var ln2: Norm?
        /// `[d_model, n_heads·d_head]` each (TransformerLens `[h, d, e]` rearranged to columns h·e).
        var wQ: [Float], wK: [Float], wV: [Float]
        /// `[n_heads·d_head]` each.
        var bQ: [Float], bK: [Float], bV: [Float]
        /// `[n_heads·d_head, d_model]`.
        var wO: [Float]
        var bO: [Float]
        var wIn: [Float], bIn: [Float], wOut: [Float], bOut: [Float]
    }

    public let config: TransformerConfig
    let embedding: [Float]
    let positional: [Float]
    let blocks: [Block]
    let lnFinal: Norm?
    let unembed: [Float]
    let unembedBias: [Float]
    /// Threads for the matrix multiplies.
    public var threads: Int
    public let hookNames: [String]
    /// The bias tensors absent from the weight file and run as zeros (`absent_biases: "zero"`), in load order.
    public let zeroBiases: [String]

    /// The bias tensors `config` runs with (attention, MLP and unembedding biases; LayerNorm's are weights of
    /// the norm and always required with `LN`).
    public static func biasNames(_ config: TransformerConfig) -> [String] {
        (0..<config.nLayers).flatMap { i in
            ["b_Q", "b_K", "b_V", "b_O"].map { "blocks.\(i).attn.\($0)" }
                + (config.attnOnly ? [] : ["blocks.\(i).mlp.b_in", "blocks.\(i).mlp.b_out"])
        } + ["unembed.b_U"]
    }

    /// The bias tensors of `config` that `file` lacks: with `absent_biases: "zero"` these run as zeros.
    /// - Complexity: O(layers) lookups of tensor names.
    public static func absentBiases(in file: any WeightFile, config: TransformerConfig) -> [String] {
        biasNames(config).filter { file.info(named: $0) == nil }
    }

    /// Loads a transformer with `config` from `file`, converting every weight to Float32.
    /// - Throws: `NetworkError` naming the tensor and the shape the configuration implies; an absent bias is
    ///   an error unless the configuration says `absent_biases: "zero"`.
    public init(file: any WeightFile, config: TransformerConfig, threads: Int = 1) throws(NetworkError) {
        let c = config
        let loader = WeightLoader(file: file)
        let d = (c.dModel, "d_model"), h = (c.nHeads, "n_heads"), e = (c.dHead, "d_head")
        let m = (c.dMLP, "d_mlp")
        func load(_ name: String, _ shape: [(Int, String)]) throws(NetworkError) -> [Float] {
            try loader.load(name, expected: shape.map { (Optional($0.0), $0.1) })
        }
        var zeroBiases: [String] = []
        /// A bias: read, or zeros when the file lacks it and the configuration allows that.
        func bias(_ name: String, _ shape: [(Int, String)]) throws(NetworkError) -> [Float] {
            guard c.absentBiases == .zero, file.info(named: name) == nil else { return try load(name, shape) }
            zeroBiases.append(name)
            return [Float](repeating: 0, count: shape.reduce(1) { $0 * $1.0 })
        }
        func norm(_ prefix: String) throws(NetworkError) -> Norm? {
            switch c.normalization {
            case .none: nil
            case .layerNormPre: Norm()
            case .layerNorm: Norm(weight: try load("\(prefix).w", [d]), bias: try load("\(prefix).b", [d]))
            }
        }
        func headColumns(_ w: [Float]) -> [Float] {
            // [h, d, e] → [d, h·e]
            var out = [Float](repeating: 0, count: w.count)
            for hh in 0..<c.nHeads {
                for dd in 0..<c.dModel {
                    for ee in 0..<c.dHead {
                        out[dd * c.nHeads * c.dHead + hh * c.dHead + ee] = w[(hh * c.dModel + dd) * c.dHead + ee]
                    }
                }
            }
            return out
        }
        embedding = try load("embed.W_E", [(c.dVocab, "d_vocab"), d])
        positional = try load("pos_embed.W_pos", [(c.nCtx, "n_ctx"), d])
        var blocks: [Block] = []
        var hooks = ["hook_embed", "hook_pos_embed"]
        let hasNorm = c.normalization != .none
        for i in 0..<c.nLayers {
            let p = "blocks.\(i)"
            var block = Block(
                ln1: try norm("\(p).ln1"), ln2: nil,
                wQ: headColumns(try load("\(p).attn.W_Q", [h, d, e])), wK: headColumns(try load("\(p).attn.W_K", [h, d, e])),
                wV: headColumns(try load("\(p).attn.W_V", [h, d, e])),
                bQ: try bias("\(p).attn.b_Q", [h, e]), bK: try bias("\(p).attn.b_K", [h, e]),
                bV: try bias("\(p).attn.b_V", [h, e]),
                wO: try load("\(p).attn.W_O", [h, e, d]), bO: try bias("\(p).attn.b_O", [d]),
                wIn: [], bIn: [], wOut: [], bOut: [])
            hooks += ["\(p).hook_resid_pre"]
            if hasNorm { hooks += ["\(p).ln1.hook_normalized"] }
            hooks += [
                "\(p).attn.hook_q", "\(p).attn.hook_k", "\(p).attn.hook_v", "\(p).attn.hook_attn_scores",
                "\(p).attn.hook_pattern", "\(p).attn.hook_z", "\(p).hook_attn_out",
            ]
            // TransformerLens has no resid_mid hook in attention-only blocks.
            if !c.attnOnly { hooks += ["\(p).hook_resid_mid"] }
            if !c.attnOnly {
                block.ln2 = try norm("\(p).ln2")
                block.wIn = try load("\(p).mlp.W_in", [d, m])
                block.bIn = try bias("\(p).mlp.b_in", [m])
                block.wOut = try load("\(p).mlp.W_out", [m, d])
                block.bOut = try bias("\(p).mlp.b_out", [d])
                if hasNorm { hooks += ["\(p).ln2.hook_normalized"] }
                hooks += ["\(p).mlp.hook_pre", "\(p).mlp.hook_post", "\(p).hook_mlp_out"]
            }
            hooks += ["\(p).hook_resid_post"]
            blocks.append(block)
        }
        lnFinal = try norm("ln_final")
        if hasNorm { hooks += ["ln_final.hook_normalized"] }
        unembed = try load("unembed.W_U", [d, (c.dVocabOut, "d_vocab_out")])
        unembedBias = try bias("unembed.b_U", [(c.dVocabOut, "d_vocab_out")])
        self.zeroBiases = zeroBiases
        self.config = config
        self.blocks = blocks
        self.threads = max(1, threads)
        self.hookNames = hooks
    }

    public func run(_ input: NetworkInput, capture: Set<String>, interventions: [Intervention]) throws(NetworkError) -> NetworkRun
    {
        for name in capture { try checkHook(name) }
        let resolved = try resolve(interventions)
        guard case .tokens(let ids, let batch, let seq) = input else {
            throw .invalidInput(reason: "a transformer takes token ids, not feature vectors")
        }
        let c = config
        guard seq >= 1, seq <= c.nCtx else {
            throw .invalidInput(reason: "sequences of length \(seq); this transformer takes 1 to n_ctx = \(c.nCtx) tokens")
        }
        guard ids.count == batch * seq else { throw .invalidInput(reason: "\(ids.count) token ids for \(batch) × \(seq)") }
        if let bad = ids.firstIndex(where: { $0 < 0 || $0 >= c.dVocab }) {
            throw .invalidInput(
                reason: "token id \(ids[bad]) at example \(bad / seq), position \(bad % seq) is outside 0..<d_vocab = \(c.dVocab)"
            )
        }
        let widest = max(c.dModel, c.dMLP, c.nHeads * c.dHead, c.dVocabOut, c.nHeads * seq)
        let hd = c.nHeads * c.dHead
        let work = seq * (c.nLayers * (4 * c.dModel * hd + 2 * c.dModel * c.dMLP) + c.dModel * c.dVocabOut)
        let threads = Chunking.threads(threads, batch: batch, work: work)
        let perChunk = Chunking.examplesPerChunk(batch: batch, widest: widest * seq, threads: threads)
        return try Chunking.run(input, examplesPerChunk: perChunk, threads: threads, interventions: resolved) {
            (chunk, interventions, threads) throws(NetworkError) in
            guard case .tokens(let ids, let batch, _) = chunk else { preconditionFailure() }
            return try forward(ids: ids, batch: batch, seq: seq, capture: capture, interventions: interventions, threads: threads)
        }
    }

    private func forward(
        ids: [Int], batch: Int, seq: Int, capture: Set<String>, interventions resolved: [Intervention], threads: Int
    ) throws(NetworkError) -> NetworkRun {
        let c = config
        let hooks = HookContext(capture: capture, interventions: resolved)
        let rows = batch * seq, dm = c.dModel, hd = c.nHeads * c.dHead
        let residual = HookLayout.positional([batch, seq, dm])

        var embed = [Float](repeating: 0, count: rows * dm)
        var pos = [Float](repeating: 0, count: rows * dm)
        for r in 0..<rows {
            let token = ids[r], p = r % seq
            for j in 0..<dm {
                embed[r * dm + j] = embedding[token * dm + j]
                pos[r * dm + j] = positional[p * dm + j]
            }
        }
        try hooks.visit("hook_embed", &embed, residual)
        try hooks.visit("hook_pos_embed", &pos, residual)
        var resid = zip(embed, pos).map { $0 + $1 }

        for (i, block) in blocks.enumerated() {
            let p = "blocks.\(i)"
            try hooks.visit("\(p).hook_resid_pre", &resid, residual)
            var x = resid
            if let norm = block.ln1 {
                Activations.layerNorm(&x, width: dm, eps: c.eps, weight: norm.weight, bias: norm.bias)
                try hooks.visit("\(p).ln1.hook_normalized", &x, residual)
            }
            let heads = HookLayout.positional([batch, seq, c.nHeads, c.dHead])
            var q = linear(x, rows: rows, weight: block.wQ, bias: block.bQ, inputs: dm, outputs: hd, threads: threads)
            try hooks.visit("\(p).attn.hook_q", &q, heads)
            var k = linear(x, rows: rows, weight: block.wK, bias: block.bK, inputs: dm, outputs: hd, threads: threads)
            try hooks.visit("\(p).attn.hook_k", &k, heads)
            var v = linear(x, rows: rows, weight: block.wV, bias: block.bV, inputs: dm, outputs: hd, threads: threads)
            try hooks.visit("\(p).attn.hook_v", &v, heads)
            var scores = attentionScores(q: q, k: k, batch: batch, seq: seq)
            let attention = HookLayout.attention(batch: batch, heads: c.nHeads, positions: seq)
            try hooks.visit("\(p).attn.hook_attn_scores", &scores, attention)
            Activations.softmaxRows(&scores, width: seq)
            var pattern = scores
            try hooks.visit("\(p).attn.hook_pattern", &pattern, attention)
            var z = attentionValues(pattern: pattern, v: v, batch: batch, seq: seq)
            try hooks.visit("\(p).attn.hook_z", &z, heads)
            var attnOut = linear(z, rows: rows, weight: block.wO, bias: block.bO, inputs: hd, outputs: dm, threads: threads)
            try hooks.visit("\(p).hook_attn_out", &attnOut, residual)
            for j in 0..<resid.count { resid[j] += attnOut[j] }
            if !c.attnOnly {
                try hooks.visit("\(p).hook_resid_mid", &resid, residual)
                var y = resid
                if let norm = block.ln2 {
                    Activations.layerNorm(&y, width: dm, eps: c.eps, weight: norm.weight, bias: norm.bias)
                    try hooks.visit("\(p).ln2.hook_normalized", &y, residual)
                }
                let hidden = HookLayout.positional([batch, seq, c.dMLP])
                var pre = linear(y, rows: rows, weight: block.wIn, bias: block.bIn, inputs: dm, outputs: c.dMLP, threads: threads)
                try hooks.visit("\(p).mlp.hook_pre", &pre, hidden)
                var post = pre
                activate(&post)
                try hooks.visit("\(p).mlp.hook_post", &post, hidden)
                var mlpOut = linear(
                    post, rows: rows, weight: block.wOut, bias: block.bOut, inputs: c.dMLP, outputs: dm, threads: threads)
                try hooks.visit("\(p).hook_mlp_out", &mlpOut, residual)
                for j in 0..<resid.count { resid[j] += mlpOut[j] }
            }
            try hooks.visit("\(p).hook_resid_post", &resid, residual)
        }
        if let norm = lnFinal {
            Activations.layerNorm(&resid, width: dm, eps: c.eps, weight: norm.weight, bias: norm.bias)
            try hooks.visit("ln_final.hook_normalized", &resid, residual)
        }
        let logits = linear(
            resid, rows: rows, weight: unembed, bias: unembedBias, inputs: dm, outputs: c.dVocabOut, threads: threads)
        return NetworkRun(output: FloatTensor(shape: [batch, seq, c.dVocabOut], scalars: logits), activations: hooks.captured)
    }

    private func linear(
        _ x: [Float], rows: Int, weight: [Float], bias: [Float], inputs: Int, outputs: Int, threads: Int
    ) -> [Float] {
        MLPNetwork.linear(x, batch: rows, weight: weight, bias: bias, inputs: inputs, outputs: outputs, threads: threads)
    }

    private func activate(_ x: inout [Float]) {
        switch config.activation {
        case .relu: Activations.relu(&x)
        case .gelu: Activations.apply(.gelu, &x, width: 1)
        case .geluTanh: Activations.apply(.geluTanh, &x, width: 1)
        case .silu: x.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = Activations.silu(p[i]) } }
        }
    }

    /// `[b, h, q, k]` scores `q·k / attn_scale`, with keys after the query set to −∞.
    private func attentionScores(q: [Float], k: [Float], batch: Int, seq: Int) -> [Float] {
        let heads = config.nHeads, e = config.dHead, hd = heads * e
        var scores = [Float](repeating: -.infinity, count: batch * heads * seq * seq)
        let scale = config.attnScale
        for b in 0..<batch {
            for h in 0..<heads {
                for i in 0..<seq {
                    let qBase = (b * seq + i) * hd + h * e
                    for j in 0...i {
                        let kBase = (b * seq + j) * hd + h * e
                        var dot: Float = 0
                        for t in 0..<e { dot += q[qBase + t] * k[kBase + t] }
                        scores[((b * heads + h) * seq + i) * seq + j] = dot / scale
                    }
                }
            }
        }
        return scores
    }

    /// `[b, p, h, e]` values `Σ_k pattern[b, h, p, k] · v[b, k, h, e]`.
    private func attentionValues(pattern: [Float], v: [Float], batch: Int, seq: Int) -> [Float] {
        let heads = config.nHeads, e = config.dHead, hd = heads * e
        var z = [Float](repeating: 0, count: batch * seq * hd)
        for b in 0..<batch {
            for h in 0..<heads {
                for i in 0..<seq {
                    let zBase = (b * seq + i) * hd + h * e
                    for j in 0...i {
                        let a = pattern[((b * heads + h) * seq + i) * seq + j]
                        let vBase = (b * seq + j) * hd + h * e
                        for t in 0..<e { z[zBase + t] += a * v[vBase + t] }
                    }
                }
            }
        }
        return z
    }
}

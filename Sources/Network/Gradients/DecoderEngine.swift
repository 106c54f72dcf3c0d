import CRetortKernels
import Foundation

/// The Float32 forward pass of a decoder transformer's blocks that keeps what reverse mode needs, and that
/// reverse mode (`DecoderTail`). A batch is `batch` sequences of `rows` new tokens each, starting at position
/// `start`, each attending also to its own earlier keys and values (`KeyValues` chunks, in position order).
/// Products run on `Matmul`; attention is split across (sequence, head) tasks.
struct DecoderEngine {
    let weights: DecoderTailWeights
    var config: LanguageModelConfig { weights.config }
    var threads: Int { weights.threads }

    /// Keys and values of consecutive earlier positions, `[length, kvWidth]`.
    struct KeyValues {
        var keys: [Float]
        var values: [Float]
        var length: Int
    }

    /// Per-row statistics of a norm: the mean (LayerNorm) and the inverse scale.
    struct NormStats {
        var mean: [Float]
        var inverse: [Float]
    }

    struct MLPTrace {
        var input: [Float]
        var stats: NormStats
        var normed: [Float]
        var gate: [Float]
        var up: [Float]?
        var post: [Float]
        var output: [Float]
    }

    struct BlockTrace {
        /// The residual stream before the block, `[batch·rows, d_model]`.
        var input: [Float]
        var stats1: NormStats
        var normed1: [Float]
        /// Queries and keys after RoPE, and values, of the new rows.
        var q: [Float]
        var k: [Float]
        var v: [Float]
        /// Attention patterns per (sequence, head): `[rows, start + rows]` each.
        var pattern: [Float]
        var prefix: [[KeyValues]]
        var z: [Float]
        var attnOut: [Float]
        var mid: [Float]
        var mlp: MLPTrace
        var mlpOut: [Float] { mlp.output }
    }

    // MARK: Pieces

    /// Token embeddings (plus GPT-2's learned positions) of `sequences`, each starting at position `start`.
    func embed(_ sequences: [[Int]], start: Int) -> [Float] {
        let d = config.dModel
        let rows = sequences.reduce(0) { $0 + $1.count }
        var out = [Float](repeating: 0, count: rows * d)
        out.withUnsafeMutableBufferPointer { o in
            var row = 0
            for sequence in sequences {
                for (i, token) in sequence.enumerated() {
                    weights.embedding.copyRow(token, width: d, into: o.baseAddress! + row * d)
                    if let positional = weights.positional {
                        for j in 0..<d { o[row * d + j] += positional[(start + i) * d + j] }
                    }
                    row += 1
                }
            }
        }
        return out
    }

    /// `x·Wᵀ + b` for `[rows, inputs]` x.
    func linear(_ x: [Float], _ layer: DecoderTailWeights.Dense, rows: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * layer.outputs)
        if let bias = layer.bias { for r in 0..<rows { for o in 0..<layer.outputs { y[r * layer.outputs + o] = bias[o] } } }
        product(
            x, layer.weight, into: &y, m: rows, n: layer.outputs, k: layer.inputs, accumulate: layer.bias != nil,
            bTransposed: true)
        return y
    }

    /// `dy·W`: the gradient of `linear` with respect to its input.
    func linearBackward(_ dy: [Float], _ layer: DecoderTailWeights.Dense, rows: Int, into dx: inout [Float], accumulate: Bool) {
        product(
            dy, layer.weight, into: &dx, m: rows, n: layer.inputs, k: layer.outputs, accumulate: accumulate, bTransposed: false)
    }

    func linearBackward(_ dy: [Float], _ layer: DecoderTailWeights.Dense, rows: Int) -> [Float] {
        var dx = [Float](repeating: 0, count: rows * layer.inputs)
        linearBackward(dy, layer, rows: rows, into: &dx, accumulate: false)
        return dx
    }

    private func product(
        _ a: [Float], _ b: [Float], into c: inout [Float], m: Int, n: Int, k: Int, accumulate: Bool, bTransposed: Bool
    ) {
        guard m > 0, n > 0, k > 0 else { return }
        let threads = self.threads
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

    /// RMSNorm (`x · rsqrt(mean(x²) + eps) · w`) or LayerNorm per row, with the statistics reverse mode needs.
    /// Rows run on the kernel pool.
    func normForward(_ x: [Float], _ norm: DecoderNorm) -> ([Float], NormStats) {
        let d = config.dModel, eps = config.normEps
        let rows = x.count / d
        var y = x
        var mean = [Float](repeating: 0, count: rows), inverseScale = mean
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                mean.withUnsafeMutableBufferPointer { mp in
                    inverseScale.withUnsafeMutableBufferPointer { ip in
                        norm.weight.withUnsafeBufferPointer { wp in
                            let (x, y, meanOut, inverseOut, w) = (
                                xp.baseAddress!, yp.baseAddress!, mp.baseAddress!, ip.baseAddress!, wp.baseAddress!
                            )
                            Parallel.forEach(rows, threads: threads) { r in
                                let x = x + r * d, y = y + r * d
                                if let bias = norm.bias {
                                    var mean: Float = 0
                                    for j in 0..<d { mean += x[j] }
                                    mean /= Float(d)
                                    var variance: Float = 0
                                    for j in 0..<d { variance += (x[j] - mean) * (x[j] - mean) }
                                    variance /= Float(d)
                                    let inverse = 1 / (variance + eps).squareRoot()
                                    for j in 0..<d { y[j] = (x[j] - mean) * inverse * w[j] + bias[j] }
                                    meanOut[r] = mean
                                    inverseOut[r] = inverse
                                } else {
                                    var sum: Float = 0
                                    for j in 0..<d { sum += x[j] * x[j] }
                                    let inverse = 1 / (sum / Float(d) + eps).squareRoot()
                                    for j in 0..<d { y[j] = w[j] * (x[j] * inverse) }
                                    inverseOut[r] = inverse
                                }
                            }
                        }
                    }
                }
            }
        }
        return (y, NormStats(mean: mean, inverse: inverseScale))
    }

    /// The gradient of `normForward` with respect to its input. Rows run on the kernel pool.
    func normBackward(_ dy: [Float], _ x: [Float], _ stats: NormStats, _ norm: DecoderNorm) -> [Float] {
        let d = config.dModel
        let rows = x.count / d
        var dx = [Float](repeating: 0, count: x.count)
        dy.withUnsafeBufferPointer { dyp in
            x.withUnsafeBufferPointer { xp in
                dx.withUnsafeMutableBufferPointer { dxp in
                    norm.weight.withUnsafeBufferPointer { wp in
                        let (dyBase, xBase, dxBase, w) = (dyp.baseAddress!, xp.baseAddress!, dxp.baseAddress!, wp.baseAddress!)
                        Parallel.forEach(rows, threads: threads) { r in
                            let dy = dyBase + r * d, x = xBase + r * d, dx = dxBase + r * d
                            let inverse = stats.inverse[r]
                            if norm.bias != nil {
                                // x̂ = (x − μ)·s; dx = s·(g − mean(g) − x̂·mean(g·x̂)) with g = w·dy.
                                let mean = stats.mean[r]
                                var sumG: Float = 0, sumGX: Float = 0
                                for j in 0..<d {
                                    let g = dy[j] * w[j]
                                    sumG += g
                                    sumGX += g * (x[j] - mean) * inverse
                                }
                                let (meanG, meanGX) = (sumG / Float(d), sumGX / Float(d))
                                for j in 0..<d {
                                    let g = dy[j] * w[j]
                                    dx[j] = inverse * (g - meanG - (x[j] - mean) * inverse * meanGX)
                                }
                            } else {
                                // y = w·x·s, s = (mean(x²) + eps)^−½; dx = s·g − x·s³·mean(g·x) with g = w·dy.
                                var sumGX: Float = 0
                                for j in 0..<d { sumGX += dy[j] * w[j] * x[j] }
                                let factor = inverse * inverse * inverse * sumGX / Float(d)
                                for j in 0..<d { dx[j] = inverse * dy[j] * w[j] - x[j] * factor }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }

    // MARK: MLP half

    /// `x ← x + MLP(norm2(x))` for block `layer`, `[rows, d_model]` x.
    func mlpForward(_ layer: Int, _ x: inout [Float], rows: Int) -> MLPTrace {
        let block = weights.blocks[layer]
        let (normed, stats) = normForward(x, block.norm2)
        let gate = linear(normed, block.gate, rows: rows)
        var up: [Float]?
        var post = gate
        if let upLayer = block.up {
            let u = linear(normed, upLayer, rows: rows)
            for i in post.indices { post[i] = Activations.silu(gate[i]) * u[i] }
            up = u
        } else {
            for i in post.indices { post[i] = Activations.geluTanh(gate[i]) }
        }
        let output = linear(post, block.down, rows: rows)
        let input = x
        for i in x.indices { x[i] += output[i] }
        return MLPTrace(input: input, stats: stats, normed: normed, gate: gate, up: up, post: post, output: output)
    }

    /// The gradient through the MLP branch alone (the residual's identity not included).
    func mlpBackward(_ layer: Int, _ dOut: [Float], _ trace: MLPTrace, rows: Int) -> [Float] {
        let block = weights.blocks[layer]
        let dPost = linearBackward(dOut, block.down, rows: rows)
        var dGate = dPost
        var dNormed: [Float]
        if let up = trace.up, let upLayer = block.up {
            var dUp = dPost
            for i in dPost.indices {
                let g = trace.gate[i]
                let s = Activations.sigmoid(g)
                dUp[i] = dPost[i] * g * s
                dGate[i] = dPost[i] * up[i] * s * (1 + g * (1 - s))
            }
            dNormed = linearBackward(dGate, block.gate, rows: rows)
            linearBackward(dUp, upLayer, rows: rows, into: &dNormed, accumulate: true)
        } else {
            let c: Float = 0.797_884_56, a: Float = 0.044_715
            for i in dPost.indices {
                let x = trace.gate[i]
                let t = Foundation.tanh(c * (x + a * x * x * x))
                dGate[i] = dPost[i] * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * a * x * x))
            }
            dNormed = linearBackward(dGate, block.gate, rows: rows)
        }
        return normBackward(dNormed, trace.input, trace.stats, block.norm2)
    }

    // MARK: Blocks

    /// Runs block `layer` on `resid` (`[batch·rows, d_model]`, updated in place); `prefix(s)` gives sequence s's
    /// earlier keys and values.
    func blockForward(
        _ layer: Int, _ resid: inout [Float], batch: Int, rows: Int, start: Int, prefix: (Int) -> [KeyValues]
    ) -> BlockTrace {
        let c = config, block = weights.blocks[layer]
        let total = batch * rows
        let input = resid
        let (normed1, stats1) = normForward(resid, block.norm1)
        var q = linear(normed1, block.q, rows: total)
        var k = linear(normed1, block.k, rows: total)
        let v = linear(normed1, block.v, rows: total)
        if c.architecture.isLlamaFamily {
            rotate(&q, heads: c.heads, rows: rows, start: start, inverse: false)
            rotate(&k, heads: c.kvHeads, rows: rows, start: start, inverse: false)
        }
        let prefixes = (0..<batch).map(prefix)
        let (z, pattern) = attention(q: q, k: k, v: v, batch: batch, rows: rows, start: start, prefixes: prefixes)
        let attnOut = linear(z, block.o, rows: total)
        for i in resid.indices { resid[i] += attnOut[i] }
        let mid = resid
        let mlp = mlpForward(layer, &resid, rows: total)
        return BlockTrace(
            input: input, stats1: stats1, normed1: normed1, q: q, k: k, v: v, pattern: pattern, prefix: prefixes, z: z,
            attnOut: attnOut, mid: mid, mlp: mlp)
    }

    /// Block `layer`'s keys (after RoPE) and values of `resid`'s rows, as `blockForward` computes them, without the
    /// rest of the block.
    func keysAndValues(_ layer: Int, _ resid: [Float], batch: Int, rows: Int, start: Int) -> (k: [Float], v: [Float]) {
        let c = config, block = weights.blocks[layer]
        let (normed, _) = normForward(resid, block.norm1)
        var k = linear(normed, block.k, rows: batch * rows)
        let v = linear(normed, block.v, rows: batch * rows)
        if c.architecture.isLlamaFamily { rotate(&k, heads: c.kvHeads, rows: rows, start: start, inverse: false) }
        return (k, v)
    }

    /// The gradient with respect to the block's input, given the gradient with respect to its output.
    func blockBackward(_ layer: Int, _ dOut: [Float], _ trace: BlockTrace, batch: Int, rows: Int, start: Int) -> [Float] {
        let c = config, block = weights.blocks[layer]
        let total = batch * rows
        var dMid = mlpBackward(layer, dOut, trace.mlp, rows: total)
        for i in dMid.indices { dMid[i] += dOut[i] }
        let dz = linearBackward(dMid, block.o, rows: total)
        var (dq, dk, dv) = attentionBackward(dz: dz, trace: trace, batch: batch, rows: rows, start: start)
        if c.architecture.isLlamaFamily {
            rotate(&dq, heads: c.heads, rows: rows, start: start, inverse: true)
            rotate(&dk, heads: c.kvHeads, rows: rows, start: start, inverse: true)
        }
        var dNormed = linearBackward(dq, block.q, rows: total)
        linearBackward(dk, block.k, rows: total, into: &dNormed, accumulate: true)
        linearBackward(dv, block.v, rows: total, into: &dNormed, accumulate: true)
        var dInput = normBackward(dNormed, trace.input, trace.stats1, block.norm1)
        for i in dInput.indices { dInput[i] += dMid[i] }
        return dInput
    }

    // MARK: RoPE

    /// Rotary embedding (rotate-half layout) of rows at positions start, start+1, … in each sequence; `inverse`
    /// rotates back (the transpose), which is RoPE's reverse mode.
    private func rotate(_ x: inout [Float], heads: Int, rows: Int, start: Int, inverse: Bool) {
        let dh = config.dHead, half = dh / 2, width = heads * dh
        let frequencies = weights.inverseFrequencies
        guard half > 0, !frequencies.isEmpty, !x.isEmpty else { return }
        var cosines = [Float](repeating: 0, count: rows * half), sines = cosines
        for i in 0..<rows {
            for f in 0..<half {
                let angle = Double(Float(start + i) * frequencies[f])
                cosines[i * half + f] = Float(cos(angle))
                sines[i * half + f] = Float(inverse ? -sin(angle) : sin(angle))
            }
        }
        let total = x.count / width
        for r in 0..<total {
            let i = r % rows
            for h in 0..<heads {
                let base = r * width + h * dh
                for f in 0..<half {
                    let a = x[base + f], b = x[base + f + half]
                    let (cs, sn) = (cosines[i * half + f], sines[i * half + f])
                    x[base + f] = a * cs - b * sn
                    x[base + f + half] = b * cs + a * sn
                }
            }
        }
    }

    // MARK: Attention

    /// Causal attention of each sequence's new rows over its prefix chunks and its new rows; returns z
    /// `[batch·rows, heads·d_head]` and the patterns.
    private func attention(
        q: [Float], k: [Float], v: [Float], batch: Int, rows: Int, start: Int, prefixes: [[KeyValues]]
    ) -> ([Float], [Float]) {
        let c = config
        let dh = c.dHead, heads = c.heads, group = c.heads / c.kvHeads
        let qWidth = heads * dh, kvWidth = c.kvHeads * dh
        let length = start + rows
        let scale = 1 / Float(Double(dh).squareRoot())
        var pattern = [Float](repeating: 0, count: batch * heads * rows * length)
        var z = [Float](repeating: 0, count: batch * rows * qWidth)
        pattern.withUnsafeMutableBufferPointer { pp in
            z.withUnsafeMutableBufferPointer { zp in
                q.withUnsafeBufferPointer { qp in
                    k.withUnsafeBufferPointer { kp in
                        v.withUnsafeBufferPointer { vp in
                            let (pp, zp, qp, kp, vp) = (
                                pp.baseAddress!, zp.baseAddress!, qp.baseAddress!, kp.baseAddress!, vp.baseAddress!
                            )
                            Parallel.forEach(batch * heads, threads: threads) { task in
                                let s = task / heads, h = task % heads, kvh = h / group
                                let out = pp + task * rows * length
                                let query = qp + s * rows * qWidth + h * dh
                                var offset = 0
                                for chunk in prefixes[s] {
                                    chunk.keys.withUnsafeBufferPointer { keys in
                                        Matmul.multiply(
                                            query, keys.baseAddress! + kvh * dh, into: out + offset, m: rows, n: chunk.length,
                                            k: dh,
                                            bTransposed: true, aStride: qWidth, bStride: kvWidth, cStride: length)
                                    }
                                    offset += chunk.length
                                }
                                Matmul.multiply(
                                    query, kp + s * rows * kvWidth + kvh * dh, into: out + start, m: rows, n: rows, k: dh,
                                    bTransposed: true, aStride: qWidth, bStride: kvWidth, cStride: length)
                                for i in 0..<rows {
                                    let row = out + i * length
                                    for j in 0..<length { row[j] = j > start + i ? -.infinity : row[j] * scale }
                                }
                                retort_softmax_rows(out, rows, length)
                                let zOut = zp + s * rows * qWidth + h * dh
                                offset = 0
                                for chunk in prefixes[s] {
                                    chunk.values.withUnsafeBufferPointer { values in
                                        Matmul.multiply(
                                            out + offset, values.baseAddress! + kvh * dh, into: zOut, m: rows, n: dh,
                                            k: chunk.length,
                                            accumulate: offset > 0, aStride: length, bStride: kvWidth, cStride: qWidth)
                                    }
                                    offset += chunk.length
                                }
                                Matmul.multiply(
                                    out + start, vp + s * rows * kvWidth + kvh * dh, into: zOut, m: rows, n: dh, k: rows,
                                    accumulate: start > 0, aStride: length, bStride: kvWidth, cStride: qWidth)
                            }
                        }
                    }
                }
            }
        }
        return (z, pattern)
    }

    /// Reverse mode of `attention`: the gradients with respect to the new rows' (rotated) queries, keys and
    /// values. The prefix chunks are constants. Split across (sequence, key-value head) tasks, so that the
    /// heads sharing a key-value head add into its gradient on one thread.
    private func attentionBackward(dz: [Float], trace: BlockTrace, batch: Int, rows: Int, start: Int) -> (
        [Float], [Float], [Float]
    ) {
        let c = config
        let dh = c.dHead, heads = c.heads, group = c.heads / c.kvHeads
        let qWidth = heads * dh, kvWidth = c.kvHeads * dh
        let length = start + rows
        let scale = 1 / Float(Double(dh).squareRoot())
        var dq = [Float](repeating: 0, count: batch * rows * qWidth)
        var dk = [Float](repeating: 0, count: batch * rows * kvWidth)
        var dv = dk
        let prefixes = trace.prefix
        dq.withUnsafeMutableBufferPointer { dqp in
            dk.withUnsafeMutableBufferPointer { dkp in
                dv.withUnsafeMutableBufferPointer { dvp in
                    trace.pattern.withUnsafeBufferPointer { pp in
                        trace.q.withUnsafeBufferPointer { qp in
                            trace.k.withUnsafeBufferPointer { kp in
                                trace.v.withUnsafeBufferPointer { vp in
                                    dz.withUnsafeBufferPointer { dzp in
                                        let (dqp, dkp, dvp) = (dqp.baseAddress!, dkp.baseAddress!, dvp.baseAddress!)
                                        let (pp, qp, kp, vp, dzp) = (
                                            pp.baseAddress!, qp.baseAddress!, kp.baseAddress!, vp.baseAddress!, dzp.baseAddress!
                                        )
                                        Parallel.forEach(batch * c.kvHeads, threads: threads) { task in
                                            let s = task / c.kvHeads, kvh = task % c.kvHeads
                                            var dS = [Float](repeating: 0, count: rows * length)
                                            let newKeys = kp + s * rows * kvWidth + kvh * dh
                                            let newValues = vp + s * rows * kvWidth + kvh * dh
                                            let dKeys = dkp + s * rows * kvWidth + kvh * dh
                                            let dValues = dvp + s * rows * kvWidth + kvh * dh
                                            for h in (kvh * group)..<((kvh + 1) * group) {
                                                let p = pp + (s * heads + h) * rows * length
                                                let dzh = dzp + s * rows * qWidth + h * dh
                                                let query = qp + s * rows * qWidth + h * dh
                                                dS.withUnsafeMutableBufferPointer { dsp in
                                                    let ds = dsp.baseAddress!
                                                    // dP = dz·Vᵀ over every key.
                                                    var offset = 0
                                                    for chunk in prefixes[s] {
                                                        chunk.values.withUnsafeBufferPointer { values in
                                                            Matmul.multiply(
                                                                dzh, values.baseAddress! + kvh * dh, into: ds + offset, m: rows,
                                                                n: chunk.length, k: dh,
                                                                bTransposed: true, aStride: qWidth, bStride: kvWidth,
                                                                cStride: length)
                                                        }
                                                        offset += chunk.length
                                                    }
                                                    Matmul.multiply(
                                                        dzh, newValues, into: ds + start, m: rows, n: rows, k: dh,
                                                        bTransposed: true,
                                                        aStride: qWidth, bStride: kvWidth, cStride: length)
                                                    // dS = P ⊙ (dP − Σ P·dP), times the score scale.
                                                    for i in 0..<rows {
                                                        var dot: Float = 0
                                                        for j in 0...(start + i) { dot += p[i * length + j] * ds[i * length + j] }
                                                        for j in 0..<length {
                                                            ds[i * length + j] =
                                                                j > start + i
                                                                ? 0 : p[i * length + j] * (ds[i * length + j] - dot) * scale
                                                        }
                                                    }
                                                    // dq = dS·K.
                                                    let dQuery = dqp + s * rows * qWidth + h * dh
                                                    offset = 0
                                                    for chunk in prefixes[s] {
                                                        chunk.keys.withUnsafeBufferPointer { keys in
                                                            Matmul.multiply(
                                                                ds + offset, keys.baseAddress! + kvh * dh, into: dQuery, m: rows,
                                                                n: dh, k: chunk.length,
                                                                accumulate: offset > 0, aStride: length, bStride: kvWidth,
                                                                cStride: qWidth)
                                                        }
                                                        offset += chunk.length
                                                    }
                                                    Matmul.multiply(
                                                        ds + start, newKeys, into: dQuery, m: rows, n: dh, k: rows,
                                                        accumulate: start > 0,
                                                        aStride: length, bStride: kvWidth, cStride: qWidth)
                                                    // dk_j += Σ_i dS_ij q_i and dv_j += Σ_i P_ij dz_i over the new keys j ≤ i.
                                                    for i in 0..<rows {
                                                        for j in 0...i {
                                                            let g = ds[i * length + start + j], w = p[i * length + start + j]
                                                            let qi = query + i * qWidth, dzi = dzh + i * qWidth
                                                            let dkj = dKeys + j * kvWidth, dvj = dValues + j * kvWidth
                                                            for t in 0..<dh {
                                                                dkj[t] += g * qi[t]
                                                                dvj[t] += w * dzi[t]
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dq, dk, dv)
    }
}

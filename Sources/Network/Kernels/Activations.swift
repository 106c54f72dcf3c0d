import Foundation

/// Elementwise and per-row Float32 kernels, matching PyTorch's definitions.
enum Activations {
    /// Applies a parameter-free op in place; `width` is the last axis (for softmax).
    /// - Complexity: O(n)
    static func apply(_ kind: OpKind, _ x: inout [Float], width: Int) {
        switch kind {
        case .relu: relu(&x)
        case .gelu: x.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = gelu(p[i]) } }
        case .geluTanh: x.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = geluTanh(p[i]) } }
        case .tanh: x.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = Foundation.tanh(p[i]) } }
        case .sigmoid: x.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = sigmoid(p[i]) } }
        case .softmax: softmaxRows(&x, width: width)
        case .identity, .linear, .layernorm: break
        }
    }

    static func relu(_ x: inout [Float]) {
        x.withUnsafeMutableBufferPointer { p in
            // `x > 0 ? x : 0` keeps NaN as NaN only through the comparison; PyTorch's relu propagates NaN.
            for i in p.indices where !(p[i] > 0) && !p[i].isNaN { p[i] = 0 }
        }
    }

    @inline(__always) static func gelu(_ v: Float) -> Float {
        Float(0.5 * Double(v) * (1 + erf(Double(v) / 2.0.squareRoot())))
    }

    @inline(__always) static func geluTanh(_ v: Float) -> Float {
        let c: Float = 0.797_884_56  // √(2/π)
        return 0.5 * v * (1 + Foundation.tanh(c * (v + 0.044715 * v * v * v)))
    }

    @inline(__always) static func sigmoid(_ v: Float) -> Float { 1 / (1 + exp(-v)) }

    @inline(__always) static func silu(_ v: Float) -> Float { v * sigmoid(v) }

    /// Softmax over each row of `width` elements; −∞ entries get 0, an all −∞ row gets zeros (as TransformerLens does).
    static func softmaxRows(_ x: inout [Float], width: Int) {
        guard width > 0 else { return }
        x.withUnsafeMutableBufferPointer { p in
            var start = 0
            while start < p.count {
                var m = -Float.infinity
                for i in start..<(start + width) { m = max(m, p[i]) }
                if m == -.infinity {
                    for i in start..<(start + width) { p[i] = 0 }
                } else {
                    var sum: Float = 0
                    for i in start..<(start + width) {
                        let e = exp(p[i] - m)
                        p[i] = e
                        sum += e
                    }
                    for i in start..<(start + width) { p[i] /= sum }
                }
                start += width
            }
        }
    }

    /// PyTorch `LayerNorm` over rows of `width`: biased variance, then optional affine.
    static func layerNorm(_ x: inout [Float], width: Int, eps: Float, weight: [Float]?, bias: [Float]?) {
        x.withUnsafeMutableBufferPointer { p in
            var start = 0
            while start < p.count {
                var mean: Float = 0
                for i in start..<(start + width) { mean += p[i] }
                mean /= Float(width)
                var variance: Float = 0
                for i in start..<(start + width) {
                    let d = p[i] - mean
                    variance += d * d
                }
                variance /= Float(width)
                let inverse = 1 / (variance + eps).squareRoot()
                for j in 0..<width {
                    var v = (p[start + j] - mean) * inverse
                    if let weight { v *= weight[j] }
                    if let bias { v += bias[j] }
                    p[start + j] = v
                }
                start += width
            }
        }
    }

    /// TransformerLens `LayerNorm` / `LayerNormPre`: `x − mean`, divided by `sqrt(mean(x²) + eps)`, then optional affine.
    static func transformerLensNorm(_ x: inout [Float], width: Int, eps: Float, weight: [Float]?, bias: [Float]?) {
        x.withUnsafeMutableBufferPointer { p in
            var start = 0
            while start < p.count {
                var mean: Float = 0
                for i in start..<(start + width) { mean += p[i] }
                mean /= Float(width)
                var squares: Float = 0
                for i in start..<(start + width) {
                    p[i] -= mean
                    squares += p[i] * p[i]
                }
                let scale = (squares / Float(width) + eps).squareRoot()
                for j in 0..<width {
                    var v = p[start + j] / scale
                    if let weight { v *= weight[j] }
                    if let bias { v += bias[j] }
                    p[start + j] = v
                }
                start += width
            }
        }
    }
}

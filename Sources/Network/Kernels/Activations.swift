import CRetortKernels
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
        case .sigmoid: sigmoidInPlace(&x)
        case .softmax: softmaxRows(&x, width: width)
        case .identity, .linear, .layernorm: break
        }
    }

    static func relu(_ x: inout [Float]) {
        x.withUnsafeMutableBufferPointer { p in
            // `x < 0 ? 0 : x` keeps NaN (the comparison is false), as PyTorch's relu does, and vectorises.
            for i in p.indices { p[i] = p[i] < 0 ? 0 : p[i] }
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
    /// Vectorised exp in C (`retort_softmax_rows`).
    static func softmaxRows(_ x: inout [Float], width: Int) {
        guard width > 0, !x.isEmpty else { return }
        x.withUnsafeMutableBufferPointer { p in retort_softmax_rows(p.baseAddress!, p.count / width, width) }
    }

    /// `1 / (1 + exp(−x))` for every element, with the vectorised exp.
    static func sigmoidInPlace(_ x: inout [Float]) {
        guard !x.isEmpty else { return }
        x.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = -p[i] }
            retort_exp(p.baseAddress!, p.count)
            for i in p.indices { p[i] = 1 / (1 + p[i]) }
        }
    }

    /// LayerNorm over rows of `width`: `(x − mean) / sqrt(var + eps)` with the biased variance, then the
    /// optional affine. PyTorch's `LayerNorm` and TransformerLens's `LayerNorm` / `LayerNormPre` (which
    /// divides the centred x by `sqrt(mean(x²) + eps)`, the same quantity) both compute this.
    static func layerNorm(_ x: inout [Float], width: Int, eps: Float, weight: [Float]?, bias: [Float]?) {
        guard width > 0, !x.isEmpty else { return }
        let weight = weight ?? []
        x.withUnsafeMutableBufferPointer { p in
            weight.withUnsafeBufferPointer { w in
                var start = 0
                while start < p.count {
                    layerNormRow(p.baseAddress! + start, width: width, eps: eps, weight: w.isEmpty ? nil : w.baseAddress, bias: bias)
                    start += width
                }
            }
        }
    }

    /// LayerNorm of the `width` elements at `row`, in place, with the same operations as `layerNorm`.
    static func layerNormRow(_ row: UnsafeMutablePointer<Float>, width: Int, eps: Float, weight: UnsafePointer<Float>?, bias: [Float]?) {
        var mean: Float = 0
        for i in 0..<width { mean += row[i] }
        mean /= Float(width)
        var variance: Float = 0
        for i in 0..<width {
            let d = row[i] - mean
            variance += d * d
        }
        variance /= Float(width)
        let inverse = 1 / (variance + eps).squareRoot()
        for j in 0..<width {
            var v = (row[j] - mean) * inverse
            if let weight { v *= weight[j] }
            if let bias { v += bias[j] }
            row[j] = v
        }
    }
}

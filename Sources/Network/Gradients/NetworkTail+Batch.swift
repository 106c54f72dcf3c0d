import Foundation

/// A `NetworkTail` in Float32 over a batch of rows: the same ops, run with `Matmul.multiply`, for training
/// many examples at once (distributed alignment search runs hundreds of steps over hundreds of pairs).
///
/// When the tail starts with a linear op, `leadingLinear` exposes it and `rest` is the tail after it, so a
/// caller whose activations change only in a low-rank subspace can fold that op into a small product.
public struct BatchedTail: Sendable {
    enum Op: Sendable {
        /// `y = x·W + b`, W `[inputs, outputs]` row-major.
        case linear(weight: [Float], bias: [Float]?, inputs: Int, outputs: Int)
        case layerNorm(weight: [Float]?, bias: [Float]?, eps: Float)
        case activation(NetworkTail.TailActivation)
        case addContext
        case residual([Op])
    }

    let ops: [Op]
    /// The features per row at the tail's input, and the logits per row at its output.
    public let width: Int
    public let outputWidth: Int

    /// The Float32 copy of `tail`.
    public init(_ tail: NetworkTail) {
        func convert(_ ops: [NetworkTail.Op]) -> [Op] {
            ops.map { op in
                switch op {
                case .linear(let w, let b, let i, let o):
                    .linear(weight: w.map(Float.init), bias: b.map { $0.map(Float.init) }, inputs: i, outputs: o)
                case .layerNorm(let w, let b, let eps):
                    .layerNorm(weight: w.map { $0.map(Float.init) }, bias: b.map { $0.map(Float.init) }, eps: Float(eps))
                case .activation(let kind): .activation(kind)
                case .addContext: .addContext
                case .residual(let branch): .residual(convert(branch))
                }
            }
        }
        self.init(ops: convert(tail.ops), width: tail.width, outputWidth: tail.outputWidth)
    }

    init(ops: [Op], width: Int, outputWidth: Int) {
        self.ops = ops
        self.width = width
        self.outputWidth = outputWidth
    }

    /// The tail's first op when it is linear: its weight `[width, outputs]` row-major, bias and output count.
    public var leadingLinear: (weight: [Float], bias: [Float]?, outputs: Int)? {
        guard case .linear(let w, let b, _, let o)? = ops.first else { return nil }
        return (w, b, o)
    }

    /// The tail after `leadingLinear` (the whole tail when it does not start with a linear op).
    public var rest: BatchedTail {
        guard case .linear(_, _, _, let o)? = ops.first else { return self }
        return BatchedTail(ops: Array(ops.dropFirst()), width: o, outputWidth: outputWidth)
    }

    /// The logits of `rows` rows of `x` (`[rows, width]`), with `context` (`[rows, contextWidth]`) added where
    /// the tail adds the residual stream.
    /// - Complexity: O(rows × weights after the hook)
    public func logits(_ x: [Float], rows: Int, context: [Float]?, threads: Int) -> [Float] {
        var tape: [[Float]] = []
        return Self.forward(ops, x, rows: rows, context: context, threads: threads, tape: &tape)
    }

    /// Mean cross-entropy over the rows of `x` against `targets`, the number of rows whose argmax is the
    /// target, and the gradient of the *summed* loss with respect to `x` (`[rows, width]`).
    /// - Complexity: O(rows × weights after the hook)
    public func lossAndGradient(_ x: [Float], rows: Int, context: [Float]?, targets: [Int], threads: Int) -> (
        loss: Double, correct: Int, gradient: [Float]
    ) {
        var tape: [[Float]] = []
        var g = Self.forward(ops, x, rows: rows, context: context, threads: threads, tape: &tape)
        let (loss, correct) = Self.softmaxCrossEntropy(&g, rows: rows, width: outputWidth, targets: targets)
        var position = tape.count
        let gradient = Self.backward(ops, g, rows: rows, threads: threads, tape: tape, position: &position)
        return (loss, correct, gradient)
    }

    /// Turns logits `z` into `softmax(z) − onehot(target)` in place; the mean loss and the argmax hits.
    public static func softmaxCrossEntropy(_ z: inout [Float], rows: Int, width: Int, targets: [Int]) -> (Double, Int) {
        var loss = 0.0
        var correct = 0
        z.withUnsafeMutableBufferPointer { z in
            for r in 0..<rows {
                let row = UnsafeMutableBufferPointer(rebasing: z[(r * width)..<((r + 1) * width)])
                var top = -Float.infinity
                var arg = 0
                for j in 0..<width where row[j] > top {
                    top = row[j]
                    arg = j
                }
                if arg == targets[r] { correct += 1 }
                var sum: Float = 0
                let target = row[targets[r]]
                for j in 0..<width {
                    let e = expf(row[j] - top)
                    row[j] = e
                    sum += e
                }
                loss += Double(top) + log(Double(sum)) - Double(target)
                let inverse = 1 / sum
                for j in 0..<width { row[j] *= inverse }
                row[targets[r]] -= 1
            }
        }
        return (loss / Double(max(rows, 1)), correct)
    }

    static func forward(
        _ ops: [Op], _ input: [Float], rows: Int, context: [Float]?, threads: Int, tape: inout [[Float]]
    ) -> [Float] {
        var x = input
        for op in ops {
            tape.append(x)
            switch op {
            case .linear(let w, let b, let inputs, let outputs):
                var y = [Float](repeating: 0, count: rows * outputs)
                if let b { for r in 0..<rows { for o in 0..<outputs { y[r * outputs + o] = b[o] } } }
                x.withUnsafeBufferPointer { x in
                    w.withUnsafeBufferPointer { w in
                        y.withUnsafeMutableBufferPointer { y in
                            Matmul.multiply(
                                x.baseAddress!, w.baseAddress!, into: y.baseAddress!, m: rows, n: outputs, k: inputs,
                                accumulate: true, threads: threads)
                        }
                    }
                }
                x = y
            case .layerNorm(let weight, let bias, let eps):
                let n = x.count / max(rows, 1)
                for r in 0..<rows {
                    let (_, inverse, mean) = layerNormStatistics(x, r * n, n, eps)
                    for j in 0..<n {
                        var v = (x[r * n + j] - mean) * inverse
                        if let weight { v *= weight[j] }
                        if let bias { v += bias[j] }
                        x[r * n + j] = v
                    }
                }
            case .activation(let kind):
                apply(kind, &x, rows: rows)
            case .addContext:
                if let context { for j in x.indices { x[j] += context[j] } }
            case .residual(let branch):
                let y = forward(branch, x, rows: rows, context: context, threads: threads, tape: &tape)
                for j in x.indices { x[j] += y[j] }
            }
        }
        return x
    }

    static func backward(
        _ ops: [Op], _ gradient: [Float], rows: Int, threads: Int, tape: [[Float]], position: inout Int
    ) -> [Float] {
        var g = gradient
        for op in ops.reversed() {
            if case .residual(let branch) = op {
                let through = backward(branch, g, rows: rows, threads: threads, tape: tape, position: &position)
                position -= 1
                for j in g.indices { g[j] += through[j] }
                continue
            }
            position -= 1
            let x = tape[position]
            switch op {
            case .linear(let w, _, let inputs, let outputs):
                var gx = [Float](repeating: 0, count: rows * inputs)
                g.withUnsafeBufferPointer { g in
                    w.withUnsafeBufferPointer { w in
                        gx.withUnsafeMutableBufferPointer { gx in
                            Matmul.multiply(
                                g.baseAddress!, w.baseAddress!, into: gx.baseAddress!, m: rows, n: inputs, k: outputs,
                                bTransposed: true, threads: threads)
                        }
                    }
                }
                g = gx
            case .layerNorm(let weight, _, let eps):
                let n = x.count / max(rows, 1)
                for r in 0..<rows {
                    let (_, inverse, mean) = layerNormStatistics(x, r * n, n, eps)
                    var meanG: Float = 0, meanGX: Float = 0
                    for j in 0..<n {
                        let gh = g[r * n + j] * (weight?[j] ?? 1)
                        meanG += gh
                        meanGX += gh * (x[r * n + j] - mean) * inverse
                    }
                    meanG /= Float(n)
                    meanGX /= Float(n)
                    for j in 0..<n {
                        let gh = g[r * n + j] * (weight?[j] ?? 1)
                        let xhat = (x[r * n + j] - mean) * inverse
                        g[r * n + j] = inverse * (gh - meanG - xhat * meanGX)
                    }
                }
            case .activation(let kind):
                activationBackward(kind, x, &g, rows: rows)
            case .addContext, .residual:
                break
            }
        }
        return g
    }

    /// The biased variance's `1/sqrt(var + eps)` and the mean of `x[start..<start+n]`.
    private static func layerNormStatistics(_ x: [Float], _ start: Int, _ n: Int, _ eps: Float) -> (Float, Float, Float) {
        var mean: Float = 0
        for j in 0..<n { mean += x[start + j] }
        mean /= Float(n)
        var variance: Float = 0
        for j in 0..<n {
            let d = x[start + j] - mean
            variance += d * d
        }
        variance /= Float(n)
        return (variance, 1 / (variance + eps).squareRoot(), mean)
    }

    private static func apply(_ kind: NetworkTail.TailActivation, _ x: inout [Float], rows: Int) {
        switch kind {
        case .relu:
            x.withUnsafeMutableBufferPointer { x in
                for j in 0..<x.count { x[j] = max(x[j], 0) }
            }
        case .identity: break
        case .softmax:
            let n = x.count / max(rows, 1)
            for r in 0..<rows {
                let row = Array(x[(r * n)..<((r + 1) * n)]).map(Double.init)
                let y = NetworkTail.apply(.softmax, row)
                for j in 0..<n { x[r * n + j] = Float(y[j]) }
            }
        default:
            for j in x.indices { x[j] = Float(scalar(kind, Double(x[j]))) }
        }
    }

    /// An elementwise activation at one value (the same formulas as `NetworkTail.apply`).
    private static func scalar(_ kind: NetworkTail.TailActivation, _ v: Double) -> Double {
        switch kind {
        case .gelu: 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
        case .geluTanh: 0.5 * v * (1 + Foundation.tanh(NetworkTail.geluC * (v + 0.044715 * v * v * v)))
        case .tanh: Foundation.tanh(v)
        case .sigmoid: 1 / (1 + exp(-v))
        case .silu: v / (1 + exp(-v))
        case .relu: max(v, 0)
        case .identity, .softmax: v
        }
    }

    /// The derivative of an elementwise activation at `v` (as `NetworkTail.activationBackward`).
    private static func derivative(_ kind: NetworkTail.TailActivation, _ v: Double) -> Double {
        switch kind {
        case .gelu: 0.5 * (1 + erf(v / 2.0.squareRoot())) + v * exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
        case .geluTanh:
            { () -> Double in
                let t = Foundation.tanh(NetworkTail.geluC * (v + 0.044715 * v * v * v))
                let du = NetworkTail.geluC * (1 + 3 * 0.044715 * v * v)
                return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du
            }()
        case .tanh: 1 - Foundation.tanh(v) * Foundation.tanh(v)
        case .sigmoid: (1 / (1 + exp(-v))) * (1 - 1 / (1 + exp(-v)))
        case .silu: (1 / (1 + exp(-v))) + v * (1 / (1 + exp(-v))) * (1 - 1 / (1 + exp(-v)))
        case .relu: v > 0 ? 1 : 0
        case .identity, .softmax: 1
        }
    }

    private static func activationBackward(_ kind: NetworkTail.TailActivation, _ x: [Float], _ g: inout [Float], rows: Int) {
        switch kind {
        case .relu:
            x.withUnsafeBufferPointer { x in
                g.withUnsafeMutableBufferPointer { g in
                    for j in 0..<x.count { g[j] = x[j] > 0 ? g[j] : 0 }
                }
            }
        case .identity: break
        case .softmax:
            let n = x.count / max(rows, 1)
            for r in 0..<rows {
                let xr = Array(x[(r * n)..<((r + 1) * n)]).map(Double.init)
                let gr = Array(g[(r * n)..<((r + 1) * n)]).map(Double.init)
                let y = NetworkTail.activationBackward(.softmax, xr, gr)
                for j in 0..<n { g[r * n + j] = Float(y[j]) }
            }
        default:
            for j in x.indices { g[j] = Float(Double(g[j]) * derivative(kind, Double(x[j]))) }
        }
    }
}

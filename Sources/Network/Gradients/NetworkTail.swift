import Foundation

/// The part of a network after one hook, at one position, in Float64 with reverse mode: the logits as a
/// function of that hook's activation, and the gradient of a cross-entropy loss with respect to it.
///
/// Distributed alignment search trains a rotation at a hook by gradient descent, which needs
/// `∂loss/∂activation` through everything downstream. Covered:
/// - MLPs: every hook (`hook_input`, `layers.{i}.hook_pre`, `layers.{i}.hook_post`), through linear,
///   layernorm, relu, gelu, gelu_tanh, tanh, sigmoid, identity and softmax ops. A final softmax is dropped,
///   so the logits are its input and cross-entropy is the same loss.
/// - Transformers: hooks after the last block's attention, where the output at a position depends on
///   that position alone: the last block's `hook_attn_out`, `hook_resid_mid`, `mlp.hook_pre`,
///   `mlp.hook_post`, `hook_mlp_out`, `hook_resid_post`, and `ln_final.hook_normalized`. Hooks with a residual
///   stream beside them need the clean base activation of `contextHook` at the same position.
///
/// Earlier transformer hooks (before the last attention) are not covered: the attention mixes positions.
public struct NetworkTail: Sendable {
    indirect enum Op: Sendable {
        /// `y = x·W + b`, W `[inputs, outputs]`.
        case linear(weight: [Double], bias: [Double]?, inputs: Int, outputs: Int)
        case layerNorm(weight: [Double]?, bias: [Double]?, eps: Double)
        case activation(TailActivation)
        /// `y = x + context` (the residual stream beside the hook).
        case addContext
        /// `y = x + branch(x)`.
        case residual([Op])
    }

    enum TailActivation: Sendable {
        case relu, gelu, geluTanh, tanh, sigmoid, silu, softmax, identity
    }

    let ops: [Op]
    /// The hook this tail starts at.
    public let hook: String
    /// The number of features at the hook (per position).
    public let width: Int
    /// The number of logits.
    public let outputWidth: Int
    /// The hook whose clean activation (same example, same position) the tail adds back as the residual
    /// stream, or `nil` when the tail needs none.
    public let contextHook: String?

    /// The tail of `network` after `hook`.
    /// - Throws: `invalidIntervention` naming the hook when reverse mode does not cover it (see the type's
    ///   summary), `unknownHook` for a name the network lacks.
    public init(network: any NeuralNetwork, hook: String) throws(NetworkError) {
        try network.checkHook(hook)
        if let mlp = network as? MLPNetwork {
            self = try Self.mlpTail(mlp, hook: hook)
        } else if let transformer = network as? TransformerNetwork {
            self = try Self.transformerTail(transformer, hook: hook)
        } else {
            throw .invalidIntervention(hook: hook, reason: "no reverse mode for this kind of network")
        }
    }

    private init(ops: [Op], hook: String, width: Int, outputWidth: Int, contextHook: String?) {
        self.ops = ops
        self.hook = hook
        self.width = width
        self.outputWidth = outputWidth
        self.contextHook = contextHook
    }

    /// Whether the network's output is a softmax (probabilities) rather than logits: then cross-entropy
    /// against its output is `−log p`, and the tail's logits are the softmax's input.
    public static func outputIsProbability(_ network: any NeuralNetwork) -> Bool {
        guard let mlp = network as? MLPNetwork, case .activation(.softmax)? = mlp.steps.last else { return false }
        return true
    }

    private static func double(_ x: [Float]) -> [Double] { x.map(Double.init) }

    private static func activation(_ kind: OpKind, hook: String) throws(NetworkError) -> Op? {
        switch kind {
        case .relu: .activation(.relu)
        case .gelu: .activation(.gelu)
        case .geluTanh: .activation(.geluTanh)
        case .tanh: .activation(.tanh)
        case .sigmoid: .activation(.sigmoid)
        case .softmax: .activation(.softmax)
        case .identity: nil
        case .linear, .layernorm:
            throw .invalidIntervention(hook: hook, reason: "\(kind.rawValue) is not an activation")
        }
    }

    private static func mlpTail(_ mlp: MLPNetwork, hook: String) throws(NetworkError) -> NetworkTail {
        // Where the hook sits in the step list: hook_pre of layer i right after linear i; hook_post of layer i
        // right before linear i + 1 (or at the end); hook_input before everything.
        var start = 0
        var width = mlp.inputWidth
        if hook != "hook_input" {
            let parts = hook.split(separator: ".")
            guard parts.count == 3, let layer = Int(parts[1]) else { throw .unknownHook(name: hook, suggestions: []) }
            var found = false
            for (s, step) in mlp.steps.enumerated() {
                guard case .linear(let index, _, _, _, let outputs) = step else { continue }
                if parts[2] == "hook_pre" && index == layer {
                    start = s + 1
                    width = outputs
                    found = true
                } else if parts[2] == "hook_post" && index == layer + 1 {
                    start = s
                    found = true
                } else if parts[2] == "hook_post" && index == layer {
                    width = outputs
                    start = mlp.steps.count
                    found = true
                }
            }
            guard found else { throw .unknownHook(name: hook, suggestions: []) }
        }
        var ops: [Op] = []
        var outputWidth = width
        for step in mlp.steps[start...] {
            switch step {
            case .linear(_, let weight, let bias, let inputs, let outputs):
                ops.append(.linear(weight: double(weight), bias: bias.map(double), inputs: inputs, outputs: outputs))
                outputWidth = outputs
            case .layerNorm(let weight, let bias, let eps):
                ops.append(.layerNorm(weight: weight.map(double), bias: bias.map(double), eps: Double(eps)))
            case .activation(let kind):
                if let op = try activation(kind, hook: hook) { ops.append(op) }
            }
        }
        // A final softmax turns logits into probabilities; cross-entropy is defined on its input.
        if case .activation(.softmax)? = ops.last {
            ops.removeLast()
        } else if outputIsProbability(mlp) {
            throw .invalidIntervention(hook: hook, reason: "the hook is the network's output, after its softmax: no logits")
        }
        return NetworkTail(ops: ops, hook: hook, width: width, outputWidth: outputWidth, contextHook: nil)
    }

    private static func transformerTail(_ t: TransformerNetwork, hook: String) throws(NetworkError) -> NetworkTail {
        let c = t.config
        let last = c.nLayers - 1
        let p = "blocks.\(last)"
        let dm = c.dModel
        func norm(_ n: TransformerNetwork.Norm?) -> [Op] {
            guard let n else { return [] }
            return [.layerNorm(weight: n.weight.map(double), bias: n.bias.map(double), eps: Double(c.eps))]
        }
        let block = t.blocks[last]
        let act: TailActivation =
            switch c.activation {
            case .relu: .relu
            case .gelu: .gelu
            case .geluTanh: .geluTanh
            case .silu: .silu
            }
        let mlpIn: Op = .linear(weight: double(block.wIn), bias: double(block.bIn), inputs: dm, outputs: c.dMLP)
        let mlpOut: Op = .linear(weight: double(block.wOut), bias: double(block.bOut), inputs: c.dMLP, outputs: dm)
        let branch: [Op] = c.attnOnly ? [] : norm(block.ln2) + [mlpIn, .activation(act), mlpOut]
        let finish: [Op] =
            norm(t.lnFinal) + [
                .linear(weight: double(t.unembed), bias: double(t.unembedBias), inputs: dm, outputs: c.dVocabOut)
            ]
        let unembedOnly: [Op] = [
            .linear(weight: double(t.unembed), bias: double(t.unembedBias), inputs: dm, outputs: c.dVocabOut)
        ]
        let residualBranch: [Op] = c.attnOnly ? [] : [.residual(branch)]
        let ops: [Op]
        var width = dm
        var context: String?
        switch hook {
        case "\(p).hook_attn_out":
            ops = [.addContext] + residualBranch + finish
            context = "\(p).hook_resid_pre"
        case "\(p).hook_resid_mid":
            ops = residualBranch + finish
        case "\(p).mlp.hook_pre":
            ops = [.activation(act), mlpOut, .addContext] + finish
            width = c.dMLP
            context = "\(p).hook_resid_mid"
        case "\(p).mlp.hook_post":
            ops = [mlpOut, .addContext] + finish
            width = c.dMLP
            context = "\(p).hook_resid_mid"
        case "\(p).hook_mlp_out":
            ops = [.addContext] + finish
            context = "\(p).hook_resid_mid"
        case "\(p).hook_resid_post":
            ops = finish
        case "ln_final.hook_normalized":
            ops = unembedOnly
        default:
            throw .invalidIntervention(
                hook: hook,
                reason:
                    "reverse mode covers only hooks after the last block's attention (blocks.\(last).hook_attn_out … ln_final.hook_normalized)"
            )
        }
        return NetworkTail(ops: ops, hook: hook, width: width, outputWidth: c.dVocabOut, contextHook: context)
    }

    /// The logits for one activation `h` (the hook's features at one position) and, when `contextHook` is
    /// set, the clean activation of that hook at the same position.
    /// - Complexity: O(weights after the hook)
    public func logits(_ h: [Double], context: [Double]? = nil) -> [Double] {
        var tape: [[Double]] = []
        return Self.forward(ops, h, context: context, tape: &tape)
    }

    /// Cross-entropy `logsumexp(z) − z[target]` of the logits for `h`, and its gradient with respect to `h`.
    /// - Complexity: O(weights after the hook)
    public func lossAndGradient(_ h: [Double], context: [Double]? = nil, target: Int) -> (loss: Double, gradient: [Double]) {
        var tape: [[Double]] = []
        let z = Self.forward(ops, h, context: context, tape: &tape)
        let top = z.max() ?? 0
        var sum = 0.0
        var g = z.map { exp($0 - top) }
        for v in g { sum += v }
        for j in g.indices { g[j] /= sum }
        g[target] -= 1
        let loss = top + log(sum) - z[target]
        var position = tape.count
        let gradient = Self.backward(ops, g, tape: tape, position: &position)
        return (loss, gradient)
    }

    /// Runs `ops`, appending every op's input to `tape` (in order) for the backward pass.
    static func forward(_ ops: [Op], _ input: [Double], context: [Double]?, tape: inout [[Double]]) -> [Double] {
        var x = input
        for op in ops {
            tape.append(x)
            switch op {
            case .linear(let w, let b, let inputs, let outputs):
                var y = b ?? [Double](repeating: 0, count: outputs)
                w.withUnsafeBufferPointer { w in
                    for i in 0..<inputs where x[i] != 0 {
                        let xi = x[i]
                        let row = i * outputs
                        for o in 0..<outputs { y[o] += xi * w[row + o] }
                    }
                }
                x = y
            case .layerNorm(let weight, let bias, let eps):
                let (normalized, _) = layerNormCore(x, eps: eps)
                x = normalized
                if let weight { for j in x.indices { x[j] *= weight[j] } }
                if let bias { for j in x.indices { x[j] += bias[j] } }
            case .activation(let kind):
                x = apply(kind, x)
            case .addContext:
                if let context { for j in x.indices { x[j] += context[j] } }
            case .residual(let branch):
                let y = forward(branch, x, context: context, tape: &tape)
                for j in x.indices { x[j] += y[j] }
            }
        }
        return x
    }

    /// The gradient with respect to the input of `ops`, given the gradient `g` at its output; `position`
    /// walks the tape backwards.
    static func backward(_ ops: [Op], _ gradient: [Double], tape: [[Double]], position: inout Int) -> [Double] {
        var g = gradient
        for op in ops.reversed() {
            switch op {
            case .residual(let branch):
                let through = backward(branch, g, tape: tape, position: &position)
                position -= 1
                for j in g.indices { g[j] += through[j] }
                continue
            default:
                break
            }
            position -= 1
            let x = tape[position]
            switch op {
            case .linear(let w, _, let inputs, let outputs):
                var gx = [Double](repeating: 0, count: inputs)
                w.withUnsafeBufferPointer { w in
                    for i in 0..<inputs {
                        var s = 0.0
                        let row = i * outputs
                        for o in 0..<outputs { s += w[row + o] * g[o] }
                        gx[i] = s
                    }
                }
                g = gx
            case .layerNorm(let weight, _, let eps):
                let (xhat, inverse) = layerNormCore(x, eps: eps)
                var gh = g
                if let weight { for j in gh.indices { gh[j] *= weight[j] } }
                let n = Double(x.count)
                let meanG = gh.reduce(0, +) / n
                var meanGX = 0.0
                for j in gh.indices { meanGX += gh[j] * xhat[j] }
                meanGX /= n
                g = gh.indices.map { inverse * (gh[$0] - meanG - xhat[$0] * meanGX) }
            case .activation(let kind):
                g = activationBackward(kind, x, g)
            case .addContext, .residual:
                break
            }
        }
        return g
    }

    /// `(x − mean)/sqrt(var + eps)` with the biased variance, and `1/sqrt(var + eps)`.
    static func layerNormCore(_ x: [Double], eps: Double) -> ([Double], Double) {
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        var variance = 0.0
        for v in x { variance += (v - mean) * (v - mean) }
        variance /= n
        let inverse = 1 / (variance + eps).squareRoot()
        return (x.map { ($0 - mean) * inverse }, inverse)
    }

    static func apply(_ kind: TailActivation, _ x: [Double]) -> [Double] {
        switch kind {
        case .relu: return x.map { $0 < 0 ? 0 : $0 }
        case .gelu: return x.map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
        case .geluTanh:
            return x.map { v in 0.5 * v * (1 + Foundation.tanh(geluC * (v + 0.044715 * v * v * v))) }
        case .tanh: return x.map { Foundation.tanh($0) }
        case .sigmoid: return x.map { 1 / (1 + exp(-$0)) }
        case .silu: return x.map { $0 / (1 + exp(-$0)) }
        case .softmax:
            let top = x.max() ?? 0
            let e = x.map { exp($0 - top) }
            let s = e.reduce(0, +)
            return e.map { $0 / s }
        case .identity: return x
        }
    }

    static let geluC = (2 / Double.pi).squareRoot()

    static func activationBackward(_ kind: TailActivation, _ x: [Double], _ g: [Double]) -> [Double] {
        switch kind {
        case .relu: return x.indices.map { x[$0] > 0 ? g[$0] : 0 }
        case .gelu:
            return x.indices.map { i in
                let v = x[i]
                let cdf = 0.5 * (1 + erf(v / 2.0.squareRoot()))
                let pdf = exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
                return g[i] * (cdf + v * pdf)
            }
        case .geluTanh:
            return x.indices.map { i in
                let v = x[i]
                let u = geluC * (v + 0.044715 * v * v * v)
                let t = Foundation.tanh(u)
                let du = geluC * (1 + 3 * 0.044715 * v * v)
                return g[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du)
            }
        case .tanh:
            return x.indices.map { i in
                let t = Foundation.tanh(x[i])
                return g[i] * (1 - t * t)
            }
        case .sigmoid:
            return x.indices.map { i in
                let s = 1 / (1 + exp(-x[i]))
                return g[i] * s * (1 - s)
            }
        case .silu:
            return x.indices.map { i in
                let s = 1 / (1 + exp(-x[i]))
                return g[i] * (s + x[i] * s * (1 - s))
            }
        case .softmax:
            let s = apply(.softmax, x)
            var dot = 0.0
            for j in s.indices { dot += s[j] * g[j] }
            return s.indices.map { s[$0] * (g[$0] - dot) }
        case .identity: return g
        }
    }
}

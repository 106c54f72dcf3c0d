import WeightFiles

/// A multilayer perceptron run in Float32 from a weight file (`formats/network.md`, preset `mlp`).
public struct MLPNetwork: NeuralNetwork {
    enum Step: Sendable {
        /// `y = x·W + b` with W stored `[in, out]`.
        case linear(index: Int, weight: [Float], bias: [Float]?, inputs: Int, outputs: Int)
        case layerNorm(weight: [Float]?, bias: [Float]?, eps: Float)
        case activation(OpKind)
    }

    let steps: [Step]
    /// The input width.
    public let inputWidth: Int
    /// The output width.
    public let outputWidth: Int
    /// Threads for the matrix multiplies.
    public var threads: Int
    public let hookNames: [String]

    /// Loads the MLP `description` from `file`, converting every weight to Float32.
    /// - Throws: `NetworkError` naming the tensor for a missing tensor, a wrong rank, widths that
    ///   do not chain, or (inference) tensor names that fit neither supported convention.
    public init(file: any WeightFile, description: MLPDescription, threads: Int = 1) throws(NetworkError) {
        let ops: [MLPOp]
        if let layers = description.layers {
            ops = layers
        } else {
            ops = try Self.inferLayers(file: file, description: description)
        }
        let loader = WeightLoader(file: file)
        var steps: [Step] = []
        var width: Int? = description.inputWidth
        var inputWidth: Int?
        var linearCount = 0
        var hooks = ["hook_input"]
        for (position, op) in ops.enumerated() {
            switch op.kind {
            case .linear:
                let name = op.weight!
                let shape = try loader.shape(name, expected: op.layout == .inOut ? "[in, out]" : "[out, in]")
                guard shape.count == 2 else {
                    throw .wrongShape(name: name, shape: shape, expectedShape: op.layout == .inOut ? "[in, out]" : "[out, in]")
                }
                let (inputs, outputs) = op.layout == .inOut ? (shape[0], shape[1]) : (shape[1], shape[0])
                if let width, width != inputs {
                    throw .shapesDoNotChain(
                        layer: "layers[\(position)] (\(name), \(shape))", expectedInput: width, actualInput: inputs)
                }
                var weight = try loader.load(name, expected: [(shape[0], ""), (shape[1], "")])
                if op.layout == .outIn { weight = transposed(weight, rows: outputs, columns: inputs) }
                var bias: [Float]?
                if let biasName = op.bias { bias = try loader.load(biasName, expected: [(outputs, "out")]) }
                if inputWidth == nil { inputWidth = inputs }
                steps.append(.linear(index: linearCount, weight: weight, bias: bias, inputs: inputs, outputs: outputs))
                hooks += ["layers.\(linearCount).hook_pre", "layers.\(linearCount).hook_post"]
                linearCount += 1
                width = outputs
            case .layernorm:
                guard let current = width else {
                    throw .invalidDescription(
                        path: "layers[\(position)]", reason: "layernorm before the first linear layer needs input_width")
                }
                var weight: [Float]?, bias: [Float]?
                if let name = op.weight { weight = try loader.load(name, expected: [(current, "width")]) }
                if let name = op.bias { bias = try loader.load(name, expected: [(current, "width")]) }
                steps.append(.layerNorm(weight: weight, bias: bias, eps: op.eps))
            default:
                steps.append(.activation(op.kind))
            }
        }
        guard let inputWidth, let width else { throw .invalidDescription(path: "layers", reason: "no linear layer") }
        self.steps = steps
        self.inputWidth = description.inputWidth ?? inputWidth
        self.outputWidth = width
        self.threads = max(1, threads)
        self.hookNames = hooks
    }

    /// The op stack for a PyTorch state dict of numbered linear layers — `nn.Sequential`
    /// (`{k}.weight`), a Sequential or `nn.ModuleList` attribute (`net.{k}.weight`,
    /// `layers.{k}.weight`, `model.layers.{k}.weight`), or numbered attributes (`fc1.weight`,
    /// `fc2.weight`, …) — in increasing number, or for a scikit-learn export (`coefs_.{i}`).
    static func inferLayers(file: any WeightFile, description: MLPDescription) throws(NetworkError) -> [MLPOp] {
        let names = Set(file.tensors.map(\.name))
        var linears: [(weight: String, bias: String?, layout: WeightLayout)] = []
        if names.contains("coefs_.0") {
            var i = 0
            while names.contains("coefs_.\(i)") {
                let bias = "intercepts_.\(i)"
                linears.append(("coefs_.\(i)", names.contains(bias) ? bias : nil, .inOut))
                i += 1
            }
        } else {
            // Every weight's stem must be one shared prefix followed by a layer number.
            var numbered: [(index: Int, stem: String)] = []
            var prefixes: Set<String> = []
            for name in names.sorted() where name.hasSuffix(".weight") {
                let stem = String(name.dropLast(".weight".count))
                guard let (prefix, k) = Self.numberedStem(stem) else {
                    throw .invalidDescription(
                        path: "layers",
                        reason:
                            "cannot infer an MLP: tensor \"\(name)\" is not a numbered layer (\"{k}.weight\", \"net.{k}.weight\", \"fc{k}.weight\") nor \"coefs_.{i}\" (scikit-learn); list the layers explicitly"
                    )
                }
                prefixes.insert(prefix)
                numbered.append((k, stem))
            }
            if prefixes.count > 1 {
                let shown = prefixes.sorted().map { "\"\($0){k}\"" }.joined(separator: ", ")
                throw .invalidDescription(
                    path: "layers",
                    reason: "cannot infer an MLP: the weights are numbered under several names (\(shown)); list the layers explicitly")
            }
            numbered.sort { $0.index < $1.index }
            for (position, layer) in numbered.enumerated() where position > 0 && numbered[position - 1].index == layer.index {
                throw .invalidDescription(
                    path: "layers", reason: "cannot infer an MLP: two weights have layer number \(layer.index); list the layers explicitly")
            }
            for layer in numbered {
                let weight = layer.stem + ".weight", bias = layer.stem + ".bias"
                if let info = file.info(named: weight), info.shape.count != 2 {
                    throw .invalidDescription(
                        path: "layers",
                        reason:
                            "cannot infer an MLP: \"\(weight)\" has shape \(info.shape), not a linear layer; list the layers explicitly"
                    )
                }
                linears.append((weight, names.contains(bias) ? bias : nil, .outIn))
            }
        }
        guard !linears.isEmpty else {
            throw .invalidDescription(
                path: "layers", reason: "cannot infer an MLP: no numbered \"{k}.weight\" tensors or scikit-learn \"coefs_.{i}\"")
        }
        var ops: [MLPOp] = []
        for (i, linear) in linears.enumerated() {
            ops.append(MLPOp(kind: .linear, weight: linear.weight, bias: linear.bias, layout: linear.layout))
            let activation = i == linears.count - 1 ? description.outputActivation : description.activation
            if activation != .identity { ops.append(MLPOp(kind: activation)) }
        }
        return ops
    }

    /// `("net.", 2)` for `net.2`, `("", 0)` for `0`, `("fc", 1)` for `fc1`: the stem's trailing
    /// layer number (after a dot, or the digits ending its last component) and what precedes it.
    static func numberedStem(_ stem: String) -> (prefix: String, index: Int)? {
        let digits = stem.reversed().prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 9, let k = Int(String(digits.reversed())) else { return nil }
        let prefix = String(stem.dropLast(digits.count))
        return (prefix, k)
    }

    public func run(_ input: NetworkInput, capture: Set<String>, interventions: [Intervention]) throws(NetworkError) -> NetworkRun
    {
        for name in capture { try checkHook(name) }
        let resolved = try resolve(interventions)
        guard case .features(let features) = input else {
            throw .invalidInput(reason: "an MLP takes feature vectors, not token ids")
        }
        guard features.shape.count == 2, features.shape[1] == inputWidth else {
            throw .invalidInput(reason: "inputs have shape \(features.shape); this MLP takes [batch, \(inputWidth)]")
        }
        let widest = steps.reduce(inputWidth) { widest, step in
            if case .linear(_, _, _, _, let outputs) = step { return max(widest, outputs) }
            return widest
        }
        let work = steps.reduce(0) { total, step in
            if case .linear(_, _, _, let inputs, let outputs) = step { return total + inputs * outputs }
            return total
        }
        let threads = Chunking.threads(threads, batch: features.shape[0], work: work)
        let perChunk = Chunking.examplesPerChunk(batch: features.shape[0], widest: widest, threads: threads)
        return try Chunking.run(input, examplesPerChunk: perChunk, threads: threads, interventions: resolved) {
            (chunk, interventions, threads) throws(NetworkError) in
            guard case .features(let features) = chunk else { preconditionFailure() }
            return try forward(features, capture: capture, interventions: interventions, threads: threads)
        }
    }

    private func forward(
        _ features: FloatTensor, capture: Set<String>, interventions resolved: [Intervention], threads: Int
    ) throws(NetworkError) -> NetworkRun {
        let batch = features.shape[0]
        let hooks = HookContext(capture: capture, interventions: resolved)
        var x = features.scalars
        var width = inputWidth
        try hooks.visit("hook_input", &x, .rows(batch: batch, width: width))
        var openLinear: Int?
        for step in steps {
            switch step {
            case .linear(let index, let weight, let bias, let inputs, let outputs):
                if let open = openLinear { try hooks.visit("layers.\(open).hook_post", &x, .rows(batch: batch, width: width)) }
                x = Self.linear(x, batch: batch, weight: weight, bias: bias, inputs: inputs, outputs: outputs, threads: threads)
                width = outputs
                try hooks.visit("layers.\(index).hook_pre", &x, .rows(batch: batch, width: width))
                openLinear = index
            case .layerNorm(let weight, let bias, let eps):
                Activations.layerNorm(&x, width: width, eps: eps, weight: weight, bias: bias)
            case .activation(let kind):
                Activations.apply(kind, &x, width: width)
            }
        }
        if let open = openLinear { try hooks.visit("layers.\(open).hook_post", &x, .rows(batch: batch, width: width)) }
        return NetworkRun(output: FloatTensor(shape: [batch, width], scalars: x), activations: hooks.captured)
    }

    /// `x·W + b` for a batch of rows, W stored `[inputs, outputs]`.
    static func linear(
        _ x: [Float], batch: Int, weight: [Float], bias: [Float]?, inputs: Int, outputs: Int, threads: Int
    ) -> [Float] {
        // Each row starts as the bias (copied row by row) and the product is accumulated onto it.
        var y = [Float](unsafeUninitializedCapacity: batch * outputs) { buffer, initialized in
            if let bias, outputs > 0, batch > 0 {
                bias.withUnsafeBufferPointer { source in
                    for r in 0..<batch {
                        (buffer.baseAddress! + r * outputs).initialize(from: source.baseAddress!, count: outputs)
                    }
                }
            } else if !buffer.isEmpty {
                buffer.initialize(repeating: 0)
            }
            initialized = batch * outputs
        }
        guard batch > 0, outputs > 0, inputs > 0 else { return y }
        x.withUnsafeBufferPointer { a in
            weight.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { c in
                    Matmul.multiply(
                        a.baseAddress!, w.baseAddress!, into: c.baseAddress!, m: batch, n: outputs, k: inputs,
                        accumulate: bias != nil, threads: threads)
                }
            }
        }
        return y
    }

}

import CRetortKernels
import WeightFiles

/// A weight matrix as a language model holds it: Float32, or (from GGUF) still in its ggml block
/// format, multiplied without a Float32 copy and with bit-identical results.
enum DecoderMatrix: Sendable {
    case dense([Float])
    /// `[out, in]` (or `[vocab, d_model]`), rows of 32-element blocks.
    case quantized(QuantizedMatrix)

    /// The matrix as Float32, row-major.
    var floats: [Float] {
        switch self {
        case .dense(let values): values
        case .quantized(let matrix): matrix.dequantized()
        }
    }

    /// Copies row `row` of a matrix `width` wide into `out`.
    func copyRow(_ row: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .dense(let values):
            values.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + row * width, count: width) }
        case .quantized(let matrix):
            matrix.decodeRow(row, into: out)
        }
    }

    /// `y[m, n] (+)= x[m, k] · selfᵀ` for a `[n, k]` matrix.
    func multiplyTransposed(
        _ x: UnsafePointer<Float>, m: Int, n: Int, k: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
        threads: Int, arithmetic: QuantizedArithmetic
    ) {
        switch self {
        case .dense(let values):
            values.withUnsafeBufferPointer { w in
                Matmul.multiply(
                    x, w.baseAddress!, into: y, m: m, n: n, k: k, accumulate: accumulate, bTransposed: true, threads: threads)
            }
        case .quantized(let matrix):
            matrix.multiplyTransposed(x, m: m, into: y, accumulate: accumulate, threads: threads, arithmetic: arithmetic)
        }
    }

    /// The rows `order[0]`, `order[1]`, … of a matrix `width` wide.
    func selectingRows(_ order: [Int], width: Int) -> DecoderMatrix {
        switch self {
        case .dense(let values):
            var out = [Float](repeating: 0, count: order.count * width)
            values.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    for (to, from) in order.enumerated() {
                        (o.baseAddress! + to * width).update(from: w.baseAddress! + from * width, count: width)
                    }
                }
            }
            return .dense(out)
        case .quantized(let matrix):
            return .quantized(matrix.selectingRows(order))
        }
    }
}

/// A linear layer's weights: `y = x·Wᵀ + b` for `[out, in]` weights (PyTorch `nn.Linear`,
/// GGUF), `y = x·W + b` for `[in, out]` (GPT-2's `Conv1D`, always Float32).
struct DecoderLinear: Sendable {
    var weight: DecoderMatrix
    var bias: [Float]?
    var inputs: Int
    var outputs: Int
    /// `[out, in]` rather than `[in, out]`.
    var outIn: Bool

    /// `y[rows, outputs] = x[rows, inputs]·W (+ b)`.
    /// - Complexity: O(rows × inputs × outputs)
    func apply(
        _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, threads: Int, arithmetic: QuantizedArithmetic
    ) {
        if let bias {
            bias.withUnsafeBufferPointer { b in
                for r in 0..<rows { (y + r * outputs).update(from: b.baseAddress!, count: outputs) }
            }
        }
        switch weight {
        case .dense(let values) where !outIn:
            values.withUnsafeBufferPointer { w in
                Matmul.multiply(
                    x, w.baseAddress!, into: y, m: rows, n: outputs, k: inputs, accumulate: bias != nil, threads: threads)
            }
        default:
            precondition(outIn, "a block-quantized weight is [out, in]")
            weight.multiplyTransposed(
                x, m: rows, n: outputs, k: inputs, into: y, accumulate: bias != nil, threads: threads, arithmetic: arithmetic)
        }
    }

    /// The weight as a Float32 `[outputs, inputs]` matrix.
    /// - Complexity: O(inputs × outputs)
    var outInFloats: [Float] {
        let w = weight.floats
        guard !outIn else { return w }
        var out = [Float](repeating: 0, count: w.count)
        for i in 0..<inputs { for o in 0..<outputs { out[o * inputs + i] = w[i * outputs + o] } }
        return out
    }

    func apply(_ x: [Float], rows: Int, threads: Int, arithmetic: QuantizedArithmetic) -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * outputs) { y, count in
            x.withUnsafeBufferPointer {
                apply($0.baseAddress!, rows: rows, into: y.baseAddress!, threads: threads, arithmetic: arithmetic)
            }
            count = rows * outputs
        }
    }
}

/// Linear layers that read the same input (a block's q, k, v; SwiGLU's gate and up). When all are
/// block-quantized in one type, they are stored as one matrix, their rows one after another, and
/// multiplied in one product: one rounding of the input for `int16`, one split across threads.
/// Each output column is computed as it would be alone, so the results are the same bits.
struct DecoderLinearGroup: Sendable {
    /// The layers' output widths, in order.
    let widths: [Int]
    /// The layers as loaded, when they could not be stacked.
    private let separate: [DecoderLinear]
    /// The stacked layer: `[Σ widths, inputs]`.
    private let stacked: DecoderLinear?

    init(_ parts: [DecoderLinear]) {
        widths = parts.map(\.outputs)
        if let stacked = Self.stack(parts) {
            (self.stacked, separate) = (stacked, [])
        } else {
            (self.stacked, separate) = (nil, parts)
        }
    }

    /// Each layer's weight as a Float32 `[out, in]` matrix (dequantized, or transposed from `[in, out]`)
    /// and its bias, in order: what reverse mode multiplies by.
    /// - Complexity: O(inputs × Σ widths)
    var denseParts: [(weight: [Float], bias: [Float]?)] {
        guard let stacked else { return separate.map { ($0.outInFloats, $0.bias) } }
        let all = stacked.outInFloats
        var start = 0
        return widths.map { width in
            defer { start += width }
            return (
                Array(all[(start * stacked.inputs)..<((start + width) * stacked.inputs)]),
                stacked.bias.map { Array($0[start..<(start + width)]) }
            )
        }
    }

    private static func stack(_ parts: [DecoderLinear]) -> DecoderLinear? {
        guard parts.count > 1, let first = parts.first else { return nil }
        var matrices: [QuantizedMatrix] = []
        for part in parts {
            guard part.outIn, part.inputs == first.inputs, (part.bias == nil) == (first.bias == nil),
                case .quantized(let matrix) = part.weight, matrix.type == matrices.first?.type ?? matrix.type
            else { return nil }
            matrices.append(matrix)
        }
        guard let matrix = QuantizedMatrix(stacking: matrices) else { return nil }
        let bias = first.bias == nil ? nil : parts.flatMap { $0.bias! }
        return DecoderLinear(
            weight: .quantized(matrix), bias: bias, inputs: first.inputs, outputs: parts.reduce(0) { $0 + $1.outputs },
            outIn: true)
    }

    /// Each layer's `y[rows, width] = x[rows, inputs]·W (+ b)`, in order.
    /// - Complexity: O(rows × inputs × Σ widths)
    func apply(_ x: [Float], rows: Int, threads: Int, arithmetic: QuantizedArithmetic) -> [[Float]] {
        guard let stacked else { return separate.map { $0.apply(x, rows: rows, threads: threads, arithmetic: arithmetic) } }
        if case .quantized(let matrix) = stacked.weight, widths.dropLast().allSatisfy({ $0 % 32 == 0 }), rows > 0,
            !x.isEmpty
        {
            // Written straight into one array per layer (the kernels' column blocks fall within one): each
            // array is initialised inside the previous one's initialiser, so every pointer is valid when
            // the product runs.
            var firsts: [Int] = []
            var total = 0
            for width in widths {
                firsts.append(total)
                total += width
            }
            func build(_ p: Int, _ pointers: [UnsafeMutablePointer<Float>]) -> [[Float]] {
                guard p < widths.count else {
                    x.withUnsafeBufferPointer { input in
                        matrix.multiplyTransposed(
                            input.baseAddress!, m: rows, into: pointers, widths: widths, accumulate: stacked.bias != nil,
                            threads: threads, arithmetic: arithmetic)
                    }
                    return []
                }
                let width = widths[p]
                var rest: [[Float]] = []
                let own = [Float](unsafeUninitializedCapacity: rows * width) { y, count in
                    if let bias = stacked.bias {
                        for r in 0..<rows { for j in 0..<width { y[r * width + j] = bias[firsts[p] + j] } }
                    }
                    rest = build(p + 1, pointers + [y.baseAddress ?? UnsafeMutablePointer(bitPattern: 1)!])
                    count = rows * width
                }
                return [own] + rest
            }
            return build(0, [])
        }
        let all = stacked.apply(x, rows: rows, threads: threads, arithmetic: arithmetic)
        let total = stacked.outputs
        var start = 0
        return widths.map { width in
            defer { start += width }
            return [Float](unsafeUninitializedCapacity: rows * width) { out, count in
                all.withUnsafeBufferPointer { a in
                    guard width > 0, let source = a.baseAddress, let target = out.baseAddress else { return }
                    DecoderTransformer.forRows(rows, width: width, threads: threads) { first, end in
                        for r in first..<end { (target + r * width).update(from: source + r * total + start, count: width) }
                    }
                }
                count = rows * width
            }
        }
    }
}

/// RMSNorm (weight only) or LayerNorm (weight and bias) parameters.
struct DecoderNorm: Sendable {
    var weight: [Float]
    var bias: [Float]?
}

/// One transformer block's weights.
struct DecoderBlock: Sendable {
    var norm1: DecoderNorm
    /// q, k and v.
    var qkv: DecoderLinearGroup
    var o: DecoderLinear
    var norm2: DecoderNorm
    /// Llama: `gate_proj` then `up_proj` (the linear half of SwiGLU); GPT-2: `c_fc` alone.
    var mlpIn: DecoderLinearGroup
    var down: DecoderLinear

    init(
        norm1: DecoderNorm, q: DecoderLinear, k: DecoderLinear, v: DecoderLinear, o: DecoderLinear, norm2: DecoderNorm,
        up: DecoderLinear, upLinear: DecoderLinear?, down: DecoderLinear
    ) {
        (self.norm1, self.o, self.norm2, self.down) = (norm1, o, norm2, down)
        qkv = DecoderLinearGroup([q, k, v])
        mlpIn = DecoderLinearGroup(upLinear.map { [up, $0] } ?? [up])
    }
}

/// How a weight file names a language model's tensors.
enum DecoderTensorNames {
    /// `model.layers.N.self_attn.q_proj.weight` …, with the prefix before `embed_tokens.weight`.
    case huggingFaceLlama(prefix: String)
    /// llama.cpp names (`blk.N.attn_q.weight` …); `permutedQK` for the llama architecture, whose
    /// converter interleaves Q/K rows for llama.cpp's RoPE.
    case ggufLlama(permutedQK: Bool)
    /// `transformer.h.N.attn.c_attn.weight` …, with the prefix before `wte.weight`.
    case huggingFaceGPT2(prefix: String)
    /// llama.cpp's GPT-2 names (`blk.N.attn_qkv.weight`, `position_embd.weight` …).
    case ggufGPT2

    /// The naming `file` uses for `architecture`, or nil when it holds none of them.
    static func detect(_ file: any WeightFile, architecture: LanguageModelConfig.Architecture) -> DecoderTensorNames? {
        let isGGUF = file.info(named: "token_embd.weight") != nil
        if architecture.isLlamaFamily {
            if isGGUF { return .ggufLlama(permutedQK: architecture == .llama && file is GGUFFile) }
            if let name = file.tensors.first(where: { $0.name.hasSuffix("embed_tokens.weight") })?.name {
                return .huggingFaceLlama(prefix: String(name.dropLast("embed_tokens.weight".count)))
            }
        } else {
            if isGGUF { return .ggufGPT2 }
            if let name = file.tensors.first(where: { $0.name == "wte.weight" || $0.name.hasSuffix(".wte.weight") })?.name {
                return .huggingFaceGPT2(prefix: String(name.dropLast("wte.weight".count)))
            }
        }
        return nil
    }
}

/// Reads tensors as Float32 straight into their final arrays, checking names and shapes.
struct DecoderTensorReader {
    let file: any WeightFile

    func has(_ name: String) -> Bool { file.info(named: name) != nil }

    /// The tensor `name`, which must have `shape`.
    /// - Throws: `missingTensor` / `wrongShape` naming the tensor and the expected shape.
    func read(_ name: String, _ shape: [Int]) throws(NetworkError) -> [Float] {
        let expected = "[\(shape.map(String.init).joined(separator: ", "))]"
        guard let info = file.info(named: name) else { throw .missingTensor(name: name, expectedShape: expected) }
        guard info.dtype.isFloatingPoint else { throw .notFloat(name: name, dtype: info.dtype.name) }
        guard info.shape == shape else { throw .wrongShape(name: name, shape: info.shape, expectedShape: expected) }
        let count = info.elementCount
        do throws(WeightFileError) {
            if let gguf = file as? GGUFFile {
                // Dequantized straight into the array: no second copy of large tensors.
                var failure: WeightFileError?
                let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    do throws(WeightFileError) {
                        try gguf.dequantize(named: name, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
                    } catch { failure = error }
                    initialized = count
                }
                if let failure { throw failure }
                return values
            }
            let view = try file.tensor(named: name)
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                view.withUnsafeBytes { FloatConversion.decode(view.dtype, $0, count: count, into: buffer) }
                initialized = count
            }
        } catch {
            throw .weightFile(error)
        }
    }

    /// The `[rows, columns]` matrix `name`: kept in its block format when it is a GGUF tensor of a
    /// type the quantized kernels take, else read as Float32.
    func readMatrix(_ name: String, rows: Int, columns: Int) throws(NetworkError) -> DecoderMatrix {
        if let gguf = file as? GGUFFile, let t = gguf.ggufTensor(named: name), QuantizedMatrix.supports(t.type),
            let info = file.info(named: name), info.shape == [rows, columns]
        {
            let matrix = withExtendedLifetime(gguf.storage) {
                QuantizedMatrix(
                    type: t.type, rows: rows, columns: columns,
                    source: UnsafeRawBufferPointer(rebasing: gguf.storage.bytes[t.byteRange]))
            }
            if let matrix { return .quantized(matrix) }
        }
        return .dense(try read(name, [rows, columns]))
    }

    func readIfPresent(_ name: String, _ shape: [Int]) throws(NetworkError) -> [Float]? {
        has(name) ? try read(name, shape) : nil
    }
}

extension DecoderTransformer {
    /// Loads every weight of `config` from `file`, converted to Float32 once.
    init(file: any WeightFile, config: LanguageModelConfig, threads: Int) throws(NetworkError) {
        // A configuration built in code is checked as one read from a file is, before any size is used.
        try config.validate(source: "the language-model configuration")
        let c = config
        guard let names = DecoderTensorNames.detect(file, architecture: c.architecture) else {
            let expected = c.architecture == .gpt2 ? "wte.weight or token_embd.weight" : "embed_tokens.weight or token_embd.weight"
            throw .missingTensor(name: expected, expectedShape: "[\(c.vocabularySize), \(c.dModel)]")
        }
        let reader = DecoderTensorReader(file: file)
        let d = c.dModel, qWidth = c.heads * c.dHead, kvWidth = c.kvHeads * c.dHead
        func linear(_ name: String, inputs: Int, outputs: Int, outIn: Bool = true, bias: String? = nil)
            throws(NetworkError) -> DecoderLinear
        {
            DecoderLinear(
                weight: outIn
                    ? try reader.readMatrix(name, rows: outputs, columns: inputs)
                    : .dense(try reader.read(name, [inputs, outputs])),
                bias: try bias.flatMap { (b) throws(NetworkError) in try reader.readIfPresent(b, [outputs]) },
                inputs: inputs, outputs: outputs, outIn: outIn)
        }
        var blocks: [DecoderBlock] = []
        var embedding = DecoderMatrix.dense([])
        var positional: [Float]?
        var finalNorm = DecoderNorm(weight: [])
        var unembed: DecoderLinear?
        switch names {
        case .huggingFaceLlama, .ggufLlama:
            let gguf: Bool
            let p: String
            if case .huggingFaceLlama(let prefix) = names { (gguf, p) = (false, prefix) } else { (gguf, p) = (true, "") }
            embedding = try reader.readMatrix(
                gguf ? "token_embd.weight" : "\(p)embed_tokens.weight", rows: c.vocabularySize, columns: d)
            for i in 0..<c.layers {
                let b = gguf ? "blk.\(i)." : "\(p)layers.\(i)."
                func name(_ hf: String, _ gg: String) -> String { gguf ? b + gg : b + hf }
                var q = try linear(
                    name("self_attn.q_proj.weight", "attn_q.weight"), inputs: d, outputs: qWidth,
                    bias: name("self_attn.q_proj.bias", "attn_q.bias"))
                var k = try linear(
                    name("self_attn.k_proj.weight", "attn_k.weight"), inputs: d, outputs: kvWidth,
                    bias: name("self_attn.k_proj.bias", "attn_k.bias"))
                if case .ggufLlama(true) = names {
                    q = Self.unpermuteRoPE(q, heads: c.heads, dHead: c.dHead)
                    k = Self.unpermuteRoPE(k, heads: c.kvHeads, dHead: c.dHead)
                }
                blocks.append(
                    DecoderBlock(
                        norm1: DecoderNorm(weight: try reader.read(name("input_layernorm.weight", "attn_norm.weight"), [d])),
                        q: q, k: k,
                        v: try linear(
                            name("self_attn.v_proj.weight", "attn_v.weight"), inputs: d, outputs: kvWidth,
                            bias: name("self_attn.v_proj.bias", "attn_v.bias")),
                        o: try linear(
                            name("self_attn.o_proj.weight", "attn_output.weight"), inputs: qWidth, outputs: d,
                            bias: name("self_attn.o_proj.bias", "attn_output.bias")),
                        norm2: DecoderNorm(
                            weight: try reader.read(name("post_attention_layernorm.weight", "ffn_norm.weight"), [d])),
                        up: try linear(name("mlp.gate_proj.weight", "ffn_gate.weight"), inputs: d, outputs: c.dMLP),
                        upLinear: try linear(name("mlp.up_proj.weight", "ffn_up.weight"), inputs: d, outputs: c.dMLP),
                        down: try linear(name("mlp.down_proj.weight", "ffn_down.weight"), inputs: c.dMLP, outputs: d)))
            }
            finalNorm = DecoderNorm(weight: try reader.read(gguf ? "output_norm.weight" : "\(p)norm.weight", [d]))
            let head = gguf ? "output.weight" : "lm_head.weight"
            if reader.has(head) { unembed = try linear(head, inputs: d, outputs: c.vocabularySize) }
        case .huggingFaceGPT2(let p):
            embedding = .dense(try reader.read("\(p)wte.weight", [c.vocabularySize, d]))
            positional = try reader.read("\(p)wpe.weight", [c.contextLength, d])
            for i in 0..<c.layers {
                let b = "\(p)h.\(i)."
                // c_attn is one Conv1D [d, 3d]: q, k, v are its column blocks.
                let qkv = try reader.read(b + "attn.c_attn.weight", [d, 3 * d])
                let qkvBias = try reader.read(b + "attn.c_attn.bias", [3 * d])
                func part(_ j: Int) -> DecoderLinear {
                    var w = [Float](repeating: 0, count: d * d)
                    for r in 0..<d { for col in 0..<d { w[r * d + col] = qkv[r * 3 * d + j * d + col] } }
                    return DecoderLinear(
                        weight: .dense(w), bias: Array(qkvBias[(j * d)..<((j + 1) * d)]), inputs: d, outputs: d, outIn: false)
                }
                blocks.append(
                    DecoderBlock(
                        norm1: DecoderNorm(weight: try reader.read(b + "ln_1.weight", [d]), bias: try reader.read(b + "ln_1.bias", [d])),
                        q: part(0), k: part(1), v: part(2),
                        o: try linear(b + "attn.c_proj.weight", inputs: d, outputs: d, outIn: false, bias: b + "attn.c_proj.bias"),
                        norm2: DecoderNorm(weight: try reader.read(b + "ln_2.weight", [d]), bias: try reader.read(b + "ln_2.bias", [d])),
                        up: try linear(b + "mlp.c_fc.weight", inputs: d, outputs: c.dMLP, outIn: false, bias: b + "mlp.c_fc.bias"),
                        upLinear: nil,
                        down: try linear(
                            b + "mlp.c_proj.weight", inputs: c.dMLP, outputs: d, outIn: false, bias: b + "mlp.c_proj.bias")))
            }
            finalNorm = DecoderNorm(weight: try reader.read("\(p)ln_f.weight", [d]), bias: try reader.read("\(p)ln_f.bias", [d]))
            if reader.has("lm_head.weight") { unembed = try linear("lm_head.weight", inputs: d, outputs: c.vocabularySize) }
        case .ggufGPT2:
            embedding = try reader.readMatrix("token_embd.weight", rows: c.vocabularySize, columns: d)
            positional = try reader.read("position_embd.weight", [c.contextLength, d])
            for i in 0..<c.layers {
                let b = "blk.\(i)."
                // attn_qkv is [3d, d] ([out, in]): q, k, v are its row blocks.
                let qkv = try reader.readMatrix(b + "attn_qkv.weight", rows: 3 * d, columns: d)
                let qkvBias = try reader.read(b + "attn_qkv.bias", [3 * d])
                func part(_ j: Int) -> DecoderLinear {
                    DecoderLinear(
                        weight: qkv.selectingRows(Array((j * d)..<((j + 1) * d)), width: d),
                        bias: Array(qkvBias[(j * d)..<((j + 1) * d)]),
                        inputs: d, outputs: d, outIn: true)
                }
                blocks.append(
                    DecoderBlock(
                        norm1: DecoderNorm(weight: try reader.read(b + "attn_norm.weight", [d]), bias: try reader.read(b + "attn_norm.bias", [d])),
                        q: part(0), k: part(1), v: part(2),
                        o: try linear(b + "attn_output.weight", inputs: d, outputs: d, bias: b + "attn_output.bias"),
                        norm2: DecoderNorm(weight: try reader.read(b + "ffn_norm.weight", [d]), bias: try reader.read(b + "ffn_norm.bias", [d])),
                        up: try linear(b + "ffn_up.weight", inputs: d, outputs: c.dMLP, bias: b + "ffn_up.bias"),
                        upLinear: nil,
                        down: try linear(b + "ffn_down.weight", inputs: c.dMLP, outputs: d, bias: b + "ffn_down.bias")))
            }
            finalNorm = DecoderNorm(
                weight: try reader.read("output_norm.weight", [d]), bias: try reader.read("output_norm.bias", [d]))
            if reader.has("output.weight") { unembed = try linear("output.weight", inputs: d, outputs: c.vocabularySize) }
        }
        var frequencies = c.architecture.isLlamaFamily ? c.ropeInverseFrequencies() : []
        // llama.cpp's Llama 3 files carry the frequency-dependent scaling as divisors.
        if case .ggufLlama = names, let factors = try reader.readIfPresent("rope_freqs.weight", [c.dHead / 2]) {
            if let i = factors.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
                throw .invalidTensorValue(
                    name: "rope_freqs.weight", reason: "element \(i) is \(factors[i]); RoPE frequency divisors must be positive and finite")
            }
            for i in frequencies.indices { frequencies[i] /= factors[i] }
        }
        self.init(
            config: c, embedding: embedding, positional: positional, blocks: blocks, finalNorm: finalNorm, unembed: unembed,
            inverseFrequencies: frequencies, threads: threads)
    }

    /// Undoes llama.cpp's interleaving of Q/K rows (`convert_hf_to_gguf.py`'s `permute`), giving the
    /// rotate-half layout transformers uses: row h·d + t·d/2 + i comes from row h·d + 2i + t.
    static func unpermuteRoPE(_ linear: DecoderLinear, heads: Int, dHead: Int) -> DecoderLinear {
        let half = dHead / 2
        var order = [Int](repeating: 0, count: heads * dHead)
        for h in 0..<heads {
            for t in 0..<2 { for i in 0..<half { order[h * dHead + t * half + i] = h * dHead + 2 * i + t } }
        }
        var out = linear
        out.weight = linear.weight.selectingRows(order, width: linear.inputs)
        out.bias = linear.bias.map { bias in order.map { bias[$0] } }
        return out
    }
}

/// A decoder transformer's weights in Float32, `[out, in]`, for reverse mode (`DecoderTail`): block-quantized
/// (GGUF) matrices dequantized and GPT-2's `[in, out]` `Conv1D` weights transposed, once, so that one set serves
/// every site a trainer visits.
public final class DecoderTailWeights: Sendable {
    struct Dense: Sendable {
        /// `[outputs, inputs]`, row-major.
        let weight: [Float]
        let bias: [Float]?
        let outputs: Int
        let inputs: Int
    }

    struct Block: Sendable {
        let norm1: DecoderNorm
        let q: Dense, k: Dense, v: Dense, o: Dense
        let norm2: DecoderNorm
        /// Llama: the SwiGLU gate; GPT-2: `c_fc`.
        let gate: Dense
        /// Llama: SwiGLU's linear half; GPT-2: nil.
        let up: Dense?
        let down: Dense
    }

    let config: LanguageModelConfig
    let blocks: [Block]
    let finalNorm: DecoderNorm
    /// `[vocab, d_model]`: the output embedding, or the token embedding when they are tied.
    let unembed: Dense
    /// The token embedding as loaded (rows are copied from it for the clean runs).
    let embedding: DecoderMatrix
    let positional: [Float]?
    let inverseFrequencies: [Float]
    /// Threads for the products.
    public let threads: Int

    /// The weights of `network`, a `LlamaNetwork` or `GPT2Network`, as Float32.
    /// - Throws: `invalidInput` when the network is not one of those language models.
    /// - Complexity: O(parameters) time and Float32 memory.
    public init(network: any NeuralNetwork, threads: Int? = nil) throws(NetworkError) {
        guard let core = DecoderTransformer.core(of: network) else {
            throw .invalidInput(
                reason: "reverse mode through a language model needs a Llama-family or GPT-2 network, not \(type(of: network))")
        }
        config = core.config
        func dense(_ part: (weight: [Float], bias: [Float]?), inputs: Int) -> Dense {
            Dense(weight: part.weight, bias: part.bias, outputs: part.weight.count / max(inputs, 1), inputs: inputs)
        }
        let d = core.config.dModel, dMLP = core.config.dMLP
        blocks = core.blocks.map { b in
            let qkv = b.qkv.denseParts, mlp = b.mlpIn.denseParts
            return Block(
                norm1: b.norm1, q: dense(qkv[0], inputs: d), k: dense(qkv[1], inputs: d), v: dense(qkv[2], inputs: d),
                o: dense((b.o.outInFloats, b.o.bias), inputs: b.o.inputs), norm2: b.norm2, gate: dense(mlp[0], inputs: d),
                up: mlp.count > 1 ? dense(mlp[1], inputs: d) : nil, down: dense((b.down.outInFloats, b.down.bias), inputs: dMLP))
        }
        finalNorm = core.finalNorm
        if let head = core.unembed {
            unembed = Dense(weight: head.outInFloats, bias: head.bias, outputs: head.outputs, inputs: head.inputs)
        } else {
            unembed = Dense(weight: core.embedding.floats, bias: nil, outputs: core.config.vocabularySize, inputs: d)
        }
        embedding = core.embedding
        positional = core.positional
        inverseFrequencies = core.inverseFrequencies
        self.threads = max(1, threads ?? core.threads)
    }

    /// The number of blocks.
    public var layers: Int { config.layers }
    /// The residual stream's width.
    public var dModel: Int { config.dModel }
    /// The number of logits.
    public var vocabularySize: Int { unembed.outputs }
}

import Network

/// What a network takes, as far as a task's encoder must know.
public enum NetworkSignature: Sendable, Equatable {
    case features(width: Int)
    case tokens(vocabulary: Int, context: Int)
    case unknown

    public init(_ network: any NeuralNetwork) {
        if let mlp = network as? MLPNetwork {
            self = .features(width: mlp.inputWidth)
        } else if let transformer = network as? TransformerNetwork {
            self = .tokens(vocabulary: transformer.config.dVocab, context: transformer.config.nCtx)
        } else if let model = network as? any LanguageModel {
            self = .tokens(vocabulary: model.vocabularySize, context: model.contextLength)
        } else {
            self = .unknown
        }
    }
}

extension TaskDescription {
    /// The width of the encoder's feature vectors (not for token encoders).
    public var encodedWidth: Int {
        switch encoder {
        case .oneHotDigits(let base, let digits): variables.count * base * digits
        case .oneHot: variables.reduce(0) { $0 + $1.count }
        case .binary(let bits): variables.count * bits
        case .raw: variables.count
        case .tokens(let prefix, let suffix): prefix.count + variables.count + suffix.count
        case .prompt: 0
        }
    }

    /// Throws `encoderMismatch` unless the encoder produces what `network` takes. A prompt task needs a
    /// language model with a tokenizer; the prompts of the domain's first and last inputs must fit its context
    /// (every prompt is checked again as it is run).
    public func checkEncoder(for network: any NeuralNetwork) throws(DistillationError) {
        if case .prompt = encoder {
            let runner = try PromptRunner(network: network, task: self)
            guard domainSize > 0 else { return }
            for index in Set([0, domainSize - 1]) {
                _ = try runner.promptIDs(for: values(at: index))
            }
            return
        }
        switch (encoder, NetworkSignature(network)) {
        case (.tokens, .tokens(let vocabulary, let context)):
            guard encodedWidth <= context else {
                throw .encoderMismatch(reason: "the encoder makes \(encodedWidth) tokens; the network's context is \(context)")
            }
            for (i, token) in (tokenPrefix + tokenSuffix).enumerated() where token >= vocabulary || token < 0 {
                throw .encoderMismatch(reason: "fixed token \(token) (#\(i)) is outside the vocabulary 0..<\(vocabulary)")
            }
            for v in variables where v.max >= vocabulary {
                throw .encoderMismatch(reason: "variable \(v.name) reaches \(v.max), outside the vocabulary 0..<\(vocabulary)")
            }
        case (.tokens, .features(let width)):
            throw .encoderMismatch(reason: "the encoder makes token ids; the network takes feature vectors of width \(width)")
        case (_, .tokens):
            throw .encoderMismatch(reason: "the encoder makes feature vectors; the network takes token ids")
        case (_, .features(let width)):
            guard encodedWidth == width else {
                throw .encoderMismatch(
                    reason:
                        "the encoder makes inputs of width \(encodedWidth) (\(variables.count) variables); the network takes width \(width)"
                )
            }
        default:
            break
        }
    }

    private var tokenPrefix: [Int] { if case .tokens(let p, _) = encoder { p } else { [] } }
    private var tokenSuffix: [Int] { if case .tokens(_, let s) = encoder { s } else { [] } }

    /// The network input for inputs `range` of `region`.
    ///
    /// A prompt encoder's input needs the model's tokenizer and differs in length between prompts: it gives an
    /// empty token batch here, and its inputs run through `PromptRunner` (as `ProbeSet.probe` does).
    /// - Complexity: O(inputs × encoded width)
    public func encode(_ region: Region, _ range: Range<Int>) -> NetworkInput {
        let n = range.count, vc = variables.count
        switch encoder {
        case .prompt:
            return .tokens(ids: [], batch: n, length: 0)
        case .tokens(let prefix, let suffix):
            var ids: [Int] = []
            ids.reserveCapacity(n * encodedWidth)
            for i in range { ids += prefix + region.values[(i * vc)..<((i + 1) * vc)] + suffix }
            return .tokens(ids: ids, batch: n, length: encodedWidth)
        default:
            let width = encodedWidth
            var x = [Float](repeating: 0, count: n * width)
            for (row, i) in range.enumerated() {
                var offset = row * width
                for v in 0..<vc {
                    let value = region.values[i * vc + v]
                    switch encoder {
                    case .oneHotDigits(let base, let digits):
                        var rest = value
                        for d in stride(from: digits - 1, through: 0, by: -1) {
                            x[offset + d * base + rest % base] = 1
                            rest /= base
                        }
                        offset += base * digits
                    case .oneHot:
                        let variable = variables[v]
                        if value >= variable.min && value <= variable.max { x[offset + value - variable.min] = 1 }
                        offset += variable.count
                    case .binary(let bits):
                        for b in 0..<bits where (value >> (bits - 1 - b)) & 1 == 1 { x[offset + b] = 1 }
                        offset += bits
                    case .raw:
                        x[offset] = Float(value)
                        offset += 1
                    case .tokens, .prompt:
                        break
                    }
                }
            }
            return .features(FloatTensor(shape: [n, width], scalars: x))
        }
    }

    /// The task outputs for a network output tensor (`[batch, width]` or `[batch, seq, width]`).
    public func decode(_ output: FloatTensor) throws(DistillationError) -> [Int] {
        let batch = output.batchSize
        guard batch > 0 else { return [] }
        let width = output.shape.last ?? 0
        let rowLength = output.count / batch
        switch decoder {
        case .argmax(let classes, let position):
            if let classes, classes.count != width {
                throw .encoderMismatch(reason: "the decoder maps \(classes.count) classes; the network outputs \(width)")
            }
            let positions = rowLength / max(width, 1)
            let p = position < 0 ? positions + position : position
            guard p >= 0, p < positions else {
                throw .encoderMismatch(reason: "the decoder reads position \(position); the output has \(positions)")
            }
            return (0..<batch).map { b in
                let start = b * rowLength + p * width
                var best = 0
                for j in 1..<max(width, 1) where output.scalars[start + j] > output.scalars[start + best] { best = j }
                return classes?[best] ?? best
            }
        case .threshold(let unit, let threshold):
            guard unit < rowLength else {
                throw .encoderMismatch(reason: "the decoder reads unit \(unit); the output has \(rowLength)")
            }
            return (0..<batch).map { output.scalars[$0 * rowLength + unit] > threshold ? 1 : 0 }
        case .regression(let unit, let low, let high):
            guard unit < rowLength else {
                throw .encoderMismatch(reason: "the decoder reads unit \(unit); the output has \(rowLength)")
            }
            return (0..<batch).map { b in
                let value = output.scalars[b * rowLength + unit]
                guard !value.isNaN else { return low }
                // Clamped as a float first, so a huge output cannot trap the conversion.
                let clamped = Swift.min(Swift.max(Double(value).rounded(), Double(low)), Double(high))
                return Int(clamped)
            }
        case .generate, .nextToken:
            throw .encoderMismatch(
                reason: "the \(decoder.kindName) decoder reads a language model's continuation, not an output tensor")
        }
    }
}

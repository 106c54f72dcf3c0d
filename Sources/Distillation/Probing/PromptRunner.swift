import Network

/// Runs a prompt task's inputs through a language model (`formats/task.md`, "Prompt tasks"): renders each
/// input's prompt, tokenizes it with the model's tokenizer, then either generates greedily and reads the
/// text as an integer (`generate`) or takes the best candidate by next-token logit (`next_token`).
public struct PromptRunner: Sendable {
    /// Prompts per call of `generate` or `nextTokenLogits`: prompts differ in length, and the model pads or
    /// caches per batch, so batches stay small.
    public static let batchSize = 64

    public let model: any LanguageModel
    public let tokenizer: any Tokenizer
    public let task: TaskDescription
    let template: PromptTemplate
    /// Ids that end a generation: EOS and every token whose text holds a newline.
    let stop: Set<Int>
    /// For `next_token`: each candidate's first token id.
    let candidateIDs: [Int]
    /// The ids of the template's prefix alone (with BOS when the tokenizer adds it).
    let prefixIDs: [Int]

    /// Prepares `task` (a prompt task) for `network`.
    /// - Throws: `encoderMismatch` when the task is not a prompt task, the network is not a language model,
    ///   the model has no tokenizer, or a candidate has no token or shares its first token with another.
    /// - Complexity: O(vocabulary) for a `generate` decoder (every token is decoded once to find the newlines).
    public init(network: any NeuralNetwork, task: TaskDescription) throws(DistillationError) {
        guard case .prompt(let template) = task.encoder else {
            throw .encoderMismatch(reason: "the task's encoder is not a prompt")
        }
        guard let model = network as? any LanguageModel else {
            throw .encoderMismatch(
                reason:
                    "a prompt task needs a language model (--network llama, gpt2 or auto); this network is \(type(of: network))")
        }
        guard let tokenizer = model.tokenizer else {
            throw .encoderMismatch(
                reason: "a prompt task needs the model's tokenizer, and this model has none "
                    + "(a GGUF file's tokenizer.ggml.* metadata, or tokenizer.json beside the weights)")
        }
        self.model = model
        self.tokenizer = tokenizer
        self.task = task
        self.template = template
        var stop = Set<Int>()
        var candidateIDs: [Int] = []
        switch task.decoder {
        case .generate:
            if let eos = tokenizer.eosTokenID { stop.insert(eos) }
            for id in 0..<min(tokenizer.vocabularySize, model.vocabularySize) where tokenizer.decode([id]).contains("\n") {
                stop.insert(id)
            }
        case .nextToken(let candidates, _):
            for (i, candidate) in candidates.enumerated() {
                guard let first = tokenizer.encode(candidate).first else {
                    throw .encoderMismatch(reason: "candidate \(i) (\"\(candidate)\") encodes to no token")
                }
                guard first < model.vocabularySize else {
                    throw .encoderMismatch(
                        reason:
                            "candidate \(i) (\"\(candidate)\") starts with token \(first), outside the model's \(model.vocabularySize) logits"
                    )
                }
                if let j = candidateIDs.firstIndex(of: first) {
                    throw .encoderMismatch(
                        reason:
                            "candidates \(j) (\"\(candidates[j])\") and \(i) (\"\(candidate)\") both start with token \(first)")
                }
                candidateIDs.append(first)
            }
        default:
            throw .encoderMismatch(reason: "a prompt encoder needs a generate or next_token decoder")
        }
        self.stop = stop
        self.candidateIDs = candidateIDs
        prefixIDs = tokenizer.promptIDs(template.prefix)
    }

    /// The tokens a `generate` decoder may add after the prompt (0 for `next_token`).
    public var newTokens: Int {
        if case .generate(let count, _, _, _) = task.decoder { count } else { 0 }
    }

    /// The ids that end a `generate` decoder's continuation: EOS and every token whose text holds a newline.
    public var stopIDs: Set<Int> { stop }

    /// The task output of a `generate` decoder's continuation `ids`.
    /// - Complexity: O(ids)
    public func output(generated ids: [Int]) -> Int {
        guard case .generate(_, let low, let high, let noAnswer) = task.decoder else { return -1 }
        return GeneratedAnswer.output(of: tokenizer.decode(ids), min: low, max: high, noAnswer: noAnswer)
    }

    /// The task output of a `next_token` decoder: the candidate with the highest logit in `logits`.
    /// - Complexity: O(candidates)
    public func output(nextTokenLogits logits: [Float]) -> Int {
        guard case .nextToken(_, let values) = task.decoder, !candidateIDs.isEmpty else { return -1 }
        var best = 0
        for (k, id) in candidateIDs.enumerated() where logits[id] > logits[candidateIDs[best]] { best = k }
        return values[best]
    }

    /// The prompt text of one input (the variables' values, in order).
    public func prompt<Values: RandomAccessCollection<Int>>(for values: Values) -> String where Values.Index == Int {
        template.render(values)
    }

    /// The token ids of one input's prompt.
    /// - Throws: `promptTooLong` when the prompt and the tokens to generate exceed the model's context.
    public func promptIDs<Values: RandomAccessCollection<Int>>(for values: Values) throws(DistillationError) -> [Int]
    where Values.Index == Int {
        let text = prompt(for: values)
        let ids = tokenizer.promptIDs(text)
        guard !ids.isEmpty, ids.count + newTokens <= model.contextLength else {
            throw .promptTooLong(prompt: text, tokens: ids.count, newTokens: newTokens, context: model.contextLength)
        }
        return ids
    }

    /// The task outputs of inputs `range` of `region`, run as one batch.
    /// - Complexity: one generation (or one next-token pass) per input.
    public func outputs(_ region: Region, _ range: Range<Int>) throws(DistillationError) -> [Int] {
        let vc = region.variableCount
        var prompts: [[Int]] = []
        prompts.reserveCapacity(range.count)
        for i in range { prompts.append(try promptIDs(for: region.values[(i * vc)..<((i + 1) * vc)])) }
        // The few-shot prefix every prompt starts with runs once per batch (`PromptBatch`).
        let prefix = sharedPrefixLength(prompts)
        let run: PromptBatchRun
        do {
            run = try model.run(PromptBatch(prompts: prompts, sharedPrefix: prefix, maxNewTokens: newTokens, stop: stop))
        } catch {
            throw .network(error)
        }
        switch task.decoder {
        case .generate: return run.generated.map { output(generated: $0) }
        case .nextToken: return (run.logits ?? []).map { output(nextTokenLogits: $0) }
        default: throw .encoderMismatch(reason: "a prompt encoder needs a generate or next_token decoder")
        }
    }

    /// The tokens of the template's prefix that every prompt in `prompts` starts with and goes beyond: the
    /// prefix's own ids, or 0 when some prompt does not start with them (a merge across the boundary).
    /// - Complexity: O(prompts × prefix tokens)
    public func sharedPrefixLength(_ prompts: [[Int]]) -> Int {
        let ids = prefixIDs
        guard !ids.isEmpty, prompts.allSatisfy({ $0.count > ids.count && $0.starts(with: ids) }) else { return 0 }
        return ids.count
    }
}

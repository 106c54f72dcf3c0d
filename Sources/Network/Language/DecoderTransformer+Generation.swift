/// `run`, `nextTokenLogits` and greedy `generate` on top of `DecoderTransformer.forward`.
extension DecoderTransformer {
    /// Rows per forward pass that `run` and prefill aim at: enough for the matrix multiplies to
    /// run at full speed, few enough that the activations stay small.
    static let rowsPerPass = 512

    /// The generated positions a sequence's KV cache has room for before it grows.
    static let initialGenerationCapacity = 64

    func run(_ input: NetworkInput, capture: Set<String>, interventions: [Intervention]) throws(NetworkError) -> NetworkRun {
        for name in capture { try checkHook(name) }
        guard case .tokens(let ids, let batch, let seq) = input else {
            throw .invalidInput(reason: "a language model takes token ids, not feature vectors")
        }
        guard seq >= 1, seq <= config.contextLength else {
            throw .invalidInput(
                reason: "sequences of length \(seq); this model takes 1 to \(config.contextLength) tokens (its context length)")
        }
        guard ids.count == batch * seq else { throw .invalidInput(reason: "\(ids.count) token ids for \(batch) × \(seq)") }
        try checkTokens(ids) { "example \($0 / seq), position \($0 % seq)" }
        let resolved = try resolve(interventions)
        let perChunk = max(1, Self.rowsPerPass / seq)
        let vocab = vocabularySize
        return try Chunking.run(input, examplesPerChunk: perChunk, threads: 1, interventions: resolved) {
            (chunk, interventions, _) throws(NetworkError) in
            guard case .tokens(let ids, let batch, _) = chunk else { preconditionFailure() }
            let context = HookContext(capture: capture, interventions: interventions)
            let segments = (0..<batch).map { b in
                Segment(tokens: Array(ids[(b * seq)..<((b + 1) * seq)]), cache: newCache(seq), hooks: nil, total: seq)
            }
            let logits = try forward(segments, uniform: context, logitRows: .all)
            return NetworkRun(output: FloatTensor(shape: [batch, seq, vocab], scalars: logits), activations: context.captured)
        }
    }

    func nextTokenLogits(_ prompts: [[Int]], interventions: [Intervention]) throws(NetworkError) -> [[Float]] {
        let segments = try prepare(prompts, newTokens: 0, interventions: interventions)
        return try prefill(segments)
    }

    func generate(
        _ prompts: [[Int]], maxNewTokens: Int, stop: Set<Int>, interventions: [Intervention]
    ) throws(NetworkError) -> [[Int]] {
        guard maxNewTokens >= 0 else { throw .invalidInput(reason: "maxNewTokens is \(maxNewTokens); it must be at least 0") }
        var segments = try prepare(prompts, newTokens: maxNewTokens, interventions: interventions)
        guard maxNewTokens > 0 else { return [[Int]](repeating: [], count: prompts.count) }
        let first = try prefill(segments)
        defer { segments.removeAll() }
        return try decode(&segments, first: first, maxNewTokens: maxNewTokens, stop: stop)
    }

    /// Greedy decoding after a prefill whose last logits are `first`: up to `maxNewTokens` ids per segment.
    /// A segment resumed from a clean state at block L (`resume[s]`) runs a step from block L while it has
    /// generated what the clean run generated: the blocks below L then see what they saw in the clean run.
    private func decode(
        _ segments: inout [Segment], first: [[Float]], maxNewTokens: Int, stop: Set<Int>,
        resume: [(state: PromptState, layer: Int)] = []
    ) throws(NetworkError) -> [[Int]] {
        var outputs = [[Int]](repeating: [], count: segments.count)
        var next = first.map(Self.argmax)
        var active = Array(segments.indices)
        let d = config.dModel, kvWidth = config.kvHeads * config.dHead, vocab = vocabularySize
        while true {
            for b in active { outputs[b].append(next[b]) }
            active = active.filter { outputs[$0].count < maxNewTokens && !stop.contains(next[$0]) }
            if active.isEmpty { break }
            // Each active segment's first block this step, and the residual entering it when not block 0.
            var layers = [Int](repeating: 0, count: active.count)
            var residuals = [[Float]](repeating: [], count: active.count)
            for (i, b) in active.enumerated() where b < resume.count && resume[b].layer > 0 {
                let (state, layer) = resume[b]
                let cache = segments[b].cache, row = cache.length - state.sharedPrefix
                guard row < state.filled, state.generated.starts(with: outputs[b]) else { continue }
                cache.reserve(1)
                for l in 0..<layer {
                    state.keys.withUnsafeBufferPointer { p in
                        (cache.keys(l) + cache.length * kvWidth).update(from: p.baseAddress! + (l * state.rows + row) * kvWidth, count: kvWidth)
                    }
                    state.values.withUnsafeBufferPointer { p in
                        (cache.values(l) + cache.length * kvWidth).update(from: p.baseAddress! + (l * state.rows + row) * kvWidth, count: kvWidth)
                    }
                }
                let from = (layer * state.rows + row) * d
                layers[i] = layer
                residuals[i] = Array(state.residuals[from..<(from + d)])
            }
            let order = active.indices.sorted { (layers[$0], $0) < (layers[$1], $1) }
            var start = 0
            while start < order.count {
                var end = start + 1
                while end < order.count, layers[order[end]] == layers[order[start]] { end += 1 }
                let part = order[start..<end], layer = layers[order[start]]
                let step = part.map { i in
                    var segment = segments[active[i]]
                    segment.tokens = [next[active[i]]]
                    return segment
                }
                let logits = try forward(
                    step, uniform: nil, logitRows: .last, fromLayer: layer, residual: layer > 0 ? part.flatMap { residuals[$0] } : nil)
                for (j, i) in part.enumerated() { next[active[i]] = Self.argmax(logits[(j * vocab)..<((j + 1) * vocab)]) }
                start = end
            }
        }
        return outputs
    }

    func run(_ batch: PromptBatch) throws(NetworkError) -> PromptBatchRun {
        let prompts = batch.prompts, k = batch.sharedPrefix
        guard batch.maxNewTokens >= 0 else {
            throw .invalidInput(reason: "maxNewTokens is \(batch.maxNewTokens); it must be at least 0")
        }
        guard batch.interventions.isEmpty || batch.interventions.count == prompts.count else {
            throw .invalidInput(reason: "\(batch.interventions.count) intervention lists for \(prompts.count) prompts")
        }
        for name in batch.capture { try checkHook(name) }
        guard batch.resume.isEmpty || batch.resume.count == prompts.count else {
            throw .invalidInput(reason: "\(batch.resume.count) states to resume from for \(prompts.count) prompts")
        }
        if !batch.resume.isEmpty, !batch.capture.isEmpty {
            throw .invalidInput(reason: "a prompt batch that resumes from clean states captures nothing (it skips blocks and positions)")
        }
        if batch.keepStates, batch.interventions.contains(where: { !$0.isEmpty }) {
            throw .invalidInput(reason: "a prompt batch keeps states only without interventions (they are what patched runs resume from)")
        }
        guard let head = prompts.first else { return PromptBatchRun(generated: [], logits: [], activations: []) }
        guard k >= 0 else { throw .invalidInput(reason: "a shared prefix of \(k) tokens") }
        for (b, prompt) in prompts.enumerated() {
            guard prompt.count > k else {
                throw .invalidInput(reason: "prompt \(b) has \(prompt.count) tokens; it must be longer than the shared prefix (\(k))")
            }
            if let i = (0..<k).first(where: { prompt[$0] != head[$0] }) {
                throw .invalidInput(reason: "prompt \(b) differs from prompt 0 at position \(i), inside the shared prefix of \(k) tokens")
            }
        }
        // Checks lengths and tokens, and builds each prompt's segment with its interventions.
        var segments = try prepare(prompts, newTokens: batch.maxNewTokens, interventions: [])
        var plain: [HookContext?] = []
        var lists: [[Intervention]] = []
        for b in prompts.indices {
            let mine = try resolve(batch.interventions.isEmpty ? [] : batch.interventions[b])
            for intervention in mine {
                guard let positions = intervention.positions, !positions.isEmpty else {
                    throw .invalidIntervention(hook: intervention.hook, reason: "prompt \(b): a prompt batch's interventions must name their positions")
                }
                if let p = positions.first(where: { $0 < k }) {
                    throw .invalidIntervention(
                        hook: intervention.hook, reason: "prompt \(b): position \(p) is inside the shared prefix (0..<\(k)), which runs without interventions")
                }
                let attentionHook = intervention.hook.hasSuffix("hook_attn_scores") || intervention.hook.hasSuffix("hook_pattern")
                if attentionHook, batch.maxNewTokens > 0 {
                    throw .invalidIntervention(
                        hook: intervention.hook, reason: "a prompt batch that generates takes no interventions at attention scores or patterns")
                }
            }
            plain.append(mine.isEmpty ? nil : HookContext(capture: [], interventions: mine))
            lists.append(mine)
            if !mine.isEmpty || !batch.capture.isEmpty {
                segments[b].hooks = HookContext(capture: batch.capture, interventions: mine)
            }
        }
        var starts: [Resumption?] = Array(repeating: nil, count: prompts.count)
        if !batch.resume.isEmpty {
            for b in prompts.indices {
                starts[b] = try resume(&segments[b], from: batch.resume[b], prompt: b, sharedPrefix: k, interventions: lists[b])
            }
        } else if k > 0 || batch.keepStates {
            let shared = newCache(k)
            if k > 0 {
                _ = try forward(
                    [Segment(tokens: Array(head[0..<k]), cache: shared, hooks: nil, total: k)], uniform: nil, logitRows: .last)
            }
            for b in segments.indices {
                segments[b].cache.copyPrefix(from: shared, count: k)
                segments[b].tokens = Array(prompts[b][k...])
                if batch.keepStates {
                    segments[b].state = PromptState(
                        tokens: prompts[b], sharedPrefix: k, newTokens: batch.maxNewTokens, prefix: shared, layers: config.layers,
                        kvWidth: config.kvHeads * config.dHead, dModel: config.dModel)
                }
            }
        }
        let first = try prefill(segments, from: starts)
        let activations = segments.map { $0.hooks?.captured ?? [:] }
        // Generation steps keep the interventions but capture nothing more.
        for b in segments.indices { segments[b].hooks = plain[b] }
        var generated = Array(repeating: [Int](), count: prompts.count)
        if batch.maxNewTokens > 0 {
            let resumed = batch.resume.isEmpty ? [] : prompts.indices.map { b in (batch.resume[b], starts[b]?.layer ?? 0) }
            generated = try decode(&segments, first: first, maxNewTokens: batch.maxNewTokens, stop: batch.stop, resume: resumed)
        }
        var states: [PromptState] = []
        if batch.keepStates {
            for b in segments.indices {
                let state = segments[b].state!, cache = segments[b].cache, width = state.kvWidth, rows = state.rows
                state.filled = cache.length - k
                state.generated = generated[b]
                for layer in 0..<config.layers {
                    let at = layer * rows * width, count = state.filled * width
                    state.keys.withUnsafeMutableBufferPointer { p in
                        (p.baseAddress! + at).update(from: cache.keys(layer) + k * width, count: count)
                    }
                    state.values.withUnsafeMutableBufferPointer { p in
                        (p.baseAddress! + at).update(from: cache.values(layer) + k * width, count: count)
                    }
                }
                states.append(state)
            }
        }
        return PromptBatchRun(
            generated: generated, logits: batch.maxNewTokens > 0 ? nil : first, activations: activations, states: states)
    }

    /// Where a resumed prompt's pass starts: the first block it runs and, when that is not block 0, the
    /// residual stream entering it at the positions it runs.
    struct Resumption {
        var layer: Int
        var residual: [Float]?
    }

    /// Sets `segment` up to run prompt `b` from `state` (a clean run of the same prompt) under
    /// `interventions`: its cache gets the state's keys and values (every layer, every position), its
    /// tokens become those from the first position the interventions name, and the result says from
    /// which block. Blocks before that and positions before that are the clean run's, bit for bit,
    /// since nothing there can see the interventions.
    private func resume(
        _ segment: inout Segment, from state: PromptState, prompt b: Int, sharedPrefix k: Int, interventions: [Intervention]
    ) throws(NetworkError) -> Resumption {
        let tokens = segment.tokens, kvWidth = config.kvHeads * config.dHead
        guard state.tokens == tokens, state.sharedPrefix == k, state.layers == config.layers, state.kvWidth == kvWidth,
            state.dModel == config.dModel
        else {
            throw .invalidInput(
                reason: "prompt \(b): the state to resume from is of another prompt, shared prefix or model")
        }
        // The first block and position the interventions touch; with none, the last block at the last position.
        var layer = config.layers - 1, position = tokens.count - 1
        for intervention in interventions {
            let hook = intervention.hook
            var first = intervention.positions?.min() ?? k
            if hook.hasSuffix("hook_attn_scores") || hook.hasSuffix("hook_pattern") { first = k }
            position = min(position, first)
            if hook.hasPrefix("blocks.") {
                let number = hook.dropFirst("blocks.".count).prefix { $0.isNumber }
                layer = min(layer, Int(number) ?? 0)
            } else if !hook.hasPrefix("ln_final.") {
                layer = 0  // the embeddings
            }
        }
        let cache = segment.cache, span = state.span, rows = state.rows
        cache.copyPrefix(from: state.prefix, count: k)
        // The caches were made with room for the whole prompt, so the pass from `position` does not grow
        // them (growing keeps only `length` positions, and the layers below `layer` are filled beyond it).
        precondition(cache.capacity >= tokens.count, "a prompt's cache holds the whole prompt")
        for l in 0..<config.layers {
            state.keys.withUnsafeBufferPointer { p in
                (cache.keys(l) + k * kvWidth).update(from: p.baseAddress! + l * rows * kvWidth, count: span * kvWidth)
            }
            state.values.withUnsafeBufferPointer { p in
                (cache.values(l) + k * kvWidth).update(from: p.baseAddress! + l * rows * kvWidth, count: span * kvWidth)
            }
        }
        cache.length = position
        segment.tokens = Array(tokens[position...])
        guard layer > 0 else { return Resumption(layer: 0, residual: nil) }
        let d = config.dModel, from = (layer * rows + position - k) * d
        return Resumption(layer: layer, residual: Array(state.residuals[from..<(from + (tokens.count - position) * d)]))
    }

    /// The first index of the largest value (as `torch.argmax`).
    static func argmax<C: Collection<Float>>(_ values: C) -> Int where C.Index == Int {
        var best = values.startIndex
        for i in values.indices where values[i] > values[best] { best = i }
        return best - values.startIndex
    }

    private func newCache(_ capacity: Int) -> KVCache {
        KVCache(layers: config.layers, capacity: capacity, width: config.kvHeads * config.dHead)
    }

    private func checkTokens(_ ids: [Int], where describe: (Int) -> String) throws(NetworkError) {
        let vocab = config.vocabularySize
        if let bad = ids.firstIndex(where: { $0 < 0 || $0 >= vocab }) {
            throw .invalidInput(reason: "token id \(ids[bad]) at \(describe(bad)) is outside 0..<\(vocab) (the vocabulary)")
        }
    }

    /// Checks the prompts and builds one segment per prompt, with its cache and its interventions.
    private func prepare(_ prompts: [[Int]], newTokens: Int, interventions: [Intervention]) throws(NetworkError) -> [Segment] {
        for (b, prompt) in prompts.enumerated() {
            guard !prompt.isEmpty else { throw .invalidInput(reason: "prompt \(b) is empty") }
            guard newTokens <= config.contextLength - prompt.count else {
                throw .invalidInput(
                    reason:
                        "prompt \(b) has \(prompt.count) tokens; with \(newTokens) new tokens that exceeds the context length \(config.contextLength)"
                )
            }
            try checkTokens(prompt) { "prompt \(b), position \($0)" }
        }
        let resolved = try resolve(interventions)
        for intervention in resolved {
            if case .interchangeActivation(_, let sourceIndex) = intervention.kind, sourceIndex.count != prompts.count {
                throw .invalidIntervention(
                    hook: intervention.hook, reason: "\(sourceIndex.count) source indices for \(prompts.count) prompts")
            }
            // Decode steps see a growing key axis, so units and whole-pattern values cannot name the same thing at every step.
            let attentionHook = intervention.hook.hasSuffix("hook_attn_scores") || intervention.hook.hasSuffix("hook_pattern")
            if attentionHook, newTokens > 0 {
                var unsupported = intervention.units != nil
                switch intervention.kind {
                case .meanActivation, .interchangeActivation, .projectOnto, .projectOff, .set, .add: unsupported = true
                default: break
                }
                if unsupported {
                    throw .invalidIntervention(
                        hook: intervention.hook,
                        reason:
                            "during generation only zeroing whole positions is supported at attention scores and patterns (the key axis grows each step)"
                    )
                }
            }
        }
        return prompts.enumerated().map { b, prompt in
            var hooks: HookContext?
            if !resolved.isEmpty {
                let mine = resolved.map { intervention in
                    var sliced = intervention
                    if case .interchangeActivation(let source, let sourceIndex) = intervention.kind {
                        sliced.kind = .interchangeActivation(source, sourceIndex: [sourceIndex[b]])
                    }
                    return sliced
                }
                hooks = HookContext(capture: [], interventions: mine)
            }
            // The cache grows as tokens are generated: a generation that stops early never pays for `newTokens`.
            let capacity = prompt.count + min(newTokens, Self.initialGenerationCapacity)
            return Segment(tokens: prompt, cache: newCache(capacity), hooks: hooks, total: prompt.count + newTokens)
        }
    }

    /// Runs every prompt through the network in passes of about `rowsPerPass` rows; the logits after each prompt.
    /// Segments resumed from a state (`from[s]` non-nil) run from their block, in passes of segments that
    /// start at the same block.
    private func prefill(_ segments: [Segment], from: [Resumption?] = []) throws(NetworkError) -> [[Float]] {
        var result = [[Float]](repeating: [], count: segments.count)
        let vocab = vocabularySize
        let layerOf = { (s: Int) in s < from.count ? from[s]?.layer ?? 0 : 0 }
        // Grouped by first block (stably); each row's values do not depend on the rows beside it.
        let order = segments.indices.sorted { (layerOf($0), $0) < (layerOf($1), $1) }
        var start = 0
        while start < order.count {
            let layer = layerOf(order[start])
            var end = start + 1, rows = segments[order[start]].tokens.count
            while end < order.count, layerOf(order[end]) == layer, rows + segments[order[end]].tokens.count <= Self.rowsPerPass {
                rows += segments[order[end]].tokens.count
                end += 1
            }
            let part = order[start..<end]
            let residual = layer > 0 ? part.flatMap { from[$0]!.residual! } : nil
            let logits = try forward(
                part.map { segments[$0] }, uniform: nil, logitRows: .last, fromLayer: layer, residual: residual)
            for (i, s) in part.enumerated() { result[s] = Array(logits[(i * vocab)..<((i + 1) * vocab)]) }
            start = end
        }
        return result
    }
}

/// Prompts that begin with the same tokens, each continued greedily with its own interventions: what an
/// interchange study on a prompt task runs (one patched run per prompt).
///
/// The shared prefix (a few-shot preamble, say) runs once; its keys and values are copied into every
/// prompt's KV cache, so only the tokens after it and the generated tokens cost work per prompt.
public struct PromptBatch: Sendable {
    /// The prompts' token ids; the first `sharedPrefix` of each must be the same in all.
    public var prompts: [[Int]]
    /// The number of leading tokens every prompt shares (0: none); each prompt must be longer.
    public var sharedPrefix: Int
    /// At most this many tokens are generated per prompt (0: none; `logits` then holds the next-token logits).
    public var maxNewTokens: Int
    /// Ids that end a prompt's continuation (the stop id is included in it).
    public var stop: Set<Int>
    /// One list per prompt (or an empty array: none), applied during the prompt and generation. Positions
    /// are sequence positions and must be given, all at or after `sharedPrefix`: the shared prefix is run
    /// once for every prompt, without interventions.
    public var interventions: [[Intervention]]
    /// Hooks whose activations are captured for each prompt's positions after the shared prefix.
    public var capture: Set<String>
    /// Whether the run keeps each prompt's `PromptState` (`PromptBatchRun.states`), for patched runs of the
    /// same prompts to resume from; only for a batch without interventions. Llama and GPT-2 models keep
    /// them; others return none.
    public var keepStates: Bool
    /// Per prompt (or an empty array: none), the state a clean run of that same prompt kept: the patched
    /// run then computes only the blocks and positions its interventions can change (from the first
    /// block they touch, at their first position on), and takes the rest from the state. The outputs
    /// are the same as without it. Not with `capture`.
    public var resume: [PromptState]

    /// A batch from its parts.
    public init(
        prompts: [[Int]], sharedPrefix: Int, maxNewTokens: Int, stop: Set<Int> = [], interventions: [[Intervention]] = [],
        capture: Set<String> = [], keepStates: Bool = false, resume: [PromptState] = []
    ) {
        self.prompts = prompts
        self.sharedPrefix = sharedPrefix
        self.maxNewTokens = maxNewTokens
        self.stop = stop
        self.interventions = interventions
        self.capture = capture
        self.keepStates = keepStates
        self.resume = resume
    }
}

/// What running a `PromptBatch` gives.
public struct PromptBatchRun: Sendable {
    /// Per prompt, the generated ids (empty when `maxNewTokens` is 0).
    public var generated: [[Int]]
    /// Per prompt, the logits after its last prompt token (`[vocabularySize]`); only when `maxNewTokens` is 0.
    public var logits: [[Float]]?
    /// Per prompt, each captured hook's activations over the prompt's positions after the shared prefix:
    /// `[1, prompt.count − sharedPrefix, …]`.
    public var activations: [[String: FloatTensor]]
    /// Per prompt, its state when the batch asked to keep them (`PromptBatch.keepStates`), else empty.
    public var states: [PromptState] = []
}

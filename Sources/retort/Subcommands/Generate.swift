import ArgumentParser
import Foundation
import Network
import WeightFiles

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue text prompts greedily with a language model: a quick look at what a model says.",
        discussion: """
            Each --prompt is tokenized with the model's own tokenizer (BOS first when the model \
            expects one) and continued greedily for up to --max-new-tokens tokens, stopping at EOS. \
            Prints each continuation; with several prompts, each after a line "[N] PROMPT". --json \
            prints {"generations": [{"prompt", "prompt_ids", "ids", "text"}]}.
            """)

    @Argument(help: "The weight file (a GGUF file, or a safetensors file or folder with its tokenizer.json).")
    var model: String

    @Option(name: .customLong("prompt"), help: "A prompt to continue (repeatable).")
    var prompts: [String] = []

    @Option(help: "The most tokens to generate per prompt.")
    var maxNewTokens = 32

    @Option(help: "The network: auto (from the weight file's metadata), llama, gpt2, or a description file.")
    var network = "auto"

    @Option(help: "Threads, 1 to 1024 (default: all cores).")
    var threads: Int?

    @Flag(help: "Print the continuations as JSON, with their token ids.")
    var json = false

    func validate() throws {
        if prompts.isEmpty { throw ValidationError("give at least one --prompt TEXT") }
        if prompts.contains(where: \.isEmpty) { throw ValidationError("a --prompt must not be empty") }
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1") }
        try validateThreads(threads)
    }

    func run() throws {
        let loaded = try loadNetwork(model: model, network: network, threads: threads ?? System.coreCount)
        guard let language = loaded.network as? any LanguageModel else {
            printError("\(model): --network \(network) does not give a language model (it gives \(type(of: loaded.network)))")
            throw ExitCode.failure
        }
        guard let tokenizer = language.tokenizer else {
            printError("\(model): the model has no tokenizer (GGUF tokenizer.ggml.* metadata, or tokenizer.json beside it)")
            throw ExitCode.failure
        }
        let ids = prompts.map { tokenizer.promptIDs($0) }
        for (prompt, promptIDs) in zip(prompts, ids) where maxNewTokens > language.contextLength - promptIDs.count {
            printError(
                "the prompt \(JSONWriter.quoted(prompt)) is \(promptIDs.count) tokens; with --max-new-tokens \(maxNewTokens) "
                    + "it exceeds the model's context of \(language.contextLength)")
            throw ExitCode.failure
        }
        let stop: Set<Int> = tokenizer.eosTokenID.map { [$0] } ?? []
        let generated = try reportingFailures(path: model) { () throws(NetworkError) in
            try language.generate(ids, maxNewTokens: maxNewTokens, stop: stop, interventions: [])
        }
        if json {
            let entries = zip(prompts, zip(ids, generated)).map { prompt, pair in
                "{\"prompt\":\(JSONWriter.quoted(prompt)),\"prompt_ids\":[\(pair.0.map(String.init).joined(separator: ","))],"
                    + "\"ids\":[\(pair.1.map(String.init).joined(separator: ","))],"
                    + "\"text\":\(JSONWriter.quoted(tokenizer.decode(pair.1)))}"
            }
            emit("{\"generations\":[\(entries.joined(separator: ","))]}")
            return
        }
        for (n, (prompt, continuation)) in zip(prompts, generated).enumerated() {
            if prompts.count > 1 { emit("[\(n + 1)] \(JSONWriter.quoted(prompt))") }
            emit(tokenizer.decode(continuation))
        }
    }
}

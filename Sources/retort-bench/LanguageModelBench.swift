import Foundation
import Network

#if canImport(Glibc)
    import Glibc
#endif

/// `retort-bench lm MODEL PROMPTS [--new-tokens N] [--threads T] [--repeat R] [--arithmetic int16|float32] [--only prefill]`: loads a language model
/// (GGUF, or a Hugging Face folder) and times, on the prompts (one per line, token ids separated by
/// spaces): prompt processing as `nextTokenLogits` (last-position logits) and as `run` (every
/// position's logits, prompts of equal length only), and greedy `generate` of N new tokens per prompt.
/// `--arithmetic` sets how block-quantized weights are multiplied (default int16). `--only prefill`
/// times prompt processing alone (for profiling).
/// Prints one JSON line: seconds (best of R), tokens per second, and the peak resident set size.
func languageModelBenchmark(_ arguments: Arguments) {
    guard arguments.positional.count == 2 else { fail("lm takes MODEL PROMPTS") }
    let threads = arguments.int("threads", default: ProcessInfo.processInfo.activeProcessorCount)
    let newTokens = arguments.int("new-tokens", default: 32)
    let repeats = arguments.int("repeat", default: 3)
    guard let text = try? String(contentsOfFile: arguments.positional[1], encoding: .utf8) else {
        fail("cannot read \(arguments.positional[1])")
    }
    let prompts = text.split(separator: "\n").map { $0.split(separator: " ").compactMap { Int($0) } }.filter { !$0.isEmpty }
    guard !prompts.isEmpty else { fail("no prompts in \(arguments.positional[1])") }
    let loadStart = monotonicSeconds()
    var arithmetic = QuantizedArithmetic.int16
    if let name = arguments.options["arithmetic"] {
        guard let chosen = QuantizedArithmetic(rawValue: name) else { fail("--arithmetic takes int16 or float32") }
        arithmetic = chosen
    }
    let model: any LanguageModel
    do { model = try LanguageModels.load(arguments.positional[0], threads: threads, arithmetic: arithmetic) } catch {
        fail("\(error)")
    }
    let loadSeconds = monotonicSeconds() - loadStart
    let loadRSS = peakRSSBytes()

    func best(_ body: () throws -> Void) -> Double {
        var times: [Double] = []
        for _ in 0..<max(1, repeats) {
            let start = monotonicSeconds()
            do { try body() } catch { fail("\(error)") }
            times.append(monotonicSeconds() - start)
        }
        return times.min()!
    }
    let promptTokens = prompts.reduce(0) { $0 + $1.count }
    _ = try? model.nextTokenLogits([prompts[0]], interventions: [])  // warm-up
    let prefill = best { _ = try model.nextTokenLogits(prompts, interventions: []) }
    if let only = arguments.options["only"] {
        guard only == "prefill" else { fail("--only takes prefill") }
        print("{\"prefill_s\":\(json(prefill)),\"prefill_tokens_per_s\":\(json(Double(promptTokens) / prefill))}")
        return
    }
    var fullRun = -1.0
    if Set(prompts.map(\.count)).count == 1 {
        let input = NetworkInput.tokens(ids: prompts.flatMap { $0 }, batch: prompts.count, length: prompts[0].count)
        fullRun = best { _ = try model.run(input) }
    }
    var generated = 0
    let generation = best {
        generated = try model.generate(prompts, maxNewTokens: newTokens, stop: [], interventions: []).reduce(0) { $0 + $1.count }
    }
    let decode = generation - prefill
    print(
        "{\"arithmetic\":\"\(arithmetic.rawValue)\",\"prompts\":\(prompts.count),\"prompt_tokens\":\(promptTokens),\"new_tokens\":\(generated),\"threads\":\(threads),"
            + "\"load_s\":\(json(loadSeconds)),\"prefill_s\":\(json(prefill)),\"prefill_tokens_per_s\":\(json(Double(promptTokens) / prefill)),"
            + "\"run_all_logits_s\":\(json(fullRun)),"
            + "\"run_all_logits_tokens_per_s\":\(json(fullRun > 0 ? Double(promptTokens) / fullRun : 0)),"
            + "\"generate_s\":\(json(generation)),\"generate_tokens_per_s\":\(json(Double(generated) / generation)),"
            + "\"decode_tokens_per_s\":\(json(Double(generated) / max(decode, 1e-9))),"
            + "\"rss_after_load_bytes\":\(loadRSS),\"peak_rss_bytes\":\(peakRSSBytes())}")
}

/// The process's peak resident set size (`getrusage`'s `ru_maxrss`, KiB on Linux).
func peakRSSBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
}

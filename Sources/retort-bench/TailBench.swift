import Foundation
import Network

#if canImport(Glibc)
    import Glibc
#endif

/// `retort-bench tail MODEL [--layers 10,20,28] [--prompts 256] [--pairs 32] [--steps 10] [--threads T] [--all-prompts]`:
/// times reverse mode through a language model's later blocks as DAS at a prompt site uses it (`DecoderTail`,
/// `hook_resid_post` three tokens from the prompt's end). Prompts: a 23-token shared prefix and 6 tokens of each
/// prompt's own (seeded draws); pairs: seeded (base, source) draws, 80% of them the training rows. Per layer, the
/// seconds (and CPU seconds) to prepare the tail — on the prompts the pairs use, the sources through the site's
/// block alone, or with `--all-prompts` on every prompt, as DAS did before — and per step of the loss and
/// gradient over the training rows. Prints one JSON line per layer.
func tailBenchmark(_ arguments: Arguments) {
    guard arguments.positional.count == 1 else { fail("tail takes MODEL") }
    let threads = arguments.int("threads", default: ProcessInfo.processInfo.activeProcessorCount)
    let promptCount = arguments.int("prompts", default: 256)
    let pairCount = arguments.int("pairs", default: 32)
    let steps = arguments.int("steps", default: 10)
    let layers = (arguments.options["layers"] ?? "10,20,28").split(separator: ",").compactMap { Int($0) }
    let model: any LanguageModel
    let weights: DecoderTailWeights
    let converted: Double
    do {
        model = try LanguageModels.load(arguments.positional[0], threads: threads)
        let start = monotonicSeconds()
        weights = try DecoderTailWeights(network: model)
        converted = monotonicSeconds() - start
    } catch {
        fail("\(error)")
    }
    FileHandle.standardOutput.write(Data("{\"weights_s\":\(json(converted))}\n".utf8))
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func draw(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int(state >> 33) % bound
    }
    let vocabulary = min(weights.vocabularySize, 20_000)
    let prefix = (0..<23).map { _ in draw(vocabulary) }
    let prompts = (0..<promptCount).map { _ in prefix + (0..<6).map { _ in draw(vocabulary) } }
    let pairs = (0..<pairCount).map { _ in (base: draw(promptCount), source: draw(promptCount)) }
    let training = pairs.prefix(Int((Double(pairCount) * 0.8).rounded()))
    func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
    }
    for layer in layers {
        let (start, cpuStart) = (monotonicSeconds(), cpuSeconds())
        let tail: DecoderTail
        var rows: [Int], sources: [Int]
        do {
            if arguments.flags.contains("all-prompts") {
                tail = try DecoderTail(
                    weights: weights, prompts: prompts, sharedPrefix: 23, layer: layer, hook: .residPost, position: 26)
                (rows, sources) = (training.map(\.base), training.map(\.source))
            } else {
                let used = Array(Set(pairs.flatMap { [$0.base, $0.source] })).sorted()
                let slot = Dictionary(uniqueKeysWithValues: used.enumerated().map { ($1, $0) })
                let bases = Array(Set(pairs.map { slot[$0.base]! })).sorted()
                tail = try DecoderTail(
                    weights: weights, prompts: used.map { prompts[$0] }, sharedPrefix: 23, layer: layer, hook: .residPost,
                    position: 26, contextPrompts: bases)
                (rows, sources) = (training.map { slot[$0.base]! }, training.map { slot[$0.source]! })
            }
        } catch {
            fail("\(error)")
        }
        let (prepared, preparedCPU) = (monotonicSeconds() - start, cpuSeconds() - cpuStart)
        let activations = sources.flatMap { tail.clean($0) }
        let targets = rows.map { _ in draw(vocabulary) }
        _ = tail.lossAndGradient(activations, prompts: rows, targets: targets)
        let (stepStart, stepCPU) = (monotonicSeconds(), cpuSeconds())
        var sum: Float = 0
        for _ in 0..<max(steps, 1) {
            sum += tail.lossAndGradient(activations, prompts: rows, targets: targets).gradient[0]
        }
        let (stepSeconds, stepCPUSeconds) = (
            (monotonicSeconds() - stepStart) / Double(max(steps, 1)), (cpuSeconds() - stepCPU) / Double(max(steps, 1))
        )
        let line =
            ("{\"layer\":\(layer),\"rows\":\(rows.count),\"prepare_s\":\(json(prepared)),\"prepare_cpu_s\":\(json(preparedCPU)),"
                + "\"step_s\":\(json(stepSeconds)),\"step_cpu_s\":\(json(stepCPUSeconds)),\"check\":\(json(Double(sum)))}\n")
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}

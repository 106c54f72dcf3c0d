import Network
import WeightFiles

/// `retort-bench forward MODEL NETWORK INPUTS [--repeat R] [--threads T]`: loads the network once,
/// then times whole forward passes over the inputs (best and median of R after a warm-up).
func forwardBenchmark(_ arguments: Arguments) {
    guard arguments.positional.count == 3 else { fail("forward takes MODEL NETWORK INPUTS") }
    let (modelPath, networkPath, inputsPath) = (arguments.positional[0], arguments.positional[1], arguments.positional[2])
    let repeats = arguments.int("repeat", default: 7)
    let threads = arguments.int("threads", default: 1)
    let net: any NeuralNetwork
    let input: NetworkInput
    do {
        let file = try WeightFiles.open(modelPath)
        net = try NetworkLoader.load(file: file, description: try NetworkLoader.description(networkPath), threads: threads)
        input = try InputFile.read(inputsPath, as: net is TransformerNetwork ? .tokens : .features)
    } catch {
        fail("\(error)")
    }
    var times: [Double] = []
    do {
        _ = try net.run(input)
        for _ in 0..<repeats {
            let start = monotonicSeconds()
            _ = try net.run(input)
            times.append(monotonicSeconds() - start)
        }
    } catch {
        fail("\(error)")
    }
    times.sort()
    print(
        "{\"batch\":\(input.batchSize),\"threads\":\(threads),\"best_s\":\(json(times[0])),\"median_s\":\(json(times[times.count / 2]))}"
    )
}

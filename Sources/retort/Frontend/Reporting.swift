import ArgumentParser
import Distillation
import Fidelity
import Foundation
import Network
import WeightFiles

/// Loads the network in weight file `model` described by `network` (a file or a preset).
func loadNetwork(model: String, network: String, threads: Int) throws(ExitCode) -> any NeuralNetwork {
    let weights = try reportingErrors(path: model) { () throws(WeightFileError) in try WeightFiles.open(model) }
    let description = try reportingNetworkErrors(path: network) { () throws(NetworkError) in
        try NetworkLoader.description(network)
    }
    return try reportingNetworkErrors(path: model) { () throws(NetworkError) in
        try NetworkLoader.load(file: weights, description: description, threads: threads)
    }
}

/// Evaluates `surrogates` on `net` over the task's regions, with a progress bar on stderr.
func evaluateBehaviour(
    _ net: any NeuralNetwork, task: TaskDescription, taskPath: String, surrogates: [FittedSurrogate]
) throws(ExitCode) -> BehaviourReport {
    var bar: ProgressBar?
    var label = ""
    defer { bar?.finish() }
    return try reportingDistillationErrors(path: taskPath) { () throws(DistillationError) in
        try BehaviourReport.evaluate(network: net, task: task, surrogates: surrogates) { what, done, total in
            if what != label {
                bar?.finish()
                label = what
                bar = ProgressBar(label: what, minimumBytes: 0, totalBytes: total, unit: "inputs")
            }
            bar?.update(done, total)
        }
    }
}

/// Writes `report.json` and `report.html` into `directory` (created if needed), each atomically.
func writeReport(_ report: FidelityReport, to directory: String) throws(ExitCode) {
    do {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
        printError("\(directory): cannot create the directory: \(error.localizedDescription)")
        throw ExitCode.failure
    }
    for (name, text) in [("report.json", report.json), ("report.html", report.html)] {
        let path = "\(directory)/\(name)"
        try reportingErrors(path: path) { () throws(WeightFileError) in
            let file = try AtomicOutputFile(path: path)
            try file.write(Array(text.utf8))
            try file.commit()
        }
    }
}

/// Seconds since `start`.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

import ArgumentParser
import Foundation
import Network
import WeightFiles

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a network's forward pass on a batch of inputs, capturing hooks and applying interventions.",
        discussion: """
            --network takes a description file (formats/network.md), a bare TransformerLens \
            configuration, or a preset: mlp (inferred from nn.Sequential or scikit-learn tensor \
            names) or transformer (configuration in the weight file's metadata, key \
            transformer_lens_config or config; biases the configuration's "absent_biases": "zero" lets \
            the file lack run as zeros, noted on stderr). Inputs: .npy, \
            .npz (entry "input") or CSV; transformers take integer token ids [batch, seq]. \
            Output: --out FILE.npz (output plus every --hook), FILE.npy (output) or FILE.csv; \
            without --out, CSV (or --json) on stdout.
            """)

    @Argument(help: "The weight file.")
    var model: String

    @Option(help: "A network description file, a TransformerLens config, or a preset (mlp, transformer).")
    var network: String

    @Option(help: "The inputs (.npy, .npz or .csv).")
    var inputs: String

    @Option(name: .customLong("hook"), help: "A hook to capture (repeatable); written to --out FILE.npz or --json.")
    var hooks: [String] = []

    @Option(help: "A JSON file of interventions to apply (formats/network.md).")
    var intervene: String?

    @Option(help: "Where to write the output (.npz, .npy or .csv).")
    var out: String?

    @Option(help: "For --network mlp: the activation between layers.")
    var activation: String = "relu"

    @Option(help: "For --network mlp: the activation after the last layer.")
    var outputActivation: String = "identity"

    @Option(help: "Threads for the matrix multiplies, 1 to 1024 (default: all cores).")
    var threads: Int?

    @Flag(help: "Overwrite --out if it exists.")
    var force = false

    @Flag(help: "Print the output (and hooks) as JSON on stdout.")
    var json = false

    func validate() throws {
        try validateThreads(threads)
        if OpKind(rawValue: activation) == nil { throw ValidationError("unknown --activation \(activation)") }
        if OpKind(rawValue: outputActivation) == nil { throw ValidationError("unknown --output-activation \(outputActivation)") }
        if let out, ![".npz", ".npy", ".csv"].contains(where: { out.lowercased().hasSuffix($0) }) {
            throw ValidationError("--out must end in .npz, .npy or .csv")
        }
        if let out, !hooks.isEmpty, !out.lowercased().hasSuffix(".npz") {
            throw ValidationError("--hook needs --out FILE.npz (or --json) to hold the captured activations")
        }
    }

    func run() throws {
        let weights = try reportingErrors(path: model) { () throws(WeightFileError) in try WeightFiles.open(model) }
        let description = try reportingFailures(path: network) { () throws(NetworkError) in
            try NetworkLoader.description(
                network, activation: OpKind(rawValue: activation)!, outputActivation: OpKind(rawValue: outputActivation)!)
        }
        let net = try reportingFailures(path: model) { () throws(NetworkError) in
            try NetworkLoader.load(file: weights, description: description, threads: threads ?? System.coreCount, path: model)
        }
        noteZeroBiases(net, model: model)
        let zeroBiases = (net as? TransformerNetwork)?.zeroBiases ?? []
        let kind: InputFile.Kind = net is TransformerNetwork || net is any LanguageModel ? .tokens : .features
        let input = try reportingFailures(path: inputs) { () throws(NetworkError) in try InputFile.read(inputs, as: kind) }
        var interventions: [Intervention] = []
        if let intervene {
            guard let data = FileManager.default.contents(atPath: intervene) else {
                printError("\(intervene): cannot read the file")
                throw ExitCode.failure
            }
            let base = (intervene as NSString).deletingLastPathComponent
            interventions = try reportingFailures(path: intervene) { () throws(NetworkError) in
                try InterventionFile.parse([UInt8](data), inputKind: kind, baseDirectory: base.isEmpty ? "." : base)
            }
        }
        let result = try reportingFailures(path: model) { () throws(NetworkError) in
            try net.run(input, capture: Set(hooks), interventions: interventions)
        }
        if let out {
            try write(result, to: out)
        } else if json {
            emit(runJSON(result, zeroBiases: zeroBiases))
        } else {
            emit(csv(result.output))
        }
        if out != nil && json { emit(runJSON(result, zeroBiases: zeroBiases)) }
    }

    private func write(_ result: NetworkRun, to path: String) throws {
        let lower = path.lowercased()
        try reportingErrors(path: path) { () throws(WeightFileError) in
            if lower.hasSuffix(".npz") {
                var arrays = [NumPyWriter.Array(name: "output", shape: result.output.shape, floats: result.output.scalars)]
                for hook in hooks {
                    let tensor = result.activations[hook]!
                    arrays.append(NumPyWriter.Array(name: hook, shape: tensor.shape, floats: tensor.scalars))
                }
                try NumPyWriter.writeNPZ(arrays, to: path, inputs: [model, inputs], overwrite: force)
            } else if lower.hasSuffix(".npy") {
                try NumPyWriter.writeNPY(
                    NumPyWriter.Array(name: "output", shape: result.output.shape, floats: result.output.scalars), to: path,
                    inputs: [model, inputs], overwrite: force)
            } else {
                let file = try AtomicOutputFile(path: path, inputs: [model, inputs], overwrite: force)
                try file.write(Array((csv(result.output) + "\n").utf8))
                try file.commit()
            }
        }
    }

    private func csv(_ tensor: FloatTensor) -> String {
        let batch = tensor.batchSize
        guard batch > 0 else { return "" }
        let width = tensor.count / batch
        var lines: [String] = []
        lines.reserveCapacity(batch)
        for b in 0..<batch {
            lines.append(tensor.scalars[(b * width)..<((b + 1) * width)].map { "\($0)" }.joined(separator: ","))
        }
        return lines.joined(separator: "\n")
    }

    /// The output and hooks as JSON; `zero_biases` lists the bias tensors run as zeros, when there are any.
    private func runJSON(_ result: NetworkRun, zeroBiases: [String]) -> String {
        func array(_ t: FloatTensor) -> String {
            "{\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"values\":[\(t.scalars.map(jsonNumber).joined(separator: ","))]}"
        }
        let hookParts = hooks.map { "\(JSONWriter.quoted($0)):\(array(result.activations[$0]!))" }
        let zero = zeroBiases.isEmpty ? "" : ",\"zero_biases\":[\(zeroBiases.map(JSONWriter.quoted).joined(separator: ","))]"
        return "{\"output\":\(array(result.output)),\"hooks\":{\(hookParts.joined(separator: ","))}\(zero)}"
    }
}

/// A float as a JSON value; NaN and infinities, which JSON lacks, become strings.
func jsonNumber(_ value: Float) -> String {
    if value.isNaN { return "\"NaN\"" }
    if value.isInfinite { return value > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
    return "\(value)"
}

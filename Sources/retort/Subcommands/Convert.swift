import ArgumentParser
import WeightFiles

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert any readable weight file to safetensors.",
        discussion: """
            Lossless unless --dtype is given (then float tensors are cast; integer and BOOL \
            tensors are kept). Writes a temporary file next to OUT and renames it into place; \
            never overwrites the input, and an existing OUT only with --force.
            """)

    @Argument(help: "The input weight file.")
    var input: String

    @Argument(help: "The output .safetensors file.")
    var output: String

    @Option(help: "Cast float tensors to this type.")
    var dtype: DType?

    @Flag(help: "Replace OUT if it exists (never the input).")
    var force = false

    @Flag(help: "Read the written file back and compare it with the input.")
    var verify = false

    func validate() throws {
        if let dtype, !FloatConversion.castTargets.contains(dtype) {
            throw ValidationError("--dtype must be one of \(FloatConversion.castTargets.map(\.name).joined(separator: ", "))")
        }
        if output.lowercased().hasSuffix(".stz") {
            throw ValidationError("writing .stz is not supported yet; write a .safetensors file")
        }
    }

    func run() throws {
        let weights = try reportingErrors(path: input) { () throws(WeightFileError) in try WeightFiles.open(input) }
        var inputs = [input]
        if let sharded = weights as? ShardedSafetensors {
            inputs = ShardedSafetensors.filePaths(indexPath: input, shardNames: sharded.shardNames)
        }
        if !force, fileExistsAtPath(output), !inputs.contains(output) {
            try reportingErrors(path: output) { () throws(WeightFileError) in throw .outputExists(path: output) }
        }
        let bar = ProgressBar(label: "converting", totalBytes: weights.totalByteCount)
        try reportingErrors(path: input) { () throws(WeightFileError) in
            try Converter.convertToSafetensors(weights, inputPaths: inputs, output: output, dtype: dtype, progress: bar.update)
        }
        bar.finish()
        if verify {
            let written = try reportingErrors(path: output) { () throws(WeightFileError) in try WeightFiles.open(output) }
            if dtype == nil {
                let report = try reportingErrors(path: output) { () throws(WeightFileError) in
                    try Comparison.compare(weights, written)
                }
                guard report.tensorsIdentical else {
                    printError("\(output): the written file differs from the input")
                    throw ExitCode.failure
                }
            } else {
                _ = try reportingErrors(path: output) { () throws(WeightFileError) in try Verifier.verify(written) }
            }
        }
        emit(
            "wrote \(output): \(weights.tensors.count) tensors, \(formatBytes(weights.totalByteCount)) of data\(verify ? ", verified" : "")"
        )
    }
}

func fileExistsAtPath(_ path: String) -> Bool {
    (try? WeightFiles.fileStatus(path)) != nil
}

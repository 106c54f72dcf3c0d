import ArgumentParser
import WeightFiles

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert any readable weight file to safetensors, NumPy .npz or .npy, or a compressed .stz container.",
        discussion: """
            OUT's extension says what to write: .safetensors, .npz (one NAME.npy entry per tensor, as \
            numpy.savez), .npy (an input of one tensor) or .stz (compressed); any other extension needs \
            --format. IN.stz to OUT.safetensors restores the original file byte for byte and checks its \
            SHA-256 before OUT appears (--skip-digest skips that). Lossless \
            unless --dtype is given (then float tensors are cast; integer and BOOL tensors are kept); \
            NumPy files hold no metadata (a note on stderr says what is left out) and no BF16 or FP8 \
            tensors (cast them with --dtype). Writes a temporary file next to OUT and renames it into \
            place; never overwrites the input, and an existing OUT only with --force.
            """)

    /// What `convert` writes.
    enum Format: String, CaseIterable, ExpressibleByArgument {
        case safetensors, npz, npy, stz

        /// The format OUT's extension names, or nil.
        init?(path: String) {
            if path.lowercased().hasSuffix(".stz") {
                self = .stz
            } else if let format = Converter.OutputFormat(path: path) {
                self.init(rawValue: format.rawValue)
            } else {
                return nil
            }
        }
    }

    @Argument(help: "The input weight file.")
    var input: String

    @Argument(help: "The output file: .safetensors, .npz, .npy, or .stz to compress.")
    var output: String

    @Option(help: "Write this format whatever OUT's extension (needed when the extension names none).")
    var format: Format?

    @Option(help: "Worker threads for .stz compression and decompression, 1 to 1024 (default: all cores).")
    var threads: Int?

    /// --threads, else every core (at most `STZLayout.maxThreads`).
    private var workerThreads: Int { threads ?? min(System.coreCount, STZLayout.maxThreads) }

    @Option(help: "zlib level (0-9) of the LZ77 attempt when writing .stz; 0 = Huffman-only.")
    var level: Int = 1

    @Option(help: "Cast float tensors to this type.")
    var dtype: DType?

    @Flag(help: "Replace OUT if it exists (never the input).")
    var force = false

    @Flag(help: "Read the written file back and compare it with the input.")
    var verify = false

    @Flag(help: "Restoring a .stz: skip the check of the restored file's SHA-256 (chunk CRCs are still checked).")
    var skipDigest = false

    func validate() throws {
        if let dtype, !FloatConversion.castTargets.contains(dtype) {
            throw ValidationError("--dtype must be one of \(FloatConversion.castTargets.map(\.name).joined(separator: ", "))")
        }
        try validateThreads(threads)
        if !(0...9).contains(level) { throw ValidationError("--level must be between 0 and 9") }
        if skipDigest && !input.lowercased().hasSuffix(".stz") {
            throw ValidationError("--skip-digest applies only to restoring a .stz input")
        }
        if skipDigest && verify { throw ValidationError("--skip-digest and --verify contradict each other") }
        let named = Format(path: output)
        if let format, let named, format != named {
            throw ValidationError("\(output) ends in .\(named.rawValue), but --format is \(format.rawValue)")
        }
        if format == nil && named == nil {
            throw ValidationError(
                "cannot tell what to write from \(output)'s extension: use .safetensors, .npz, .npy or .stz, or give --format")
        }
        if skipDigest && outputFormat != .safetensors {
            throw ValidationError("--skip-digest applies only to restoring a .stz input to .safetensors")
        }
        if outputFormat == .stz && dtype != nil {
            throw ValidationError("--dtype cannot be combined with a .stz output: .stz restores its source byte for byte")
        }
    }

    /// The format to write: --format, else OUT's extension (`validate` makes sure there is one).
    private var outputFormat: Format { format ?? Format(path: output)! }

    func run() throws {
        let weights = try reportingErrors(path: input) { () throws(WeightFileError) in try WeightFiles.open(input) }
        var inputs = [input]
        if let sharded = weights as? ShardedSafetensors {
            inputs = ShardedSafetensors.filePaths(indexPath: input, shardNames: sharded.shardNames)
        } else if let sharded = weights as? ShardedCheckpoint {
            inputs = ShardedCheckpoint.filePaths(indexPath: input, shardNames: sharded.shardNames)
        }
        let bar = ProgressBar(label: "converting", totalBytes: weights.totalByteCount)
        if outputFormat == .stz {
            var options = STZWriter.Options()
            options.threads = workerThreads
            options.level = level
            options.overwrite = force
            let size = try reportingErrors(path: input) { () throws(WeightFileError) in
                try STZWriter.write(weights, inputPaths: inputs, to: output, options: options, progress: bar.update)
            }
            bar.finish()
            var written = try reportingErrors(path: output) { () throws(WeightFileError) in try STZFile(path: output) }
            written.threads = workerThreads
            if verify {
                // Every chunk's CRC and the digest, then the tensors against the input.
                let check = written
                let report = try reportingErrors(path: output) { () throws(WeightFileError) in
                    try check.verifyIntegrity()
                    return try Comparison.compare(weights, check)
                }
                guard report.tensorsIdentical else {
                    printError("\(output): the written file differs from the input")
                    throw ExitCode.failure
                }
            }
            let ratio = Double(size) / Double(max(1, written.source.fileSize))
            emit(
                "wrote \(output): \(weights.tensors.count) tensors, \(formatBytes(size)) (\(format3(ratio)) of the safetensors size)\(verify ? ", verified" : "")"
            )
            return
        }
        if var stz = weights as? STZFile, dtype == nil, outputFormat == .safetensors {
            stz.threads = workerThreads
            let source = stz
            try reportingErrors(path: input) { () throws(WeightFileError) in
                try source.restore(
                    to: output, inputPaths: inputs, checkDigest: !skipDigest, overwrite: force, progress: bar.update)
            }
            bar.finish()
            emit(
                "restored \(output): \(stz.tensors.count) tensors, \(formatBytes(stz.source.fileSize))\(skipDigest ? ", SHA-256 not checked" : ", SHA-256 verified")"
            )
            return
        }
        let target = Converter.OutputFormat(rawValue: outputFormat.rawValue)!
        try reportingErrors(path: input) { () throws(WeightFileError) in
            try Converter.convert(
                weights, to: target, inputPaths: inputs, output: output, dtype: dtype, overwrite: force, progress: bar.update)
        }
        bar.finish()
        if target != .safetensors, let metadata = weights.metadata, !metadata.isEmpty {
            let keys = metadata.map { printable($0.key) }
            writeStandardError(
                "retort: note: \(output): NumPy files hold no metadata, so \(input)'s \(keys.count) metadata "
                    + "entr\(keys.count == 1 ? "y is" : "ies are") not written (\(keys.prefix(5).joined(separator: ", "))\(keys.count > 5 ? ", …" : ""))\n")
        }
        if verify {
            let written = try reportingErrors(path: output) { () throws(WeightFileError) -> any WeightFile in
                // A .npy array is named after its file; it is compared under the input tensor's name.
                target == .npy
                    ? try NPYFile(storage: ByteStorage.map(path: output), name: weights.tensors[0].name)
                    : try WeightFiles.open(output)
            }
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

/// Converts any readable weight file to safetensors or NumPy.
public enum Converter {
    /// A format `Converter` writes.
    public enum OutputFormat: String, CaseIterable, Sendable {
        case safetensors
        /// An uncompressed NumPy archive, one `NAME.npy` entry per tensor (`numpy.savez`).
        case npz
        /// One NumPy array: the input must hold exactly one tensor.
        case npy

        /// The format a file name's extension names (case-insensitive), or nil for any other extension.
        public init?(path: String) {
            let lower = path.lowercased()
            guard let match = Self.allCases.first(where: { lower.hasSuffix(".\($0.rawValue)") }) else { return nil }
            self = match
        }
    }

    /// Writes every tensor of `input` to `output` in `format` (see `convertToSafetensors` for what is kept;
    /// NumPy formats keep no metadata, and NumPy has no BF16 or FP8, so such tensors need a `dtype` cast).
    /// - Throws: `cannotWrite` when `format` cannot hold the input (a dtype NumPy lacks, more than one tensor for
    ///   `.npy`), before any output is created; reading and I/O errors otherwise.
    /// - Complexity: O(total bytes); one tensor in memory at a time.
    public static func convert(
        _ input: any WeightFile, to format: OutputFormat, inputPaths: [String], output: String, dtype: DType? = nil,
        overwrite: Bool = true, progress: ((Int, Int) -> Void)? = nil
    ) throws(WeightFileError) {
        switch format {
        case .safetensors:
            try convertToSafetensors(
                input, inputPaths: inputPaths, output: output, dtype: dtype, overwrite: overwrite, progress: progress)
        case .npz, .npy:
            try convertToNumPy(
                input, archive: format == .npz, inputPaths: inputPaths, output: output, dtype: dtype, overwrite: overwrite,
                progress: progress)
        }
    }

    /// The tensors of `input` as they are written: dequantized, and float tensors cast to `dtype` when given.
    private static func outputInfos(_ input: any WeightFile, dtype: DType?) throws(WeightFileError) -> [TensorInfo] {
        if let dtype, !FloatConversion.castTargets.contains(dtype) {
            throw .unsupportedCast(tensor: "*", from: dtype, to: dtype)
        }
        var infos = input.tensors
        // Block-quantized tensors (GGUF) are written as the values reading decodes them to.
        for i in infos.indices where infos[i].storedAs != nil {
            infos[i].storedAs = nil
            infos[i].fileOffset = nil
        }
        if let dtype {
            for i in infos.indices where infos[i].dtype.isFloatingPoint {
                infos[i].dtype = dtype
                infos[i].fileOffset = nil
            }
        }
        return infos
    }

    /// The tensor `info` describes, read from `input` and cast to its dtype if needed.
    private static func read(_ info: TensorInfo, from input: any WeightFile) throws(WeightFileError) -> TensorView {
        let view = try input.tensor(named: info.name)
        return try view.dtype == info.dtype ? view : FloatConversion.cast(view, to: info.dtype)
    }

    /// Writes `input` as an `.npz` archive (`archive`) or a single `.npy` array.
    private static func convertToNumPy(
        _ input: any WeightFile, archive: Bool, inputPaths: [String], output: String, dtype: DType?, overwrite: Bool,
        progress: ((Int, Int) -> Void)?
    ) throws(WeightFileError) {
        let format = archive ? ".npz" : ".npy"
        let infos = try outputInfos(input, dtype: dtype)
        if let unheld = infos.first(where: { !NumPyWriter.canHold($0.dtype) }) {
            throw .cannotWrite(
                format: format,
                reason: "tensor `\(unheld.name)` is \(unheld.dtype.name), which NumPy has no dtype for (cast it, e.g. to F32)")
        }
        if archive {
            try NumPyWriter.writeNPZ(tensors: infos, to: output, inputs: inputPaths, overwrite: overwrite, progress: progress) {
                (info) throws(WeightFileError) in try read(info, from: input)
            }
            return
        }
        guard infos.count == 1 else {
            throw .cannotWrite(
                format: format, reason: "a .npy file holds one array, and the input has \(infos.count) tensors (write .npz)")
        }
        try NumPyWriter.writeNPY(try read(infos[0], from: input), to: output, inputs: inputPaths, overwrite: overwrite)
        progress?(infos[0].byteCount, infos[0].byteCount)
    }

    /// Writes every tensor of `input` to a safetensors file at `output`.
    ///
    /// Lossless unless `dtype` is given, in which case float tensors are cast to it
    /// (integer and BOOL tensors are kept as they are). Block-quantized tensors are written
    /// dequantized, as `dtype` or else as the type reading gives (F32). The file is written under a
    /// temporary name and renamed into place; `inputPaths` (the files `input` was read
    /// from) are never overwritten. Tensors are read one at a time, so a compressed
    /// input is decoded tensor by tensor; a gzip/zlib-wrapped safetensors file or an NPZ archive
    /// streams in pieces, whatever the order of its tensors.
    /// - Complexity: O(total bytes)
    public static func convertToSafetensors(
        _ input: any WeightFile, inputPaths: [String], output: String, dtype: DType? = nil, overwrite: Bool = true,
        progress: ((Int, Int) -> Void)? = nil
    ) throws(WeightFileError) {
        let infos = try outputInfos(input, dtype: dtype)
        // Inputs whose data can be read in pieces stream through: memory stays bounded whatever
        // they inflate to. A gzip/zlib-wrapped safetensors file is read once in file order: when its
        // tensors lie in canonical order (as the reference writer puts them) the pieces are appended,
        // else each is written at its tensor's place in the output; an NPZ archive entry by entry in
        // any order (a column-major entry is read whole, to transpose it).
        let ordered = SafetensorsWriter.canonicalOrder(infos)
        /// `bytes` of `source` (a whole number of elements) as `target`, to `sink`.
        func pass(
            _ bytes: UnsafeRawBufferPointer, _ source: TensorInfo, _ target: DType,
            _ sink: (UnsafeRawBufferPointer) throws(WeightFileError) -> Void
        ) throws(WeightFileError) {
            guard target != source.dtype else { return try sink(bytes) }
            let piece = TensorView(
                info: TensorInfo(name: source.name, dtype: source.dtype, shape: [bytes.count * 8 / source.dtype.bitWidth]),
                copying: bytes)
            let cast = try FloatConversion.cast(piece, to: target)
            try cast.withUnsafeBytes { (raw) throws(WeightFileError) in try sink(raw) }
        }
        if let compressed = input as? CompressedSafetensorsFile, ordered.map(\.name) != compressed.tensors.map(\.name) {
            let sources = compressed.tensors
            let places = Dictionary(ordered.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
            let targets = sources.map { places[$0.name]! }
            try SafetensorsWriter.writePlaced(
                tensors: ordered, metadata: input.metadata, to: output, inputs: inputPaths, overwrite: overwrite,
                progress: progress
            ) { (place) throws(WeightFileError) in
                try compressed.forEachPiece { (position, offset, bytes) throws(WeightFileError) in
                    let target = targets[position]
                    // Pieces are whole elements: the offset in the output counts the same elements.
                    let elements = offset * 8 / sources[position].dtype.bitWidth
                    let at = elements * ordered[target].dtype.bitWidth / 8
                    try pass(bytes, sources[position], ordered[target].dtype) { (raw) throws(WeightFileError) in
                        try place(target, at, raw)
                    }
                }
            }
            return
        }
        if let compressed = input as? CompressedSafetensorsFile {
            let sources = compressed.tensors
            try SafetensorsWriter.writeStreaming(
                tensors: ordered, metadata: input.metadata, to: output, inputs: inputPaths, overwrite: overwrite,
                progress: progress
            ) { (sink) throws(WeightFileError) in
                try compressed.forEachPiece { (position, _, bytes) throws(WeightFileError) in
                    try pass(bytes, sources[position], ordered[position].dtype, sink)
                }
            }
            return
        }
        if let npz = input as? NPZFile {
            let sources = npz.tensors
            let positions = Dictionary(sources.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
            try SafetensorsWriter.writeStreaming(
                tensors: ordered, metadata: input.metadata, to: output, inputs: inputPaths, overwrite: overwrite,
                progress: progress
            ) { (sink) throws(WeightFileError) in
                for info in ordered {
                    let position = positions[info.name]!
                    if npz.isFortranOrder(position) {
                        let view = try npz.tensor(at: position)
                        try view.withUnsafeBytes { (bytes) throws(WeightFileError) in
                            try pass(bytes, sources[position], info.dtype, sink)
                        }
                    } else {
                        try npz.forEachPiece(of: position) { (_, bytes) throws(WeightFileError) in
                            try pass(bytes, sources[position], info.dtype, sink)
                        }
                    }
                }
            }
            return
        }
        try SafetensorsWriter.write(
            tensors: infos, metadata: input.metadata, to: output, inputs: inputPaths, overwrite: overwrite,
            data: { (info) throws(WeightFileError) -> TensorView in try read(info, from: input) },
            progress: progress)
    }
}

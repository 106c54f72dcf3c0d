/// Converts any readable weight file to safetensors.
public enum Converter {
    /// Writes every tensor of `input` to a safetensors file at `output`.
    ///
    /// Lossless unless `dtype` is given, in which case float tensors are cast to it
    /// (integer and BOOL tensors are kept as they are). Block-quantized tensors are written
    /// dequantized, as `dtype` or else as the type reading gives (F32). The file is written under a
    /// temporary name and renamed into place; `inputPaths` (the files `input` was read
    /// from) are never overwritten. Tensors are read one at a time, so a compressed
    /// input is decoded tensor by tensor.
    /// - Complexity: O(total bytes)
    public static func convertToSafetensors(
        _ input: any WeightFile, inputPaths: [String], output: String, dtype: DType? = nil, overwrite: Bool = true,
        progress: ((Int, Int) -> Void)? = nil
    ) throws(WeightFileError) {
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
        // Inputs whose data can be read in pieces stream through: memory stays bounded whatever
        // they inflate to. A gzip/zlib-wrapped safetensors file is read once in file order, so it
        // streams when its tensors lie in canonical order (as the reference writer puts them); an
        // NPZ archive entry by entry in any order (a column-major entry is read whole, to transpose it).
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
        if let compressed = input as? CompressedSafetensorsFile, ordered.map(\.name) == compressed.tensors.map(\.name) {
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
            data: { (info) throws(WeightFileError) -> TensorView in
                let view = try input.tensor(named: info.name)
                return try view.dtype == info.dtype ? view : FloatConversion.cast(view, to: info.dtype)
            },
            progress: progress)
    }
}

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
        // A gzip/zlib-wrapped safetensors file whose tensors lie in canonical order (as the reference
        // writer puts them) streams through in pieces: memory stays bounded whatever it inflates to.
        let ordered = SafetensorsWriter.canonicalOrder(infos)
        if let compressed = input as? CompressedSafetensorsFile, ordered.map(\.name) == compressed.tensors.map(\.name) {
            let sources = compressed.tensors
            try SafetensorsWriter.writeStreaming(
                tensors: ordered, metadata: input.metadata, to: output, inputs: inputPaths, overwrite: overwrite,
                progress: progress
            ) { (sink) throws(WeightFileError) in
                try compressed.forEachPiece { (position, _, bytes) throws(WeightFileError) in
                    let source = sources[position]
                    let target = ordered[position].dtype
                    guard target != source.dtype else { return try sink(bytes) }
                    let piece = TensorView(
                        info: TensorInfo(name: source.name, dtype: source.dtype, shape: [bytes.count * 8 / source.dtype.bitWidth]),
                        copying: bytes)
                    let cast = try FloatConversion.cast(piece, to: target)
                    try cast.withUnsafeBytes { (raw) throws(WeightFileError) in try sink(raw) }
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

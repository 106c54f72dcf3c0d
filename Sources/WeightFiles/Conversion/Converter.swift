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
        try SafetensorsWriter.write(
            tensors: infos, metadata: input.metadata, to: output, inputs: inputPaths, overwrite: overwrite,
            data: { (info) throws(WeightFileError) -> TensorView in
                let view = try input.tensor(named: info.name)
                return try view.dtype == info.dtype ? view : FloatConversion.cast(view, to: info.dtype)
            },
            progress: progress)
    }
}

import WeightFiles

/// Reads named tensors from a weight file as Float32, checking their shapes against the description.
struct WeightLoader {
    let file: any WeightFile

    /// The tensor `name` converted to Float32, after checking its shape.
    /// - Parameter expected: the expected extent per axis with a label for error messages (`nil` extent = any).
    func load(_ name: String, expected: [(Int?, String)]) throws(NetworkError) -> [Float] {
        let expectedText =
            "["
            + expected.map { extent, label in extent.map { label.isEmpty ? "\($0)" : "\(label)=\($0)" } ?? label }
            .joined(separator: ", ") + "]"
        guard let info = file.info(named: name) else { throw .missingTensor(name: name, expectedShape: expectedText) }
        guard info.dtype.isFloatingPoint else { throw .notFloat(name: name, dtype: info.dtype.name) }
        let matches = info.shape.count == expected.count && zip(info.shape, expected).allSatisfy { $1.0 == nil || $0 == $1.0 }
        guard matches else { throw .wrongShape(name: name, shape: info.shape, expectedShape: expectedText) }
        do {
            return try FloatConversion.float32Values(of: file.tensor(named: name))
        } catch {
            throw .weightFile(error)
        }
    }

    /// The shape of tensor `name`, or a missing-tensor error.
    func shape(_ name: String, expected: String) throws(NetworkError) -> [Int] {
        guard let info = file.info(named: name) else { throw .missingTensor(name: name, expectedShape: expected) }
        guard info.dtype.isFloatingPoint else { throw .notFloat(name: name, dtype: info.dtype.name) }
        return info.shape
    }
}

/// Transposes a row-major `rows × columns` matrix.
func transposed(_ m: [Float], rows: Int, columns: Int) -> [Float] {
    var out = [Float](repeating: 0, count: m.count)
    for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = m[r * columns + c] } }
    return out
}

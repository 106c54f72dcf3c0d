import Foundation
import WeightFiles

/// Reads a batch of network inputs from `.npy`, `.npz` or CSV files (`formats/network.md`).
public enum InputFile {
    /// What the network expects.
    public enum Kind: Sendable {
        /// Float feature vectors `[batch, width]`.
        case features
        /// Integer token ids `[batch, seq]`.
        case tokens
    }

    /// Reads `path` as a batch of `kind` inputs.
    /// - Throws: `invalidInput` naming the file and what is wrong (rank, dtype, a non-integer token, a bad CSV cell).
    public static func read(_ path: String, as kind: Kind) throws(NetworkError) -> NetworkInput {
        let (shape, values) = path.lowercased().hasSuffix(".csv") ? try readCSV(path) : try readArray(path)
        let expected = kind == .features ? "[batch, width]" : "[batch, seq]"
        guard shape.count == 2 else {
            throw .invalidInput(reason: "\(path): array of shape \(shape); expected \(expected)")
        }
        switch kind {
        case .features:
            return .features(FloatTensor(shape: shape, scalars: values.map { Float($0) }))
        case .tokens:
            var ids: [Int] = []
            ids.reserveCapacity(values.count)
            for (i, value) in values.enumerated() {
                guard value.rounded() == value, abs(value) < 1e15 else {
                    throw .invalidInput(reason: "\(path): element \(i) (\(value)) is not an integer token id")
                }
                ids.append(Int(value))
            }
            return .tokens(ids: ids, batch: shape[0], length: shape[1])
        }
    }

    private static func readArray(_ path: String) throws(NetworkError) -> ([Int], [Double]) {
        let file: any WeightFile
        do { file = try WeightFiles.open(path) } catch { throw .weightFile(error) }
        guard file.format == .npy || file.format == .npz || file.format == .safetensors else {
            throw .invalidInput(reason: "\(path): inputs must be .npy, .npz, .safetensors or .csv, not \(file.format.rawValue)")
        }
        let info: TensorInfo
        if file.tensors.count == 1 {
            info = file.tensors[0]
        } else if let named = file.info(named: "input") {
            info = named
        } else {
            throw .invalidInput(
                reason:
                    "\(path) holds \(file.tensors.count) arrays and none is named \"input\" (\(file.tensors.prefix(5).map(\.name).joined(separator: ", ")))"
            )
        }
        let view: TensorView
        do { view = try file.tensor(named: info.name) } catch { throw .weightFile(error) }
        let count = info.elementCount
        if info.dtype.isFloatingPoint {
            do { return (info.shape, try FloatConversion.float32Values(of: view).map { Double($0) }) } catch {
                throw .weightFile(error)
            }
        }
        let values: [Double] = view.withUnsafeBytes { raw in
            switch info.dtype {
            case .i64: (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            case .u64: (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
            case .i32: (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
            case .u32: (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
            case .i16: (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self)) }
            case .u16: (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
            case .i8: (0..<count).map { Double(Int8(bitPattern: raw[$0])) }
            case .u8, .bool: (0..<count).map { Double(raw[$0]) }
            default: []
            }
        }
        guard values.count == count else {
            throw .invalidInput(reason: "\(path): array \"\(info.name)\" has dtype \(info.dtype.name), which cannot be an input")
        }
        return (info.shape, values)
    }

    private static func readCSV(_ path: String) throws(NetworkError) -> ([Int], [Double]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidInput(reason: "\(path): cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw .invalidInput(reason: "\(path): not UTF-8 text") }
        var values: [Double] = []
        var width: Int?
        var rows = 0
        for (lineIndex, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let cells = trimmed.split(separator: ",", omittingEmptySubsequences: false)
            if let width, width != cells.count {
                throw .invalidInput(
                    reason: "\(path): line \(lineIndex + 1) has \(cells.count) values, earlier lines have \(width)")
            }
            width = cells.count
            for (column, cell) in cells.enumerated() {
                guard let value = Double(cell.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                    throw .invalidInput(
                        reason: "\(path): line \(lineIndex + 1), column \(column + 1): \"\(cell)\" is not a finite number")
                }
                values.append(value)
            }
            rows += 1
        }
        guard let width, rows > 0 else { throw .invalidInput(reason: "\(path): no rows") }
        return ([rows, width], values)
    }
}

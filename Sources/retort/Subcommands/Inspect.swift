import ArgumentParser
import Network
import WeightFiles

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a weight file's format, tensors and metadata.",
        discussion: "Reads only headers for safetensors, sharded and stored NPY/NPZ files, so it is instant on large files.")

    @Argument(help: "The weight file (or a directory with model.safetensors.index.json).")
    var file: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let weights = try reportingErrors(path: file) { () throws(WeightFileError) in try WeightFiles.open(file) }
        emit(json ? jsonReport(weights) : textReport(weights))
    }

    private func jsonReport(_ weights: any WeightFile) -> String {
        var out = "{\"file\":\(JSONWriter.quoted(file)),\"format\":\(JSONWriter.quoted(weights.format.rawValue)),"
        if let metadata = weights.metadata {
            out += "\"metadata\":{"
            out += metadata.map { "\(JSONWriter.quoted($0.key)):\(JSONWriter.quoted($0.value))" }.joined(separator: ",")
            out += "},"
        } else {
            out += "\"metadata\":null,"
        }
        if let transformer = transformerNote(weights) {
            out += "\"transformer\":{\"config_key\":\(JSONWriter.quoted(transformer.key)),"
            out += "\"absent_biases\":\"\(transformer.mode.rawValue)\",\"absent_bias_tensors\":["
            out += transformer.absent.map(JSONWriter.quoted).joined(separator: ",") + "]},"
        }
        out += "\"tensor_count\":\(weights.tensors.count),\"total_elements\":\(weights.totalElementCount),"
        out += "\"total_bytes\":\(weights.totalByteCount),\"tensors\":["
        // One growing string: inspect must stay fast on headers with a million tensors.
        out.reserveCapacity(out.utf8.count + weights.tensors.count * 96)
        for (i, t) in weights.tensors.enumerated() {
            if i > 0 { out += "," }
            out += "{\"name\":"
            out += JSONWriter.quoted(t.name)
            out += ",\"dtype\":\""
            out += t.dtype.name
            out += "\",\"shape\":["
            for (k, dim) in t.shape.enumerated() {
                if k > 0 { out += "," }
                out += String(dim)
            }
            out += "],\"bytes\":"
            out += String(t.byteCount)
            if let stored = t.storedAs {
                out += ",\"stored_as\":"
                out += JSONWriter.quoted(stored.name)
                out += ",\"stored_bytes\":"
                out += String(stored.byteCount)
            }
            out += ",\"offset\":"
            out += t.fileOffset.map(String.init) ?? "null"
            if let file = t.file {
                out += ",\"file\":"
                out += JSONWriter.quoted(file)
            }
            out += "}"
        }
        return out + "]}"
    }

    private func textReport(_ weights: any WeightFile) -> String {
        var lines = ["file:     \(file)", "format:   \(weights.format.rawValue)"]
        lines.append(
            "tensors:  \(weights.tensors.count), \(weights.totalElementCount) elements, \(weights.totalByteCount) bytes (\(formatBytes(weights.totalByteCount)))"
        )
        if let metadata = weights.metadata, !metadata.isEmpty {
            lines.append("metadata:")
            for (key, value) in metadata { lines.append("  \(printable(key)) = \(printable(abbreviated(value)))") }
        }
        if let transformer = transformerNote(weights) {
            var line = "transformer: TransformerLens configuration in metadata \"\(printable(transformer.key))\""
            if !transformer.absent.isEmpty {
                line +=
                    transformer.mode == .zero
                    ? "; absent biases, run as zeros (absent_biases \"zero\"): "
                    : "; absent biases (running needs \"absent_biases\": \"zero\" in the configuration): "
                line += transformer.absent.joined(separator: ", ")
            }
            lines.append(line)
        }
        let sharded = weights.tensors.contains { $0.file != nil }
        let quantized = weights.tensors.contains { $0.storedAs != nil }
        var rows = [
            ["NAME", "DTYPE", "SHAPE", "BYTES", "OFFSET"] + (quantized ? ["STORED AS", "STORED BYTES"] : [])
                + (sharded ? ["FILE"] : [])
        ]
        for t in weights.tensors {
            var row = [printable(t.name), t.dtype.name, "[\(t.shape.map(String.init).joined(separator: ", "))]"]
            row += [String(t.byteCount), t.fileOffset.map(String.init) ?? "-"]
            if quantized { row += [t.storedAs?.name ?? "-", t.storedAs.map { String($0.byteCount) } ?? "-"] }
            if sharded { row.append(printable(t.file ?? "")) }
            rows.append(row)
        }
        if quantized {
            let stored = weights.tensors.reduce(0) { $0 + ($1.storedAs?.byteCount ?? $1.byteCount) }
            lines.append("stored:   \(stored) bytes in the file (\(formatBytes(stored))); block-quantized tensors read as F32")
        }
        lines.append("")
        lines.append(contentsOf: table(rows, rightAligned: quantized ? [3, 4, 6] : [3, 4]))
        return lines.joined(separator: "\n")
    }
}

/// The TransformerLens configuration in `weights`' metadata (the key, its `absent_biases`, and the bias tensors
/// the file lacks), or nil when there is none or it is not a configuration Retort runs.
private func transformerNote(_ weights: any WeightFile) -> (key: String, mode: TransformerConfig.AbsentBiases, absent: [String])? {
    guard let (key, config) = try? NetworkLoader.metadataConfig(in: weights) else { return nil }
    return (key, config.absentBiases, TransformerNetwork.absentBiases(in: weights, config: config))
}

/// `value` cut to its first 200 characters, saying how long it is (GGUF vocabularies run to megabytes;
/// `--json` prints them whole).
func abbreviated(_ value: String) -> String {
    let limit = 200
    guard value.count > limit else { return value }
    return String(value.prefix(limit)) + "… (\(value.count) characters; --json shows all)"
}

/// Rows padded into columns; `rightAligned` columns are padded on the left.
func table(_ rows: [[String]], rightAligned: Set<Int> = []) -> [String] {
    guard let columns = rows.map(\.count).max() else { return [] }
    var widths = [Int](repeating: 0, count: columns)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.unicodeScalars.count) } }
    return rows.map { row in
        row.enumerated().map { i, cell in
            let pad = String(repeating: " ", count: widths[i] - cell.unicodeScalars.count)
            return rightAligned.contains(i) ? pad + cell : (i == row.count - 1 ? cell : cell + pad)
        }.joined(separator: "  ")
    }
}

import Foundation
import WeightFiles

/// Reads interventions from JSON (`formats/network.md`, "Interventions").
public enum InterventionFile {
    /// Parses a JSON array of intervention objects (or one object).
    ///
    /// `interchange` takes `"source": PATH` (an input file like `--inputs`) and `"source_index": [...]`;
    /// `mean` takes `"over": PATH`. Relative paths are resolved against `baseDirectory`.
    /// - Throws: `invalidFile` (kind "intervention file") naming the JSON path, for a document that breaks the format;
    ///   the errors of reading a `source` or `over` input file.
    public static func parse(_ bytes: [UInt8], inputKind: InputFile.Kind, baseDirectory: String) throws(NetworkError)
        -> [Intervention]
    {
        do {
            return try parseDocument(bytes, inputKind: inputKind, baseDirectory: baseDirectory)
        } catch .invalidDescription(let path, let reason) {
            throw .invalidFile(kind: "intervention file", path: path, reason: reason)
        }
    }

    private static func parseDocument(_ bytes: [UInt8], inputKind: InputFile.Kind, baseDirectory: String)
        throws(NetworkError) -> [Intervention]
    {
        let root = try JSONValue.parseDescription(bytes, what: "")
        let elements: [JSONValue]
        if case .array(let list) = root { elements = list } else { elements = [root] }
        var result: [Intervention] = []
        for (i, element) in elements.enumerated() {
            let object = try JSONObjectReader(element, path: "[\(i)]")
            try object.rejectUnknownKeys(allowed: [
                "hook", "kind", "positions", "units", "values", "basis", "source", "source_index", "over",
            ])
            let hook = try object.requiredString("hook")
            let kindName = try object.requiredString("kind")
            func path(_ key: String) throws(NetworkError) -> String {
                let given = try object.requiredString(key)
                return given.hasPrefix("/") ? given : baseDirectory + "/" + given
            }
            let kind: Intervention.Kind
            switch kindName {
            case "zero": kind = .zero
            case "set", "add":
                guard let values = try object.numbers("values") else {
                    throw .invalidDescription(path: object.subpath("values"), reason: "missing (one number per unit)")
                }
                kind = kindName == "set" ? .set(values) : .add(values)
            case "mean": kind = .mean(over: try InputFile.read(try path("over"), as: inputKind))
            case "interchange":
                guard let index = try object.integers("source_index") else {
                    throw .invalidDescription(path: object.subpath("source_index"), reason: "missing")
                }
                kind = .interchange(source: try InputFile.read(try path("source"), as: inputKind), sourceIndex: index)
            case "project_onto", "project_off":
                guard let rows = try object.array("basis"), !rows.isEmpty else {
                    throw .invalidDescription(path: object.subpath("basis"), reason: "missing (an array of rows)")
                }
                var scalars: [Float] = []
                var width: Int?
                for (r, row) in rows.enumerated() {
                    guard case .array(let cells) = row else {
                        throw .invalidDescription(path: "\(object.subpath("basis"))[\(r)]", reason: "expected an array")
                    }
                    if let width, width != cells.count {
                        throw .invalidDescription(path: "\(object.subpath("basis"))[\(r)]", reason: "rows have different lengths")
                    }
                    width = cells.count
                    scalars += try JSONObjectReader.floats(cells, path: "\(object.subpath("basis"))[\(r)]")
                }
                let basis = FloatTensor(shape: [rows.count, width ?? 0], scalars: scalars)
                kind = kindName == "project_onto" ? .projectOnto(basis: basis) : .projectOff(basis: basis)
            default:
                throw .invalidDescription(
                    path: object.subpath("kind"),
                    reason: "unknown kind \"\(kindName)\" (known: zero, set, add, mean, interchange, project_onto, project_off)")
            }
            result.append(
                Intervention(
                    hook: hook, positions: try object.integers("positions"), units: try object.integers("units"), kind: kind))
        }
        return result
    }
}

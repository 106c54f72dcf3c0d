import WeightFiles

/// JSON text of the fields every tree and rule body shares.
enum SurrogateBodyWriter {
    /// `"feature_kinds": ["integer", …], "classes": [0, 1, …]`.
    static func header(featureKinds: [FeatureKind], classes: [Int]) -> String {
        "\"feature_kinds\":[" + featureKinds.map { JSONWriter.quoted($0.rawValue) }.joined(separator: ",") + "],"
            + "\"classes\":[" + classes.map(String.init).joined(separator: ",") + "]"
    }

    /// A finite Double as JSON: Swift's shortest round-tripping form (`49.5`, `1e-05`).
    static func number(_ value: Double) -> String {
        precondition(value.isFinite, "JSON numbers are finite")
        return "\(value)"
    }
}

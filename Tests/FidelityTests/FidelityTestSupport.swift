import Foundation
import WeightFiles

/// The repository's root, found from this file's path.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The folder of reference network `name` (formats/vectors/networks).
func referenceNetwork(_ name: String) -> String { "\(repositoryRoot)/formats/vectors/networks/\(name)" }

/// The fixture file written by scripts/fidelity_reference.py, parsed.
func fidelityReference() throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: "\(repositoryRoot)/Tests/FidelityTests/Fixtures/reference.json"))
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
}

import Foundation
import Network
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

/// One token per ASCII character (id = code), so that a tiny model's 256 ids cover every prompt.
struct CharacterTokenizer: Tokenizer {
    var vocabularySize: Int { 128 }
    var bosTokenID: Int? { nil }
    var eosTokenID: Int? { 127 }
    var addsBOS: Bool { false }
    func encode(_ text: String) -> [Int] { text.unicodeScalars.map { Int($0.value) & 127 } }
    func decode(_ ids: [Int]) -> String { String(ids.map { Character(UnicodeScalar(UInt8($0 & 127))) }) }
}

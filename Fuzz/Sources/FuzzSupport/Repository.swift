import Foundation

/// The path of `relative` inside the repository this fuzzer was built from (fixtures such as the
/// bundled example's task live there).
public func repositoryPath(_ relative: String) -> String {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.appendingPathComponent(relative).path
}

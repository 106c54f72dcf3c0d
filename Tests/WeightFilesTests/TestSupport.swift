import Foundation
import WeightFiles

/// A fresh temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("retort-test-\(UUID())").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The `WeightFileError.kind` that `body` throws, nil when it succeeds.
func errorKind(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as WeightFileError {
        return error.kind
    } catch {
        return "untyped: \(error)"
    }
}

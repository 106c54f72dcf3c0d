import Foundation
import Network
import WeightFiles

/// An in-memory safetensors file holding float32 `tensors` (name, shape, values).
func makeWeights(_ tensors: [(String, [Int], [Float])], metadata: [(String, String)] = []) throws -> SafetensorsFile {
    let views = tensors.map { name, shape, values in
        TensorView(info: TensorInfo(name: name, dtype: .f32, shape: shape), copying: values.withUnsafeBytes { Array($0) })
    }
    let bytes = try SafetensorsWriter.serialize(views, metadata: metadata.isEmpty ? nil : Metadata(metadata))
    return try SafetensorsFile(storage: ByteStorage(copying: bytes))
}

/// The error `body` throws, as a `NetworkError`, or nil when it succeeds.
func networkError(_ body: () throws -> Void) -> NetworkError? {
    do {
        try body()
        return nil
    } catch let error as NetworkError {
        return error
    } catch {
        return .invalidInput(reason: "untyped: \(error)")
    }
}

/// Parses a description from JSON text.
func describe(_ json: String) throws -> NetworkDescription { try NetworkDescription.parse(Array(json.utf8)) }

/// A batch of feature rows.
func rows(_ values: [[Float]]) -> NetworkInput {
    .features(FloatTensor(shape: [values.count, values.first?.count ?? 0], scalars: values.flatMap { $0 }))
}

/// The directory holding the reference networks (formats/vectors/networks).
let referenceNetworksDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("formats/vectors/networks").path
}()

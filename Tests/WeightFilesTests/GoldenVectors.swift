import Foundation
import WeightFiles

/// The golden vectors in `formats/vectors/`, written by the reference libraries
/// (`scripts/make_vectors.py`), and their manifest.
enum GoldenVectors {
    static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("formats/vectors").path
    }()

    static func path(_ relative: String) -> String { directory + "/" + relative }

    struct Manifest: Decodable {
        var vectors: [Vector]
    }

    struct Vector: Decodable {
        var file: String
        var format: String
        var writer: String?
        var metadata: [String: String]?
        var tensors: [Tensor]
        var expect_error: ExpectedError?
        var note: String?
        var detected: String?
    }

    struct Tensor: Decodable {
        var name: String
        var dtype: String
        /// As written (one vector has a dimension of 2^64 − 1, which Int cannot hold).
        var rawShape: [UInt64]
        var data_hex: String?
        var data_sha256: String?
        var f32_hex: String?
        var shape: [Int] { rawShape.map { Int(clamping: $0) } }

        enum CodingKeys: String, CodingKey {
            case name, dtype, data_hex, data_sha256, f32_hex
            case rawShape = "shape"
        }
    }

    struct ExpectedError: Decodable {
        var kind: String
        var library_message: String?
    }

    static let manifest: Manifest = {
        let data = FileManager.default.contents(atPath: path("manifest.json"))!
        return try! JSONDecoder().decode(Manifest.self, from: data)
    }()

    static func vectors(format: String) -> [Vector] { manifest.vectors.filter { $0.format == format } }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8 = c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10
            if let h = high { bytes.append(h << 4 | v); high = nil } else { high = v }
        }
        self = bytes
    }
}

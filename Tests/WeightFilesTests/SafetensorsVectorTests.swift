import Testing
import WeightFiles

/// Where Retort deliberately refuses what the reference reader accepts; each is a
/// rule in formats/safetensors.md.
let documentedStricterRules: [String: String] = [
    // The reference keeps one of two same-named entries; Retort refuses the file.
    "malformed/duplicate_tensor_name.safetensors": "DuplicateTensor",
    // A dimension above Int.max cannot be a Swift shape, even when another dimension is 0.
    "malformed/zero_dim_first_huge.safetensors": "ValidationOverflow",
]

/// Maps the manifest's names for non-safetensors failures onto `WeightFileError.kind`.
func expectedKind(_ manifestKind: String) -> String {
    switch manifestKind {
    case "GzipTruncated": "CompressedTruncated"
    case "GzipChecksum", "ZlibChecksum": "CompressedChecksum"
    case "NPZBomb": "DecompressedSizeExceeded"
    default: manifestKind
    }
}

func checkTensors(_ file: any WeightFile, against vector: GoldenVectors.Vector) throws {
    #expect(file.tensors.count == vector.tensors.count, "\(vector.file)")
    for expected in vector.tensors {
        let info = try #require(file.info(named: expected.name), "\(vector.file): \(expected.name)")
        #expect(info.dtype.name == expected.dtype, "\(vector.file): \(expected.name)")
        #expect(info.shape.map(UInt64.init) == expected.rawShape, "\(vector.file): \(expected.name)")
        let view = try file.tensor(named: expected.name)
        if let hex = expected.data_hex {
            #expect(view.copyBytes() == [UInt8](hex: hex), "\(vector.file): \(expected.name) bytes")
        }
        if let digest = expected.data_sha256 {
            #expect(view.withUnsafeBytes { SHA256.hex($0) } == digest, "\(vector.file): \(expected.name) sha256")
        }
        if let f32 = expected.f32_hex {
            let values = try FloatConversion.float32Values(of: view)
            let bytes = values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } }
            #expect(bytes == [UInt8](hex: f32), "\(vector.file): \(expected.name) as float32")
        }
    }
}

@Suite("Golden vectors written by the reference libraries")
struct SafetensorsVectorTests {
    static let readable = GoldenVectors.manifest.vectors.filter {
        $0.expect_error == nil && documentedStricterRules[$0.file] == nil
            && ["safetensors", "safetensors.gz", "safetensors.zlib", "sharded", "gguf", "pytorch"].contains($0.format)
    }
    static let failing = GoldenVectors.manifest.vectors.filter {
        ($0.expect_error != nil || documentedStricterRules[$0.file] != nil)
            && ["safetensors", "safetensors.gz", "safetensors.zlib", "sharded", "gguf", "pickle", "pytorch"].contains($0.format)
    }

    @Test("every valid vector reads with the tensors, bytes and values the library reported", arguments: readable.map(\.file))
    func readsValidVector(_ file: String) throws {
        let vector = GoldenVectors.manifest.vectors.first { $0.file == file }!
        let weights = try WeightFiles.open(GoldenVectors.path(file))
        try checkTensors(weights, against: vector)
        if vector.format != "sharded", let metadata = vector.metadata {
            let read = weights.metadata.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.key, $0.value) }) }
            #expect(read == metadata)
        }
    }

    @Test("every malformed vector fails with the reference reader's error kind", arguments: failing.map(\.file))
    func rejectsMalformedVector(_ file: String) {
        let vector = GoldenVectors.manifest.vectors.first { $0.file == file }!
        let want = documentedStricterRules[file] ?? expectedKind(vector.expect_error!.kind)
        // A wrapped file is read as a stream: opening reads the header, so damage further on is found
        // when the data is read (here by verification, which reads every byte).
        #expect {
            _ = try Verifier.verify(try WeightFiles.open(GoldenVectors.path(file)))
        } throws: { error in
            (error as? WeightFileError)?.kind == want
        }
    }

    @Test("the manifest covers every safetensors dtype")
    func coversEveryDType() {
        let seen = Set(GoldenVectors.manifest.vectors.flatMap { $0.tensors.map(\.dtype) })
        for dtype in DType.allCases { #expect(seen.contains(dtype.name), "\(dtype)") }
    }
}

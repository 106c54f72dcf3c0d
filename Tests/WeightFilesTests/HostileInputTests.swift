import Foundation
import Testing
import WeightFiles

/// Parses `bytes` as a whole safetensors file; the error kind, or nil when valid.
func safetensorsOutcome(_ bytes: [UInt8]) -> String? {
    errorKind { _ = try bytes.withUnsafeBytes { try SafetensorsHeader.parse(file: $0) } }
}

@Suite("Hostile input")
struct HostileInputTests {
    static let small = [UInt8](FileManager.default.contents(atPath: GoldenVectors.path("safetensors/odd_offsets.safetensors"))!)

    @Test("truncation at every byte gives a typed error")
    func truncationAtEveryByte() {
        for length in 0..<HostileInputTests.small.count {
            let outcome = safetensorsOutcome(Array(HostileInputTests.small[0..<length]))
            #expect(outcome != nil && !outcome!.hasPrefix("untyped"), "length \(length)")
        }
    }

    @Test("random bit flips in the header never trap and never pass unnoticed as another size")
    func randomBitFlips() throws {
        var generator = SplitMix64(state: 0x5EED)
        let original = HostileInputTests.small
        let headerEnd = 8 + Int(original[0]) + Int(original[1]) << 8
        for _ in 0..<3000 {
            var bytes = original
            let flips = Int(generator.next() % 3) + 1
            for _ in 0..<flips {
                let position = Int(generator.next() % UInt64(headerEnd))
                bytes[position] ^= UInt8(1) << UInt8(generator.next() % 8)
            }
            // Valid or a typed error; when valid the tensors still lie inside the file.
            let outcome = safetensorsOutcome(bytes)
            #expect(outcome.map { !$0.hasPrefix("untyped") } ?? true)
            if outcome == nil {
                let header = try bytes.withUnsafeBytes { try SafetensorsHeader.parse(file: $0) }
                #expect(header.fileSize == bytes.count)
            }
        }
    }

    @Test("100,000 tensors sharing one offset range fail fast with InvalidOffset (abuse attempt 3)")
    func sharedOffsetAbuse() {
        var json = "{"
        for i in 0..<100_000 {
            json += "\(i == 0 ? "" : ",")\"weight_\(i)\":{\"dtype\":\"F32\",\"shape\":[200,200],\"data_offsets\":[0,160000]}"
        }
        json += "}"
        let header = Array(json.utf8)
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) } + header
        bytes += [UInt8](repeating: 0, count: 160_000)
        #expect(safetensorsOutcome(bytes) == "InvalidOffset")
    }

    @Test("a header declaring 10 million tensors is refused by its size before parsing (abuse attempt 2)")
    func tenMillionTensorHeader() {
        // 10 million entries need ~700 MB of JSON, past the 100 MB limit: refused from the first 8 bytes.
        let declared = UInt64(10_000_000) * 70
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: declared >> (8 * UInt64($0))) } + Array("{}".utf8)
        #expect(safetensorsOutcome(bytes) == "HeaderTooLarge")
    }

    @Test("nesting past the depth cap is an error, not a stack overflow")
    func deepNesting() {
        let json = Array(String(repeating: "[", count: 1_000_000).utf8)
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) } + json
        #expect(safetensorsOutcome(bytes) == "InvalidHeaderDeserialization")
    }

    @Test("a gzip stream larger than the cap stops at the cap")
    func gzipCap() throws {
        var options = WeightFiles.Options()
        options.decompressionLimit = 1000
        #expect {
            _ = try WeightFiles.open(GoldenVectors.path("compressed/model.safetensors.gz"), options: options)
        } throws: { ($0 as? WeightFileError)?.kind == "DecompressedSizeExceeded" }
    }

    @Test("a shard name that leaves the index's folder is refused")
    func shardPathTraversal() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let index = directory + "/model.safetensors.index.json"
        try Data(#"{"metadata":{},"weight_map":{"a":"../outside.safetensors"}}"#.utf8).write(to: URL(fileURLWithPath: index))
        #expect { _ = try WeightFiles.open(index) } throws: { ($0 as? WeightFileError)?.kind == "InvalidIndex" }
    }
}

@Suite("Mutated vectors")
struct MutatedVectorTests {
    static let readable = GoldenVectors.manifest.vectors.filter {
        $0.expect_error == nil && ["safetensors", "safetensors.gz", "safetensors.zlib", "npy", "npz"].contains($0.format)
    }.map(\.file)

    @Test("random byte changes anywhere in a valid file give a value or a typed error, never a trap", arguments: readable)
    func randomMutations(_ file: String) throws {
        let original = [UInt8](FileManager.default.contents(atPath: GoldenVectors.path(file))!)
        guard !original.isEmpty else { return }
        var generator = SplitMix64(state: UInt64(file.utf8.count) ^ 0xF00D)
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let name = directory + "/" + URL(fileURLWithPath: file).lastPathComponent
        for _ in 0..<60 {
            var bytes = original
            for _ in 0..<(Int(generator.next() % 4) + 1) {
                let position = Int(generator.next() % UInt64(bytes.count))
                bytes[position] = UInt8(truncatingIfNeeded: generator.next())
            }
            try Data(bytes).write(to: URL(fileURLWithPath: name))
            #expect(!openAndVerify(name).isEmpty)
        }
    }
}

/// Opens and fully reads `path`: "ok", or the error's description.
func openAndVerify(_ path: String) -> String {
    do throws(WeightFileError) {
        _ = try Verifier.verify(try WeightFiles.open(path))
        return "ok"
    } catch {
        return error.description
    }
}

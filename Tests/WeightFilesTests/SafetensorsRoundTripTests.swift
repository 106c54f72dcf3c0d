import Foundation
import Testing
import WeightFiles

@Suite("Writing safetensors")
struct SafetensorsRoundTripTests {
    static let referenceWritten = GoldenVectors.manifest.vectors.filter {
        $0.format == "safetensors" && $0.expect_error == nil && ($0.writer ?? "").hasPrefix("safetensors 0.8.0")
            && !$0.file.hasPrefix("malformed/")
    }.map(\.file)

    @Test("rewriting a file the reference library wrote is byte-identical", arguments: referenceWritten)
    func rewriteIsByteIdentical(_ file: String) throws {
        let path = GoldenVectors.path(file)
        let original = try #require(FileManager.default.contents(atPath: path))
        let weights = try SafetensorsFile(path: path)
        let views = try weights.tensors.map { try weights.tensor(named: $0.name) }
        let rewritten = try SafetensorsWriter.serialize(views, metadata: weights.metadata)
        #expect(rewritten == [UInt8](original))
    }

    @Test("convert writes the file atomically and byte-identically")
    func convertIsByteIdentical() throws {
        let source = GoldenVectors.path("safetensors/many_tensors.safetensors")
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = directory + "/out.safetensors"
        try Converter.convertToSafetensors(try WeightFiles.open(source), inputPaths: [source], output: output)
        #expect(FileManager.default.contents(atPath: output) == FileManager.default.contents(atPath: source))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["out.safetensors"])
    }

    @Test("convert refuses to write over its input and leaves it untouched")
    func convertRefusesInput() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/in.safetensors"
        try FileManager.default.copyItem(atPath: GoldenVectors.path("safetensors/scalar.safetensors"), toPath: path)
        let before = FileManager.default.contents(atPath: path)
        #expect(throws: WeightFileError.outputIsInput(path: directory + "/./in.safetensors")) {
            try Converter.convertToSafetensors(
                try WeightFiles.open(path), inputPaths: [path], output: directory + "/./in.safetensors")
        }
        #expect(FileManager.default.contents(atPath: path) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["in.safetensors"])
    }

    @Test("a failed conversion leaves no output and no temporary file")
    func failedConversionLeavesNothing() throws {
        struct Failing: WeightFile {
            var format: WeightFileFormat { .safetensors }
            var metadata: Metadata? { nil }
            var tensors: [TensorInfo] {
                [TensorInfo(name: "a", dtype: .f32, shape: [2]), TensorInfo(name: "b", dtype: .f32, shape: [2])]
            }
            func tensor(named name: String) throws(WeightFileError) -> TensorView {
                if name == "b" { throw .compressedTruncated(format: "test") }
                return TensorView(info: tensors[0], copying: [UInt8](repeating: 0, count: 8))
            }
            func info(named name: String) -> TensorInfo? { tensors.first { $0.name == name } }
        }
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: WeightFileError.compressedTruncated(format: "test")) {
            try Converter.convertToSafetensors(Failing(), inputPaths: [], output: directory + "/out.safetensors")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test("metadata keys keep their order and escaping through a round trip")
    func metadataRoundTrip() throws {
        let metadata = Metadata([("z", "last\n\"quoted\"\t\u{1}"), ("a", "é😀/\\")])
        let tensor = TensorView(info: TensorInfo(name: "t", dtype: .u8, shape: [3]), copying: [1, 2, 3])
        let bytes = try SafetensorsWriter.serialize([tensor], metadata: metadata)
        let read = try bytes.withUnsafeBytes { try SafetensorsHeader.parse(file: $0) }
        #expect(read.metadata == metadata)
        #expect(read.metadata?.keys == ["z", "a"])
    }
}

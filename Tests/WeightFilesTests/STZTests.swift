import Foundation
import Testing
import WeightFiles

/// Compresses `source` with small chunks so that even tiny vectors have several.
func compress(_ source: String, to output: String, chunkSize: Int = 64, threads: Int = 2) throws {
    var options = STZWriter.Options()
    options.chunkSize = chunkSize
    options.threads = threads
    try STZWriter.write(try WeightFiles.open(source), inputPaths: [source], to: output, options: options)
}

/// `bytes` of a .stz file with its JSON header replaced by `transform(header)` and the footer fixed.
func rewritingHeader(_ bytes: [UInt8], _ transform: (String) -> String) -> [UInt8] {
    let footer = bytes.count - 24
    let offset = bytes[footer..<(footer + 8)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    let header = String(decoding: bytes[offset..<footer], as: UTF8.self)
    let replaced = Array(transform(header).utf8)
    var out = Array(bytes[0..<offset]) + replaced
    for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: offset >> (8 * k))) }
    for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: replaced.count >> (8 * k))) }
    return out + Array("RTSTZEND".utf8)
}

@Suite(".stz container")
struct STZTests {
    static let sources = GoldenVectors.manifest.vectors.filter {
        $0.format == "safetensors" && $0.expect_error == nil && documentedStricterRules[$0.file] == nil
    }.map(\.file)

    @Test("every valid safetensors vector restores byte for byte", arguments: sources)
    func restoresByteForByte(_ file: String) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = GoldenVectors.path(file)
        try compress(source, to: directory + "/x.stz")
        let stz = try STZFile(path: directory + "/x.stz")
        try stz.restore(to: directory + "/x.safetensors", inputPaths: [])
        #expect(
            FileManager.default.contents(atPath: directory + "/x.safetensors") == FileManager.default.contents(atPath: source))
        try stz.verifyIntegrity()
    }

    @Test("any single tensor decodes to the source's bytes, with one thread or several", arguments: [1, 3])
    func randomAccess(threads: Int) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = try SafetensorsFile(path: GoldenVectors.path("safetensors/many_tensors.safetensors"))
        try compress(GoldenVectors.path("safetensors/many_tensors.safetensors"), to: directory + "/x.stz", chunkSize: 16)
        var stz = try STZFile(path: directory + "/x.stz")
        stz.threads = threads
        #expect(stz.tensors.map(\.name) == source.tensors.map(\.name))
        for info in source.tensors.reversed() {
            #expect(
                try stz.tensor(named: info.name).copyBytes() == source.tensor(named: info.name).copyBytes(),
                "\(info.name) \(info.dtype) \(info.shape)")
        }
    }

    @Test("a non-safetensors source restores to the canonical safetensors file")
    func canonicalForOtherFormats() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = GoldenVectors.path("npz/compressed.npz")
        try compress(source, to: directory + "/x.stz")
        try STZFile(path: directory + "/x.stz").restore(to: directory + "/restored.safetensors", inputPaths: [])
        try Converter.convertToSafetensors(
            try WeightFiles.open(source), inputPaths: [source], output: directory + "/direct.safetensors")
        #expect(
            FileManager.default.contents(atPath: directory + "/restored.safetensors")
                == FileManager.default.contents(atPath: directory + "/direct.safetensors"))
    }

    @Test("truncation at every byte gives a typed error and leaves no output")
    func truncation() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try compress(GoldenVectors.path("safetensors/odd_offsets.safetensors"), to: directory + "/x.stz", chunkSize: 8)
        let bytes = [UInt8](FileManager.default.contents(atPath: directory + "/x.stz")!)
        for length in 0..<bytes.count {
            try Data(bytes[0..<length]).write(to: URL(fileURLWithPath: directory + "/cut.stz"))
            let kind = errorKind {
                try STZFile(path: directory + "/cut.stz").restore(to: directory + "/out.safetensors", inputPaths: [])
            }
            #expect(kind != nil && !kind!.hasPrefix("untyped"), "length \(length)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/out.safetensors"))
    }

    @Test("a flipped bit in any chunk names the tensor and chunk, and restore leaves nothing behind")
    func damagedChunk() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try compress(GoldenVectors.path("safetensors/all_dtypes.safetensors"), to: directory + "/x.stz", chunkSize: 16)
        let original = [UInt8](FileManager.default.contents(atPath: directory + "/x.stz")!)
        let stz = try STZFile(path: directory + "/x.stz")
        for (position, table) in stz.chunks.enumerated() {
            for (k, chunk) in table.enumerated() {
                var bytes = original
                bytes[chunk.offset + chunk.storedLength / 2] ^= 0x10
                try Data(bytes).write(to: URL(fileURLWithPath: directory + "/bad.stz"))
                let damaged = try STZFile(path: directory + "/bad.stz")
                #expect(throws: WeightFileError.stzChunkChecksum(tensor: stz.tensors[position].name, chunk: k)) {
                    try damaged.verifyIntegrity()
                }
                #expect(throws: WeightFileError.self) {
                    try damaged.restore(to: directory + "/out.safetensors", inputPaths: [])
                }
                #expect(!FileManager.default.fileExists(atPath: directory + "/out.safetensors"))
            }
        }
    }

    @Test("random bit flips in the header give a typed error or a container that still checks out")
    func headerBitFlips() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try compress(GoldenVectors.path("safetensors/odd_offsets.safetensors"), to: directory + "/x.stz", chunkSize: 8)
        let original = [UInt8](FileManager.default.contents(atPath: directory + "/x.stz")!)
        let stz = try STZFile(path: directory + "/x.stz")
        let headerStart = stz.chunks.flatMap { $0 }.map { $0.offset + $0.storedLength }.max()!
        var generator = SplitMix64(seed: 7)
        for _ in 0..<500 {
            var bytes = original
            let position = headerStart + Int(generator.next() % UInt64(original.count - headerStart))
            bytes[position] ^= UInt8(1) << UInt8(generator.next() % 8)
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/flip.stz"))
            let kind = errorKind { try STZFile(path: directory + "/flip.stz").verifyIntegrity() }
            #expect(kind.map { !$0.hasPrefix("untyped") } ?? true)
        }
    }

    @Test("unknown version, codec and filter are refused by name")
    func unknownFields() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try compress(GoldenVectors.path("safetensors/odd_offsets.safetensors"), to: directory + "/x.stz")
        let bytes = [UInt8](FileManager.default.contents(atPath: directory + "/x.stz")!)
        func kind(_ edited: [UInt8]) throws -> String? {
            try Data(edited).write(to: URL(fileURLWithPath: directory + "/e.stz"))
            return errorKind { _ = try STZFile(path: directory + "/e.stz") }
        }
        var version = bytes
        version[8] = 2
        #expect(try kind(version) == "STZUnsupportedVersion")
        #expect(
            try kind(rewritingHeader(bytes) { $0.replacingOccurrences(of: "\"deflate\"", with: "\"zstd\"") }) == "STZUnknownCodec"
        )
        #expect(
            try kind(rewritingHeader(bytes) { $0.replacingOccurrences(of: "bytegroup4-rot1", with: "bytegroup3") })
                == "STZUnknownFilter")
        // bytegroup8 on a 4-byte type does not fit.
        #expect(
            try kind(rewritingHeader(bytes) { $0.replacingOccurrences(of: "bytegroup4-rot1", with: "bytegroup8") })
                == "STZUnknownFilter")
    }

    @Test("chunk tables that overlap, point outside the data area or claim absurd sizes are refused")
    func hostileChunkTables() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try compress(GoldenVectors.path("safetensors/odd_offsets.safetensors"), to: directory + "/x.stz", chunkSize: 8)
        let bytes = [UInt8](FileManager.default.contents(atPath: directory + "/x.stz")!)
        let stz = try STZFile(path: directory + "/x.stz")
        let first = stz.chunks[0][0]
        let second = stz.chunks[0][1]
        func kind(_ transform: (String) -> String) throws -> String? {
            try Data(rewritingHeader(bytes, transform)).write(to: URL(fileURLWithPath: directory + "/e.stz"))
            return errorKind { _ = try STZFile(path: directory + "/e.stz") }
        }
        let firstEntry = "[\(first.offset),\(first.storedLength),\(first.rawLength),\(first.crc)]"
        let secondEntry = "[\(second.offset),\(second.storedLength),\(second.rawLength),\(second.crc)]"
        // The second chunk pointing at the first one's bytes.
        #expect(
            try kind {
                $0.replacingOccurrences(
                    of: secondEntry, with: "[\(first.offset),\(second.storedLength),\(second.rawLength),\(second.crc)]")
            }
                == "STZChunkTable")
        // Past the end of the data area.
        #expect(
            try kind {
                $0.replacingOccurrences(
                    of: firstEntry, with: "[\(bytes.count),\(first.storedLength),\(first.rawLength),\(first.crc)]")
            }
                == "STZChunkTable")
        // A decoded size far beyond the chunk size.
        #expect(
            try kind {
                $0.replacingOccurrences(
                    of: firstEntry, with: "[\(first.offset),\(first.storedLength),1099511627776,\(first.crc)]")
            }
                == "STZChunkTable")
        // A stored size of 2^63.
        #expect(
            try kind {
                $0.replacingOccurrences(
                    of: firstEntry, with: "[\(first.offset),9223372036854775808,\(first.rawLength),\(first.crc)]")
            }
                == "STZChunkTable")
        // A footer that places the header outside the file.
        var footer = bytes
        footer[bytes.count - 24 + 7] = 0x7F
        try Data(footer).write(to: URL(fileURLWithPath: directory + "/e.stz"))
        #expect(errorKind { _ = try STZFile(path: directory + "/e.stz") } == "STZInvalid")
    }

    @Test("a wrong SHA-256 in the header is caught by verification")
    func digestMismatch() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try compress(GoldenVectors.path("safetensors/scalar.safetensors"), to: directory + "/x.stz")
        let bytes = [UInt8](FileManager.default.contents(atPath: directory + "/x.stz")!)
        let digest = try STZFile(path: directory + "/x.stz").sourceSHA256
        let wrong = String(digest.reversed())
        try Data(rewritingHeader(bytes) { $0.replacingOccurrences(of: digest, with: wrong) }).write(
            to: URL(fileURLWithPath: directory + "/e.stz"))
        #expect(errorKind { try STZFile(path: directory + "/e.stz").verifyIntegrity() } == "STZDigestMismatch")
        #expect(
            errorKind { try STZFile(path: directory + "/e.stz").restore(to: directory + "/o.safetensors", inputPaths: []) }
                == "STZDigestMismatch")
        #expect(!FileManager.default.fileExists(atPath: directory + "/o.safetensors"))
    }
}

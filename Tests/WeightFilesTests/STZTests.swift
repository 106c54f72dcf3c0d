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

/// `bytes` of a .stz file with its JSON header replaced by `transform(header)` and the footer fixed
/// (offsets, and in a version 2 file the header's CRC-32 unless `keepChecksum`, which leaves the
/// recorded CRC as it was, as damage or a careless edit would).
func rewritingHeader(_ bytes: [UInt8], keepChecksum: Bool = false, _ transform: (String) -> String) -> [UInt8] {
    let footerLength = bytes[8] >= 2 ? 28 : 24
    let footer = bytes.count - footerLength
    let offset = bytes[footer..<(footer + 8)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    let header = String(decoding: bytes[offset..<footer], as: UTF8.self)
    let replaced = Array(transform(header).utf8)
    var out = Array(bytes[0..<offset]) + replaced
    for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: offset >> (8 * k))) }
    for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: replaced.count >> (8 * k))) }
    if footerLength == 28 {
        let crc = keepChecksum ? Array(bytes[(footer + 16)..<(footer + 20)]) : replaced.withUnsafeBytes { raw in
            let value = Inflater.crc32(raw)
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) }
        }
        out += crc
    }
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
        var generator = SplitMix64(state: 7)
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
        version[8] = 3
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

    /// The error a restore of `body` throws, nil when it succeeds.
    private func digestFinding(_ body: () throws -> Void) -> STZDigestFinding? {
        do {
            try body()
        } catch WeightFileError.stzDigestMismatch(_, _, let finding) {
            return finding
        } catch {
            Issue.record("expected STZDigestMismatch, got \(error)")
        }
        return nil
    }

    @Test("a wrong SHA-256 over tensors that all match their CRC-32s is reported as such, not blamed on a tensor")
    func digestMismatchWithMatchingTensors() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try compress(GoldenVectors.path("safetensors/all_dtypes.safetensors"), to: directory + "/x.stz")
        let bytes = [UInt8](FileManager.default.contents(atPath: directory + "/x.stz")!)
        let digest = try STZFile(path: directory + "/x.stz").sourceSHA256
        try Data(rewritingHeader(bytes) { $0.replacingOccurrences(of: digest, with: String(digest.reversed())) }).write(
            to: URL(fileURLWithPath: directory + "/e.stz"))
        #expect(digestFinding { try STZFile(path: directory + "/e.stz").verifyIntegrity() } == .tensorsMatch)
    }

    @Test("the writer records each tensor's CRC-32 of its bytes as data_crc32")
    func writerRecordsTensorCRCs() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = GoldenVectors.path("safetensors/all_dtypes.safetensors")
        try compress(source, to: directory + "/x.stz")
        let stz = try STZFile(path: directory + "/x.stz")
        let original = try WeightFiles.open(source)
        for (k, info) in stz.tensors.enumerated() {
            let crc = try original.tensor(named: info.name).bytes.withUnsafeBytes { Inflater.crc32($0) }
            #expect(stz.dataCRCs[k] == crc, "\(info.name)")
        }
    }

    @Test("a payload byte changed behind its chunk's and the header's CRC-32s decodes, and restore refuses it by default, naming the tensor and leaving nothing")
    func forgedPayloadCaughtByDefault() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let forged = try STZFile(path: GoldenVectors.path("stz/all_dtypes.forged_payload.stz"))
        let position = try #require(forged.tensors.firstIndex { $0.name == "int32" })
        _ = try forged.tensor(at: position)  // every chunk's CRC matches and it decodes
        let finding = digestFinding { try forged.restore(to: directory + "/out.safetensors", inputPaths: []) }
        guard case .tensor(let name, let expected, let actual)? = finding else {
            Issue.record("no tensor named: \(String(describing: finding))")
            return
        }
        #expect(name == "int32")
        #expect(expected == forged.dataCRCs[position] && actual != expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        // The in-memory restore names it too.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: forged.source.fileSize, alignment: 64)
        defer { buffer.deallocate() }
        #expect(digestFinding { try forged.restore(into: buffer, checkDigest: true) } == finding)
    }

    @Test("with the digest check skipped, the forged payload restores: exactly the flipped bit differs from the original")
    func forgedPayloadWithCheckSkipped() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let forged = try STZFile(path: GoldenVectors.path("stz/all_dtypes.forged_payload.stz"))
        try forged.restore(to: directory + "/out.safetensors", inputPaths: [], checkDigest: false)
        let restored = [UInt8](FileManager.default.contents(atPath: directory + "/out.safetensors")!)
        let original = [UInt8](FileManager.default.contents(atPath: GoldenVectors.path("safetensors/all_dtypes.safetensors"))!)
        #expect(restored.count == original.count)
        let differences = zip(restored, original).map { ($0 ^ $1).nonzeroBitCount }.reduce(0, +)
        #expect(differences == 1)
    }

    @Test("a container that records no data_crc32 (written before them) reads, and its digest mismatch says no tensor can be named")
    func forgedPayloadWithoutTensorCRCs() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bytes = [UInt8](FileManager.default.contents(atPath: GoldenVectors.path("stz/all_dtypes.forged_payload.stz"))!)
        try Data(
            rewritingHeader(bytes) { $0.replacingOccurrences(of: "\"data_crc32\":[0-9]+,", with: "", options: .regularExpression) }
        ).write(to: URL(fileURLWithPath: directory + "/old.stz"))
        let old = try STZFile(path: directory + "/old.stz")
        #expect(old.dataCRCs.allSatisfy { $0 == nil })
        #expect(digestFinding { try old.restore(to: directory + "/out.safetensors", inputPaths: []) } == .notRecorded)
        #expect(!FileManager.default.fileExists(atPath: directory + "/out.safetensors"))
    }

    @Test("a data_crc32 that is not a 32-bit unsigned integer is refused on open")
    func tensorCRCOutOfRange() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bytes = [UInt8](FileManager.default.contents(atPath: GoldenVectors.path("stz/all_dtypes.stz"))!)
        try Data(
            rewritingHeader(bytes) {
                $0.replacingOccurrences(of: "\"data_crc32\":[0-9]+,", with: "\"data_crc32\":4294967296,", options: .regularExpression)
            }
        ).write(to: URL(fileURLWithPath: directory + "/e.stz"))
        #expect(errorKind { _ = try STZFile(path: directory + "/e.stz") } == "STZInvalid")
    }

    @Test("a header changed behind its checksum (metadata bit, swapped chunk entries, another filter) is refused on open")
    func headerChecksum() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/m.safetensors"
        let values: [Float] = (0..<64).map { Float($0) * 0.25 - 3 }
        let tensor = TensorView(
            info: TensorInfo(name: "w", dtype: .f32, shape: [64]), copying: values.withUnsafeBytes { Array($0) })
        try Data(try SafetensorsWriter.serialize([tensor], metadata: Metadata([("format", "pt")]))).write(to: URL(fileURLWithPath: source))
        try compress(source, to: directory + "/x.stz", chunkSize: 64)
        let bytes = [UInt8](FileManager.default.contents(atPath: directory + "/x.stz")!)
        let stz = try STZFile(path: directory + "/x.stz")
        #expect(stz.version == 2)
        let first = stz.chunks[0][0]
        let second = stz.chunks[0][1]
        func entry(_ c: STZChunk) -> String { "[\(c.offset),\(c.storedLength),\(c.rawLength),\(c.crc)]" }
        let edits: [(String, (String) -> String)] = [
            // "pt" → "pu" is one bit (0x74 → 0x75), in the source header and its metadata copy.
            ("metadata bit", { $0.replacingOccurrences(of: "pt", with: "pu") }),
            (
                "swapped chunks",
                {
                    $0.replacingOccurrences(of: entry(first), with: "FIRST").replacingOccurrences(
                        of: entry(second), with: entry(first)
                    ).replacingOccurrences(of: "FIRST", with: entry(second))
                }
            ),
            ("filter", { $0.replacingOccurrences(of: "bytegroup4-rot1", with: "bytegroup4") }),
        ]
        for (name, edit) in edits {
            let edited = rewritingHeader(bytes, keepChecksum: true, edit)
            #expect(edited != bytes, "\(name): the edit changed nothing")
            try Data(edited).write(to: URL(fileURLWithPath: directory + "/e.stz"))
            #expect(errorKind { _ = try STZFile(path: directory + "/e.stz") } == "STZHeaderChecksum", "\(name)")
            // The same edit with its checksum fixed opens, and then decodes to other bytes than the source's
            // (so only the header checksum catches it without --verify).
            try Data(rewritingHeader(bytes, edit)).write(to: URL(fileURLWithPath: directory + "/f.stz"))
            let forged = try STZFile(path: directory + "/f.stz")
            try forged.restore(to: directory + "/f.safetensors", inputPaths: [], checkDigest: false)
            #expect(
                FileManager.default.contents(atPath: directory + "/f.safetensors")
                    != FileManager.default.contents(atPath: source), "\(name)")
        }
    }

    @Test("two chunks' bytes swapped in the data area fail their CRC-32s on restore, without --verify, and leave no output")
    func swappedChunkBytes() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/r.safetensors"
        var generator = SplitMix64(state: 3)
        let bytes = (0..<256).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let tensor = TensorView(info: TensorInfo(name: "r", dtype: .u8, shape: [256]), copying: bytes)
        try Data(try SafetensorsWriter.serialize([tensor], metadata: nil)).write(to: URL(fileURLWithPath: source))
        try compress(source, to: directory + "/x.stz", chunkSize: 64)
        var container = [UInt8](FileManager.default.contents(atPath: directory + "/x.stz")!)
        let stz = try STZFile(path: directory + "/x.stz")
        let (a, b) = (stz.chunks[0][0], stz.chunks[0][1])
        #expect(a.storedLength == b.storedLength)  // random bytes are stored: equal lengths
        let first = Array(container[a.offset..<(a.offset + a.storedLength)])
        container.replaceSubrange(a.offset..<(a.offset + a.storedLength), with: container[b.offset..<(b.offset + b.storedLength)])
        container.replaceSubrange(b.offset..<(b.offset + b.storedLength), with: first)
        try Data(container).write(to: URL(fileURLWithPath: directory + "/s.stz"))
        let swapped = try STZFile(path: directory + "/s.stz")
        #expect(throws: WeightFileError.stzChunkChecksum(tensor: "r", chunk: 0)) {
            try swapped.restore(to: directory + "/out.safetensors", inputPaths: [], checkDigest: false)
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/out.safetensors"))
    }

    @Test("version 1 containers (no header checksum), as the previous writer wrote them, restore byte for byte")
    func versionOneStillReads() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["all_dtypes", "odd_offsets"] {
            let stz = try STZFile(path: GoldenVectors.path("stz/\(name).v1.stz"))
            #expect(stz.version == 1)
            try stz.verifyIntegrity()
            try stz.restore(to: directory + "/\(name).safetensors", inputPaths: [], checkDigest: true)
            #expect(
                FileManager.default.contents(atPath: directory + "/\(name).safetensors")
                    == FileManager.default.contents(atPath: GoldenVectors.path("safetensors/\(name).safetensors")))
        }
    }

    @Test("the committed version 2 vectors restore their safetensors vector byte for byte")
    func versionTwoVectors() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["all_dtypes", "odd_offsets"] {
            let stz = try STZFile(path: GoldenVectors.path("stz/\(name).stz"))
            #expect(stz.version == 2)
            try stz.restore(to: directory + "/\(name).safetensors", inputPaths: [], checkDigest: true)
            #expect(
                FileManager.default.contents(atPath: directory + "/\(name).safetensors")
                    == FileManager.default.contents(atPath: GoldenVectors.path("safetensors/\(name).safetensors")))
        }
    }

    @Test("a legal 256 MiB chunk_size sizes no buffer: restore's buffers follow the chunks the file has")
    func largeDeclaredChunkSize() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try compress(GoldenVectors.path("safetensors/odd_offsets.safetensors"), to: directory + "/x.stz", chunkSize: 8)
        let bytes = [UInt8](FileManager.default.contents(atPath: directory + "/x.stz")!)
        try Data(rewritingHeader(bytes) { $0.replacingOccurrences(of: "\"chunk_size\":8,", with: "\"chunk_size\":268435456,") })
            .write(to: URL(fileURLWithPath: directory + "/big.stz"))
        var stz = try STZFile(path: directory + "/big.stz")
        stz.threads = 1000
        #expect(stz.chunkSize == 1 << 28)
        #expect(stz.largestChunk == 8)
        #expect(stz.windowCapacity <= 8 * 1000 * 8)
        try stz.restore(to: directory + "/out.safetensors", inputPaths: [], checkDigest: true)
        #expect(
            FileManager.default.contents(atPath: directory + "/out.safetensors")
                == FileManager.default.contents(atPath: GoldenVectors.path("safetensors/odd_offsets.safetensors")))
    }

    @Test("large chunks run fewer decoding workers: scratch and windows stay within the decode budget")
    func decodeBudget() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/z.safetensors"
        let count = 9 << 20
        let tensor = TensorView(
            info: TensorInfo(name: "z", dtype: .u8, shape: [count]), copying: [UInt8](repeating: 7, count: count))
        try Data(try SafetensorsWriter.serialize([tensor], metadata: nil)).write(to: URL(fileURLWithPath: source))
        try compress(source, to: directory + "/z.stz", chunkSize: 8 << 20, threads: 64)
        var stz = try STZFile(path: directory + "/z.stz")
        stz.threads = 64
        #expect(stz.largestChunk == 8 << 20)
        #expect(stz.decodeWorkers == STZLayout.decodeBudget / (8 << 20))
        #expect(stz.windowCapacity <= STZLayout.decodeBudget)
        try stz.verifyIntegrity()
        stz.threads = 1 << 40
        #expect(stz.decodeWorkers <= STZLayout.maxThreads)
    }
}

/// A checkpoint-like file with a large F32 tensor of normally distributed values and its BF16 copy,
/// so that chunks are big enough for the split (mode 2) deflate streams.
private func largeWeights(at path: String) throws {
    var state: UInt64 = 0x1234_5678
    func uniform() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (Double(state >> 11) + 0.5) / Double(1 << 53)
    }
    let count = 600_000
    let values = (0..<count).map { _ in Float((-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()) * 0.05) }
    let f32 = TensorView(
        info: TensorInfo(name: "w", dtype: .f32, shape: [count]), copying: values.withUnsafeBytes { Array($0) })
    let bf16 = try FloatConversion.cast(f32, to: .bf16)
    let renamed = TensorView(info: TensorInfo(name: "w_bf16", dtype: .bf16, shape: [count]), copying: bf16.copyBytes())
    try Data(try SafetensorsWriter.serialize([f32, renamed], metadata: nil)).write(to: URL(fileURLWithPath: path))
}

@Suite(".stz with full-size chunks")
struct STZLargeChunkTests {
    @Test("megabyte chunks (split deflate streams) restore byte for byte, from a file and into memory")
    func largeRoundTrip() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try largeWeights(at: directory + "/w.safetensors")
        var options = STZWriter.Options()
        options.threads = 2
        try STZWriter.write(
            try WeightFiles.open(directory + "/w.safetensors"), inputPaths: [directory + "/w.safetensors"],
            to: directory + "/w.stz",
            options: options)
        let source = FileManager.default.contents(atPath: directory + "/w.safetensors")!
        let packed = FileManager.default.contents(atPath: directory + "/w.stz")!
        #expect(packed.count < source.count * 9 / 10)
        let stz = try STZFile(path: directory + "/w.stz")
        try stz.verifyIntegrity()
        try stz.restore(to: directory + "/back.safetensors", inputPaths: [])
        #expect(FileManager.default.contents(atPath: directory + "/back.safetensors") == source)
        #expect(
            try stz.tensor(named: "w_bf16").copyBytes()
                == WeightFiles.open(directory + "/w.safetensors").tensor(named: "w_bf16").copyBytes())
    }

    @Test(
        "bit flips inside coded streams, with the chunk CRC forged to match, give typed errors, never a crash or a silent success"
    )
    func forgedChecksums() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try largeWeights(at: directory + "/w.safetensors")
        try STZWriter.write(
            try WeightFiles.open(directory + "/w.safetensors"), inputPaths: [directory + "/w.safetensors"],
            to: directory + "/w.stz",
            options: STZWriter.Options())
        let original = [UInt8](FileManager.default.contents(atPath: directory + "/w.stz")!)
        let stz = try STZFile(path: directory + "/w.stz")
        var trials = 0
        for table in stz.chunks {
            for chunk in table {
                for fraction in [0.05, 0.3, 0.55, 0.8, 0.97] {
                    var bytes = original
                    let position = chunk.offset + Int(Double(chunk.storedLength) * fraction)
                    bytes[position] ^= 0x04
                    let crc = Array(bytes[chunk.offset..<(chunk.offset + chunk.storedLength)]).withUnsafeBytes {
                        Inflater.crc32($0)
                    }
                    var replaced = false
                    let forged = rewritingHeader(bytes) { header in
                        for separator in [",", ", "] {
                            let fields = [chunk.offset, chunk.storedLength, chunk.rawLength]
                            let old = "[" + (fields + [Int(chunk.crc)]).map(String.init).joined(separator: separator) + "]"
                            let new = "[" + (fields + [Int(crc)]).map(String.init).joined(separator: separator) + "]"
                            if header.contains(old) {
                                replaced = true
                                return header.replacingOccurrences(of: old, with: new)
                            }
                        }
                        return header
                    }
                    #expect(replaced, "chunk entry not found in the header")
                    try Data(forged).write(to: URL(fileURLWithPath: directory + "/bad.stz"))
                    let damaged = try STZFile(path: directory + "/bad.stz")
                    // Decoding either fails with a typed error, or yields other bytes that the SHA-256 catches.
                    #expect(throws: WeightFileError.self) { try damaged.verifyIntegrity() }
                    trials += 1
                }
            }
        }
        #expect(trials >= 10)
    }
}

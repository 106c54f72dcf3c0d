import Foundation
import Testing
import WeightFiles

/// The manifest names three errors by what is wrong with the file; Retort names them
/// by the check that fails. Every other kind is compared as written.
private let retortKind = [
    "NPYTruncated": "NPYDataSize",
    "NPZTruncated": "ZipInvalid",
    "NPZBomb": "DecompressedSizeExceeded",
]

private func open(_ vector: GoldenVectors.Vector) throws(WeightFileError) -> any WeightFile {
    let path = GoldenVectors.path(vector.file)
    return vector.format == "npz" ? try NPZFile(path: path) : try NPYFile(path: path)
}

/// Opens the file and reads every tensor, returning the first error.
private func firstError(_ open: () throws(WeightFileError) -> any WeightFile) -> WeightFileError? {
    do {
        let file = try open()
        for info in file.tensors { _ = try file.tensor(named: info.name) }
        return nil
    } catch {
        return error
    }
}

/// The bytes of a vector file.
private func contents(_ file: String) throws -> [UInt8] {
    [UInt8](try #require(FileManager.default.contents(atPath: GoldenVectors.path(file))))
}

/// A copy of the view's bytes (taken while the view, and so its storage, is alive).
private func bytes(_ view: TensorView) -> [UInt8] { view.copyBytes() }

/// NPY bytes with the given header dictionary text (version 1.0) and data.
private func npy(_ header: String, data: [UInt8] = []) -> ByteStorage { ByteStorage(copying: npyBytes(header, data: data)) }

private func npyBytes(_ header: String, data: [UInt8] = []) -> [UInt8] {
    var text = Array(header.utf8)
    while (10 + text.count + 1) % 64 != 0 { text.append(0x20) }
    text.append(0x0A)
    let length = [UInt8(text.count & 0xFF), UInt8(text.count >> 8)]
    return NPYHeader.magic + [1, 0] + length + text + data
}

private func header(_ descr: String, _ shape: String, fortran: String = "False") -> String {
    "{'descr': \(descr), 'fortran_order': \(fortran), 'shape': \(shape), }"
}

struct NumPyTests {
    static let valid = (GoldenVectors.vectors(format: "npy") + GoldenVectors.vectors(format: "npz"))
        .filter { $0.expect_error == nil }
    static let invalid = (GoldenVectors.vectors(format: "npy") + GoldenVectors.vectors(format: "npz"))
        .filter { $0.expect_error != nil }

    @Test func theManifestHasNumPyVectors() {
        #expect(NumPyTests.valid.count >= 20)
        #expect(NumPyTests.invalid.count >= 6)
    }

    @Test(arguments: valid.filter { v in v.tensors.allSatisfy { DType(name: $0.dtype) != nil } }.map(\.file))
    func validVectorReadsAsTheManifestSays(file: String) throws {
        let vector = try #require(NumPyTests.valid.first { $0.file == file })
        let weights = try open(vector)
        #expect(weights.tensors.count == vector.tensors.count)
        for expected in vector.tensors {
            // The manifest leaves a lone .npy array unnamed; Retort names it after the file.
            let name =
                vector.format == "npy"
                ? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
                : expected.name
            let view = try weights.tensor(named: name)
            #expect(view.dtype.name == expected.dtype, "\(file) \(name)")
            #expect(view.shape == expected.shape, "\(file) \(name)")
            let hex = try #require(expected.data_hex, "\(file) \(name) has no data_hex")
            #expect(bytes(view) == [UInt8](hex: hex), "\(file) \(name)")
        }
    }

    /// `complex128` has no safetensors dtype (the manifest calls it `C128`), so Retort refuses it.
    @Test(arguments: valid.filter { v in v.tensors.contains { DType(name: $0.dtype) == nil } }.map(\.file))
    func vectorWithoutADTypeIsUnsupported(file: String) throws {
        let vector = try #require(NumPyTests.valid.first { $0.file == file })
        #expect(firstError { () throws(WeightFileError) in try open(vector) }?.kind == "NPYUnsupportedDType")
    }

    @Test(arguments: invalid.map(\.file))
    func errorVectorGivesTheManifestKind(file: String) throws {
        let vector = try #require(NumPyTests.invalid.first { $0.file == file })
        let kind = try #require(vector.expect_error?.kind)
        let error = firstError { () throws(WeightFileError) in try open(vector) }
        #expect(error?.kind == (retortKind[kind] ?? kind), "\(file): \(String(describing: error))")
    }

    @Test func npyTruncatedAtEveryByteFails() throws {
        let whole = try contents("npy/f32.npy")
        for n in 0..<whole.count {
            let cut = ByteStorage(copying: whole.prefix(n))
            #expect(firstError { () throws(WeightFileError) in try NPYFile(storage: cut, name: "x") } != nil, "cut at \(n)")
        }
    }

    @Test(arguments: ["npz/stored.npz", "npz/compressed.npz"])
    func npzTruncatedAtEveryByteFails(file: String) throws {
        let whole = try contents(file)
        for n in 0..<whole.count {
            let cut = ByteStorage(copying: whole.prefix(n))
            #expect(firstError { () throws(WeightFileError) in try NPZFile(storage: cut) } != nil, "cut at \(n)")
        }
    }

    /// Any single corrupted byte either still reads (padding, timestamps, data bytes of
    /// an NPY file) or gives an error; it never traps.
    @Test(arguments: ["npy/f32.npy", "npy/be_f4.npy", "npy/fortran_2x3x4.npy", "npz/stored.npz", "npz/compressed.npz"])
    func corruptingAnyByteNeverTraps(file: String) throws {
        let whole = try contents(file)
        for i in whole.indices {
            for value: UInt8 in [0x00, 0xFF, whole[i] ^ 0x01] {
                var bytes = whole
                bytes[i] = value
                let storage = ByteStorage(copying: bytes)
                _ = firstError { () throws(WeightFileError) in
                    if file.hasSuffix(".npz") { return try NPZFile(storage: storage) }
                    return try NPYFile(storage: storage, name: "x")
                }
            }
        }
    }

    @Test func deflateBombStopsAtTheDeclaredSize() throws {
        let archive = try NPZFile(path: GoldenVectors.path("npz/bomb.npz"))
        #expect(archive.tensors.map(\.name) == ["x"])
        // The entry declares 192 bytes; its stream would inflate to 50 MB.
        #expect(throws: WeightFileError.decompressedSizeExceeded(entry: "x.npy", limit: 192)) {
            try archive.tensor(named: "x")
        }
    }

    @Test func npyTensorIsNamedAfterTheFileStem() throws {
        let file = try NPYFile(path: GoldenVectors.path("npy/f32.npy"))
        #expect(file.tensors.map(\.name) == ["f32"])
        #expect(file.format == .npy)
    }

    @Test func littleEndianCOrderDataIsAViewIntoTheMap() throws {
        let file = try NPYFile(path: GoldenVectors.path("npy/f32.npy"))
        let view = try file.tensor(named: "f32")
        #expect(view.storage === file.storage)
        #expect(view.byteRange.lowerBound == file.header.dataOffset)
        #expect(file.tensors[0].fileOffset == file.header.dataOffset)
    }

    @Test func bigEndianAndFortranDataAreDecodedIntoOwnedMemory() throws {
        for name in ["be_f4", "fortran_3x4"] {
            let file = try NPYFile(path: GoldenVectors.path("npy/\(name).npy"))
            #expect(try file.tensor(named: name).storage !== file.storage)
        }
    }

    @Test func npyTrailingBytesAreIgnoredAsNumpyDoes() throws {
        let whole = try contents("npy/int8.npy")
        let file = try NPYFile(storage: ByteStorage(copying: whole + [1, 2, 3]), name: "int8")
        #expect(bytes(try file.tensor(named: "int8")) == Array(whole.suffix(10)))
    }

    @Test func npzStoredEntryFileOffsetPointsAtTheData() throws {
        let vector = try #require(NumPyTests.valid.first { $0.file == "npz/stored.npz" })
        let archive = try NPZFile(path: GoldenVectors.path(vector.file))
        let file = try contents(vector.file)
        #expect(archive.format == .npz)
        for expected in vector.tensors where expected.name != "be" {
            let offset = try #require(archive.info(named: expected.name)?.fileOffset)
            let want = [UInt8](hex: try #require(expected.data_hex))
            #expect(Array(file[offset..<(offset + want.count)]) == want, "\(expected.name)")
        }
    }

    @Test func npzDeflatedEntriesHaveNoFileOffset() throws {
        let archive = try NPZFile(path: GoldenVectors.path("npz/compressed.npz"))
        #expect(archive.tensors.allSatisfy { $0.fileOffset == nil })
        #expect(archive.archive.entries.allSatisfy { $0.method == 8 })
    }

    @Test func npzCorruptedStoredDataFailsTheCRC() throws {
        let archive = try NPZFile(path: GoldenVectors.path("npz/stored.npz"))
        let offset = try #require(archive.info(named: "ids")?.fileOffset)
        var bytes = try contents("npz/stored.npz")
        bytes[offset] ^= 0xFF
        let corrupted = try NPZFile(storage: ByteStorage(copying: bytes))
        #expect(throws: WeightFileError.zipChecksum(entry: "ids.npy")) { try corrupted.tensor(named: "ids") }
    }

    /// Two central-directory records pointing at the same local header (the trick of
    /// non-recursive zip bombs) are refused, whatever their names.
    @Test func npzEntriesSharingBytesAreRefused() throws {
        var bytes = try contents("npz/stored.npz")
        let end = bytes.count - 22  // numpy writes no archive comment
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        func put(_ value: Int, _ at: Int, _ size: Int) { for i in 0..<size { bytes[at + i] = UInt8((value >> (8 * i)) & 0xFF) } }
        let directory = u32(end + 16)
        let firstLength =
            46 + (0..<3).reduce(0) { $0 + Int(bytes[directory + 28 + 2 * $1]) | Int(bytes[directory + 29 + 2 * $1]) << 8 }
        let count = Int(bytes[end + 10]) | Int(bytes[end + 11]) << 8
        bytes.insert(contentsOf: bytes[directory..<(directory + firstLength)], at: directory + firstLength)
        let newEnd = end + firstLength
        put(count + 1, newEnd + 8, 2)
        put(count + 1, newEnd + 10, 2)
        put(u32(newEnd + 12) + firstLength, newEnd + 12, 4)
        let error = firstError { () throws(WeightFileError) in try NPZFile(storage: ByteStorage(copying: bytes)) }
        #expect(error?.kind == "ZipInvalid", "\(String(describing: error))")
        #expect(error?.description.contains("overlaps") == true, "\(String(describing: error))")
    }

    // MARK: Header grammar

    @Test(arguments: [
        ("{'descr': '<f4', 'fortran_order': False}", "missing shape"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "extra key"),
        ("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "duplicate key"),
        (header("'<f4'", "(2)"), "a parenthesised int is not a tuple"),
        (header("'<f4'", "[2]"), "a list is not a tuple"),
        (header("'<f4'", "(-1,)"), "negative dimension"),
        (header("'<f4'", "(2.0,)"), "float dimension"),
        (header("'<f4'", "(2,)", fortran: "0"), "fortran_order not a bool"),
        (header("'<f4'", "(2,)", fortran: "__import__('os')"), "code"),
        (header("'<f4'", "(2,)") + " x", "text after the dict"),
        (header("'<f4", "(2,)"), "unterminated string"),
        ("[" + header("'<f4'", "(2,)") + "]", "not a dict"),
        (header("'<f4'", "(" + String(repeating: "(", count: 40) + ")"), "nesting"),
    ])
    func malformedHeaderIsNPYBadHeader(text: String, what: String) {
        let error = firstError { () throws(WeightFileError) in
            try NPYFile(storage: npy(text, data: [0, 0, 0, 0, 0, 0, 0, 0]), name: "x")
        }
        #expect(error?.kind == "NPYBadHeader", "\(what): \(String(describing: error))")
    }

    @Test(arguments: [
        ("'<c16'", "NPYUnsupportedDType"), ("'<U5'", "NPYUnsupportedDType"), ("'<M8[ns]'", "NPYUnsupportedDType"),
        ("'<f16'", "NPYUnsupportedDType"), ("'=f4'", "NPYUnsupportedDType"), ("'float32'", "NPYUnsupportedDType"),
        ("('<f4', (2,))", "NPYUnsupportedDType"), ("'|O'", "NPYObjectDType"),
        ("[('a', '<i4')]", "NPYStructuredDType"), ("[('a', '|O')]", "NPYObjectDType"), ("1", "NPYBadHeader"),
    ])
    func descrIsMappedOrRefused(descr: String, kind: String) {
        let error = firstError { () throws(WeightFileError) in
            try NPYFile(storage: npy(header(descr, "(1,)"), data: [UInt8](repeating: 0, count: 16)), name: "x")
        }
        #expect(error?.kind == kind, "\(descr): \(String(describing: error))")
    }

    @Test func everyNumPyDescrMapsToItsDType() throws {
        let pairs: [(String, DType)] = [
            ("|b1", .bool), ("|u1", .u8), ("|i1", .i8), ("<i2", .i16), ("<u2", .u16), ("<i4", .i32), ("<u4", .u32),
            ("<i8", .i64), ("<u8", .u64), ("<f2", .f16), ("<f4", .f32), (">f8", .f64), ("<c8", .c64),
        ]
        for (descr, dtype) in pairs {
            let file = try NPYFile(storage: npy(header("'\(descr)'", "()"), data: [UInt8](repeating: 0, count: 8)), name: "x")
            #expect(file.tensors[0].dtype == dtype, "\(descr)")
            #expect(file.tensors[0].shape == [], "\(descr)")
        }
    }

    @Test func shapeWhoseByteCountOverflowsIsRefused() {
        for shape in ["(4611686018427387904, 4)", "(99999999999999999999999,)", "(2, 4611686018427387903)"] {
            let error = firstError { () throws(WeightFileError) in try NPYFile(storage: npy(header("'<f4'", shape)), name: "x") }
            #expect(error?.kind == "NPYShapeOverflow", "\(shape): \(String(describing: error))")
        }
    }

    @Test func python2LongSuffixAndDoubleQuotesAreAccepted() throws {
        let file = try NPYFile(
            storage: npy("{\"descr\": \"<i2\", \"fortran_order\": False, \"shape\": (2L, 1L)}", data: [1, 0, 2, 0]), name: "x")
        #expect(file.tensors[0].shape == [2, 1])
        #expect(bytes(try file.tensor(named: "x")) == [1, 0, 2, 0])
    }

    @Test func bigEndianComplexSwapsEachHalf() throws {
        // 1 + 2i as two big-endian floats.
        let data: [UInt8] = [0x3F, 0x80, 0, 0, 0x40, 0, 0, 0]
        let file = try NPYFile(storage: npy(header("'>c8'", "(1,)"), data: data), name: "z")
        #expect(bytes(try file.tensor(named: "z")) == [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])
    }

    @Test func unsupportedVersionIsRefused() {
        var bytes = npyBytes(header("'<f4'", "()"), data: [0, 0, 0, 0])
        bytes[6] = 4
        let error = firstError { () throws(WeightFileError) in try NPYFile(storage: ByteStorage(copying: bytes), name: "x") }
        #expect(error == .npyUnsupportedVersion(major: 4, minor: 0))
    }
}

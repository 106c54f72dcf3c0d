import Foundation
import Testing
import WeightFiles

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `body` with every new output file taking the `mkstemp` fallback (no `O_TMPFILE`).
private func withoutUnnamedFiles<T>(_ body: () throws -> T) rethrows -> T {
    AtomicOutputFile.avoidsUnnamedFiles = true
    defer { AtomicOutputFile.avoidsUnnamedFiles = false }
    return try body()
}

/// Serialized: the fallback tests flip a process-wide switch that the O_TMPFILE test must not see.
@Suite("Output files", .serialized)
struct OutputFileTests {
    @Test("the temporary file has no name while it is written (O_TMPFILE), and the output appears only on commit")
    func unnamedUntilCommit() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = try AtomicOutputFile(path: directory + "/out.bin")
        #expect(file.isUnnamed)
        try file.write([1, 2, 3])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        try file.commit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["out.bin"])
        #expect(FileManager.default.contents(atPath: directory + "/out.bin") == Data([1, 2, 3]))
    }

    @Test("temporary files left by a killed process are removed by the next output to the same name; a live process's stay")
    func staleTemporariesRemoved() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A process that has exited: its PID is free (and not reused this quickly in practice).
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = directory + "/.out.bin.retort-\(finished.processIdentifier)-a1B2c3"
        let live = directory + "/.out.bin.retort-\(getpid())-zzzzzz"
        let other = directory + "/.other.bin.retort-\(finished.processIdentifier)-a1B2c3"
        let unrelated = directory + "/.out.bin.retort-notapid"
        for path in [dead, live, other, unrelated] { try Data([0]).write(to: URL(fileURLWithPath: path)) }
        let file = try AtomicOutputFile(path: directory + "/out.bin")
        file.abandon()
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
        #expect(!left.contains(".out.bin.retort-\(finished.processIdentifier)-a1B2c3"))
        #expect(left.contains(".out.bin.retort-\(getpid())-zzzzzz"))
        #expect(left.contains(".other.bin.retort-\(finished.processIdentifier)-a1B2c3"))
        #expect(left.contains(".out.bin.retort-notapid"))
    }

    @Test("without O_TMPFILE the temporary file is a named .NAME.retort-PID-XXXXXX beside the output, renamed into place on commit")
    func fallbackCommits() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tensor = TensorView(info: TensorInfo(name: "w", dtype: .u8, shape: [3]), copying: [7, 8, 9])
        try withoutUnnamedFiles {
            let file = try AtomicOutputFile(path: directory + "/out.bin")
            #expect(!file.isUnnamed)
            try file.write([1, 2, 3])
            let during = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(during.count == 1 && during[0].hasPrefix(".out.bin\(AtomicOutputFile.temporaryMarker)\(getpid())-"))
            #expect(!FileManager.default.fileExists(atPath: directory + "/out.bin"))
            try file.commit()
            // And through a writer, over an existing file.
            try SafetensorsWriter.write(
                tensors: [tensor.info], metadata: nil, to: directory + "/w.safetensors", data: { _ in tensor })
            try SafetensorsWriter.write(
                tensors: [tensor.info], metadata: nil, to: directory + "/w.safetensors", data: { _ in tensor })
        }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory)) == ["out.bin", "w.safetensors"])
        #expect(FileManager.default.contents(atPath: directory + "/out.bin") == Data([1, 2, 3]))
        #expect(try WeightFiles.open(directory + "/w.safetensors").tensor(named: "w").copyBytes() == [7, 8, 9])
    }

    @Test("without O_TMPFILE a write that fails midway leaves no temporary file and the existing output as it was")
    func fallbackFailureLeavesNothing() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = directory + "/out.safetensors"
        try Data("previous".utf8).write(to: URL(fileURLWithPath: output))
        let info = TensorInfo(name: "w", dtype: .u8, shape: [4 << 20])
        let failure = WeightFileError.io(path: output, operation: "write", message: "No space left on device")
        var during: [String] = []
        #expect(throws: failure) {
            try withoutUnnamedFiles {
                // 2 MiB reach the temporary file (past the 1 MiB buffer), then the write fails.
                try SafetensorsWriter.writeStreaming(tensors: [info], metadata: nil, to: output) {
                    (sink) throws(WeightFileError) in
                    let half = [UInt8](repeating: 5, count: 2 << 20)
                    try half.withUnsafeBytes { raw in Result { () throws(WeightFileError) in try sink(raw) } }.get()
                    during = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                    throw failure
                }
            }
        }
        #expect(during.count == 2 && during.contains { $0.hasPrefix(".out.safetensors\(AtomicOutputFile.temporaryMarker)") })
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["out.safetensors"])
        #expect(FileManager.default.contents(atPath: output) == Data("previous".utf8))
    }

    @Test("without O_TMPFILE the input is never overwritten: the same file, a hard link or a symlink to it is refused, nothing created")
    func fallbackNeverOverwritesInput() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/in.safetensors"
        let tensor = TensorView(info: TensorInfo(name: "w", dtype: .u8, shape: [3]), copying: [1, 2, 3])
        try Data(try SafetensorsWriter.serialize([tensor], metadata: nil)).write(to: URL(fileURLWithPath: input))
        let original = FileManager.default.contents(atPath: input)
        #expect(link(input, directory + "/hard.safetensors") == 0)
        #expect(symlink(input, directory + "/soft.safetensors") == 0)
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
        try withoutUnnamedFiles {
            let file = try WeightFiles.open(input)
            for alias in [input, directory + "/hard.safetensors", directory + "/soft.safetensors"] {
                #expect(throws: WeightFileError.outputIsInput(path: alias)) {
                    try Converter.convertToSafetensors(file, inputPaths: [input], output: alias, dtype: .f16, overwrite: true)
                }
            }
        }
        #expect(FileManager.default.contents(atPath: input) == original)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory)) == before)
    }

    @Test("a FIFO, a directory or a socket at the output path is refused even when overwriting is allowed")
    func specialFilesRefused() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(mkfifo(directory + "/fifo", 0o600) == 0)
        try FileManager.default.createDirectory(atPath: directory + "/dir", withIntermediateDirectories: false)
        #expect(throws: WeightFileError.outputNotRegularFile(path: directory + "/fifo", kind: "a FIFO")) {
            _ = try AtomicOutputFile(path: directory + "/fifo", overwrite: true)
        }
        #expect(throws: WeightFileError.outputNotRegularFile(path: directory + "/dir", kind: "a directory")) {
            _ = try AtomicOutputFile(path: directory + "/dir", overwrite: true)
        }
        #expect(throws: WeightFileError.outputNotRegularFile(path: "/dev/null", kind: "a character device")) {
            _ = try AtomicOutputFile(path: "/dev/null", overwrite: true)
        }
    }

    @Test("a directory the output cannot be created in gives an error naming the output, not a system call")
    func uncreatableNamesOutput() throws {
        #expect {
            _ = try AtomicOutputFile(path: "/nonexistent-retort-dir/out.bin")
        } throws: { error in
            guard case .io(let path, let operation, _) = error as? WeightFileError else { return false }
            return path == "/nonexistent-retort-dir/out.bin" && operation == "create"
        }
    }
}

@Suite("gzip/zlib-wrapped safetensors read as a stream")
struct CompressedSafetensorsTests {
    @Test("tensors out of canonical order convert in one streaming pass, each piece at its place: the reference library's file, nothing inflated whole")
    func nonCanonicalOrderStreams() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = GoldenVectors.path("compressed/noncanonical.safetensors.gz")
        let file = try #require(try WeightFiles.open(source) as? CompressedSafetensorsFile)
        #expect(file.tensors.map(\.name) != SafetensorsWriter.canonicalOrder(file.tensors).map(\.name))
        try Converter.convertToSafetensors(file, inputPaths: [source], output: directory + "/out.safetensors")
        #expect(!file.hasInflatedWhole)
        #expect(
            FileManager.default.contents(atPath: directory + "/out.safetensors")
                == FileManager.default.contents(atPath: GoldenVectors.path("compressed/noncanonical.expected.safetensors")))
    }

    @Test("tensors out of canonical order cast with --dtype give what the plain file's conversion gives")
    func nonCanonicalOrderCasts() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let plain = GoldenVectors.path("compressed/noncanonical.safetensors")
        let wrapped = GoldenVectors.path("compressed/noncanonical.safetensors.gz")
        try Converter.convertToSafetensors(
            try WeightFiles.open(plain), inputPaths: [plain], output: directory + "/plain.safetensors", dtype: .bf16)
        let file = try WeightFiles.open(wrapped)
        try Converter.convertToSafetensors(file, inputPaths: [wrapped], output: directory + "/wrapped.safetensors", dtype: .bf16)
        #expect((file as? CompressedSafetensorsFile)?.hasInflatedWhole == false)
        let written = FileManager.default.contents(atPath: directory + "/wrapped.safetensors")
        #expect(written != nil && written == FileManager.default.contents(atPath: directory + "/plain.safetensors"))
    }

    @Test("a placed write that leaves a tensor short is refused naming the tensor, and leaves nothing")
    func placedWriteMustCoverEveryTensor() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tensors = SafetensorsWriter.canonicalOrder([
            TensorInfo(name: "a", dtype: .u8, shape: [4]), TensorInfo(name: "b", dtype: .u8, shape: [2]),
        ])
        #expect(throws: WeightFileError.tensorInvalidInfo(tensor: "a", expectedBytes: 4, declaredBytes: 3)) {
            try SafetensorsWriter.writePlaced(tensors: tensors, metadata: nil, to: directory + "/out.safetensors") {
                (place) throws(WeightFileError) in
                try [UInt8]([1, 2]).withUnsafeBytes { raw in Result { () throws(WeightFileError) in try place(1, 0, raw) } }.get()
                try [UInt8]([1, 2, 3]).withUnsafeBytes { raw in Result { () throws(WeightFileError) in try place(0, 0, raw) } }.get()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test("opening reads the header only: a file cut short in its data opens, lists its tensors, and fails when read")
    func headerOnlyOpen() throws {
        let file = try WeightFiles.open(GoldenVectors.path("compressed/truncated.safetensors.gz"))
        #expect(file is CompressedSafetensorsFile)
        #expect(!file.tensors.isEmpty)
        #expect(errorKind { _ = try Verifier.verify(file) } == "CompressedTruncated")
    }

    @Test("pieces, tensors read in order, and tensors read out of order give the same bytes (gzip against zlib)")
    func sameBytesEveryWay() throws {
        let compressed = try WeightFiles.open(GoldenVectors.path("compressed/model.safetensors.gz"))
        let reference = try WeightFiles.open(GoldenVectors.path("compressed/model.safetensors.zlib"))
        #expect(compressed.tensors.map(\.name) == reference.tensors.map(\.name))
        for position in compressed.tensors.indices {
            #expect(try compressed.tensor(at: position).copyBytes() == reference.tensor(at: position).copyBytes())
        }
        // Backwards now: the whole file is inflated once.
        for position in compressed.tensors.indices.reversed() {
            #expect(try compressed.tensor(at: position).copyBytes() == reference.tensor(at: position).copyBytes())
        }
        var pieces: [Int: [UInt8]] = [:]
        try (compressed as! CompressedSafetensorsFile).forEachPiece { (position, offset, bytes) throws(WeightFileError) in
            #expect(pieces[position, default: []].count == offset)
            pieces[position, default: []] += Array(bytes)
        }
        for position in compressed.tensors.indices where compressed.tensors[position].byteCount > 0 {
            #expect(pieces[position] == (try reference.tensor(at: position).copyBytes()))
        }
    }
}

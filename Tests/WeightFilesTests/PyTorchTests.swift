import Foundation
import Testing
import WeightFiles

/// The PyTorch vectors: `formats/vectors/pytorch/manifest.json`, written by `scripts/make_pytorch_vectors.py`.
private enum PyTorchVectors {
    static let manifest: GoldenVectors.Manifest = {
        let data = FileManager.default.contents(atPath: GoldenVectors.path("pytorch/manifest.json"))!
        return try! JSONDecoder().decode(GoldenVectors.Manifest.self, from: data)
    }()
    static let valid = manifest.vectors.filter { $0.expect_error == nil && $0.format != "pytorch-sharded" }
    static let invalid = manifest.vectors.filter { $0.expect_error != nil }
    static func vector(_ file: String) -> GoldenVectors.Vector { manifest.vectors.first { $0.file == file }! }
}

/// Opens the file and reads every tensor, returning the first error.
private func firstError(_ path: String) -> WeightFileError? {
    do throws(WeightFileError) {
        let file = try PyTorchCheckpoint(path: path)
        for position in file.tensors.indices { _ = try file.tensor(at: position) }
        return nil
    } catch {
        return error
    }
}

private func sha256Hex(_ bytes: [UInt8]) -> String {
    bytes.withUnsafeBytes { SHA256.hex($0) }
}

/// The tensors and metadata of `file` match the manifest: names in order, dtypes, shapes, bytes.
private func expectMatches(_ file: any WeightFile, _ vector: GoldenVectors.Vector) throws {
    #expect(file.tensors.map(\.name) == vector.tensors.map(\.name), "\(vector.file)")
    for expected in vector.tensors {
        let view = try file.tensor(named: expected.name)
        #expect(view.dtype.name == expected.dtype, "\(vector.file) \(expected.name)")
        #expect(view.shape == expected.shape, "\(vector.file) \(expected.name)")
        let bytes = view.copyBytes()
        if let hex = expected.data_hex {
            #expect(bytes == [UInt8](hex: hex), "\(vector.file) \(expected.name)")
        } else {
            #expect(sha256Hex(bytes) == expected.data_sha256, "\(vector.file) \(expected.name)")
        }
    }
    let metadata = Dictionary(uniqueKeysWithValues: (file.metadata.map { Array($0) } ?? []).map { ($0.key, $0.value) })
    #expect(metadata == (vector.metadata ?? [:]), "\(vector.file)")
}

@Suite("PyTorch checkpoints")
struct PyTorchTests {
    @Test func theManifestHasPyTorchVectors() {
        #expect(PyTorchVectors.valid.count >= 15)
        #expect(PyTorchVectors.invalid.count >= 15)
    }

    @Test("torch.save files read bit-identically to torch.load(weights_only=True)", arguments: PyTorchVectors.valid.map(\.file))
    func validVectorReadsAsTorchLoads(file: String) throws {
        let vector = PyTorchVectors.vector(file)
        let checkpoint = try PyTorchCheckpoint(path: GoldenVectors.path(file))
        #expect(checkpoint.format == (vector.format == "pytorch-legacy" ? .pickle : .pytorchZip))
        try expectMatches(checkpoint, vector)
    }

    @Test("hostile and malformed files give their error kind", arguments: PyTorchVectors.invalid.map(\.file))
    func invalidVectorIsRefused(file: String) {
        let vector = PyTorchVectors.vector(file)
        let error = firstError(GoldenVectors.path(file))
        #expect(error?.kind == vector.expect_error?.kind, "\(file): \(error.map { "\($0)" } ?? "no error")")
    }

    @Test("a __reduce__ payload calling os.system is refused and never runs")
    func osSystemPayloadNeverRuns() throws {
        let marker = "/tmp/retort-pytorch-vector-marker"
        try? FileManager.default.removeItem(atPath: marker)
        for file in ["os_system.pt", "eval.pt", "subprocess.pt", "stack_global_memo.pt"] {
            let error = firstError(GoldenVectors.path("pytorch/" + file))
            #expect(error?.kind == "PickleForbiddenGlobal", "\(file)")
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test("the forbidden global is named in the error")
    func forbiddenGlobalIsNamed() {
        let error = firstError(GoldenVectors.path("pytorch/os_system.pt"))
        guard case .pickleForbiddenGlobal(_, let global, _) = error else {
            Issue.record("expected pickleForbiddenGlobal, got \(String(describing: error))")
            return
        }
        #expect(global == "posix.system")
        let memo = firstError(GoldenVectors.path("pytorch/stack_global_memo.pt"))
        guard case .pickleForbiddenGlobal(_, let built, _) = memo else {
            Issue.record("expected pickleForbiddenGlobal, got \(String(describing: memo))")
            return
        }
        #expect(built == "posix.system")
    }

    @Test("a contiguous little-endian tensor is a view into the memory map")
    func contiguousTensorIsAView() throws {
        let checkpoint = try PyTorchCheckpoint(path: GoldenVectors.path("pytorch/views.pt"))
        let view = try checkpoint.tensor(named: "matrix")
        #expect(view.storage === checkpoint.storage)
        #expect(checkpoint.info(named: "matrix")?.fileOffset == view.byteRange.lowerBound)
        let strided = try checkpoint.tensor(named: "transposed")
        #expect(strided.storage !== checkpoint.storage)
        #expect(checkpoint.info(named: "transposed")?.fileOffset == nil)
    }

    @Test("tied weights share bytes and both read")
    func tiedWeightsShareStorage() throws {
        let checkpoint = try PyTorchCheckpoint(path: GoldenVectors.path("pytorch/tied.pt"))
        let a = try checkpoint.tensor(named: "embed.weight")
        let b = try checkpoint.tensor(named: "lm_head.weight")
        #expect(a.byteRange == b.byteRange)
        #expect(a.copyBytes() == b.copyBytes())
    }

    @Test("a state dict's _metadata becomes one metadata entry")
    func moduleMetadataIsKept() throws {
        let checkpoint = try PyTorchCheckpoint(path: GoldenVectors.path("pytorch/module_state_dict.pt"))
        #expect(checkpoint.tensors.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(checkpoint.metadata?["_metadata"]?.hasPrefix("{'': {'version': 1}") == true)
    }

    @Test("nested training checkpoints are named by dotted paths")
    func nestedNames() throws {
        let checkpoint = try PyTorchCheckpoint(path: GoldenVectors.path("pytorch/training.pt"))
        let names = Set(checkpoint.tensors.map(\.name))
        #expect(names.contains("model.0.weight"))
        #expect(names.contains("optimizer.state.0.exp_avg"))
        #expect(checkpoint.metadata?["epoch"] == "3")
        #expect(checkpoint.metadata?["dtype"] == "torch.float16")
    }

    @Test("sharded pytorch_model.bin.index.json reads every shard's tensors")
    func shardedBinCheckpoint() throws {
        let vector = PyTorchVectors.vector("pytorch/sharded/pytorch_model.bin.index.json")
        let sharded = try ShardedCheckpoint(indexPath: GoldenVectors.path(vector.file)) { (path) throws(WeightFileError) in
            try PyTorchCheckpoint(path: path)
        }
        #expect(Set(sharded.tensors.map(\.name)) == Set(vector.tensors.map(\.name)))
        for expected in vector.tensors {
            #expect(try sharded.tensor(named: expected.name).copyBytes() == [UInt8](hex: expected.data_hex!))
        }
    }

    @Test("a cut file at any length gives a typed error, never a trap")
    func truncationAtEveryLength() throws {
        let bytes = [UInt8](try #require(FileManager.default.contents(atPath: GoldenVectors.path("pytorch/tied.pt"))))
        for length in stride(from: 0, to: bytes.count, by: 7) {
            let outcome = errorKind {
                let file = try PyTorchCheckpoint(storage: ByteStorage(copying: bytes[0..<length]))
                for position in file.tensors.indices { _ = try file.tensor(at: position) }
            }
            #expect(outcome.map { !$0.hasPrefix("untyped") } ?? true, "length \(length)")
        }
    }

    @Test("random byte changes in data.pkl give a value or a typed error")
    func mutatedPickles() throws {
        for file in ["pytorch/training.pt", "pytorch/legacy.pt", "pytorch/protocol4.pt"] {
            let original = [UInt8](try #require(FileManager.default.contents(atPath: GoldenVectors.path(file))))
            var generator = SplitMix64(state: UInt64(file.utf8.count) ^ 0xBEEF)
            for _ in 0..<300 {
                var bytes = original
                for _ in 0..<(Int(generator.next() % 3) + 1) {
                    // Most changes land in the pickle, which starts after the first local header.
                    let position = Int(generator.next() % UInt64(min(bytes.count, 1500)))
                    bytes[position] = UInt8(truncatingIfNeeded: generator.next())
                }
                let outcome = errorKind {
                    let checkpoint = try PyTorchCheckpoint(storage: ByteStorage(copying: bytes))
                    for position in checkpoint.tensors.indices { _ = try checkpoint.tensor(at: position) }
                }
                #expect(outcome.map { !$0.hasPrefix("untyped") } ?? true)
            }
        }
    }

    @Test("a pickle interpreted by PickleMachine never executes: opcodes that call are refused")
    func refusedOpcodes() {
        for (opcode, name) in [(UInt8(0x69), "INST"), (0x6F, "OBJ"), (0x82, "EXT1"), (0x97, "NEXT_BUFFER")] {
            let bytes: [UInt8] = [0x80, 0x02, 0x28, opcode, 0x2E]
            let outcome = errorKind { _ = try bytes.withUnsafeBytes { try PickleMachine.run($0, entry: "test") } }
            #expect(outcome == "PickleInvalid", "\(name)")
        }
    }
}

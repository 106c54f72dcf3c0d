import Foundation
import Testing

/// Runs `script` with python3 (numpy and safetensors installed, see README's test prerequisites).
private func python(_ script: String, _ arguments: String...) throws -> RetortRun {
    try RetortRun(executable: "/usr/bin/env", arguments: ["python3", "-c", script] + arguments)
}

/// NumPy loads the .npz (or .npy) at argv[2] and finds every tensor of the safetensors file at argv[1], dtype, shape
/// and values; prints "ok".
private let numpyAgrees = """
    import sys, numpy as np
    from safetensors.numpy import load_file
    expected = load_file(sys.argv[1])
    if sys.argv[2].endswith(".npy"):
        (name, want), = expected.items()
        got = {name: np.load(sys.argv[2])}
    else:
        got = dict(np.load(sys.argv[2]))
    assert sorted(got) == sorted(expected), (sorted(got), sorted(expected))
    for name, want in expected.items():
        assert got[name].dtype == want.dtype and got[name].shape == want.shape, name
        assert np.array_equal(got[name], want, equal_nan=True), name
    print("ok")
    """

@Suite("retort convert writes the format OUT's extension names")
struct ConvertFormatCommandTests {
    let vectors = RetortRun.vectors

    @Test("OUT.npz is a NumPy archive NumPy reads back tensor for tensor, not safetensors under another name")
    func writesNPZ() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = vectors + "/safetensors/odd_offsets.safetensors"
        let output = directory + "/out.npz"
        let run = try RetortRun("convert", input, output, "--verify")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("verified"), "\(run.stdout)")
        let bytes = try #require(FileManager.default.contents(atPath: output))
        #expect(Array(bytes.prefix(4)) == [0x50, 0x4B, 0x03, 0x04])  // a zip's local file header
        let inspect = try RetortRun("inspect", output, "--json")
        #expect(inspect.stdout.contains(#""format":"npz""#), "\(inspect.stdout)")
        let check = try python(numpyAgrees, input, output)
        #expect(check.status == 0 && check.stdout == "ok\n", "\(check.stderr)")
    }

    @Test("a .stz input converted to OUT.npz is written as NumPy, not restored as safetensors")
    func stzToNPZ() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = directory + "/out.npz"
        let run = try RetortRun("convert", vectors + "/stz/odd_offsets.stz", output)
        #expect(run.status == 0, "\(run.stderr)")
        let check = try python(numpyAgrees, vectors + "/safetensors/odd_offsets.safetensors", output)
        #expect(check.status == 0 && check.stdout == "ok\n", "\(check.stderr)")
    }

    @Test("OUT.npy takes an input of one tensor, and notes on stderr the metadata it cannot hold")
    func writesNPY() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = vectors + "/safetensors/metadata.safetensors"
        let output = directory + "/out.npy"
        let run = try RetortRun("convert", input, output, "--verify")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("retort: note: \(output): NumPy files hold no metadata"), "\(run.stderr)")
        #expect(run.stderr.contains("11 metadata entries are not written"), "\(run.stderr)")
        let check = try python(numpyAgrees, input, output)
        #expect(check.status == 0 && check.stdout == "ok\n", "\(check.stderr)")
    }

    @Test("OUT.npy of an input of several tensors is refused before anything is written")
    func npyOfSeveralTensorsIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = vectors + "/safetensors/odd_offsets.safetensors"
        let run = try RetortRun("convert", input, directory + "/out.npy")
        #expect(run.status == 1)
        #expect(
            run.stderr == "retort: error: \(input): cannot write .npy: a .npy file holds one array, and the input has 6 tensors (write .npz)\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test("a BF16 tensor, which NumPy lacks, is refused naming it; --dtype F32 writes it")
    func bf16NeedsACast() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = vectors + "/safetensors/all_dtypes.safetensors"
        let refused = try RetortRun("convert", input, directory + "/out.npz")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("cannot write .npz: tensor `"), "\(refused.stderr)")
        #expect(refused.stderr.contains("which NumPy has no dtype for (cast it, e.g. to F32)"), "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        let cast = try RetortRun("convert", input, directory + "/out.npz", "--dtype", "F32")
        #expect(cast.status == 0, "\(cast.stderr)")
    }

    @Test("an extension that names no format is a usage error unless --format says what to write")
    func unknownExtension() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = vectors + "/safetensors/odd_offsets.safetensors"
        for name in ["out.bin", "out.pt", "out.gguf", "out.safetensors.gz", "out"] {
            let run = try RetortRun("convert", input, directory + "/" + name)
            #expect(run.status == 64, "\(name): \(run.stderr)")
            #expect(run.stderr.contains("cannot tell what to write from"), "\(name): \(run.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        let output = directory + "/weights.bin"
        let run = try RetortRun("convert", input, output, "--format", "npz")
        #expect(run.status == 0, "\(run.stderr)")
        let check = try python(numpyAgrees, input, output)
        #expect(check.status == 0 && check.stdout == "ok\n", "\(check.stderr)")
    }

    @Test("--format that contradicts OUT's extension is a usage error")
    func contradictoryFormat() throws {
        let run = try RetortRun(
            "convert", vectors + "/safetensors/odd_offsets.safetensors", "/nonexistent/out.npz", "--format", "safetensors")
        #expect(run.status == 64)
        #expect(run.stderr.contains("ends in .npz, but --format is safetensors"), "\(run.stderr)")
    }
}

import Foundation
import Testing
import WeightFiles

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `retort` through bash with a file-size limit of `kilobytes` and SIGXFSZ ignored, so that a
/// write past the limit fails with EFBIG ("File too large"), as a full disk fails a write.
func retortWithFileSizeLimit(kilobytes: Int, _ arguments: [String]) throws -> RetortRun {
    let quoted = ([RetortRun.binary] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    return try RetortRun(executable: "/bin/bash", arguments: ["-c", "trap '' XFSZ; ulimit -f \(kilobytes); exec \(quoted.joined(separator: " "))"])
}

/// A safetensors file of one U8 tensor of `count` pseudo-random bytes (incompressible).
func writeLargeU8File(_ path: String, count: Int) throws {
    var generator = SplitMix64(state: 99)
    var bytes = [UInt8](repeating: 0, count: count)
    var i = 0
    while i < count {
        let word = generator.next()
        for k in 0..<min(8, count - i) { bytes[i + k] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(k))) }
        i += 8
    }
    let view = TensorView(info: TensorInfo(name: "data", dtype: .u8, shape: [count]), copying: bytes)
    try Data(try SafetensorsWriter.serialize([view], metadata: nil)).write(to: URL(fileURLWithPath: path))
}

@Suite("Outputs, special files, thread counts and failed writes")
struct OutputSafetyCommandTests {
    let vectors = RetortRun.vectors

    @Test(
        "--threads 0, negative or absurd is a usage error (64) naming the range, in every command that takes it",
        arguments: ["0", "-3", "1025", "100000000", "9223372036854775807"])
    func threadBounds(_ value: String) throws {
        let model = vectors + "/networks/addition_mlp/model.safetensors"
        let network = vectors + "/networks/addition_mlp/network.json"
        let task = vectors + "/networks/addition_mlp/task.json"
        let commands: [[String]] = [
            ["convert", vectors + "/safetensors/scalar.safetensors", "/nonexistent/out.stz"],
            ["run", model, "--network", network, "--inputs", "/nonexistent.csv"],
            ["distill", model, "--network", network, "--task", task],
            ["fidelity", model, "--network", network, "--task", task, "--surrogate", "/nonexistent.json"],
            ["generate", model, "--network", network, "--prompt", "1+1="],
        ]
        for command in commands {
            let run = try RetortRun(arguments: command + ["--threads=\(value)"])
            #expect(run.status == 64, "\(command[0]) --threads=\(value): \(run.stderr)")
            #expect(run.stderr.contains("--threads"), "\(command[0]) --threads=\(value): \(run.stderr)")
        }
        let inRange = try RetortRun(
            "convert", vectors + "/safetensors/scalar.safetensors", "/nonexistent/out.safetensors", "--threads", "1024")
        #expect(inRange.status == 1)  // accepted; fails later on the missing folder
    }

    @Test("--force never replaces a FIFO or a directory with a regular file")
    func forceRefusesSpecialFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifo = directory + "/fifo.safetensors"
        #expect(mkfifo(fifo, 0o644) == 0)
        let folder = directory + "/folder.safetensors"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        for (output, kind) in [(fifo, "a FIFO"), (folder, "a directory")] {
            // Written by the safetensors writer, and restored from .stz.
            for input in [vectors + "/safetensors/scalar.safetensors", vectors + "/stz/odd_offsets.stz"] {
                let run = try RetortRun("convert", input, output, "--force")
                #expect(run.status == 1)
                #expect(run.stderr.contains("\(output) is \(kind), not a regular file"), "\(run.stderr)")
            }
            var info = stat()
            #expect(stat(output, &info) == 0)
            #expect((info.st_mode & S_IFMT) == (kind == "a FIFO" ? S_IFIFO : S_IFDIR))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(leftovers == ["fifo.safetensors", "folder.safetensors"])
    }

    @Test("a failed verify of BOOL bytes says why on stderr")
    func boolFailureOnStderr() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/bool.safetensors"
        let view = TensorView(info: TensorInfo(name: "mask", dtype: .bool, shape: [4]), copying: [0, 1, 2, 1])
        try Data(try SafetensorsWriter.serialize([view], metadata: nil)).write(to: URL(fileURLWithPath: path))
        let run = try RetortRun("verify", path)
        #expect(run.status == 1)
        #expect(run.stderr.contains("retort: error: \(path): tensor `mask`: 1 BOOL bytes are neither 0 nor 1"), "\(run.stderr)")
    }

    @Test("a write that fails (file too large, as a full disk) names the output, leaves nothing and the input intact")
    func failedWriteNamesOutput() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/big.safetensors"
        try writeLargeU8File(input, count: 3 << 20)
        let before = FileManager.default.contents(atPath: input)
        for output in [directory + "/out.safetensors", directory + "/out.stz"] {
            let run = try retortWithFileSizeLimit(kilobytes: 1024, ["convert", input, output])
            #expect(run.status == 1, "\(run.stderr)")
            #expect(run.stderr.hasPrefix("retort: error: \(output): write failed: File too large"), "\(run.stderr)")
            #expect(!run.stderr.contains(".retort-") && !run.stderr.contains("mkstemp"), "\(run.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["big.safetensors"])
        }
        #expect(FileManager.default.contents(atPath: input) == before)
    }

    @Test("a distill --out that fails leaves no folder behind, nor the folders above it that it created")
    func failedDistillLeavesNoFolder() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let example = vectors + "/networks/addition_mlp"
        // probes.safetensors (over 40 kB) cannot be written under a 4 kB file-size limit.
        let run = try retortWithFileSizeLimit(
            kilobytes: 4,
            [
                "distill", example + "/model.safetensors", "--network", example + "/network.json", "--task",
                example + "/task.json", "--surrogates", "table", "--out", directory + "/a/b/report",
            ])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("probes.safetensors"), "\(run.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test("kill -9 during convert leaves no temporary file, no output, and the input intact")
    func killDuringConvert() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/big.safetensors"
        try writeLargeU8File(input, count: 96 << 20)
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        for output in ["out.safetensors", "out.stz"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: RetortRun.binary)
            process.arguments = ["convert", input, directory + "/" + output, "--threads", "1"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Wait until the output is being written: a descriptor open on a file in `directory` other than the input.
            let pid = process.processIdentifier
            var writing = false
            for _ in 0..<2000 where !writing && process.isRunning {
                let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
                writing = fds.contains { fd in
                    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) ?? ""
                    return target.hasPrefix(directory) && !target.hasSuffix("/big.safetensors")
                }
                if !writing { usleep(1000) }
            }
            #expect(writing, "convert never opened its output")
            kill(pid, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["big.safetensors"], "\(output)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
    }
}

/// Writes `path`: gzip (`gzip -1`) of a safetensors file holding one U8 tensor of `zeros` zero bytes —
/// a few hundred kilobytes that inflate to `zeros` bytes and more.
func writeZeroBomb(_ path: String, zeros: Int) throws {
    var header = Array(#"{"zeros":{"dtype":"U8","shape":[\#(zeros)],"data_offsets":[0,\#(zeros)]}}"#.utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    let prefix = (0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) } + header
    try Data(prefix).write(to: URL(fileURLWithPath: path + ".head"))
    defer { try? FileManager.default.removeItem(atPath: path + ".head") }
    let run = try RetortRun(
        executable: "/bin/bash",
        arguments: ["-c", "set -o pipefail; (cat '\(path).head'; head -c \(zeros) /dev/zero) | gzip -1 > '\(path)'"])
    #expect(run.status == 0, "\(run.stderr)")
}

@Suite("Wrapped files that inflate to far more than memory allows")
struct CompressedBombCommandTests {
    @Test("inspect, verify and convert of a gzip file inflating to 384 MiB run within 300 MB of address space")
    func boundedMemory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bomb = directory + "/bomb.safetensors.gz"
        let zeros = 384 << 20
        try writeZeroBomb(bomb, zeros: zeros)
        #expect((try FileManager.default.attributesOfItem(atPath: bomb)[.size] as? Int ?? .max) < 2 << 20)
        func limited(_ arguments: [String]) throws -> RetortRun {
            let quoted = ([RetortRun.binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
            return try RetortRun(executable: "/bin/bash", arguments: ["-c", "ulimit -v 300000; exec \(quoted)"])
        }
        let inspect = try limited(["inspect", bomb])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("zeros"))
        let verify = try limited(["verify", bomb])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("\(zeros) bytes read"), "\(verify.stdout)")
        let output = directory + "/out.safetensors"
        let convert = try limited(["convert", bomb, output])
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect((try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int ?? 0) > zeros)
    }

    // Python (which CI installs for the interoperability check) writes the archive as numpy does.
    @Test("verify and convert of an NPZ whose deflated entry inflates to 384 MiB run within 300 MB of address space")
    func boundedMemoryNPZ() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bomb = directory + "/bomb.npz"
        let zeros = 384 << 20
        // numpy.savez_compressed's layout: a deflated NAME.npy entry (zip64), written by Python's zipfile.
        let script = """
            import sys, zipfile
            n = int(sys.argv[2])
            header = "{'descr': '|u1', 'fortran_order': False, 'shape': (%d,), }" % n
            header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\\n"
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
                with z.open("zeros.npy", "w", force_zip64=True) as f:
                    f.write(b"\\x93NUMPY\\x01\\x00" + len(header).to_bytes(2, "little") + header.encode())
                    block = bytes(1 << 20)
                    for _ in range(n >> 20):
                        f.write(block)
            """
        let made = try RetortRun(executable: "/usr/bin/env", arguments: ["python3", "-c", script, bomb, "\(zeros)"])
        #expect(made.status == 0, "\(made.stderr)")
        func limited(_ arguments: [String]) throws -> RetortRun {
            let quoted = ([RetortRun.binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
            return try RetortRun(executable: "/bin/bash", arguments: ["-c", "ulimit -v 300000; exec \(quoted)"])
        }
        let verify = try limited(["verify", bomb])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("\(zeros) bytes read"), "\(verify.stdout)")
        let output = directory + "/out.safetensors"
        let convert = try limited(["convert", bomb, output])
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect((try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int ?? 0) > zeros)
    }

    @Test("a wrapped file whose data stops short or runs long is refused by verify and convert, which leave no output")
    func wrongLength() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = RetortRun.vectors + "/safetensors/odd_offsets.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        for (name, data) in [("short", bytes.dropLast(3)), ("long", bytes + Data([1, 2, 3]))] {
            let raw = directory + "/\(name).safetensors"
            try Data(data).write(to: URL(fileURLWithPath: raw))
            #expect(try RetortRun(executable: "/bin/bash", arguments: ["-c", "gzip -1 '\(raw)'"]).status == 0)
            let wrapped = raw + ".gz"
            #expect(try RetortRun("inspect", wrapped).status == 0)
            for run in [try RetortRun("verify", wrapped), try RetortRun("convert", wrapped, directory + "/out.safetensors")] {
                #expect(run.status == 1)
                #expect(run.stderr.contains("incomplete file"), "\(name): \(run.stderr)")
            }
            #expect(!FileManager.default.fileExists(atPath: directory + "/out.safetensors"))
        }
    }
}

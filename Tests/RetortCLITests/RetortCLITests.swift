import Foundation
import Testing
import WeightFiles

/// Runs the built `retort` binary (next to the test bundle) and captures its output.
struct RetortRun {
    var status: Int32
    var stdout: String
    var stderr: String

    static let binary: String = {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        if directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("retort").path
    }()

    static let vectors: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("formats/vectors").path
    }()

    init(_ arguments: String...) throws {
        try self.init(arguments: arguments)
    }

    init(arguments: [String]) throws {
        try self.init(executable: RetortRun.binary, arguments: arguments)
    }

    /// Runs `executable` (a shell wrapping retort, say) with `arguments`.
    init(executable: String, arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        status = process.terminationStatus
        stdout = String(decoding: outData, as: UTF8.self)
        stderr = String(decoding: errData, as: UTF8.self)
    }
}

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("retort-cli-\(UUID())").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite("The retort command line")
struct RetortCLITests {
    let vectors = RetortRun.vectors

    @Test("inspect --json lists the tensors with dtype, shape, bytes and offset")
    func inspectJSON() throws {
        let run = try RetortRun("inspect", vectors + "/safetensors/odd_offsets.safetensors", "--json")
        #expect(run.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["format"] as? String == "safetensors")
        let tensors = try #require(object["tensors"] as? [[String: Any]])
        #expect(tensors.count == 6)
        #expect(tensors.allSatisfy { $0["dtype"] != nil && $0["shape"] != nil && $0["bytes"] != nil && $0["offset"] != nil })
    }

    @Test("a malformed file exits 1 with one line naming the file and the problem")
    func malformedFileFails() throws {
        let path = vectors + "/malformed/overlap.safetensors"
        let run = try RetortRun("inspect", path)
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("retort: error: \(path): invalid offset for tensor"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    @Test("every malformed vector makes verify exit 1 with one error line, never a crash")
    func everyMalformedVectorFails() throws {
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: vectors + "/manifest.json")))
                as? [String: Any])
        let failing = (manifest["vectors"] as! [[String: Any]]).filter { !($0["expect_error"] is NSNull) }
        #expect(failing.count > 50)
        for vector in failing {
            let file = vector["file"] as! String
            let run = try RetortRun("verify", vectors + "/" + file)
            #expect(run.status == 1, "\(file)")
            #expect(
                run.stderr.hasPrefix("retort: error: ") && run.stderr.split(separator: "\n").count == 1, "\(file): \(run.stderr)")
        }
    }

    @Test("a plain pickle that is not a torch.save file is refused as such")
    func plainPickleNamed() throws {
        let run = try RetortRun("inspect", vectors + "/foreign/state_dict.pkl")
        #expect(run.status == 1)
        #expect(run.stderr.contains("not a PyTorch checkpoint"))
    }

    @Test("a usage error exits 64")
    func usageError() throws {
        let run = try RetortRun("convert", "a.safetensors", "b.safetensors", "--dtype", "I8")
        #expect(run.status == 64)
    }

    @Test("convert refuses to overwrite its input and leaves it intact")
    func convertRefusesInput() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/model.safetensors"
        try FileManager.default.copyItem(atPath: vectors + "/safetensors/scalar.safetensors", toPath: path)
        let before = FileManager.default.contents(atPath: path)
        let run = try RetortRun(
            "convert", path, directory + "/../" + URL(fileURLWithPath: directory).lastPathComponent + "/model.safetensors",
            "--force")
        #expect(run.status == 1)
        #expect(run.stderr.contains("refusing to overwrite the input"))
        #expect(FileManager.default.contents(atPath: path) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.safetensors"])
    }

    @Test("convert refuses an existing output without --force")
    func convertRefusesExistingOutput() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = directory + "/out.safetensors"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: output))
        let run = try RetortRun("convert", vectors + "/safetensors/scalar.safetensors", output)
        #expect(run.status == 1)
        #expect(FileManager.default.contents(atPath: output) == Data("keep me".utf8))
    }

    @Test("a failed conversion leaves no output and no temporary file")
    func failedConversionLeavesNothing() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try RetortRun("convert", vectors + "/compressed/truncated.safetensors.gz", directory + "/out.safetensors")
        #expect(run.status == 1)
        #expect(run.stderr.contains("truncated"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test("convert then verify --against reports the files identical")
    func convertVerifyIdentical() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = directory + "/out.safetensors"
        let source = vectors + "/npz/compressed.npz"
        #expect(try RetortRun("convert", source, output, "--verify").status == 0)
        let run = try RetortRun("verify", output, "--against", source)
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("identical"))
    }

    @Test("verify --against names the first differing element and exits 1")
    func verifyReportsFirstDifference() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cast = directory + "/bf16.safetensors"
        let source = vectors + "/safetensors/odd_offsets.safetensors"
        #expect(try RetortRun("convert", source, cast, "--dtype", "F64").status == 0)
        let run = try RetortRun("verify", cast, "--against", source, "--json")
        #expect(run.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["identical"] as? Bool == false)
        let mismatches = try #require(object["mismatches"] as? [[String: Any]])
        #expect(mismatches.contains { ($0["difference"] as? String)?.hasPrefix("dtype F64 vs F32") == true })
    }

    @Test("verify reads every tensor and counts NaN and infinite values")
    func verifyCountsNonFinite() throws {
        let run = try RetortRun("verify", vectors + "/safetensors/all_dtypes.safetensors", "--json")
        #expect(run.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let tensors = try #require(object["tensors"] as? [[String: Any]])
        let weights = try WeightFiles.open(vectors + "/safetensors/all_dtypes.safetensors")
        for tensor in tensors {
            let name = try #require(tensor["name"] as? String)
            let view = try weights.tensor(named: name)
            guard view.dtype.isFloatingPoint else { continue }
            // F64 values beyond Float's range are finite doubles: count them in their own type.
            let (nan, infinite): (Int, Int)
            if view.dtype == .f64 {
                let values = (0..<view.info.elementCount).map {
                    view.bytes.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self)
                }
                (nan, infinite) = (values.filter(\.isNaN).count, values.filter(\.isInfinite).count)
            } else {
                let values = try FloatConversion.float32Values(of: view)
                (nan, infinite) = (values.filter(\.isNaN).count, values.filter(\.isInfinite).count)
            }
            #expect(tensor["nan"] as? Int == nan, "\(name)")
            #expect(tensor["infinite"] as? Int == infinite, "\(name)")
        }
    }
}

@Suite("Output paths")
struct OutputPathTests {
    @Test("convert writes to a bare file name in the current directory")
    func bareFileName() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RetortRun.binary)
        process.arguments = ["convert", RetortRun.vectors + "/safetensors/scalar.safetensors", "out.safetensors"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["out.safetensors"])
    }
}

@Suite("The .stz commands")
struct STZCommandTests {
    @Test("convert to .stz with --verify, then back, restores the file byte for byte; an existing .stz needs --force")
    func roundTrip() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = RetortRun.vectors + "/safetensors/all_dtypes.safetensors"
        let packed = directory + "/model.stz"
        let compress = try RetortRun("convert", source, packed, "--verify", "--threads", "2")
        #expect(compress.status == 0)
        #expect(compress.stdout.contains("verified"))
        #expect(try RetortRun("convert", source, packed).status == 1)
        #expect(try RetortRun("convert", packed, directory + "/back.safetensors", "--verify").status == 0)
        #expect(
            FileManager.default.contents(atPath: directory + "/back.safetensors") == FileManager.default.contents(atPath: source))
        #expect(try RetortRun("verify", packed).status == 0)
    }

    @Test("restore checks the SHA-256 by default: a forged payload fails naming its tensor and leaves no file; --skip-digest restores it")
    func restoreChecksDigestByDefault() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let forged = RetortRun.vectors + "/stz/all_dtypes.forged_payload.stz"
        let output = directory + "/out.safetensors"
        let checked = try RetortRun("convert", forged, output)
        #expect(checked.status == 1)
        #expect(checked.stderr.contains("tensor `int32`"), "\(checked.stderr)")
        #expect(checked.stdout.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        let skipped = try RetortRun("convert", forged, output, "--skip-digest")
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stdout.contains("SHA-256 not checked"))
        #expect(FileManager.default.fileExists(atPath: output))
    }

    @Test("--skip-digest is a usage error unless the input is a .stz, and together with --verify")
    func skipDigestUsage() throws {
        let source = RetortRun.vectors + "/safetensors/all_dtypes.safetensors"
        let packed = RetortRun.vectors + "/stz/all_dtypes.stz"
        for arguments in [[source, "/nonexistent/out.stz", "--skip-digest"], [packed, "/nonexistent/o.safetensors", "--skip-digest", "--verify"]] {
            let run = try RetortRun(arguments: ["convert"] + arguments)
            #expect(run.status == 64, "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains("--skip-digest"))
        }
    }
}

@Suite("retort run")
struct RunCommandTests {
    let folder = RetortRun.vectors + "/networks/boolean_circuit_handwired"

    @Test("run on CSV inputs writes the output and a captured hook to .npz, matching the reference")
    func runWritesNPZ() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var csv = ""
        for i in 0..<16 { csv += "\(i >> 3 & 1),\(i >> 2 & 1),\(i >> 1 & 1),\(i & 1)\n" }
        try csv.write(toFile: directory + "/x.csv", atomically: true, encoding: .utf8)
        let run = try RetortRun(
            "run", folder + "/model.safetensors", "--network", folder + "/network.json", "--inputs", directory + "/x.csv",
            "--hook", "layers.1.hook_post", "--out", directory + "/out.npz")
        #expect(run.status == 0, "\(run.stderr)")
        let out = try WeightFiles.open(directory + "/out.npz")
        #expect(out.tensors.map(\.name).sorted() == ["layers.1.hook_post", "output"])
        let hidden = try FloatConversion.float32Values(of: out.tensor(named: "layers.1.hook_post"))
        let width = try #require(out.info(named: "layers.1.hook_post")).shape[1]
        for i in 0..<16 {
            let x1 = Float(i >> 3 & 1), x2 = Float(i >> 2 & 1), x3 = Float(i >> 1 & 1)
            #expect(hidden[i * width] == (x1 != x2 ? 1 : 0), "XOR unit at input \(i)")
            #expect(hidden[i * width + 1] == x3, "x3 unit at input \(i)")
        }
    }

    @Test("run --json prints the output; a transformer preset reads its config from the metadata")
    func runJSONTransformer() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "5,7,113\n100,20,113\n".write(toFile: directory + "/t.csv", atomically: true, encoding: .utf8)
        let net = RetortRun.vectors + "/networks/modular_addition"
        let run = try RetortRun(
            "run", net + "/model.safetensors", "--network", "transformer", "--inputs", directory + "/t.csv", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let output = try #require(object["output"] as? [String: Any])
        #expect(output["shape"] as? [Int] == [2, 3, 113])
        let values = try #require(output["values"] as? [Double])
        func argmaxAtLastPosition(_ example: Int) -> Int {
            let row = values[(example * 3 + 2) * 113..<(example * 3 + 3) * 113]
            return row.indices.max { row[$0] < row[$1] }! - (example * 3 + 2) * 113
        }
        #expect(argmaxAtLastPosition(0) == 12)
        #expect(argmaxAtLastPosition(1) == 7)
    }

    @Test("a description naming a missing tensor exits 1 with one line naming the tensor")
    func missingTensor() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try
            #"{"retort_network": 1, "preset": "mlp", "layers": [{"op": "linear", "weight": "0.weight", "bias": "0.bias", "layout": "out_in"}, {"op": "linear", "weight": "9.weight", "layout": "out_in"}]}"#
            .write(toFile: directory + "/n.json", atomically: true, encoding: .utf8)
        try "0,0,0,0\n".write(toFile: directory + "/x.csv", atomically: true, encoding: .utf8)
        let run = try RetortRun(
            "run", folder + "/model.safetensors", "--network", directory + "/n.json", "--inputs", directory + "/x.csv")
        #expect(run.status == 1)
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(run.stderr.contains("\"9.weight\"") && run.stderr.contains("missing"))
    }

    @Test("a CSV row of the wrong length is reported by line")
    func raggedCSV() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "0,0,0,0\n1,1,1\n".write(toFile: directory + "/x.csv", atomically: true, encoding: .utf8)
        let run = try RetortRun(
            "run", folder + "/model.safetensors", "--network", folder + "/network.json", "--inputs", directory + "/x.csv")
        #expect(run.status == 1)
        #expect(run.stderr.contains("line 2"))
    }
}

@Suite("retort distill")
struct DistillCommandTests {
    let folder = RetortRun.vectors + "/networks/boolean_circuit_handwired"

    @Test("distill writes each surrogate as JSON and text, the probes and the report; --json prints the report")
    func distillWritesSurrogates() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try RetortRun(
            "distill", folder + "/model.safetensors", "--network", folder + "/network.json", "--task", folder + "/task.json",
            "--surrogates", "table", "tree", "program", "--out", directory, "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
        #expect(
            files == [
                "probes.safetensors", "table.json", "table.txt", "tree.json", "tree.txt", "program.json", "program.txt",
                "report.json", "report.html",
            ])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(summary["retort_report"] as? Int == 1)
        let surrogates = try #require(summary["surrogates"] as? [[String: Any]])
        #expect(surrogates.map { $0["family"] as? String } == ["table", "tree", "program"])
        for s in surrogates {
            let fidelity = try #require(s["fidelity"] as? [[String: Any]])
            let probe = try #require(fidelity.first { $0["region"] as? String == "probe" }?["agreement"] as? [String: Any])
            #expect(probe["proportion"] as? Double == 1)
        }
        let program = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/program.json")))
                as? [String: Any])
        #expect(program["retort_surrogate"] as? Int == 1 && program["family"] as? String == "program")
    }

    @Test("a task whose encoder does not fit the network exits 1 naming both widths")
    func encoderMismatch() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let task =
            #"{"retort_task": 1, "variables": [{"name": "a", "type": "integer", "min": 0, "max": 9}], "encoder": {"kind": "one_hot"}, "decoder": {"kind": "argmax", "outputs": 2}}"#
        try task.write(toFile: directory + "/task.json", atomically: true, encoding: .utf8)
        let run = try RetortRun(
            "distill", folder + "/model.safetensors", "--network", folder + "/network.json", "--task", directory + "/task.json")
        #expect(run.status == 1)
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(run.stderr.contains("width 10") && run.stderr.contains("width 4"))
    }
}

@Suite("retort distill --probes")
struct DistillFromProbesTests {
    @Test("saved probes refit without the network and give the same surrogate")
    func refitFromProbes() throws {
        let folder = RetortRun.vectors + "/networks/boolean_circuit_handwired"
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try RetortRun(
            "distill", folder + "/model.safetensors", "--network", folder + "/network.json", "--task", folder + "/task.json",
            "--surrogates", "program", "--out", directory + "/a")
        #expect(first.status == 0, "\(first.stderr)")
        let second = try RetortRun(
            "distill", "--probes", directory + "/a/probes.safetensors", "--task", folder + "/task.json", "--surrogates",
            "program",
            "--out", directory + "/b")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(
            FileManager.default.contents(atPath: directory + "/a/program.json")
                == FileManager.default.contents(atPath: directory + "/b/program.json"))
        #expect(try RetortRun("distill", "--task", folder + "/task.json").status == 64)
    }

    @Test(
        "probes refitted with a task of another output alphabet or variable range are refused, naming the difference",
        arguments: [
            (#""outputs": 2"#, #""outputs": 3"#, "output alphabet 0, 1; the task"),
            (#""name": "x4",\n   "type": "bit""#, #""name": "x4", "type": "integer", "min": 0, "max": 2"#, "variable x4 ranges over 0…1"),
        ])
    func refitWithAnotherTaskIsRefused(original: String, replacement: String, expected: String) throws {
        let folder = RetortRun.vectors + "/networks/boolean_circuit_handwired"
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try RetortRun(
            "distill", folder + "/model.safetensors", "--network", folder + "/network.json", "--task", folder + "/task.json",
            "--surrogates", "table", "--out", directory + "/a")
        #expect(first.status == 0, "\(first.stderr)")
        let text = try String(contentsOfFile: folder + "/task.json", encoding: .utf8)
        let changed = text.replacingOccurrences(of: original.replacingOccurrences(of: "\\n", with: "\n"), with: replacement)
        #expect(changed != text)
        try changed.write(toFile: directory + "/task.json", atomically: true, encoding: .utf8)
        let probes = directory + "/a/probes.safetensors"
        let second = try RetortRun(
            "distill", "--probes", probes, "--task", directory + "/task.json", "--surrogates", "table", "--out", directory + "/b")
        #expect(second.status == 1)
        #expect(second.stderr.hasPrefix("retort: error: \(probes): the probes"), "\(second.stderr)")
        #expect(second.stderr.contains(expected), "\(second.stderr)")
        #expect(second.stderr.split(separator: "\n").count == 1, "\(second.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/b"))
    }

    @Test("--rule-conditions caps a rule's conditions: (x1 XOR x2) AND x3 on x1…x4 needs three, so two leave errors")
    func ruleConditionsCapTheRules() throws {
        let folder = RetortRun.vectors + "/networks/boolean_circuit_handwired"
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var longest: [String: Int] = [:]
        for conditions in ["2", "3"] {
            let run = try RetortRun(
                "distill", folder + "/model.safetensors", "--network", folder + "/network.json", "--task", folder + "/task.json",
                "--surrogates", "rule_list", "--features", "x1", "x2", "x3", "x4", "--rule-conditions", conditions, "--out",
                directory + "/" + conditions)
            #expect(run.status == 0, "\(run.stderr)")
            let data = try #require(FileManager.default.contents(atPath: directory + "/" + conditions + "/rule_list.json"))
            let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let rules = try #require((json["body"] as? [String: Any])?["rules"] as? [[String: Any]])
            longest[conditions] = rules.map { ($0["conditions"] as? [Any])?.count ?? 0 }.max() ?? 0
        }
        #expect(longest["2"]! <= 2 && longest["3"] == 3, "\(longest)")
    }

    @Test(
        "a rule option of 0 is refused in one line naming the range",
        arguments: [("--rule-conditions", "1 and 16"), ("--rule-beam", "1 and 64")])
    func ruleOptionOutOfRange(option: String, range: String) throws {
        let run = try RetortRun(
            "distill", "--probes", "p.safetensors", "--task", RetortRun.vectors + "/networks/addition_mlp/task.json", option, "0")
        #expect(run.status == 64)
        #expect(run.stderr.hasPrefix("retort: error: \(option) must be between \(range), got 0"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    }

    @Test("--rule-beam reaches the search: on the bundled example a beam of one and one of four give different lists")
    func ruleBeamChangesTheSearch() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var lists: [String: Data] = [:]
        for width in ["1", "4"] {
            let run = try RetortRun("distill", "--surrogates", "rule_list", "--rule-beam", width, "--out", directory + "/" + width)
            #expect(run.status == 0, "\(run.stderr)")
            lists[width] = try #require(FileManager.default.contents(atPath: directory + "/" + width + "/rule_list.json"))
        }
        #expect(lists["1"] != lists["4"])
    }

    @Test("a probe file with values at the ends of the 64-bit range exits 1 with one line naming the file once, not a trap")
    func hostileProbeFile() throws {
        let probes = RetortRun.vectors + "/malformed/probes_value_int64_max.safetensors"
        let run = try RetortRun(
            "distill", "--probes", probes, "--task", RetortRun.vectors + "/networks/addition_mlp/task.json", "--surrogates", "tree")
        #expect(run.status == 1)
        #expect(run.stderr == "retort: error: \(probes): inputs[3, 0] (`a`) is 9223372036854775807, outside ±2^40\n")
    }
}

import Foundation
import Testing
import WeightFiles

/// The commands on the checkpoint formats researchers have: the learned boolean circuit saved by
/// torch.save and by gguf-py's GGUFWriter (scripts/make_checkpoint_networks.py) beside its safetensors.
@Suite("Checkpoints on the command line")
struct CheckpointCommandTests {
    let folder = RetortRun.vectors + "/networks/boolean_circuit_learned"

    func inputs(in directory: String) throws -> String {
        var csv = ""
        for i in 0..<16 { csv += "\(i >> 3 & 1),\(i >> 2 & 1),\(i >> 1 & 1),\(i & 1)\n" }
        let path = directory + "/x.csv"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("run gives the same outputs from the torch.save, GGUF and safetensors files of one network", arguments: ["pt", "gguf"])
    func runMatchesSafetensors(format: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let x = try inputs(in: directory)
        let reference = try RetortRun(
            "run", folder + "/model.safetensors", "--network", folder + "/network.json", "--inputs", x, "--json")
        let other = try RetortRun("run", folder + "/model." + format, "--network", folder + "/network.json", "--inputs", x, "--json")
        #expect(reference.status == 0 && other.status == 0, "\(reference.stderr)\(other.stderr)")
        #expect(!other.stdout.isEmpty && other.stdout == reference.stdout)
    }

    @Test("the mlp preset infers the layers from a torch.save state dict")
    func mlpPresetInfersFromPyTorch() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let x = try inputs(in: directory)
        let described = try RetortRun("run", folder + "/model.pt", "--network", folder + "/network.json", "--inputs", x, "--json")
        let inferred = try RetortRun("run", folder + "/model.pt", "--network", "mlp", "--inputs", x, "--json")
        #expect(inferred.status == 0, "\(inferred.stderr)")
        #expect(inferred.stdout == described.stdout)
    }

    @Test("convert of a torch.save file gives the safetensors file's tensors, and verify --against says so", arguments: ["pt", "gguf"])
    func convertThenVerify(format: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let out = directory + "/out.safetensors"
        let convert = try RetortRun("convert", folder + "/model." + format, out)
        #expect(convert.status == 0, "\(convert.stderr)")
        let verify = try RetortRun("verify", out, "--against", folder + "/model.safetensors")
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test("inspect names the format and shows GGUF metadata")
    func inspectGGUF() throws {
        let run = try RetortRun("inspect", folder + "/model.gguf", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\"format\":\"gguf\""))
        #expect(run.stdout.contains("\"general.name\":\"boolean_circuit_learned\""))
        #expect(run.stdout.contains("\"name\":\"0.weight\",\"dtype\":\"F32\",\"shape\":[16,4]"))
    }

    @Test("inspect of a torch.save file lists its tensors in the pickle's order")
    func inspectPyTorch() throws {
        let run = try RetortRun("inspect", folder + "/model.pt")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("format:   pytorch-zip"))
        let names = run.stdout.split(separator: "\n").compactMap { line -> String? in
            let first = line.split(separator: " ").first.map(String.init)
            return first.flatMap { $0.hasSuffix(".weight") || $0.hasSuffix(".bias") ? $0 : nil }
        }
        #expect(names == ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"])
    }
}

@Suite("Hostile checkpoints on the command line")
struct HostileCheckpointCommandTests {
    @Test(
        "a hostile PyTorch or GGUF file gets one line on stderr, exit 1 and no output file from every reading command",
        arguments: [
            ("pytorch/os_system.pt", "posix.system"), ("pytorch/eval.pt", "builtins.eval"),
            ("pytorch/deep_nesting.pt", "nest"), ("pytorch/bomb.pt", "decompresses to more than"),
            ("gguf/huge_tensor_count.gguf", "tensor"), ("gguf/overlapping_tensors.gguf", "overlap"),
        ])
    func oneLineAndExit1(file: String, words: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = RetortRun.vectors + "/" + file
        // inspect reads headers only: a zip bomb in a storage entry is found when the data is read.
        var commands = [["verify", path], ["convert", path, directory + "/out.safetensors"]]
        if !file.hasSuffix("bomb.pt") { commands.append(["inspect", path]) }
        for command in commands {
            let run = try RetortRun(arguments: command)
            #expect(run.status == 1, "\(command[0]) \(file): status \(run.status)")
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(command[0]) \(file): \(run.stderr)")
            #expect(run.stderr.contains(words), "\(command[0]) \(file): \(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "convert left a file behind")
    }
}

@Suite("Language models on the command line")
struct LanguageModelRunCommandTests {
    @Test(
        "run on a Hugging Face folder with --network auto gives transformers' logits and hooks",
        arguments: ["gpt2_tiny", "llama_tiny"])
    func runMatchesTransformers(model: String) throws {
        let folder = RetortRun.vectors + "/networks/" + model
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let expected = try WeightFiles.open(folder + "/expected.safetensors")
        let ids = try expected.tensor(named: "input_ids").withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
        let length = try #require(expected.info(named: "input_ids")).shape[1]
        let csv = ids.prefix(length).map(String.init).joined(separator: ",") + "\n"
        try csv.write(toFile: directory + "/ids.csv", atomically: true, encoding: .utf8)
        let run = try RetortRun(
            "run", folder, "--network", "auto", "--inputs", directory + "/ids.csv", "--hook", "blocks.0.hook_resid_post",
            "--out", directory + "/out.npz")
        #expect(run.status == 0, "\(run.stderr)")
        let out = try WeightFiles.open(directory + "/out.npz")
        let logits = try FloatConversion.float32Values(of: out.tensor(named: "output"))
        let reference = try FloatConversion.float32Values(of: expected.tensor(named: "logits"))
        let scale = reference.prefix(logits.count).map(abs).max() ?? 1
        #expect(logits.count == reference.count / 3)
        let worst = zip(logits, reference).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4 * scale, "largest logit difference \(worst)")
        // hidden_states[1] is the residual stream after block 0 (the last one has the final norm applied).
        let hidden = try FloatConversion.float32Values(of: out.tensor(named: "blocks.0.hook_resid_post"))
        let referenceHidden = try FloatConversion.float32Values(of: expected.tensor(named: "hidden_states.1"))
        let hiddenScale = referenceHidden.prefix(hidden.count).map(abs).max() ?? 1
        let hiddenWorst = zip(hidden, referenceHidden).map { abs($0 - $1) }.max() ?? .infinity
        #expect(hiddenWorst <= 1e-4 * hiddenScale, "largest hidden difference \(hiddenWorst)")
    }
}

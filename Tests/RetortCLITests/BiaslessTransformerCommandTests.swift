import Foundation
import Testing
import WeightFiles

private let folder = RetortRun.vectors + "/biasless_transformer"
private let model = folder + "/model.safetensors"
private let absent = "blocks.0.attn.b_Q, blocks.0.attn.b_K, blocks.0.attn.b_V, blocks.0.attn.b_O, unembed.b_U"

/// The reference inputs (token ids) as CSV in `directory`, and the reference logits.
private func referenceInputs(in directory: String) throws -> (csv: String, logits: [Float]) {
    let reference = try WeightFiles.open(folder + "/reference.safetensors")
    let ids = try reference.tensor(named: "input")
    let values = ids.withUnsafeBytes { raw in
        (0..<ids.info.elementCount).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
    }
    let width = ids.shape[1]
    let lines = stride(from: 0, to: values.count, by: width).map { values[$0..<($0 + width)].map(String.init).joined(separator: ",") }
    let path = directory + "/ids.csv"
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return (path, try FloatConversion.float32Values(of: reference.tensor(named: "output")))
}

@Suite("Transformers without some biases on the command line")
struct BiaslessTransformerCommandTests {
    @Test("run says on stderr which biases run as zeros, lists them in --json, and matches the reference logits")
    func runNotesZeroBiases() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (csv, logits) = try referenceInputs(in: directory)
        let run = try RetortRun("run", model, "--network", "transformer", "--inputs", csv, "--json")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stderr
                == "retort: note: \(model): 5 bias tensors are absent and run as zeros (the configuration says \"absent_biases\": \"zero\"): \(absent)\n"
        )
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((object["zero_biases"] as? [String])?.joined(separator: ", ") == absent)
        let output = try #require(object["output"] as? [String: Any])
        let values = try #require(output["values"] as? [Double])
        let scale = logits.map { abs(Double($0)) }.max() ?? 1
        let worst = zip(values, logits).map { abs($0 - Double($1)) }.max() ?? .infinity
        #expect(values.count == logits.count && worst <= 1e-5 * scale, "largest difference \(worst)")
    }

    @Test("inspect names the configuration's metadata key and the biases that run as zeros")
    func inspectNotesZeroBiases() throws {
        let text = try RetortRun("inspect", model)
        #expect(text.status == 0)
        #expect(
            text.stdout.contains(
                "transformer: TransformerLens configuration in metadata \"config\"; absent biases, run as zeros (absent_biases \"zero\"): \(absent)"
            ), "\(text.stdout)")
        let json = try RetortRun("inspect", model, "--json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let transformer = try #require(object["transformer"] as? [String: Any])
        #expect(transformer["config_key"] as? String == "config" && transformer["absent_biases"] as? String == "zero")
        #expect((transformer["absent_bias_tensors"] as? [String])?.joined(separator: ", ") == absent)
    }

    @Test("a configuration without absent_biases \"zero\" refuses the file in one line naming the first absent bias")
    func absentBiasIsAnErrorByDefault() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config =
            #"{"n_layers": 1, "d_model": 16, "n_heads": 2, "d_head": 8, "d_mlp": 32, "d_vocab": 8, "n_ctx": 3, "act_fn": "relu"}"#
        try config.write(toFile: directory + "/config.json", atomically: true, encoding: .utf8)
        let (csv, _) = try referenceInputs(in: directory)
        let run = try RetortRun("run", model, "--network", directory + "/config.json", "--inputs", csv)
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("retort: error: \(model): "), "\(run.stderr)")
        #expect(run.stderr.contains("blocks.0.attn.b_Q"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1)
    }
}

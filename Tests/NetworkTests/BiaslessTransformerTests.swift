import Foundation
import Testing
import WeightFiles

@testable import Network

/// formats/vectors/biasless_transformer (scripts/make_biasless_transformer.py): Nanda et al.'s architecture,
/// without attention or unembedding biases, its configuration under the metadata key `config`.
private let folder: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("formats/vectors/biasless_transformer").path
}()

private let absent = ["blocks.0.attn.b_Q", "blocks.0.attn.b_K", "blocks.0.attn.b_V", "blocks.0.attn.b_O", "unembed.b_U"]

private func tensor(_ file: any WeightFile, _ name: String) throws -> FloatTensor {
    let view = try file.tensor(named: name)
    return FloatTensor(shape: view.shape, scalars: try FloatConversion.float32Values(of: view))
}

@Suite("Transformers trained without some biases")
struct BiaslessTransformerTests {
    @Test("the configuration is found under the metadata key `config`, and says absent biases are zero")
    func configUnderConfigKey() throws {
        let file = try WeightFiles.open(folder + "/model.safetensors")
        #expect(file.metadata?[NetworkDescription.metadataConfigKey] == nil)
        let found = try #require(try NetworkLoader.metadataConfig(in: file))
        #expect(found.key == "config" && found.config.absentBiases == .zero && found.config.dModel == 16)
        #expect(TransformerNetwork.absentBiases(in: file, config: found.config) == absent)
    }

    @Test("absent biases run as zeros: logits and hooks match the original architecture's PyTorch forward pass")
    func matchesTheOriginalArchitecture() throws {
        let file = try WeightFiles.open(folder + "/model.safetensors")
        let net = try #require(
            try NetworkLoader.load(file: file, description: .transformer(.metadata), threads: 2) as? TransformerNetwork)
        #expect(net.zeroBiases == absent)
        let reference = try WeightFiles.open(folder + "/reference.safetensors")
        let ids = try reference.tensor(named: "input")
        let tokens = ids.withUnsafeBytes { raw in
            (0..<ids.info.elementCount).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
        let hooks = ["blocks.0.attn.hook_pattern", "blocks.0.mlp.hook_post"]
        let run = try net.run(
            .tokens(ids: tokens, batch: ids.shape[0], length: ids.shape[1]), capture: Set(hooks), interventions: [])
        let error = relativeError(run.output, try tensor(reference, "output"))
        #expect(error <= 1e-5, "output differs by \(error) (relative)")
        for hook in hooks {
            let error = relativeError(try #require(run.activations[hook]), try tensor(reference, hook))
            #expect(error <= 1e-5, "\(hook) differs by \(error) (relative)")
        }
    }

    @Test("without absent_biases \"zero\" an absent bias is an error naming the tensor and its shape")
    func absentBiasIsAnErrorByDefault() throws {
        let file = try WeightFiles.open(folder + "/model.safetensors")
        var config = try #require(try NetworkLoader.metadataConfig(in: file)).config
        config.absentBiases = .error
        let error = networkError { _ = try TransformerNetwork(file: file, config: config) }
        guard case .missingTensor(let name, let shape) = error else {
            Issue.record("expected missingTensor, got \(String(describing: error))")
            return
        }
        #expect(name == "blocks.0.attn.b_Q" && shape == "[n_heads=2, d_head=8]")
    }

    @Test("absent_biases other than \"error\" or \"zero\" is refused, naming the key")
    func unknownAbsentBiasesValue() throws {
        let error = networkError {
            _ = try describe(
                #"{"n_layers": 1, "d_model": 4, "n_heads": 1, "d_head": 4, "d_mlp": 8, "d_vocab": 3, "n_ctx": 2, "act_fn": "relu", "absent_biases": "ignore"}"#
            )
        }
        guard case .invalidDescription(let path, _) = error else {
            Issue.record("expected invalidDescription, got \(String(describing: error))")
            return
        }
        #expect(path == "absent_biases")
    }

    @Test("a bias that is present is read even with absent_biases \"zero\"")
    func presentBiasesAreRead() throws {
        let file = try WeightFiles.open(folder + "/model.safetensors")
        let config = try #require(try NetworkLoader.metadataConfig(in: file)).config
        let net = try TransformerNetwork(file: file, config: config)
        #expect(!net.zeroBiases.contains("blocks.0.mlp.b_in"))
        #expect(net.blocks[0].bIn.contains { $0 != 0 })
    }
}

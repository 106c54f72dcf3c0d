import Foundation
import Testing
import WeightFiles

@testable import Network

// Hostile language-model configurations and generation requests: each gets a NetworkError naming the
// problem, never a trap (division by zero, arithmetic overflow) or an allocation sized by a hostile number.

/// A tiny llama configuration's metadata with `changes` applied (keys without the `llama.` prefix).
private func llamaMetadata(_ changes: [(String, Any)], architecture: String = "llama") -> [(String, Any)] {
    var entries: [(String, Any)] = [
        ("embedding_length", UInt32(8)), ("attention.head_count", UInt32(2)), ("block_count", UInt32(1)),
        ("context_length", UInt32(16)), ("vocab_size", UInt32(10)),
    ]
    for (key, value) in changes {
        entries.removeAll { $0.0 == key }
        entries.append((key, value))
    }
    return [("general.architecture", architecture)] + entries.map { ("\(architecture).\($0.0)", $0.1) }
}

private func ggufConfigError(_ changes: [(String, Any)], architecture: String = "llama") throws -> String? {
    let file = try ggufWithMetadata(llamaMetadata(changes, architecture: architecture))
    return networkError { _ = try LanguageModelConfig(gguf: file) }?.description
}

@Test func ggufConfigWithNoHeadsIsRefusedWithoutDividingByZero() throws {
    let reason = try ggufConfigError([("attention.head_count", UInt32(0))])
    #expect(reason?.contains("heads must be at least 1, found 0") == true, "\(String(describing: reason))")
}

@Test(arguments: [
    ("embedding_length", UInt64(1) << 62),
    ("attention.key_length", UInt64(1) << 62),
    ("attention.head_count", UInt64(1) << 62),
    ("feed_forward_length", UInt64(1) << 62),
    ("context_length", UInt64(1) << 62),
    ("block_count", UInt64(1) << 40),
])
func ggufConfigWithAbsurdSizesIsRefusedBeforeArithmetic(_ key: String, _ value: UInt64) throws {
    let reason = try ggufConfigError([(key, value)])
    #expect(reason?.contains("llama.\(key)") == true && reason?.contains("2^30") == true, "\(String(describing: reason))")
}

@Test func ggufGPT2ConfigWithHugeHeadsIsRefused() throws {
    // n_head × d_head used to overflow in the GPT-2 consistency check.
    let reason = try ggufConfigError(
        [("attention.head_count", UInt64(1) << 61), ("attention.key_length", UInt32(4))], architecture: "gpt2")
    #expect(reason?.contains("gpt2.attention.head_count") == true, "\(String(describing: reason))")
}

@Test func ggufConfigWithNegativeSizesNamesTheKey() throws {
    let reason = try ggufConfigError([("embedding_length", Int32(-8))])
    #expect(reason?.contains("llama.embedding_length") == true, "\(String(describing: reason))")
}

@Test func ggufRoPEThatCannotRotateIsRefused() throws {
    let zeroFactor = try ggufConfigError([("rope.scaling.type", "linear"), ("rope.scaling.factor", Float(0))])
    #expect(zeroFactor?.contains("scaling factor must be positive") == true, "\(String(describing: zeroFactor))")
    let zeroBase = try ggufConfigError([("rope.freq_base", Float(0))])
    #expect(zeroBase?.contains("θ must be positive") == true, "\(String(describing: zeroBase))")
    let infiniteEps = try ggufConfigError([("attention.layer_norm_rms_epsilon", Float.infinity)])
    #expect(infiniteEps?.contains("epsilon") == true, "\(String(describing: infiniteEps))")
}

// MARK: config.json

private let llamaConfigKeys =
    #""model_type": "llama", "hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1, "intermediate_size": 8, "vocab_size": 4, "max_position_embeddings": 8"#

private func huggingFaceError(_ json: String) -> String? {
    networkError { _ = try LanguageModelConfig.parse(huggingFace: Array(json.utf8), source: "config.json") }?.description
}

@Test(arguments: [
    // head_dim × heads used to overflow.
    (#"{\#(llamaConfigKeys), "head_dim": 4611686018427387904}"#, "head_dim"),
    (
        #"{"model_type": "llama", "hidden_size": 8, "num_attention_heads": 4611686018427387904, "head_dim": 4, "#
            + #""num_hidden_layers": 1, "intermediate_size": 8, "vocab_size": 4, "max_position_embeddings": 8}"#,
        "num_attention_heads"
    ),
    // 4 × n_embd (the default n_inner) used to overflow.
    (
        #"{"model_type": "gpt2", "n_embd": 4611686018427387904, "n_head": 1, "n_layer": 1, "vocab_size": 4, "n_positions": 8}"#,
        "n_embd"
    ),
    (#"{\#(llamaConfigKeys), "num_key_value_heads": 4611686018427387904}"#, "num_key_value_heads"),
])
func huggingFaceConfigWithAbsurdSizesIsRefusedBeforeArithmetic(_ json: String, _ key: String) {
    let reason = huggingFaceError(json)
    #expect(reason?.contains("config.json: \(key)") == true && reason?.contains("2^30") == true, "\(String(describing: reason))")
}

@Test(arguments: [
    #"{\#(llamaConfigKeys), "rope_theta": 0}"#,
    #"{\#(llamaConfigKeys), "rope_theta": -10000}"#,
    #"{\#(llamaConfigKeys), "rope_scaling": {"rope_type": "llama3", "factor": 0, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8}}"#,
    #"{\#(llamaConfigKeys), "rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 0, "high_freq_factor": 4, "original_max_position_embeddings": 8}}"#,
])
func huggingFaceRoPEThatCannotRotateIsRefused(_ json: String) {
    let reason = huggingFaceError(json)
    #expect(reason?.contains("RoPE") == true, "\(String(describing: reason))")
}

@Test func aConfigurationBuiltInCodeIsCheckedBeforeLoading() throws {
    let file = try WeightFiles.open("\(referenceNetworksDirectory)/llama_tiny")
    let config = LanguageModelConfig(
        architecture: .llama, layers: 2, dModel: 64, heads: 0, kvHeads: 0, dHead: 16, dMLP: 128, vocabularySize: 256,
        contextLength: 64)
    let error = networkError { _ = try LlamaNetwork(file: file, config: config, threads: 1) }
    #expect(error?.description.contains("heads must be at least 1") == true, "\(String(describing: error))")
    // heads × d_head used to overflow computing the projections' widths.
    let huge = LanguageModelConfig(
        architecture: .llama, layers: 2, dModel: 64, heads: 1 << 40, kvHeads: 1 << 40, dHead: 1 << 40, dMLP: 128,
        vocabularySize: 256, contextLength: 64)
    let overflow = networkError { _ = try LlamaNetwork(file: file, config: huge, threads: 1) }
    #expect(overflow?.description.contains("heads must be at most") == true, "\(String(describing: overflow))")
}

// MARK: Generation

private func tinyLlama(contextLength: Int? = nil) throws -> LlamaNetwork {
    let folder = "\(referenceNetworksDirectory)/llama_tiny"
    let file = try WeightFiles.open(folder)
    var config = try LanguageModelConfig.parse(
        huggingFace: [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))), source: "config.json")
    if let contextLength { config.contextLength = contextLength }
    return try LlamaNetwork(file: file, config: config, threads: 1)
}

@Test func generatingIntMaxTokensIsRefusedWithoutOverflow() throws {
    let model = try tinyLlama()
    let error = networkError { _ = try model.generate([[1, 2, 3]], maxNewTokens: Int.max, stop: [], interventions: []) }
    #expect(error?.description.contains("context length 64") == true, "\(String(describing: error))")
}

@Test func theKVCacheGrowsWithTheGeneratedTokensNotWithMaxNewTokens() throws {
    // A context of 2^30 positions: a cache sized by maxNewTokens up front would need 2^30 × 2 layers ×
    // 32 floats × 2 (keys and values) = 512 GiB. Stopping at the first token must cost next to nothing.
    let model = try tinyLlama(contextLength: 1 << 30)
    let everyToken = Set(0..<model.vocabularySize)
    let continuation = try model.generate([[1, 2, 3]], maxNewTokens: (1 << 30) - 3, stop: everyToken, interventions: [])
    #expect(continuation.map(\.count) == [1])
}

@Test func aGrowingKVCacheGivesTheSameTokensAsFullRuns() throws {
    // 150 new tokens from a 5-token prompt: the cache starts with room for 5 + 64 positions and grows twice.
    let model = try tinyLlama(contextLength: 256)
    let prompt = [5, 17, 200, 3, 99]
    let continuation = try model.generate([prompt], maxNewTokens: 150, stop: [], interventions: [])[0]
    #expect(continuation.count == 150)
    let sequence = prompt + continuation
    let run = try model.run(.tokens(ids: Array(sequence.dropLast()), batch: 1, length: sequence.count - 1))
    let vocab = model.vocabularySize
    for (i, token) in continuation.enumerated() {
        let row = prompt.count - 1 + i
        let logits = run.output.scalars[(row * vocab)..<((row + 1) * vocab)]
        // The argmax of the full run, up to rounding between near-tied logits.
        #expect(logits[row * vocab + token] >= logits.max()! - 1e-4, "token \(i)")
    }
}

@Test func kvCacheReserveKeepsWhatItHolds() {
    let cache = KVCache(layers: 3, capacity: 2, width: 4)
    for layer in 0..<3 {
        for i in 0..<8 {
            cache.keys(layer)[i] = Float(100 * layer + i)
            cache.values(layer)[i] = -Float(100 * layer + i)
        }
    }
    cache.length = 2
    cache.reserve(5)
    #expect(cache.capacity >= 7)
    for layer in 0..<3 {
        #expect((0..<8).map { cache.keys(layer)[$0] } == (0..<8).map { Float(100 * layer + $0) })
        #expect((0..<8).map { cache.values(layer)[$0] } == (0..<8).map { -Float(100 * layer + $0) })
    }
}

@Test(arguments: [
    ("block_count", "is a string, expected an integer"),
    ("rope.freq_base", "is a string, expected a number"),
    ("attention.layer_norm_rms_epsilon", "is a string, expected a number"),
])
func ggufConfigValueOfTheWrongTypeIsNamedNotCalledMissing(key: String, reason: String) throws {
    let message = try ggufConfigError([(key, "12")])
    #expect(message == "invalid GGUF metadata at llama.\(key): \(reason)", "\(String(describing: message))")
}

@Test func ggufArchitectureThatIsNotAStringIsNamed() throws {
    let file = try ggufWithMetadata([("general.architecture", UInt32(3))] + Array(llamaMetadata([]).dropFirst()))
    let message = networkError { _ = try LanguageModelConfig(gguf: file) }?.description
    #expect(message == "invalid GGUF metadata at general.architecture: is a uint32, expected a string")
}

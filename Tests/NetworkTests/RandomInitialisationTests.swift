import Foundation
import Testing
import WeightFiles

@testable import Network

private func tiny(_ name: String) throws -> (file: any WeightFile, config: LanguageModelConfig) {
    try LanguageModels.open("\(referenceNetworksDirectory)/\(name)")
}

private func values(_ file: any WeightFile, _ name: String) throws -> [Float] {
    try FloatConversion.float32Values(of: try file.tensor(named: name))
}

private func meanAndDeviation(_ x: [Float]) -> (mean: Double, deviation: Double) {
    let n = Double(x.count)
    let mean = x.reduce(0.0) { $0 + Double($1) } / n
    let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
    return (mean, variance.squareRoot())
}

@Test func aRandomInitialisedLlamaKeepsEveryNameAndShapeInFloat32WithTransformersInitialisation() throws {
    let (file, config) = try tiny("llama_tiny")
    #expect(config.initializerRange == 0.02)
    let copy = try LanguageModels.randomInitialised(file: file, config: config, seed: 7)
    #expect(copy.tensors.map(\.name) == file.tensors.map(\.name))
    #expect(copy.tensors.map(\.shape) == file.tensors.map(\.shape))
    #expect(copy.tensors.allSatisfy { $0.dtype == .f32 })
    for info in copy.tensors {
        let x = try values(copy, info.name)
        if info.shape.count == 1 {
            #expect(x.allSatisfy { $0 == 1 }, "\(info.name): an RMSNorm gain starts at 1")
        } else {
            let (mean, deviation) = meanAndDeviation(x)
            #expect(abs(mean) < 0.002, "\(info.name): mean \(mean)")
            #expect(abs(deviation - 0.02) < 0.002, "\(info.name): standard deviation \(deviation), not initializer_range 0.02")
        }
    }
}

@Test func aRandomInitialisedGPT2ScalesItsResidualProjectionsAndZeroesItsBiases() throws {
    let (file, config) = try tiny("gpt2_tiny")
    let copy = try LanguageModels.randomInitialised(file: file, config: config, seed: 7)
    let scaled = 0.02 / (2.0 * Double(config.layers)).squareRoot()
    for info in copy.tensors {
        let x = try values(copy, info.name)
        switch LanguageModels.initialisation(of: info.name, rank: info.shape.count, config: config) {
        case .constant(let c):
            #expect(x.allSatisfy { $0 == c })
            #expect(info.name.hasSuffix(".bias") ? c == 0 : c == 1, "\(info.name)")
        case .normal(let deviation):
            let expected = info.name.hasSuffix("c_proj.weight") ? scaled : 0.02
            #expect(deviation == expected, "\(info.name)")
            #expect(abs(meanAndDeviation(x).deviation - expected) < 0.15 * expected, "\(info.name)")
        case .copied:
            #expect(try x == values(file, info.name), "\(info.name) is copied unchanged")
        }
    }
    #expect(LanguageModels.initialisation(of: "h.0.ln_1.bias", rank: 1, config: config) == .constant(0))
    #expect(LanguageModels.initialisation(of: "h.0.ln_1.weight", rank: 1, config: config) == .constant(1))
    #expect(LanguageModels.initialisation(of: "blk.0.ffn_down.weight", rank: 2, config: config) == .normal(standardDeviation: scaled))
    #expect(LanguageModels.initialisation(of: "rope_freqs.weight", rank: 1, config: config) == .copied)
}

@Test func aRandomInitialisedCopyIsTheSameForASeedAndAnotherForAnother() throws {
    let (file, config) = try tiny("llama_tiny")
    let name = "model.layers.0.self_attn.q_proj.weight"
    let a = try values(try LanguageModels.randomInitialised(file: file, config: config, seed: 3), name)
    let b = try values(try LanguageModels.randomInitialised(file: file, config: config, seed: 3), name)
    let c = try values(try LanguageModels.randomInitialised(file: file, config: config, seed: 4), name)
    #expect(a == b)
    #expect(a != c)
    #expect(a != (try values(file, name)))
}

@Test(arguments: ["llama_tiny", "gpt2_tiny", "qwen2_tiny", "llama_tiny_gguf"])
func aRandomInitialisedModelLoadsAsTheSameArchitectureWithTheTokenizer(_ name: String) throws {
    let path = "\(referenceNetworksDirectory)/\(name)" + (name.hasSuffix("_gguf") ? "/model.gguf" : "")
    let (file, _) = try LanguageModels.open(path)
    let model = try LanguageModels.load(path, threads: 1)
    let copy = try LanguageModels.randomInitialised(model, file: file, seed: 1, threads: 1)
    #expect(ObjectIdentifier(type(of: copy)) == ObjectIdentifier(type(of: model)))
    #expect(copy.hookNames == model.hookNames && copy.vocabularySize == model.vocabularySize)
    #expect((copy.tokenizer == nil) == (model.tokenizer == nil))
    let prompt = [[1, 5, 9, 4]]
    let logits = try copy.nextTokenLogits(prompt, interventions: [])
    #expect(logits[0].count == model.vocabularySize && logits[0].allSatisfy(\.isFinite))
    #expect(logits != (try model.nextTokenLogits(prompt, interventions: [])))
}

@Test func theInitializerRangeIsReadFromConfigJSONAndNullOrZeroMeansTransformersDefault() throws {
    func parse(_ range: String) throws -> LanguageModelConfig {
        let json = """
            {"model_type": "llama", "hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1,
             "intermediate_size": 16, "vocab_size": 10, "max_position_embeddings": 8, "initializer_range": \(range)}
            """
        return try LanguageModelConfig.parse(huggingFace: Array(json.utf8), source: "config.json")
    }
    #expect(try parse("0.0416").initializerRange == 0.0416)
    #expect(try parse("null").initializerRange == 0.02)
    #expect(try parse("0").initializerRange == 0.02)
    #expect(throws: NetworkError.self) { try parse("-0.1") }
}

import Foundation
import Testing
import WeightFiles

@testable import Network

/// Tiny random Hugging Face models written by scripts/make_lm_vectors.py, with transformers' outputs.
let tinyLanguageModels = ["gpt2_tiny", "llama_tiny", "qwen2_tiny"]

private func tinyFolder(_ name: String) -> String { "\(referenceNetworksDirectory)/\(name)" }

private func expected(_ name: String) throws -> any WeightFile {
    try WeightFiles.open("\(tinyFolder(name))/expected.safetensors")
}

private func floats(_ file: any WeightFile, _ name: String) throws -> FloatTensor {
    let view = try file.tensor(named: name)
    return FloatTensor(shape: view.shape, scalars: try FloatConversion.float32Values(of: view))
}

private func integers(_ file: any WeightFile, _ name: String) throws -> (shape: [Int], values: [Int]) {
    let view = try file.tensor(named: name)
    let values: [Int] = view.withUnsafeBytes { raw in
        switch view.dtype {
        case .i64: (0..<view.info.elementCount).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        default: (0..<view.info.elementCount).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
        }
    }
    return (view.shape, values)
}

/// Rows of a padded `[P, L]` id matrix with the −1 padding removed.
private func paddedRows(_ matrix: (shape: [Int], values: [Int])) -> [[Int]] {
    (0..<matrix.shape[0]).map { p in
        Array(matrix.values[(p * matrix.shape[1])..<((p + 1) * matrix.shape[1])]).filter { $0 >= 0 }
    }
}

private func tokens(_ matrix: (shape: [Int], values: [Int])) -> NetworkInput {
    .tokens(ids: matrix.values, batch: matrix.shape[0], length: matrix.shape[1])
}

@Test(arguments: tinyLanguageModels)
func languageModelLogitsAndHiddenStatesMatchTransformers(_ name: String) throws {
    let model = try LanguageModels.load(tinyFolder(name), threads: 2)
    let reference = try expected(name)
    let layers = model.hookNames.filter { $0.hasSuffix(".hook_resid_post") }.count
    var hooks: [String: String] = ["hidden_states.0": "blocks.0.hook_resid_pre", "hidden_states.\(layers)": "ln_final.hook_normalized"]
    for i in 1..<layers { hooks["hidden_states.\(i)"] = "blocks.\(i - 1).hook_resid_post" }
    for i in 0..<layers { hooks["attentions.\(i)"] = "blocks.\(i).attn.hook_pattern" }
    let run = try model.run(tokens(try integers(reference, "input_ids")), capture: Set(hooks.values), interventions: [])
    let error = relativeError(run.output, try floats(reference, "logits"))
    #expect(error <= 1e-5, "\(name): logits differ by \(error) (relative)")
    for (tensor, hook) in hooks.sorted(by: { $0.key < $1.key }) {
        let error = relativeError(try #require(run.activations[hook]), try floats(reference, tensor))
        #expect(error <= 1e-5, "\(name): \(hook) differs from transformers' \(tensor) by \(error) (relative)")
    }
}

/// GGUF files written by gguf-py with every 32-element block type (scripts/make_gguf_lm_vectors.py),
/// in each arithmetic: float32 must give transformers' logits (which dequantizes with gguf-py) up
/// to summation order, int16 within its stated 10⁻³.
@Test(arguments: ["gpt2_tiny_gguf", "llama_tiny_gguf"], QuantizedArithmetic.allCases)
func blockQuantizedGGUFLanguageModelsMatchTransformers(_ name: String, arithmetic: QuantizedArithmetic) throws {
    let model = try LanguageModels.load("\(tinyFolder(name))/model.gguf", threads: 2, arithmetic: arithmetic)
    let reference = try expected(name)
    let run = try model.run(tokens(try integers(reference, "input_ids")), capture: [], interventions: [])
    let error = relativeError(run.output, try floats(reference, "logits"))
    let bound = arithmetic == .float32 ? 1e-5 : 1e-3
    print("blockQuantizedGGUFLanguageModelsMatchTransformers(\(name), \(arithmetic)): logits within \(error) (relative)")
    #expect(error <= bound, "\(name) (\(arithmetic)): logits differ by \(error) (relative)")
}

@Test(arguments: tinyLanguageModels)
func languageModelGreedyContinuationsMatchTransformers(_ name: String) throws {
    let model = try LanguageModels.load(tinyFolder(name), threads: 2)
    let reference = try expected(name)
    let prompts = paddedRows(try integers(reference, "prompts"))
    let generated = try integers(reference, "generated")
    let continuations = try model.generate(prompts, maxNewTokens: generated.shape[1], stop: [], interventions: [])
    #expect(continuations.flatMap { $0 } == generated.values, "\(name): greedy continuations differ")
    let next = try model.nextTokenLogits(prompts, interventions: [])
    let nextReference = try floats(reference, "next_logits")
    let error = relativeError(FloatTensor(shape: nextReference.shape, scalars: next.flatMap { $0 }), nextReference)
    #expect(error <= 1e-5, "\(name): next-token logits differ by \(error) (relative)")
}

@Test func languageModelCachedLogitsEqualAFullRun() throws {
    let model = try LanguageModels.load(tinyFolder("llama_tiny"), threads: 2)
    let prompt = [5, 17, 200, 3, 99, 42, 7]
    let continuation = try model.generate([prompt], maxNewTokens: 6, stop: [], interventions: [])[0]
    // Each generated token is the argmax of a full, uncached run over everything before it.
    let sequence = prompt + continuation
    let run = try model.run(.tokens(ids: Array(sequence.dropLast()), batch: 1, length: sequence.count - 1))
    let vocab = model.vocabularySize
    for (i, token) in continuation.enumerated() {
        let position = prompt.count - 1 + i
        let row = run.output.scalars[(position * vocab)..<((position + 1) * vocab)]
        #expect(DecoderTransformer.argmax(row) == token, "token \(i) of the continuation")
    }
}

@Test func languageModelPromptsOfDifferentLengthsDoNotInteract() throws {
    let model = try LanguageModels.load(tinyFolder("gpt2_tiny"), threads: 2)
    let prompts = [[1, 2, 3], [200], [9, 8, 7, 6, 5, 4, 3, 2, 1]]
    let together = try model.generate(prompts, maxNewTokens: 5, stop: [], interventions: [])
    for (b, prompt) in prompts.enumerated() {
        #expect(try model.generate([prompt], maxNewTokens: 5, stop: [], interventions: [])[0] == together[b])
    }
    let stopAt = together[2][1]
    let stopped = try model.generate([prompts[2]], maxNewTokens: 5, stop: [stopAt], interventions: [])[0]
    #expect(stopped == Array(together[2].prefix(through: together[2].firstIndex(of: stopAt)!)))
}

/// Generation with interventions equals greedy decoding of full runs with the same interventions.
@Test(arguments: tinyLanguageModels)
func languageModelInterventionsApplyDuringGeneration(_ name: String) throws {
    let model = try LanguageModels.load(tinyFolder(name), threads: 2)
    let d = try #require(model.run(.tokens(ids: [1], batch: 1, length: 1), capture: ["hook_embed"], interventions: [])
        .activations["hook_embed"]).shape.last!
    let prompt = [11, 22, 33, 44]
    let newTokens = 6
    let mean = NetworkInput.tokens(ids: (0..<(3 * 9)).map { ($0 * 37) % 250 }, batch: 3, length: 9)
    let interventions = [
        Intervention(hook: "blocks.0.hook_resid_post", positions: [1, 5, 7], units: [0, 3], kind: .set([4, -4])),
        Intervention(hook: "blocks.1.mlp.hook_post", positions: nil, units: [2], kind: .zero),
        Intervention(hook: "blocks.0.attn.hook_z", positions: [6, 8], kind: .mean(over: mean)),
        Intervention(hook: "blocks.1.hook_attn_out", positions: [3, 4], units: Array(0..<d), kind: .add([Float](repeating: 0.5, count: d))),
        Intervention(hook: "blocks.0.attn.hook_pattern", positions: [5], kind: .zero),
    ]
    let continuation = try model.generate([prompt], maxNewTokens: newTokens, stop: [], interventions: interventions)[0]
    let sequence = prompt + continuation
    let run = try model.run(
        .tokens(ids: Array(sequence.dropLast()), batch: 1, length: sequence.count - 1), capture: [],
        interventions: interventions)
    let vocab = model.vocabularySize
    var decoded: [Int] = []
    for i in 0..<newTokens {
        let position = prompt.count - 1 + i
        decoded.append(DecoderTransformer.argmax(run.output.scalars[(position * vocab)..<((position + 1) * vocab)]))
    }
    #expect(decoded == continuation, "\(name): generation under interventions")
    let clean = try model.generate([prompt], maxNewTokens: newTokens, stop: [], interventions: [])[0]
    #expect(clean != continuation, "\(name): the interventions should change the continuation")
}

@Test func languageModelInterchangeDuringGenerationTakesEachPromptsSource() throws {
    let model = try LanguageModels.load(tinyFolder("llama_tiny"), threads: 2)
    let source = NetworkInput.tokens(ids: Array(100..<110) + Array(150..<160), batch: 2, length: 10)
    let prompts = [[1, 2, 3], [4, 5, 6, 7]]
    let intervention = Intervention(
        hook: "blocks.0.hook_resid_post", positions: [0, 1, 2, 3, 4, 5], kind: .interchange(source: source, sourceIndex: [1, 0]))
    let together = try model.generate(prompts, maxNewTokens: 3, stop: [], interventions: [intervention])
    for (b, prompt) in prompts.enumerated() {
        var alone = intervention
        alone.kind = .interchange(source: source.selecting([b == 0 ? 1 : 0]), sourceIndex: [0])
        #expect(try model.generate([prompt], maxNewTokens: 3, stop: [], interventions: [alone])[0] == together[b])
    }
}

@Test func languageModelHookNamesFollowTransformerLens() throws {
    let llama = try LanguageModels.load(tinyFolder("llama_tiny"), threads: 1)
    #expect(llama is LlamaNetwork)
    for hook in [
        "hook_embed", "blocks.0.hook_resid_pre", "blocks.0.ln1.hook_normalized", "blocks.0.attn.hook_q", "blocks.0.attn.hook_k",
        "blocks.0.attn.hook_v", "blocks.0.attn.hook_rot_q", "blocks.0.attn.hook_attn_scores", "blocks.0.attn.hook_pattern",
        "blocks.0.attn.hook_z", "blocks.0.hook_attn_out", "blocks.0.hook_resid_mid", "blocks.0.ln2.hook_normalized",
        "blocks.0.mlp.hook_pre", "blocks.0.mlp.hook_pre_linear", "blocks.0.mlp.hook_post", "blocks.0.hook_mlp_out",
        "blocks.1.hook_resid_post", "ln_final.hook_normalized",
    ] {
        #expect(llama.hookNames.contains(hook), "\(hook)")
    }
    let run = try llama.run(
        .tokens(ids: [1, 2, 3, 4, 5], batch: 1, length: 5), capture: ["blocks.0.attn.hook_q", "blocks.0.attn.hook_k"],
        interventions: [])
    #expect(run.activations["blocks.0.attn.hook_q"]?.shape == [1, 5, 4, 16])
    #expect(run.activations["blocks.0.attn.hook_k"]?.shape == [1, 5, 2, 16])
    let gpt2 = try LanguageModels.load(tinyFolder("gpt2_tiny"), threads: 1)
    #expect(gpt2 is GPT2Network)
    #expect(gpt2.hookNames.contains("hook_pos_embed") && !gpt2.hookNames.contains("blocks.0.attn.hook_rot_q"))
}

@Test func languageModelPresetsLoadThroughTheNetworkLoader() throws {
    for (preset, folder) in [("auto", "gpt2_tiny"), ("gpt2", "gpt2_tiny"), ("llama", "llama_tiny"), ("qwen2", "qwen2_tiny")] {
        let description = try NetworkLoader.description(preset)
        let network = try NetworkLoader.load(path: tinyFolder(folder), description: description, threads: 1)
        #expect(network is any LanguageModel, "\(preset)")
    }
    let mismatch = networkError {
        _ = try NetworkLoader.load(path: tinyFolder("gpt2_tiny"), description: try NetworkLoader.description("llama"))
    }
    #expect(mismatch?.description.contains("gpt2") == true)
}

@Test func languageModelErrorsNameWhatIsWrong() throws {
    let model = try LanguageModels.load(tinyFolder("llama_tiny"), threads: 1)
    let tooLong = networkError { _ = try model.generate([Array(repeating: 1, count: 60)], maxNewTokens: 10, stop: [], interventions: []) }
    #expect(tooLong?.description.contains("context length 64") == true, "\(String(describing: tooLong))")
    let empty = networkError { _ = try model.nextTokenLogits([[1], []], interventions: []) }
    #expect(empty?.description.contains("prompt 1 is empty") == true)
    let badToken = networkError { _ = try model.nextTokenLogits([[1, 999]], interventions: []) }
    #expect(badToken?.description.contains("999") == true)

    // A missing tensor is named, with the shape the configuration implies.
    let source = try WeightFiles.open(tinyFolder("llama_tiny"))
    let kept = try source.tensors.filter { $0.name != "model.layers.1.mlp.up_proj.weight" }.map { try source.tensor(named: $0.name) }
    let bytes = try SafetensorsWriter.serialize(kept, metadata: nil)
    let partial = try SafetensorsFile(storage: ByteStorage(copying: bytes))
    let config = try LanguageModelConfig.parse(
        huggingFace: [UInt8](try Data(contentsOf: URL(fileURLWithPath: tinyFolder("llama_tiny") + "/config.json"))),
        source: "config.json")
    let missing = networkError { _ = try LlamaNetwork(file: partial, config: config, threads: 1) }
    #expect(missing == .missingTensor(name: "model.layers.1.mlp.up_proj.weight", expectedShape: "[128, 64]"))

    let unknown = networkError {
        _ = try LanguageModelConfig.parse(huggingFace: Array(#"{"model_type": "mamba"}"#.utf8), source: "config.json")
    }
    #expect(unknown?.description.contains("mamba") == true)
    let scaling = networkError {
        _ = try LanguageModelConfig.parse(
            huggingFace: Array(
                #"{"model_type": "llama", "hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1, "intermediate_size": 8, "vocab_size": 4, "max_position_embeddings": 8, "rope_scaling": {"rope_type": "yarn", "factor": 4}}"#
                    .utf8), source: "config.json")
    }
    #expect(scaling?.description.contains("yarn") == true)
}

// MARK: SmolLM2 (real checkpoint, opt-in)

private let parityFixture: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("formats/vectors/language/smollm2_parity.safetensors").path
}()

/// SmolLM2-135M-Instruct (Q4_1 GGUF) against transformers (scripts/lm_parity.py): runs when
/// RETORT_SMOLLM2_GGUF names the file.
@Test(arguments: QuantizedArithmetic.allCases)
func smolLM2MatchesTransformers(arithmetic: QuantizedArithmetic) throws {
    guard let path = ProcessInfo.processInfo.environment["RETORT_SMOLLM2_GGUF"] else {
        print("smolLM2MatchesTransformers: skipped (set RETORT_SMOLLM2_GGUF to the SmolLM2-135M-Instruct GGUF file)")
        return
    }
    var model = try LlamaNetwork(path: path)
    model.arithmetic = arithmetic
    let reference = try WeightFiles.open(parityFixture)
    let prompts = paddedRows(try integers(reference, "prompts"))
    let topIDs = try integers(reference, "top_ids")
    let topLogits = try floats(reference, "top_logits")
    let top = topIDs.shape[1]
    let logits = try model.nextTokenLogits(prompts, interventions: [])
    var worst = 0.0
    for p in prompts.indices {
        let scale = Double(topLogits.scalars[(p * top)..<((p + 1) * top)].map(abs).max()!)
        for j in 0..<top {
            let id = topIDs.values[p * top + j]
            let error = Double(abs(logits[p][id] - topLogits.scalars[p * top + j])) / scale
            worst = max(worst, error)
        }
        #expect(DecoderTransformer.argmax(logits[p]) == topIDs.values[p * top], "prompt \(p): top token")
    }
    let full = try floats(reference, "full_logits")
    let vocab = full.shape[1]
    for p in 0..<full.shape[0] {
        let expected = FloatTensor(shape: [vocab], scalars: Array(full.scalars[(p * vocab)..<((p + 1) * vocab)]))
        worst = max(worst, relativeError(FloatTensor(shape: [vocab], scalars: logits[p]), expected))
        // `run` on the same prompt gives the same last-position logits.
        let run = try model.run(.tokens(ids: prompts[p], batch: 1, length: prompts[p].count))
        let last = Array(run.output.scalars[((prompts[p].count - 1) * vocab)...])
        worst = max(worst, relativeError(FloatTensor(shape: [vocab], scalars: last), expected))
    }
    print("smolLM2MatchesTransformers(\(arithmetic)): largest logit error \(worst) (relative to the largest logit)")
    #expect(worst <= 1e-3)
    let generated = try integers(reference, "generated")
    let steps = generated.shape[1]
    let continuations = try model.generate(prompts, maxNewTokens: steps, stop: [], interventions: [])
    // Integer arithmetic rounds activations to 16 bits: its logits are within 1e-3 of the largest logit (above), so a
    // greedy step where transformers' choice and another token are closer than twice that may go either way (which
    // way depends on the float32 kernels the machine's instruction set selects). A continuation may part from
    // transformers' only at such a step, measured on this model's float32 logits (within 1e-5 of transformers'), and
    // in at most one prompt in 25; float32 arithmetic matches every one.
    var float32Model = model
    float32Model.arithmetic = .float32
    var matching = 0
    for p in prompts.indices {
        let expected = Array(generated.values[(p * steps)..<((p + 1) * steps)])
        if continuations[p] == expected {
            matching += 1
            continue
        }
        let k = zip(continuations[p], expected).prefix { $0 == $1 }.count
        let logits = try float32Model.nextTokenLogits([prompts[p] + expected[..<k]], interventions: [])[0]
        let gap = Double(abs(logits[continuations[p][k]] - logits[expected[k]])) / Double(logits.map(abs).max()!)
        print("prompt \(p): \(continuations[p]) ≠ \(expected); at step \(k) the two tokens' float32 logits differ by \(gap) of the largest")
        #expect(gap <= 2e-3, "prompt \(p), step \(k): not a near tie")
    }
    print("smolLM2MatchesTransformers(\(arithmetic)): \(matching) of \(prompts.count) greedy continuations identical")
    #expect(arithmetic == .float32 ? matching == prompts.count : (prompts.count - matching) * 25 <= prompts.count)
}

@Test func aRoPEFrequencyDivisorOfZeroIsRefusedByName() throws {
    let error = networkError { _ = try LanguageModels.load("\(tinyFolder("llama_tiny_gguf"))/rope_freqs_zero.gguf") }
    #expect(
        error == .invalidTensorValue(
            name: "rope_freqs.weight", reason: "element 3 is 0.0; RoPE frequency divisors must be positive and finite"))
}

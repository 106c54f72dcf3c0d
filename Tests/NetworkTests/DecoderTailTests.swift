import Foundation
import Testing
import WeightFiles

@testable import Network

/// Reverse mode through the tiny language models (scripts/make_lm_gradient_vectors.py: transformers + autograd).
private func gradientVectors(_ name: String) throws -> any WeightFile {
    try WeightFiles.open("\(referenceNetworksDirectory)/\(name)/gradients.safetensors")
}

private func tensor(_ file: any WeightFile, _ name: String) throws -> FloatTensor {
    let view = try file.tensor(named: name)
    return FloatTensor(shape: view.shape, scalars: try FloatConversion.float32Values(of: view))
}

private func integers(_ file: any WeightFile, _ name: String) throws -> [Int] {
    let view = try file.tensor(named: name)
    return view.withUnsafeBytes { raw in
        (0..<view.info.elementCount).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
    }
}

private struct GradientCase {
    var prompts: [[Int]]
    var targets: [Int]
    var sites: [(layer: Int, hook: DecoderTail.Hook, position: Int)]
}

private func gradientCase(_ file: any WeightFile) throws -> GradientCase {
    let ids = try integers(file, "input_ids"), sites = try integers(file, "sites")
    let kinds: [DecoderTail.Hook] = [.residPost, .attnOut, .mlpOut]
    return GradientCase(
        prompts: (0..<3).map { Array(ids[($0 * 9)..<(($0 + 1) * 9)]) }, targets: try integers(file, "targets"),
        sites: stride(from: 0, to: sites.count, by: 3).map { (sites[$0], kinds[sites[$0 + 1]], sites[$0 + 2]) })
}

@Test(arguments: tinyLanguageModels)
func decoderTailGradientMatchesAutograd(_ name: String) throws {
    let model = try LanguageModels.load("\(referenceNetworksDirectory)/\(name)", threads: 2)
    let weights = try DecoderTailWeights(network: model)
    let file = try gradientVectors(name)
    let vectors = try gradientCase(file)
    for (k, site) in vectors.sites.enumerated() {
        let tail = try DecoderTail(
            weights: weights, prompts: vectors.prompts, sharedPrefix: 3, layer: site.layer, hook: site.hook,
            position: site.position)
        let activation = (0..<3).flatMap { tail.clean($0) }
        let d = tail.width
        let expectedActivation = try tensor(file, "activation.\(k)")
        #expect(
            relativeError(FloatTensor(shape: [3, d], scalars: activation), expectedActivation) <= 1e-5,
            "\(name) site \(k): clean activation")
        let (losses, gradient) = tail.lossAndGradient(activation, prompts: [0, 1, 2], targets: vectors.targets)
        let lossError = relativeError(FloatTensor(shape: [3], scalars: losses), try tensor(file, "loss.\(k)"))
        #expect(lossError <= 1e-5, "\(name) site \(k): loss differs by \(lossError)")
        let error = relativeError(FloatTensor(shape: [3, d], scalars: gradient), try tensor(file, "gradient.\(k)"))
        #expect(
            error <= 1e-4,
            "\(name) site \(k) (block \(site.layer) \(site.hook.rawValue) position \(site.position)): gradient differs by \(error)"
        )
    }
}

@Test(arguments: tinyLanguageModels)
func decoderTailWithoutSharedPrefixGivesTheSameGradient(_ name: String) throws {
    let model = try LanguageModels.load("\(referenceNetworksDirectory)/\(name)", threads: 1)
    let weights = try DecoderTailWeights(network: model)
    let vectors = try gradientCase(try gradientVectors(name))
    let site = vectors.sites[0]
    let shared = try DecoderTail(
        weights: weights, prompts: vectors.prompts, sharedPrefix: 3, layer: site.layer, hook: site.hook, position: site.position)
    let alone = try DecoderTail(
        weights: weights, prompts: vectors.prompts, sharedPrefix: 0, layer: site.layer, hook: site.hook, position: site.position)
    let activation = (0..<3).flatMap { shared.clean($0) }
    let a = shared.lossAndGradient(activation, prompts: [0, 1, 2], targets: vectors.targets).gradient
    let b = alone.lossAndGradient(activation, prompts: [0, 1, 2], targets: vectors.targets).gradient
    let d = shared.width
    #expect(relativeError(FloatTensor(shape: [3, d], scalars: a), FloatTensor(shape: [3, d], scalars: b)) <= 1e-5)
}

@Test(arguments: tinyLanguageModels)
func decoderTailLogitsAtTheCleanActivationAreTheModelsNextTokenLogits(_ name: String) throws {
    let model = try LanguageModels.load("\(referenceNetworksDirectory)/\(name)", threads: 1)
    let vectors = try gradientCase(try gradientVectors(name))
    let tail = try DecoderTail(
        weights: try DecoderTailWeights(network: model), prompts: vectors.prompts, sharedPrefix: 3, layer: 0, hook: .attnOut,
        position: 5)
    // Rows on prompts 2, 0, 2: each row follows its own prompt's prefix and later positions.
    let logits = tail.logits([2, 0, 2].flatMap { tail.clean($0) }, prompts: [2, 0, 2])
    let reference = try model.nextTokenLogits([vectors.prompts[2], vectors.prompts[0], vectors.prompts[2]], interventions: [])
    let error = relativeError(
        FloatTensor(shape: [3, tail.vocabularySize], scalars: logits),
        FloatTensor(shape: [3, tail.vocabularySize], scalars: reference.flatMap { $0 }))
    #expect(error <= 1e-5, "\(name): tail logits differ from the model's by \(error)")
}

/// The directional derivative along a random direction against a central difference, on block-quantized models
/// (the tail multiplies by their dequantized weights).
@Test(arguments: ["gpt2_tiny_gguf", "llama_tiny_gguf"])
func decoderTailGradientMatchesFiniteDifferences(_ name: String) throws {
    let folder = "\(referenceNetworksDirectory)/\(name)"
    let model = try LanguageModels.load("\(folder)/model.gguf", threads: 1)
    let weights = try DecoderTailWeights(network: model)
    let prompts = [[5, 9, 3, 17, 2, 40, 8], [5, 9, 3, 30, 11, 7, 1]]
    let targets = [12, 99]
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    for (layer, hook, position) in [(0, DecoderTail.Hook.residPost, 3), (0, .attnOut, 4), (0, .mlpOut, 6), (1, .attnOut, 5)] {
        let tail = try DecoderTail(
            weights: weights, prompts: prompts, sharedPrefix: 3, layer: layer, hook: hook, position: position)
        let x = tail.clean(0) + tail.clean(1)
        var u = x.map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
        let norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
        u = u.map { $0 / norm }
        let (_, gradient) = tail.lossAndGradient(x, prompts: [0, 1], targets: targets)
        let analytic = zip(gradient, u).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        let epsilon: Float = 1e-2
        func loss(_ sign: Float) -> Double {
            let moved = zip(x, u).map { $0 + sign * epsilon * $1 }
            return tail.lossAndGradient(moved, prompts: [0, 1], targets: targets).losses.reduce(0.0) { $0 + Double($1) }
        }
        let numeric = (loss(1) - loss(-1)) / Double(2 * epsilon)
        // Float32 rounding of the losses bounds the difference's precision; measure against ‖∇‖ ≥ |∇·u|.
        let scale = max(abs(numeric), Double(gradient.reduce(0) { $0 + $1 * $1 }.squareRoot()))
        #expect(
            abs(analytic - numeric) <= 1e-2 * scale,
            "\(name) block \(layer) \(hook.rawValue) @\(position): \(analytic) vs \(numeric)")
    }
}

@Test func decoderTailRefusesPromptsOfDifferentLengths() throws {
    let model = try LanguageModels.load("\(referenceNetworksDirectory)/llama_tiny", threads: 1)
    let weights = try DecoderTailWeights(network: model)
    #expect(throws: NetworkError.self) {
        _ = try DecoderTail(weights: weights, prompts: [[1, 2, 3], [1, 2]], layer: 0, hook: .residPost, position: 1)
    }
    do {
        _ = try DecoderTail(
            weights: weights, prompts: [[1, 2, 3], [4, 2, 3]], sharedPrefix: 1, layer: 0, hook: .residPost, position: 2)
        Issue.record("a prefix the prompts do not share was accepted")
    } catch {
        #expect("\(error)".contains("does not start with"), "\(error)")
    }
}

/// A tail prepared with only some prompts as context (the others give site activations alone) runs rows on those
/// prompts exactly as a tail with every prompt does.
@Test(arguments: tinyLanguageModels)
func decoderTailOnContextPromptsGivesTheSameLossesAndGradient(_ name: String) throws {
    let model = try LanguageModels.load("\(referenceNetworksDirectory)/\(name)", threads: 1)
    let weights = try DecoderTailWeights(network: model)
    let vectors = try gradientCase(try gradientVectors(name))
    for site in vectors.sites {
        let all = try DecoderTail(
            weights: weights, prompts: vectors.prompts, sharedPrefix: 3, layer: site.layer, hook: site.hook,
            position: site.position)
        let some = try DecoderTail(
            weights: weights, prompts: vectors.prompts, sharedPrefix: 3, layer: site.layer, hook: site.hook,
            position: site.position, contextPrompts: [2, 0])
        #expect((0..<3).allSatisfy { some.clean($0) == all.clean($0) }, "\(name): clean activations differ")
        // Rows on prompts 2 and 0 holding prompt 1's activation (a source outside the context).
        let activation = some.clean(1) + some.clean(1)
        let a = all.lossAndGradient(activation, prompts: [2, 0], targets: [vectors.targets[2], vectors.targets[0]])
        let b = some.lossAndGradient(activation, prompts: [2, 0], targets: [vectors.targets[2], vectors.targets[0]])
        #expect(a.losses == b.losses, "\(name) block \(site.layer) \(site.hook.rawValue): losses differ")
        #expect(a.gradient == b.gradient, "\(name) block \(site.layer) \(site.hook.rawValue): gradients differ")
    }
}

@Test func decoderTailRefusesAContextPromptOutsideThePrompts() throws {
    let model = try LanguageModels.load("\(referenceNetworksDirectory)/llama_tiny", threads: 1)
    let weights = try DecoderTailWeights(network: model)
    do {
        _ = try DecoderTail(
            weights: weights, prompts: [[1, 2, 3], [4, 2, 3]], layer: 0, hook: .residPost, position: 1, contextPrompts: [2])
        Issue.record("a context prompt outside the prompts was accepted")
    } catch {
        #expect("\(error)".contains("context prompt 2"), "\(error)")
    }
}

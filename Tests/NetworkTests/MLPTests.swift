import Foundation
import Testing
import WeightFiles

@testable import Network

/// A 2-3-2 ReLU network in nn.Sequential naming, with weights chosen so every value is exact.
private func sequentialWeights() throws -> SafetensorsFile {
    try makeWeights([
        ("0.weight", [3, 2], [1, 0, 0, 1, 1, -1]),
        ("0.bias", [3], [0, 0, 0.5]),
        ("2.weight", [2, 3], [1, 1, 0, 0, 0, 2]),
        ("2.bias", [2], [0, -1]),
    ])
}

@Test func inferredSequentialMLPComputesReLUStack() throws {
    let net = try MLPNetwork(file: try sequentialWeights(), description: MLPDescription())
    // x = (2, 3): hidden = relu(2, 3, -0.5) = (2, 3, 0); out = (5, -1)
    let run = try net.run(rows([[2, 3]]))
    #expect(run.output.scalars == [5, -1])
}

@Test func scikitLearnExportIsReadInInOutLayout() throws {
    let file = try makeWeights([
        ("coefs_.0", [2, 3], [1, 0, 1, 0, 1, -1]),  // [in, out]: the transpose of the Sequential weight above
        ("intercepts_.0", [3], [0, 0, 0.5]),
        ("coefs_.1", [3, 2], [1, 0, 1, 0, 0, 2]),
        ("intercepts_.1", [2], [0, -1]),
    ])
    let net = try MLPNetwork(file: file, description: MLPDescription())
    #expect(try net.run(rows([[2, 3]])).output.scalars == [5, -1])
}

@Test func hooksCaptureBeforeAndAfterTheActivation() throws {
    let net = try MLPNetwork(file: try sequentialWeights(), description: MLPDescription())
    let run = try net.run(rows([[2, 3]]), capture: ["layers.0.hook_pre", "layers.0.hook_post", "hook_input"], interventions: [])
    #expect(run.activations["hook_input"]?.scalars == [2, 3])
    #expect(run.activations["layers.0.hook_pre"]?.scalars == [2, 3, -0.5])
    #expect(run.activations["layers.0.hook_post"]?.scalars == [2, 3, 0])
    #expect(
        net.hookNames == ["hook_input", "layers.0.hook_pre", "layers.0.hook_post", "layers.1.hook_pre", "layers.1.hook_post"])
}

@Test func softmaxOutputActivationNormalisesRows() throws {
    let net = try MLPNetwork(file: try sequentialWeights(), description: MLPDescription(outputActivation: .softmax))
    let out = try net.run(rows([[2, 3], [0, 0]])).output.scalars
    #expect(abs(out[0] + out[1] - 1) < 1e-6)
    #expect(abs(out[1] - Float(1 / (1 + exp(6.0)))) < 1e-6)
}

@Test func explicitLayersMustChainWidths() throws {
    let file = try sequentialWeights()
    let description = MLPDescription(layers: [
        MLPOp(kind: .linear, weight: "0.weight", bias: "0.bias", layout: .outIn),
        MLPOp(kind: .linear, weight: "0.weight", layout: .outIn),
    ])
    let error = networkError { _ = try MLPNetwork(file: file, description: description) }
    guard case .shapesDoNotChain(let layer, let expected, let actual) = error else {
        Issue.record("expected shapesDoNotChain, got \(String(describing: error))")
        return
    }
    #expect(layer.contains("0.weight") && expected == 3 && actual == 2)
}

@Test func inputWidthIsCheckedAgainstTheFirstLayer() throws {
    let error = networkError { _ = try MLPNetwork(file: try sequentialWeights(), description: MLPDescription(inputWidth: 5)) }
    guard case .shapesDoNotChain = error else {
        Issue.record("expected shapesDoNotChain, got \(String(describing: error))")
        return
    }
}

@Test func missingBiasTensorIsNamedWithItsExpectedShape() throws {
    let description = MLPDescription(layers: [MLPOp(kind: .linear, weight: "0.weight", bias: "0.bais", layout: .outIn)])
    let error = networkError { _ = try MLPNetwork(file: try sequentialWeights(), description: description) }
    #expect(error == .missingTensor(name: "0.bais", expectedShape: "[out=3]"))
}

@Test func wrongBiasShapeIsNamed() throws {
    let description = MLPDescription(layers: [MLPOp(kind: .linear, weight: "0.weight", bias: "2.bias", layout: .outIn)])
    let error = networkError { _ = try MLPNetwork(file: try sequentialWeights(), description: description) }
    #expect(error == .wrongShape(name: "2.bias", shape: [2], expectedShape: "[out=3]"))
}

@Test func inputsOfTheWrongWidthAreRefused() throws {
    let net = try MLPNetwork(file: try sequentialWeights(), description: MLPDescription())
    let error = networkError { _ = try net.run(rows([[1, 2, 3]])) }
    guard case .invalidInput = error else {
        Issue.record("expected invalidInput, got \(String(describing: error))")
        return
    }
}

@Test func inferenceRefusesNamesThatAreNotALinearStack() throws {
    let file = try makeWeights([("encoder.weight", [2, 2], [1, 0, 0, 1])])
    let error = networkError { _ = try MLPNetwork(file: file, description: MLPDescription()) }
    guard case .invalidDescription(_, let reason) = error else {
        Issue.record("expected invalidDescription, got \(String(describing: error))")
        return
    }
    #expect(reason.contains("encoder.weight"))
}

@Test func emptyBatchGivesEmptyOutput() throws {
    let net = try MLPNetwork(file: try sequentialWeights(), description: MLPDescription())
    let run = try net.run(.features(FloatTensor(shape: [0, 2], scalars: [])))
    #expect(run.output.shape == [0, 2])
}

@Test func weightsOfAnyFloatTypeAreConvertedOnceAtLoad() throws {
    let f32 = try sequentialWeights()
    let halves = try f32.tensors.map { info in try FloatConversion.cast(f32.tensor(named: info.name), to: .bf16) }
    let bf16 = try SafetensorsFile(storage: ByteStorage(copying: try SafetensorsWriter.serialize(halves, metadata: nil)))
    #expect(bf16.tensors.allSatisfy { $0.dtype == .bf16 })
    // Every weight here is exact in BF16, so the outputs agree exactly.
    let net = try MLPNetwork(file: bf16, description: MLPDescription())
    #expect(try net.run(rows([[2, 3]])).output.scalars == [5, -1])
}

@Test(arguments: ["layers.", "net.", "model.layers.", "fc", "linear"])
func inferredMLPReadsNumberedLayersUnderAnyPrefix(prefix: String) throws {
    // Numbered 1 and 10 so that numeric order (not text order, "10" < "2") is checked.
    let file = try makeWeights([
        ("\(prefix)1.weight", [3, 2], [1, 0, 0, 1, 1, -1]),
        ("\(prefix)1.bias", [3], [0, 0, 0.5]),
        ("\(prefix)10.weight", [2, 3], [1, 1, 0, 0, 0, 2]),
        ("\(prefix)10.bias", [2], [0, -1]),
    ])
    let net = try MLPNetwork(file: file, description: MLPDescription())
    #expect(try net.run(rows([[2, 3]])).output.scalars == [5, -1])
}

@Test func inferredMLPRefusesWeightsNumberedUnderTwoNames() throws {
    let file = try makeWeights([
        ("fc1.weight", [3, 2], [1, 0, 0, 1, 1, -1]),
        ("out1.weight", [2, 3], [1, 1, 0, 0, 0, 2]),
    ])
    let error = networkError { _ = try MLPNetwork(file: file, description: MLPDescription()) }
    guard case .invalidDescription(let path, let reason) = error else {
        Issue.record("expected invalidDescription, got \(String(describing: error))")
        return
    }
    #expect(path == "layers")
    #expect(reason.contains("\"fc{k}\"") && reason.contains("\"out{k}\""))
}

@Test func inferredMLPRefusesAnUnnumberedLayer() throws {
    let file = try makeWeights([
        ("fc1.weight", [3, 2], [1, 0, 0, 1, 1, -1]),
        ("out.weight", [2, 3], [1, 1, 0, 0, 0, 2]),
    ])
    let error = networkError { _ = try MLPNetwork(file: file, description: MLPDescription()) }
    guard case .invalidDescription(_, let reason) = error else {
        Issue.record("expected invalidDescription, got \(String(describing: error))")
        return
    }
    #expect(reason.contains("\"out.weight\" is not a numbered layer"))
}

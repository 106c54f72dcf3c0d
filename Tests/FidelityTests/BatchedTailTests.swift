import Foundation
import Network
import WeightFiles
import Testing

/// A 3 → 4 → 3 MLP with tanh, whose hook `layers.0.hook_pre` starts a tail of tanh and a linear map.
private func smallMLP() throws -> any NeuralNetwork {
    let w0: [Float] = (0..<12).map { Float(sin(Double($0) + 1)) }
    let w1: [Float] = (0..<12).map { Float(cos(Double($0) * 0.7)) }
    var tensors: [(name: String, shape: [Int], values: [Float])] = []
    tensors.append(("w0", [3, 4], w0))
    tensors.append(("b0", [4], [0.1, -0.2, 0.3, 0]))
    tensors.append(("w1", [4, 3], w1))
    tensors.append(("b1", [3], [0, 0.5, -0.5]))
    let file = try InMemoryWeightFile(float32: tensors)
    let description = NetworkDescription.mlp(
        MLPDescription(
            inputWidth: 3,
            layers: [
                MLPOp(kind: .linear, weight: "w0", bias: "b0", layout: .inOut), MLPOp(kind: .tanh),
                MLPOp(kind: .linear, weight: "w1", bias: "b1", layout: .inOut),
            ]))
    return try NetworkLoader.load(file: file, description: description, threads: 1)
}

@Test func theBatchedTailGivesTheDoubleTailsLossAndGradientRowByRow() throws {
    let tail = try NetworkTail(network: try smallMLP(), hook: "layers.0.hook_pre")
    let batched = BatchedTail(tail)
    let rows: [[Double]] = [[0.5, -1, 2, 0.1], [-0.3, 0.2, 0, 1.5]]
    let targets = [2, 0]
    let result = batched.lossAndGradient(
        rows.flatMap { $0.map(Float.init) }, rows: 2, context: nil, targets: targets, threads: 1)
    var loss = 0.0
    for (r, row) in rows.enumerated() {
        let reference = tail.lossAndGradient(row, target: targets[r])
        loss += reference.loss / 2
        for j in 0..<4 { #expect(abs(Double(result.gradient[r * 4 + j]) - reference.gradient[j]) < 1e-5) }
    }
    #expect(abs(result.loss - loss) < 1e-5)
}

@Test func theBatchedTailSplitsOffALeadingLinearMap() throws {
    let network = try smallMLP()
    let atPost = BatchedTail(try NetworkTail(network: network, hook: "layers.0.hook_post"))
    let linear = try #require(atPost.leadingLinear)
    #expect(linear.outputs == 3 && linear.weight.count == 12)
    // The rest of the tail after it is empty: its logits are its input.
    #expect(atPost.rest.logits([1, 2, 3], rows: 1, context: nil, threads: 1) == [1, 2, 3])
    #expect(BatchedTail(try NetworkTail(network: network, hook: "layers.0.hook_pre")).leadingLinear == nil)
}

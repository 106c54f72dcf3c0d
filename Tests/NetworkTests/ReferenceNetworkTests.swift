import Foundation
import Testing
import WeightFiles

@testable import Network

/// The reference networks trained by scikit-learn and PyTorch (scripts/train_reference_networks.py).
let referenceNetworks: [String] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: referenceNetworksDirectory)) ?? []
    return names.filter {
        FileManager.default.fileExists(atPath: "\(referenceNetworksDirectory)/\($0)/reference.safetensors")
    }.sorted()
}()

private func folder(_ name: String) -> String { "\(referenceNetworksDirectory)/\(name)" }

private func load(_ name: String) throws -> any NeuralNetwork {
    let file = try WeightFiles.open("\(folder(name))/model.safetensors")
    let description = try NetworkLoader.description("\(folder(name))/network.json")
    return try NetworkLoader.load(file: file, description: description, threads: 2)
}

private func floats(_ file: any WeightFile, _ name: String) throws -> FloatTensor {
    let view = try file.tensor(named: name)
    return FloatTensor(shape: view.shape, scalars: try FloatConversion.float32Values(of: view))
}

private func integers(_ file: any WeightFile, _ name: String) throws -> [Int] {
    let view = try file.tensor(named: name)
    #expect(view.dtype == .i64)
    return view.withUnsafeBytes { raw in
        (0..<view.info.elementCount).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
    }
}

private func input(_ file: any WeightFile, _ name: String, tokens: Bool) throws -> NetworkInput {
    if tokens {
        let shape = try #require(file.info(named: name)).shape
        return .tokens(ids: try integers(file, name), batch: shape[0], length: shape[1])
    }
    return .features(try floats(file, name))
}

/// The largest |a − b| over the tensor, relative to the reference's largest magnitude; −∞ entries must match exactly.
func relativeError(_ actual: FloatTensor, _ expected: FloatTensor) -> Double {
    guard actual.shape == expected.shape else { return .infinity }
    var scale = 0.0, worst = 0.0
    for e in expected.scalars where e.isFinite { scale = max(scale, Double(abs(e))) }
    for (a, e) in zip(actual.scalars, expected.scalars) {
        if !e.isFinite || !a.isFinite {
            if a != e && !(a.isNaN && e.isNaN) { return .infinity }
            continue
        }
        worst = max(worst, Double(abs(a - e)))
    }
    return scale == 0 ? worst : worst / scale
}

@Test(arguments: referenceNetworks)
func outputAndHooksMatchTheTrainingFramework(_ name: String) throws {
    let net = try load(name)
    let reference = try WeightFiles.open("\(folder(name))/reference.safetensors")
    let hooks = reference.tensors.map(\.name).filter { $0 != "input" && $0 != "output" }
    #expect(!hooks.isEmpty)
    let run = try net.run(
        try input(reference, "input", tokens: net is TransformerNetwork), capture: Set(hooks), interventions: [])
    let outputError = relativeError(run.output, try floats(reference, "output"))
    #expect(outputError <= 1e-5, "output differs by \(outputError) (relative)")
    for hook in hooks {
        let error = relativeError(try #require(run.activations[hook]), try floats(reference, hook))
        #expect(error <= 1e-5, "\(hook) differs by \(error) (relative)")
    }
}

private let interventionNetworks = referenceNetworks.filter {
    FileManager.default.fileExists(atPath: "\(referenceNetworksDirectory)/\($0)/interventions.json")
}

@Test(arguments: interventionNetworks)
func interventionsMatchPyTorch(_ name: String) throws {
    let net = try load(name)
    let tokens = net is TransformerNetwork
    let tensors = try WeightFiles.open("\(folder(name))/interventions.safetensors")
    let data = try #require(FileManager.default.contents(atPath: "\(folder(name))/interventions.json"))
    let cases = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    #expect(!cases.isEmpty)
    for entry in cases {
        let caseName = entry["name"] as? String ?? "?"
        let base = try input(tensors, try #require(entry["base_input"] as? String), tokens: tokens)
        var interventions: [Intervention] = []
        for spec in try #require(entry["interventions"] as? [[String: Any]]) {
            let hook = try #require(spec["hook"] as? String)
            let kind: Intervention.Kind
            switch spec["kind"] as? String {
            case "zero": kind = .zero
            case "interchange":
                let source = try input(tensors, try #require(entry["source_input"] as? String), tokens: tokens)
                kind = .interchange(
                    source: source, sourceIndex: try integers(tensors, try #require(entry["source_index"] as? String)))
            case "project_onto": kind = .projectOnto(basis: try floats(tensors, try #require(spec["basis"] as? String)))
            case "project_off": kind = .projectOff(basis: try floats(tensors, try #require(spec["basis"] as? String)))
            case let other:
                Issue.record("\(caseName): unexpected kind \(String(describing: other))")
                return
            }
            interventions.append(
                Intervention(hook: hook, positions: spec["positions"] as? [Int], units: spec["units"] as? [Int], kind: kind))
        }
        let run = try net.run(base, capture: [], interventions: interventions)
        let error = relativeError(run.output, try floats(tensors, try #require(entry["expected_output"] as? String)))
        #expect(error <= 1e-5, "\(name)/\(caseName): output differs by \(error) (relative)")
    }
}

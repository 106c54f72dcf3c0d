import Foundation
import Network
import Testing
import WeightFiles

@testable import Distillation

private let vectors: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("formats/vectors").path
}()

/// The bundled example's task, which the hostile probe files claim to belong to.
private let additionTask: TaskDescription = {
    try! TaskDescription.read(vectors + "/networks/addition_mlp/task.json")
}()

/// Reads a probe file as `distill --probes FILE --task T` does: the file, then its fit to the task.
private func readAsDistillDoes(_ path: String) throws -> ProbeSet {
    try ProbeSet.read(path, for: additionTask)
}

@Suite("Probe files (formats/task.md, \"Probe files\")")
struct ProbeFileTests {
    /// Each hostile probe file of formats/vectors/malformed (scripts/make_probe_vectors.py) and
    /// what its error says.
    static let hostile: [(file: String, reason: String)] = [
        ("probes_empty", "holds no probes"),
        ("probes_value_int64_max", "inputs[3, 0] (`a`) is 9223372036854775807, outside ±2^40"),
        ("probes_value_int64_min", "inputs[5, 0] (`a`) is -9223372036854775808, outside ±2^40"),
        ("probes_indices_wrong_length", "indices of shape [3] do not fit 40 probes"),
        ("probes_indices_outside_domain", "has domain index 10000"),
        ("probes_indices_negative", "indices[0] is -1"),
        ("probes_activations_wrong_batch", "activations.layers.0.hook_post of shape [2, 4] is not [40, units]"),
        ("probes_activations_scalar", "activations.layers.0.hook_post of shape [] is not [40, units]"),
        ("probes_activations_no_positions", "activations.layers.0.hook_post of shape [40, 0, 4] is not"),
    ]

    @Test("a hostile probe file is refused with a mismatch naming what is wrong", arguments: hostile.map(\.file))
    func hostileProbeFileIsRefused(_ name: String) throws {
        let path = vectors + "/malformed/\(name).safetensors"
        let expected = try #require(Self.hostile.first { $0.file == name }?.reason)
        guard case .mismatch(let where_, let reason)? = distillationError({ _ = try readAsDistillDoes(path) }) else {
            Issue.record("\(name): expected a mismatch")
            return
        }
        #expect(where_ == path)
        #expect(reason.contains(expected), "\(name): \(reason)")
    }

    @Test("probes that fit the task are read and checked without complaint, and every family fits them")
    func wellFormedProbesFit() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retort-probes-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pairs: [(Int, Int)] = (0..<40).map { ($0 % 10, ($0 * 7) % 100) }
        let values: [Int] = pairs.flatMap { [$0.0, $0.1] }
        let indices: [Int] = pairs.map { $0.0 * 100 + $0.1 }
        let outputs: [Int] = pairs.map { $0.0 + $0.1 }
        let hidden = FloatTensor(shape: [40, 3], scalars: (0..<120).map { Float($0 % 5) })
        let region = Region(name: "probe", values: values, indices: indices, variableCount: 2)
        let probes = ProbeSet(
            variables: ["a", "b"], region: region, outputs: outputs, activations: ["layers.0.hook_post": hidden])
        try probes.write(to: directory + "/p.safetensors")
        let back = try readAsDistillDoes(directory + "/p.safetensors")
        let features = try TaskFeatures(task: additionTask, names: ["a", "b", "layers.0.hook_post>2"], activations: back.activations)
        var options = Distiller.Options()
        options.programLimits = ProgramSearch.Limits(maxSize: 3, maxSeconds: 5)
        for family in SurrogateFamily.allCases {
            let fitted = try Distiller.fit(family, probes: back, task: additionTask, features: features, options: options)
            #expect(try fitted.predict(back, task: additionTask).count == 40, "\(family)")
        }
    }
}

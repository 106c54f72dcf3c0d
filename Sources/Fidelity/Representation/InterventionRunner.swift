import Distillation
import Foundation
import Network

/// Runs one network on a fixed input set: clean runs (labels, losses, activations at the sites) once, then
/// forward passes with per-example patched activations at one site.
///
/// Patching goes through the network's own `interchangeActivation` intervention with the patched
/// activations as the source and source index b for example b, so every test runs the real forward pass.
struct InterventionRunner: Sendable {
    let network: any NeuralNetwork
    let task: TaskDescription
    /// The input set (the task's variable values).
    let inputs: [[Int]]
    let template: Region
    /// The decoded clean outputs (the network's own labels) and their class indices (`nil` off the alphabet).
    let labels: [Int]
    let labelClasses: [Int?]
    /// Clean activations by hook (`[inputs, …]`).
    let activations: [String: FloatTensor]
    /// The cross-entropy of the clean run against its own labels, per input (`nil` as for `meanLoss`).
    let cleanLosses: [Double]?
    let outputIsProbability: Bool

    init(network: any NeuralNetwork, task: TaskDescription, region: Region, hooks: Set<String>) throws(RepresentationError) {
        self.network = network
        self.task = task
        self.template = region
        self.inputs = (0..<region.count).map(region.input)
        self.outputIsProbability = NetworkTail.outputIsProbability(network)
        let run: NetworkRun
        do {
            run = try network.run(task.encode(region, 0..<region.count), capture: hooks, interventions: [])
        } catch {
            throw .network(error)
        }
        do { labels = try task.decode(run.output) } catch { throw .task(error) }
        activations = run.activations
        let classes = labels.map { Self.classIndex($0, task: task) }
        labelClasses = classes
        let rows = Self.outputRows(run.output, task: task)
        cleanLosses = Self.losses(rows, classes: classes, probabilities: outputIsProbability)
    }

    /// The mean clean loss over `inputs`.
    func cleanLoss(_ inputs: [Int]) -> Double? {
        guard let cleanLosses, !inputs.isEmpty else { return nil }
        return inputs.reduce(0.0) { $0 + cleanLosses[$1] } / Double(inputs.count)
    }

    /// The output index a task output value `y` comes from, for argmax decoders.
    static func classIndex(_ y: Int, task: TaskDescription) -> Int? {
        guard case .argmax(let classes, _) = task.decoder else { return nil }
        if let classes { return classes.firstIndex(of: y) }
        return y >= 0 ? y : nil
    }

    /// The output rows the decoder reads (`[batch][width]`), at the decoder's position for sequence outputs.
    static func outputRows(_ output: FloatTensor, task: TaskDescription) -> [[Float]] {
        let batch = output.batchSize
        guard batch > 0 else { return [] }
        let width = output.shape.last ?? 0
        let rowLength = output.count / batch
        var offset = 0
        if case .argmax(_, let position) = task.decoder, output.shape.count == 3 {
            let positions = rowLength / max(width, 1)
            offset = (position < 0 ? positions + position : position) * width
        }
        return (0..<batch).map { b in Array(output.scalars[(b * rowLength + offset)..<(b * rowLength + offset + width)]) }
    }

    /// Mean cross-entropy of `rows` against `classes` (logits, or probabilities after a final softmax);
    /// `nil` when some class is unknown (non-argmax decoders, labels off the alphabet).
    static func meanLoss(_ rows: [[Float]], classes: [Int?], probabilities: Bool) -> Double? {
        guard let all = losses(rows, classes: classes, probabilities: probabilities) else { return nil }
        return all.reduce(0, +) / Double(all.count)
    }

    /// The cross-entropy of each row (see `meanLoss`).
    static func losses(_ rows: [[Float]], classes: [Int?], probabilities: Bool) -> [Double]? {
        guard !rows.isEmpty else { return nil }
        var out: [Double] = []
        out.reserveCapacity(rows.count)
        for (row, c) in zip(rows, classes) {
            guard let c, c < row.count else { return nil }
            if probabilities {
                out.append(-log(max(Double(row[c]), 1e-300)))
            } else {
                let top = Double(row.max() ?? 0)
                let sum = row.reduce(0.0) { $0 + exp(Double($1) - top) }
                out.append(top + log(sum) - Double(row[c]))
            }
        }
        return out
    }

    /// The shape of one example's activation at `hook` and the feature count per position.
    func layout(_ site: AlignmentSite) throws(RepresentationError) -> (perExample: Int, width: Int, offset: Int) {
        guard let a = activations[site.hook] else { throw .invalidSite(hook: site.hook, reason: "not captured") }
        let perExample = a.count / max(a.batchSize, 1)
        if a.shape.count == 2 {
            guard site.position == nil else {
                throw .invalidSite(hook: site.hook, reason: "the hook has no position axis; give no position")
            }
            return (perExample, perExample, 0)
        }
        guard a.shape.count >= 3, let p = site.position else {
            throw .invalidSite(hook: site.hook, reason: "the hook has a position axis; give a position")
        }
        let width = a.shape.dropFirst(2).reduce(1, *)
        guard p >= 0 && p < a.shape[1] else {
            throw .invalidSite(hook: site.hook, reason: "position \(p) is outside 0..<\(a.shape[1])")
        }
        return (perExample, width, p * width)
    }

    /// Input i's clean features at `site`.
    func features(_ site: AlignmentSite, _ i: Int) -> [Float] {
        let a = activations[site.hook]!
        let perExample = a.count / max(a.batchSize, 1)
        let width = a.shape.count == 2 ? perExample : a.shape.dropFirst(2).reduce(1, *)
        let start = i * perExample + (site.position ?? 0) * width
        return Array(a.scalars[start..<(start + width)])
    }

    /// The network's output rows when example j runs on input `bases[j]` with its features at `site`
    /// replaced by `patched[j]`.
    /// - Complexity: one forward pass over `bases.count` examples.
    func run(_ site: AlignmentSite, bases: [Int], patched: [[Float]]) throws(RepresentationError) -> FloatTensor {
        let a = activations[site.hook]!
        let perExample = a.count / max(a.batchSize, 1)
        let width = patched.first?.count ?? 0
        let offset = (site.position ?? 0) * width
        var scalars = [Float](repeating: 0, count: bases.count * perExample)
        for (j, b) in bases.enumerated() {
            for t in 0..<perExample { scalars[j * perExample + t] = a.scalars[b * perExample + t] }
            for t in 0..<width { scalars[j * perExample + offset + t] = patched[j][t] }
        }
        let source = FloatTensor(shape: [bases.count] + a.shape.dropFirst(), scalars: scalars)
        var region = template
        region.indices = nil
        region.values = bases.flatMap { inputs[$0] }
        let intervention = Intervention(
            hook: site.hook, positions: site.position.map { [$0] }, units: nil,
            kind: .interchangeActivation(source, sourceIndex: Array(0..<bases.count)))
        do {
            return try network.run(task.encode(region, 0..<bases.count), capture: [], interventions: [intervention]).output
        } catch {
            throw .network(error)
        }
    }

    /// Decoded outputs of a patched run.
    func decoded(_ output: FloatTensor) throws(RepresentationError) -> [Int] {
        do { return try task.decode(output) } catch { throw .task(error) }
    }
}

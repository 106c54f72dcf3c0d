/// Runs long batches in chunks of examples, so that every intermediate activation stays small:
/// the arrays are then recycled by the allocator instead of being mapped (and page-faulted)
/// afresh on every layer, and the working set stays in cache.
enum Chunking {
    /// Floats per intermediate activation that a chunk aims at (4 MiB).
    static let targetFloats = 1 << 20

    /// Calls `body` on consecutive slices of `input` of `examplesPerChunk` examples, with interchange
    /// source indices sliced to match, and concatenates the outputs and captured activations.
    static func run(
        _ input: NetworkInput, examplesPerChunk: Int, interventions: [Intervention],
        _ body: (NetworkInput, [Intervention]) throws(NetworkError) -> NetworkRun
    ) throws(NetworkError) -> NetworkRun {
        let batch = input.batchSize
        guard batch > examplesPerChunk else { return try body(input, interventions) }
        var output: [Float] = []
        var outputShape: [Int] = []
        var captured: [String: (shape: [Int], values: [Float])] = [:]
        var start = 0
        while start < batch {
            let end = min(start + examplesPerChunk, batch)
            let slice = input.slice(start..<end)
            var sliced = interventions
            for i in sliced.indices {
                if case .interchangeActivation(let source, let sourceIndex) = sliced[i].kind {
                    guard sourceIndex.count == batch else {
                        throw .invalidIntervention(
                            hook: sliced[i].hook, reason: "\(sourceIndex.count) source indices for a batch of \(batch)")
                    }
                    sliced[i].kind = .interchangeActivation(source, sourceIndex: Array(sourceIndex[start..<end]))
                }
            }
            let run = try body(slice, sliced)
            output += run.output.scalars
            outputShape = Array(run.output.shape.dropFirst())
            for (name, tensor) in run.activations {
                captured[name, default: (Array(tensor.shape.dropFirst()), [])].values += tensor.scalars
            }
            start = end
        }
        var activations: [String: FloatTensor] = [:]
        for (name, entry) in captured { activations[name] = FloatTensor(shape: [batch] + entry.shape, scalars: entry.values) }
        return NetworkRun(output: FloatTensor(shape: [batch] + outputShape, scalars: output), activations: activations)
    }
}

extension NetworkInput {
    /// The examples in `range`.
    func slice(_ range: Range<Int>) -> NetworkInput {
        switch self {
        case .features(let tensor):
            let width = tensor.shape.dropFirst().reduce(1, *)
            return .features(
                FloatTensor(
                    shape: [range.count] + tensor.shape.dropFirst(),
                    scalars: Array(tensor.scalars[(range.lowerBound * width)..<(range.upperBound * width)])))
        case .tokens(let ids, _, let length):
            return .tokens(
                ids: Array(ids[(range.lowerBound * length)..<(range.upperBound * length)]), batch: range.count, length: length)
        }
    }
}

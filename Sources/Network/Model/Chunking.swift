import Dispatch

/// Runs long batches in chunks of examples, so that every intermediate activation stays small
/// (cache-resident, recycled by the allocator instead of mapped and page-faulted afresh), and
/// spreads the chunks over threads: one dispatch per run rather than one per matrix multiply.
enum Chunking {
    /// Floats per intermediate activation that a chunk aims at (1 MiB).
    static let targetFloats = 1 << 18

    /// The examples per chunk for activations of `widest` floats per example on `threads` threads:
    /// small enough for the cache, and at least one chunk per thread.
    static func examplesPerChunk(batch: Int, widest: Int, threads: Int) -> Int {
        let cacheSized = max(16, targetFloats / max(widest, 1))
        let perThread = (batch + threads - 1) / max(threads, 1)
        return max(1, min(cacheSized, perThread))
    }

    /// Multiply-adds below which a run stays on the calling thread: waking another costs more than it saves.
    static let parallelThreshold = 1 << 18

    /// The threads worth using for `batch` examples of `work` multiply-adds each.
    static func threads(_ threads: Int, batch: Int, work: Int) -> Int {
        batch.multipliedReportingOverflow(by: work).partialValue < parallelThreshold ? 1 : threads
    }

    /// Calls `body` on consecutive slices of `input` (interchange source indices sliced to match) and
    /// concatenates the outputs and captured activations. `body` gets the threads its matrix multiplies
    /// may use: all of `threads` for a single chunk, one when chunks run side by side.
    static func run(
        _ input: NetworkInput, examplesPerChunk: Int, threads: Int, interventions: [Intervention],
        _ body: @Sendable (NetworkInput, [Intervention], Int) throws(NetworkError) -> NetworkRun
    ) throws(NetworkError) -> NetworkRun {
        let batch = input.batchSize
        guard batch > examplesPerChunk else { return try body(input, interventions, threads) }
        for intervention in interventions {
            if case .interchangeActivation(_, let sourceIndex) = intervention.kind, sourceIndex.count != batch {
                throw .invalidIntervention(
                    hook: intervention.hook, reason: "\(sourceIndex.count) source indices for a batch of \(batch)")
            }
        }
        let ranges = stride(from: 0, to: batch, by: examplesPerChunk).map { $0..<min($0 + examplesPerChunk, batch) }
        let results = SendableResults(count: ranges.count)
        @Sendable func work(_ i: Int) {
            let range = ranges[i]
            var sliced = interventions
            for j in sliced.indices {
                if case .interchangeActivation(let source, let sourceIndex) = sliced[j].kind {
                    sliced[j].kind = .interchangeActivation(source, sourceIndex: Array(sourceIndex[range]))
                }
            }
            let chunk = input.slice(range)
            let result: Result<NetworkRun, NetworkError>
            do throws(NetworkError) { result = .success(try body(chunk, sliced, 1)) } catch { result = .failure(error) }
            results.set(i, result)
        }
        if threads > 1 {
            DispatchQueue.concurrentPerform(iterations: ranges.count) { work($0) }
        } else {
            for i in ranges.indices { work(i) }
        }
        var output: [Float] = []
        var outputShape: [Int] = []
        var captured: [String: (shape: [Int], values: [Float])] = [:]
        for i in ranges.indices {
            let run: NetworkRun
            switch results.get(i) {
            case .success(let value): run = value
            case .failure(let error): throw error
            }
            if i == 0 {
                // One allocation for the whole output and each captured activation.
                let scale = Double(batch) / Double(max(run.output.batchSize, 1))
                output.reserveCapacity(Int((Double(run.output.count) * scale).rounded(.up)))
                for (name, tensor) in run.activations {
                    var values: [Float] = []
                    values.reserveCapacity(Int((Double(tensor.count) * scale).rounded(.up)))
                    captured[name] = (Array(tensor.shape.dropFirst()), values)
                }
            }
            output += run.output.scalars
            outputShape = Array(run.output.shape.dropFirst())
            for (name, tensor) in run.activations {
                captured[name, default: (Array(tensor.shape.dropFirst()), [])].values += tensor.scalars
            }
        }
        var activations: [String: FloatTensor] = [:]
        for (name, entry) in captured { activations[name] = FloatTensor(shape: [batch] + entry.shape, scalars: entry.values) }
        return NetworkRun(output: FloatTensor(shape: [batch] + outputShape, scalars: output), activations: activations)
    }
}

/// One result slot per chunk, written by the chunk's worker.
private final class SendableResults: @unchecked Sendable {
    private var slots: [Result<NetworkRun, NetworkError>?]
    private let lock = DispatchQueue(label: "retort.chunk-results")

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ value: Result<NetworkRun, NetworkError>) { lock.sync { slots[i] = value } }

    func get(_ i: Int) -> Result<NetworkRun, NetworkError> { lock.sync { slots[i]! } }
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

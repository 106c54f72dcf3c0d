/// A batch of inputs to a network.
public enum NetworkInput: Sendable {
    /// Feature vectors `[batch, width]` (MLPs).
    case features(FloatTensor)
    /// Token ids, `batch × length`, row-major (transformers).
    case tokens(ids: [Int], batch: Int, length: Int)

    /// The number of examples.
    public var batchSize: Int {
        switch self {
        case .features(let tensor): tensor.shape.first ?? 0
        case .tokens(_, let batch, _): batch
        }
    }

    /// The examples at `indices`, in that order.
    /// - Complexity: O(indices.count × example size)
    public func selecting(_ indices: [Int]) -> NetworkInput {
        switch self {
        case .features(let tensor):
            let width = tensor.shape.count > 1 ? tensor.shape[1...].reduce(1, *) : 1
            var scalars: [Float] = []
            scalars.reserveCapacity(indices.count * width)
            for i in indices { scalars.append(contentsOf: tensor.scalars[(i * width)..<((i + 1) * width)]) }
            return .features(FloatTensor(shape: [indices.count] + tensor.shape.dropFirst(), scalars: scalars))
        case .tokens(let ids, _, let length):
            var selected: [Int] = []
            selected.reserveCapacity(indices.count * length)
            for i in indices { selected.append(contentsOf: ids[(i * length)..<((i + 1) * length)]) }
            return .tokens(ids: selected, batch: indices.count, length: length)
        }
    }
}

/// What a forward pass returns: the output and the activations it was asked to capture.
public struct NetworkRun: Sendable {
    /// The network's output (MLP: `[batch, width]`; transformer: logits `[batch, seq, d_vocab_out]`).
    public var output: FloatTensor
    /// Captured hook activations by hook name, after any intervention at that hook.
    public var activations: [String: FloatTensor]
}

/// A network that can run a batch, with hooks and interventions.
public protocol NeuralNetwork: Sendable {
    /// Every hook point's name, in the order a forward pass reaches them.
    var hookNames: [String] { get }
    /// Runs the network on `input`, capturing the hooks in `capture` and applying `interventions`.
    ///
    /// The loaded weights are never changed; interventions that need another run (interchange,
    /// mean) run the network cleanly on their own inputs first.
    func run(_ input: NetworkInput, capture: Set<String>, interventions: [Intervention]) throws(NetworkError) -> NetworkRun
}

extension NeuralNetwork {
    /// Runs the network on `input` with no hooks and no interventions.
    public func run(_ input: NetworkInput) throws(NetworkError) -> NetworkRun {
        try run(input, capture: [], interventions: [])
    }

    /// Throws `unknownHook` (with close names) unless `name` is one of this network's hooks.
    public func checkHook(_ name: String) throws(NetworkError) {
        guard !hookNames.contains(name) else { return }
        let suggestions = hookNames.filter { $0.hasSuffix(name) || name.hasSuffix($0) || editDistance($0, name) <= 3 }
        throw .unknownHook(name: name, suggestions: Array(suggestions.prefix(5)))
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// How a hook's activation is laid out: examples, positions within an example, and features at a position.
struct HookLayout {
    /// How feature f at one position maps to an offset from that position's start.
    enum FeatureMap {
        /// Features are contiguous: offset f.
        case contiguous
        /// Attention scores/patterns `[b, h, q, k]` seen from query q: feature f = head·keys + key.
        case headsByKeys(keys: Int, queries: Int)
    }

    var shape: [Int]
    var positions: Int
    var features: Int
    var positionStride: Int
    var featureMap: FeatureMap
    /// The sequence position of local position 0: a language model's decode step holds one position of a longer sequence.
    var firstPosition = 0
    /// The positions an intervention may name (the whole sequence, of which this layout holds `positions` from
    /// `firstPosition`); interventions at positions outside the window are left for the step that holds them.
    var totalPositions: Int? = nil

    /// True when the layout holds only part of the sequence's positions.
    var isWindow: Bool { firstPosition != 0 || (totalPositions ?? positions) != positions }

    var batch: Int { shape[0] }
    var batchStride: Int { shape.dropFirst().reduce(1, *) }

    func featureOffset(_ f: Int) -> Int {
        switch featureMap {
        case .contiguous: f
        case .headsByKeys(let keys, let queries): (f / keys) * queries * keys + f % keys
        }
    }

    /// `[batch, width]` (MLP hooks).
    static func rows(batch: Int, width: Int) -> HookLayout {
        HookLayout(shape: [batch, width], positions: 1, features: width, positionStride: 0, featureMap: .contiguous)
    }

    /// `[batch, positions, f1, f2, …]` with the trailing axes flattened into features.
    static func positional(_ shape: [Int]) -> HookLayout {
        let features = shape.dropFirst(2).reduce(1, *)
        return HookLayout(
            shape: shape, positions: shape[1], features: features, positionStride: features, featureMap: .contiguous)
    }

    /// `[batch, heads, queries, keys]`, positions = queries.
    static func attention(batch: Int, heads: Int, positions: Int) -> HookLayout {
        HookLayout(
            shape: [batch, heads, positions, positions], positions: positions, features: heads * positions,
            positionStride: positions, featureMap: .headsByKeys(keys: positions, queries: positions))
    }

    /// `[batch, heads, queries, keys]` with fewer queries than keys (queries continuing a cached sequence).
    static func attention(batch: Int, heads: Int, queries: Int, keys: Int) -> HookLayout {
        HookLayout(
            shape: [batch, heads, queries, keys], positions: queries, features: heads * keys,
            positionStride: keys, featureMap: .headsByKeys(keys: keys, queries: queries))
    }
}

/// The hooks of one forward pass: captures requested activations and applies interventions.
final class HookContext {
    private let capture: Set<String>
    private let interventions: [String: [Intervention]]
    private(set) var captured: [String: FloatTensor] = [:]

    init(capture: Set<String>, interventions: [Intervention]) {
        self.capture = capture
        self.interventions = Dictionary(grouping: interventions, by: \.hook)
    }

    /// True when the hook named `name` needs its activation materialised.
    func wants(_ name: String) -> Bool { capture.contains(name) || interventions[name] != nil }

    /// Applies the interventions at `name` to `values` (laid out as `layout`) and captures the result if asked.
    func visit(_ name: String, _ values: inout [Float], _ layout: HookLayout) throws(NetworkError) {
        if let list = interventions[name] {
            for intervention in list { try apply(intervention, to: &values, layout) }
        }
        if capture.contains(name) { captured[name] = FloatTensor(shape: layout.shape, scalars: values) }
    }

    private func apply(_ intervention: Intervention, to values: inout [Float], _ layout: HookLayout) throws(NetworkError) {
        let hook = intervention.hook
        let total = layout.totalPositions ?? layout.positions
        let named = intervention.positions ?? Array(0..<total)
        for p in named where p < 0 || p >= total {
            throw .invalidIntervention(hook: hook, reason: "position \(p) is outside 0..<\(total)")
        }
        // The named positions this layout holds (all of them, unless it is a window).
        let positions = named.filter { $0 >= layout.firstPosition && $0 < layout.firstPosition + layout.positions }
        let first = layout.firstPosition
        let units = intervention.units ?? Array(0..<layout.features)
        for u in units where u < 0 || u >= layout.features {
            throw .invalidIntervention(hook: hook, reason: "unit \(u) is outside 0..<\(layout.features)")
        }
        if positions.isEmpty && layout.isWindow { return }
        let offsets = units.map(layout.featureOffset)
        let batchStride = layout.batchStride
        func forEachSite(_ body: (_ b: Int, _ p: Int, _ base: Int) throws(NetworkError) -> Void) throws(NetworkError) {
            for b in 0..<layout.batch {
                for p in positions { try body(b, p, b * batchStride + (p - first) * layout.positionStride) }
            }
        }
        switch intervention.kind {
        case .zero:
            try forEachSite { _, _, base in for o in offsets { values[base + o] = 0 } }
        case .set(let given), .add(let given):
            guard given.count == units.count else {
                throw .invalidIntervention(hook: hook, reason: "\(given.count) values for \(units.count) units")
            }
            let adding: Bool
            if case .add = intervention.kind { adding = true } else { adding = false }
            try forEachSite { _, _, base in
                for (j, o) in offsets.enumerated() { values[base + o] = adding ? values[base + o] + given[j] : given[j] }
            }
        case .meanActivation(let mean):
            // A window (a decode step) takes the mean at the sequence position it holds.
            let fits =
                layout.isWindow
                ? mean.shape.count == layout.shape.count && mean.shape.dropFirst(2) == layout.shape.dropFirst(2)
                    && positions.allSatisfy { ($0 + 1) * layout.positionStride <= mean.count }
                : mean.count == batchStride && mean.shape.last == layout.shape.last
            guard fits else {
                throw .invalidIntervention(
                    hook: hook, reason: "mean activation of shape \(mean.shape) does not fit activations of shape \(layout.shape)"
                        + (layout.isWindow ? " at positions \(positions)" : ""))
            }
            try forEachSite { _, p, base in
                let meanBase = p * layout.positionStride
                for o in offsets { values[base + o] = mean.scalars[meanBase + o] }
            }
        case .interchangeActivation(let source, let sourceIndex):
            let sourceFits =
                layout.isWindow
                ? source.shape.count == layout.shape.count && source.shape.dropFirst(2) == layout.shape.dropFirst(2)
                    && positions.allSatisfy { $0 < source.shape[1] }
                : Array(source.shape.dropFirst()) == Array(layout.shape.dropFirst())
            guard sourceFits else {
                throw .invalidIntervention(
                    hook: hook,
                    reason: "source activations of shape \(source.shape) do not fit activations of shape \(layout.shape)")
            }
            guard sourceIndex.count == layout.batch else {
                throw .invalidIntervention(
                    hook: hook, reason: "\(sourceIndex.count) source indices for a batch of \(layout.batch)")
            }
            let sources = source.batchSize
            if let bad = sourceIndex.first(where: { $0 < 0 || $0 >= sources }) {
                throw .invalidIntervention(hook: hook, reason: "source index \(bad) is outside the \(sources) source examples")
            }
            try forEachSite { b, p, base in
                let sourceBase = sourceIndex[b] * (source.count / max(sources, 1)) + p * layout.positionStride
                for o in offsets { values[base + o] = source.scalars[sourceBase + o] }
            }
        case .projectOnto(let basis), .projectOff(let basis):
            let q = try Projection.orthonormalRows(basis, units: units.count, hook: hook)
            let onto: Bool
            if case .projectOnto = intervention.kind { onto = true } else { onto = false }
            var x = [Double](repeating: 0, count: units.count)
            try forEachSite { _, _, base in
                for (j, o) in offsets.enumerated() { x[j] = Double(values[base + o]) }
                let projected = Projection.project(x, onto: q)
                for (j, o) in offsets.enumerated() { values[base + o] = Float(onto ? projected[j] : x[j] - projected[j]) }
            }
        case .mean, .interchange:
            preconditionFailure("run() resolves mean and interchange interventions before the forward pass")
        }
    }
}

/// Orthogonal projection onto the row space of a basis, in Float64.
enum Projection {
    /// The rows of `basis` orthonormalised by modified Gram–Schmidt (twice, for stability).
    static func orthonormalRows(_ basis: FloatTensor, units: Int, hook: String) throws(NetworkError) -> [[Double]] {
        guard basis.shape.count == 2, basis.shape[1] == units, basis.shape[0] >= 1 else {
            throw .invalidIntervention(hook: hook, reason: "basis has shape \(basis.shape), expected [k, \(units)] with k ≥ 1")
        }
        var rows: [[Double]] = []
        for r in 0..<basis.shape[0] {
            var v = (0..<units).map { Double(basis.scalars[r * units + $0]) }
            let original = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard original.isFinite, original > 0 else {
                throw .invalidIntervention(hook: hook, reason: "basis row \(r) is zero or not finite")
            }
            for _ in 0..<2 {
                for q in rows {
                    let dot = zip(q, v).reduce(0) { $0 + $1.0 * $1.1 }
                    for j in 0..<units { v[j] -= dot * q[j] }
                }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 1e-6 * original else {
                throw .invalidIntervention(
                    hook: hook, reason: "basis row \(r) is a combination of the rows before it (rank-deficient basis)")
            }
            rows.append(v.map { $0 / norm })
        }
        return rows
    }

    static func project(_ x: [Double], onto q: [[Double]]) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for row in q {
            let c = zip(row, x).reduce(0) { $0 + $1.0 * $1.1 }
            for j in 0..<x.count { out[j] += c * row[j] }
        }
        return out
    }
}

extension NeuralNetwork {
    /// Replaces interventions that need another run (`mean`, `interchange`) by their captured form,
    /// and checks every hook name.
    func resolve(_ interventions: [Intervention]) throws(NetworkError) -> [Intervention] {
        var resolved: [Intervention] = []
        resolved.reserveCapacity(interventions.count)
        for var intervention in interventions {
            try checkHook(intervention.hook)
            switch intervention.kind {
            case .mean(let inputs):
                guard inputs.batchSize > 0 else {
                    throw .invalidIntervention(hook: intervention.hook, reason: "mean over an empty input set")
                }
                let activation = try cleanActivation(intervention.hook, on: inputs)
                let perExample = activation.count / activation.batchSize
                var sum = [Double](repeating: 0, count: perExample)
                for b in 0..<activation.batchSize {
                    for i in 0..<perExample { sum[i] += Double(activation.scalars[b * perExample + i]) }
                }
                let mean = sum.map { Float($0 / Double(activation.batchSize)) }
                intervention.kind = .meanActivation(FloatTensor(shape: [1] + activation.shape.dropFirst(), scalars: mean))
            case .interchange(let source, let sourceIndex):
                let activation = try cleanActivation(intervention.hook, on: source)
                intervention.kind = .interchangeActivation(activation, sourceIndex: sourceIndex)
            default:
                break
            }
            resolved.append(intervention)
        }
        return resolved
    }

    /// The activation at `hook` in a run on `inputs` with no interventions.
    public func cleanActivation(_ hook: String, on inputs: NetworkInput) throws(NetworkError) -> FloatTensor {
        let run = try run(inputs, capture: [hook], interventions: [])
        guard let activation = run.activations[hook] else { throw .unknownHook(name: hook, suggestions: []) }
        return activation
    }
}

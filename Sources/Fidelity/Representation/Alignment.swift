/// Where an alignment sits: a hook and, for hooks with a position axis, one position.
public struct AlignmentSite: Sendable, Hashable, Codable {
    /// The hook point's name.
    public var hook: String
    /// The position (transformer hooks); `nil` for MLP hooks.
    public var position: Int?

    /// A site from its parts.
    public init(hook: String, position: Int? = nil) {
        self.hook = hook
        self.position = position
    }

    /// `layers.1.hook_post` or `blocks.0.hook_resid_post@2`.
    public var text: String { position.map { "\(hook)@\($0)" } ?? hook }
}

/// A map from a surrogate variable to a network's activations at one site: a set of neurons, or a linear
/// subspace with an orthonormal basis (distributed alignment search).
public struct Alignment: Sendable, Codable {
    /// The class of the map.
    public enum Map: Sendable, Codable {
        /// These units (indices into the site's features).
        case neurons([Int])
        /// The row space of `basis` (`k` orthonormal rows of the site's width).
        case subspace(basis: [[Double]])
    }

    /// The hook and position.
    public var site: AlignmentSite
    /// The neurons or the subspace.
    public var map: Map
    /// The number of features at the site.
    public var width: Int

    /// An alignment from its parts.
    /// - Precondition: neuron indices are in `0..<width`; basis rows have `width` entries and are orthonormal.
    public init(site: AlignmentSite, map: Map, width: Int) {
        if case .neurons(let units) = map { precondition(units.allSatisfy { $0 >= 0 && $0 < width }) }
        if case .subspace(let basis) = map { precondition(basis.allSatisfy { $0.count == width }) }
        self.site = site
        self.map = map
        self.width = width
    }

    /// `neuron`, `neuron_set` or `subspace`.
    public var className: String {
        switch map {
        case .neurons(let units): units.count == 1 ? "neuron" : "neuron_set"
        case .subspace: "subspace"
        }
    }

    /// The number of aligned coordinates (units, or the subspace's dimension).
    public var dimension: Int {
        switch map {
        case .neurons(let units): units.count
        case .subspace(let basis): basis.count
        }
    }

    /// Learned parameters of the map: 0 for neurons (only a choice of indices), k × width for a subspace.
    public var parameterCount: Int {
        switch map {
        case .neurons: 0
        case .subspace(let basis): basis.count * width
        }
    }

    /// The aligned coordinates of an activation: the units' values, or `W·h`.
    /// - Complexity: O(dimension × width)
    public func coordinates(_ h: [Float]) -> [Double] {
        switch map {
        case .neurons(let units): return units.map { Double(h[$0]) }
        case .subspace(let basis): return basis.map { row in zip(row, h).reduce(0) { $0 + $1.0 * Double($1.1) } }
        }
    }

    /// `h` with its aligned coordinates replaced by `c`: the units set, or `h − WᵀW·h + Wᵀ·c`.
    /// - Complexity: O(dimension × width)
    public func replacingCoordinates(_ h: [Float], with c: [Double]) -> [Float] {
        var out = h
        switch map {
        case .neurons(let units):
            for (j, u) in units.enumerated() { out[u] = Float(c[j]) }
        case .subspace(let basis):
            let own = coordinates(h)
            for (r, row) in basis.enumerated() {
                let delta = c[r] - own[r]
                for j in 0..<width { out[j] += Float(delta * row[j]) }
            }
        }
        return out
    }

    /// The interchange `h_b + WᵀW(h_s − h_b)` (for neurons: the units copied from the source).
    /// - Complexity: O(dimension × width)
    public func interchange(base: [Float], source: [Float]) -> [Float] {
        replacingCoordinates(base, with: coordinates(source))
    }

    /// `h` with the aligned part removed: the units zeroed, or the projection onto the subspace subtracted.
    /// - Complexity: O(dimension × width)
    public func removing(_ h: [Float]) -> [Float] {
        replacingCoordinates(h, with: [Double](repeating: 0, count: dimension))
    }

    /// A readable description: `layers.1.hook_post units [0]`, `layers.0.hook_post subspace k=1 of 3`.
    public var text: String {
        switch map {
        case .neurons(let units): "\(site.text) units \(units)"
        case .subspace(let basis): "\(site.text) subspace k=\(basis.count) of \(width)"
        }
    }
}

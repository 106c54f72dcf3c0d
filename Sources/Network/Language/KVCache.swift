/// The keys and values one sequence has produced so far, for every layer: what lets each new token of
/// a continuation cost one position's work.
///
/// Keys are stored after RoPE. Layout per layer: `[capacity, kvHeads·dHead]`, row-major. The cache grows
/// (doubling) as positions are added, so a long `maxNewTokens` costs memory only for the tokens actually
/// generated.
final class KVCache: @unchecked Sendable {
    let layers: Int
    /// Positions the cache holds without growing.
    private(set) var capacity: Int
    let width: Int
    /// Positions filled (the same in every layer once a forward pass completes).
    var length = 0
    private var keys: UnsafeMutablePointer<Float>
    private var values: UnsafeMutablePointer<Float>

    /// An empty cache with room for `capacity` positions before it grows.
    /// - Complexity: O(layers × capacity × width) memory, allocated uninitialised.
    init(layers: Int, capacity: Int, width: Int) {
        self.layers = layers
        self.capacity = max(1, capacity)
        self.width = width
        let count = max(1, layers * self.capacity * width)
        keys = .allocate(capacity: count)
        values = .allocate(capacity: count)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Makes room for `count` more positions after `length`, growing the cache (at least doubling it) when
    /// needed; the pointers `keys(_:)` and `values(_:)` gave before may then be stale.
    /// - Complexity: O(layers × length × width) when it grows, O(1) otherwise.
    func reserve(_ count: Int) {
        let needed = length + count
        guard needed > capacity else { return }
        let grown = max(needed, 2 * capacity)
        let total = max(1, layers * grown * width)
        let newKeys = UnsafeMutablePointer<Float>.allocate(capacity: total)
        let newValues = UnsafeMutablePointer<Float>.allocate(capacity: total)
        for layer in 0..<layers {
            (newKeys + layer * grown * width).update(from: keys + layer * capacity * width, count: length * width)
            (newValues + layer * grown * width).update(from: values + layer * capacity * width, count: length * width)
        }
        keys.deallocate()
        values.deallocate()
        keys = newKeys
        values = newValues
        capacity = grown
    }

    /// Layer `layer`'s keys, `[capacity, width]`.
    func keys(_ layer: Int) -> UnsafeMutablePointer<Float> { keys + layer * capacity * width }

    /// Layer `layer`'s values, `[capacity, width]`.
    func values(_ layer: Int) -> UnsafeMutablePointer<Float> { values + layer * capacity * width }

    /// Fills this cache's first `count` positions with `other`'s (same layers and width) and sets `length` to `count`.
    /// - Complexity: O(layers × count × width)
    func copyPrefix(from other: KVCache, count: Int) {
        precondition(other.layers == layers && other.width == width && count <= other.length)
        length = 0
        reserve(count)
        for layer in 0..<layers {
            keys(layer).update(from: other.keys(layer), count: count * width)
            values(layer).update(from: other.values(layer), count: count * width)
        }
        length = count
    }
}

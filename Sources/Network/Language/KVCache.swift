/// The keys and values one sequence has produced so far, for every layer: what lets each new token of
/// a continuation cost one position's work.
///
/// Keys are stored after RoPE. Layout per layer: `[capacity, kvHeads·dHead]`, row-major.
final class KVCache: @unchecked Sendable {
    let layers: Int
    let capacity: Int
    let width: Int
    /// Positions filled (the same in every layer once a forward pass completes).
    var length = 0
    private let keys: UnsafeMutablePointer<Float>
    private let values: UnsafeMutablePointer<Float>

    /// An empty cache for up to `capacity` positions.
    /// - Complexity: O(layers × capacity × width) memory, allocated uninitialised.
    init(layers: Int, capacity: Int, width: Int) {
        self.layers = layers
        self.capacity = capacity
        self.width = width
        let count = max(1, layers * capacity * width)
        keys = .allocate(capacity: count)
        values = .allocate(capacity: count)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Layer `layer`'s keys, `[capacity, width]`.
    func keys(_ layer: Int) -> UnsafeMutablePointer<Float> { keys + layer * capacity * width }

    /// Layer `layer`'s values, `[capacity, width]`.
    func values(_ layer: Int) -> UnsafeMutablePointer<Float> { values + layer * capacity * width }
}

import Foundation

/// `items.map(transform)` spread over up to `threads` threads; the result is in `items`' order whatever
/// the scheduling, so callers stay deterministic.
/// - Complexity: O(n) calls of `transform`.
package func parallelMap<T: Sendable, R: Sendable>(_ items: [T], threads: Int, _ transform: @escaping @Sendable (T) -> R) -> [R] {
    guard threads > 1, items.count > 1 else { return items.map(transform) }
    let results = UnsafeMutableBufferPointer<R?>.allocate(capacity: items.count)
    results.initialize(repeating: nil)
    defer { results.deallocate() }
    let workers = min(threads, items.count)
    let slots = SendableSlots(results)
    @Sendable func work(_ worker: Int) {
        var i = worker
        while i < items.count {
            slots.buffer[i] = transform(items[i])
            i += workers
        }
    }
    DispatchQueue.concurrentPerform(iterations: workers, execute: work)
    return results.map { $0! }
}

/// Result slots each worker writes disjoint indices of.
private struct SendableSlots<R>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<R?>
    init(_ buffer: UnsafeMutableBufferPointer<R?>) { self.buffer = buffer }
}

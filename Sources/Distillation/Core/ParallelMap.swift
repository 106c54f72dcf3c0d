import Foundation
import Synchronization

/// `items.map(transform)` spread over up to `threads` threads; the result is in `items`' order whatever
/// the scheduling, so callers stay deterministic. Each thread takes the next item not yet taken, so a long item
/// first leaves the others to the other threads.
/// - Complexity: O(n) calls of `transform`.
package func parallelMap<T: Sendable, R: Sendable>(_ items: [T], threads: Int, _ transform: @escaping @Sendable (T) -> R) -> [R] {
    guard threads > 1, items.count > 1 else { return items.map(transform) }
    let results = UnsafeMutableBufferPointer<R?>.allocate(capacity: items.count)
    results.initialize(repeating: nil)
    defer { results.deallocate() }
    let workers = min(threads, items.count)
    let slots = SendableSlots(results)
    let next = Atomic<Int>(0)
    @Sendable func work(_ worker: Int) {
        while true {
            let i = next.add(1, ordering: .relaxed).oldValue
            guard i < items.count else { return }
            slots.buffer[i] = transform(items[i])
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

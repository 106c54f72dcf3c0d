/// Scratch memory of one thread's split search, allocated once per fit: a (value, class) histogram, a key
/// buffer and its radix-sort twin sized for the root, and two class-count rows.
final class SplitWorkspace: @unchecked Sendable {
    /// Histogram cells: `histogramCapacity` counts.
    let histogram: UnsafeMutablePointer<Int32>
    let histogramCapacity: Int
    /// Examples per histogram bin.
    let binTotals: UnsafeMutablePointer<Int32>
    let binCapacity: Int
    /// `(code << 32) | class` per example of the node, and the radix sort's second buffer.
    let keys: UnsafeMutablePointer<UInt64>
    let keysTemporary: UnsafeMutablePointer<UInt64>
    /// Class counts left and right of the split point.
    let left: UnsafeMutablePointer<Int>
    let right: UnsafeMutablePointer<Int>

    /// - Complexity: O(1) (memory is not touched)
    init(exampleCount: Int, classCount: Int, histogramCapacity: Int, binCapacity: Int) {
        self.histogramCapacity = histogramCapacity
        self.binCapacity = binCapacity
        histogram = .allocate(capacity: max(histogramCapacity, 1))
        binTotals = .allocate(capacity: max(binCapacity, 1))
        keys = .allocate(capacity: max(exampleCount, 1))
        keysTemporary = .allocate(capacity: max(exampleCount, 1))
        left = .allocate(capacity: max(classCount, 1))
        right = .allocate(capacity: max(classCount, 1))
    }

    deinit {
        histogram.deallocate()
        binTotals.deallocate()
        keys.deallocate()
        keysTemporary.deallocate()
        left.deallocate()
        right.deallocate()
    }
}

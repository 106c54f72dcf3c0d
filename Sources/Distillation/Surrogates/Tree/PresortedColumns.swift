/// The examples of every wide feature (more than 256 values) as `(code << 32) | closeFlag | (class << exampleBits) |
/// example` keys, sorted by code within each node's range of the grower's example order: the root's range is the whole
/// column, and splitting a node partitions each column's range stably, so both children stay sorted. The class
/// rides in the key (when it fits in 32 bits with the example) so that scanning a node reads no other memory.
final class PresortedColumns: @unchecked Sendable {
    /// Keys per feature; `nil` for narrow features.
    let keys: [UnsafeMutablePointer<UInt64>?]
    /// Bits of the example index; the class sits above it when `carriesClass`.
    let exampleBits: UInt64
    let exampleMask: UInt64
    let carriesClass: Bool
    let classMask: UInt64
    /// Set (with the class) on keys whose value is within 1e-7 of the next smaller distinct value
    /// (`SplitSearch.separated`), so that scanning reads values only for those.
    static let closeFlag: UInt64 = 1 << 31
    /// Per example: 1 when it goes left in the split being applied.
    let goesLeft: UnsafeMutablePointer<UInt8>
    let count: Int

    /// Takes each wide feature's `sortedExamples`, leaving them empty in `features`, and adds each example's class.
    /// - Complexity: O(n · wide features)
    init(features: inout [CodedFeature], labels: [Int32], classCount: Int) {
        let exampleCount = labels.count
        count = exampleCount
        let exampleBits = UInt64(Int.bitWidth - max(exampleCount - 1, 1).leadingZeroBitCount)
        let classBits = UInt64(Int.bitWidth - max(classCount - 1, 1).leadingZeroBitCount)
        let carriesClass = exampleBits + classBits <= 31
        self.exampleBits = exampleBits
        self.exampleMask = (1 << exampleBits) - 1
        self.carriesClass = carriesClass
        self.classMask = (1 << classBits) - 1
        keys = features.indices.map { f in
            guard !features[f].isNarrow else { return nil }
            let buffer = UnsafeMutablePointer<UInt64>.allocate(capacity: max(exampleCount, 1))
            let values = features[f].values
            let close = values.indices.map { $0 > 0 && !SplitSearch.separated(values[$0 - 1], values[$0]) }
            features[f].sortedExamples.withUnsafeBufferPointer { sorted in
                labels.withUnsafeBufferPointer { labels in
                    for j in 0..<exampleCount {
                        let key = sorted[j]
                        guard carriesClass else {
                            buffer[j] = key
                            continue
                        }
                        let flag = close[Int(key >> 32)] ? Self.closeFlag : 0
                        buffer[j] = key | UInt64(labels[Int(key & 0xFFFF_FFFF)]) << exampleBits | flag
                    }
                }
            }
            features[f].sortedExamples = []
            return buffer
        }
        goesLeft = .allocate(capacity: max(exampleCount, 1))
        goesLeft.initialize(repeating: 0, count: max(exampleCount, 1))
    }

    deinit {
        for buffer in keys { buffer?.deallocate() }
        goesLeft.deallocate()
    }

    /// Partitions `feature`'s keys in `start..<end` stably by `goesLeft`, using `temporary` (≥ end − start keys).
    /// - Complexity: O(end − start)
    func partition(feature: Int, start: Int, end: Int, temporary: UnsafeMutablePointer<UInt64>) {
        guard let keys = keys[feature] else { return }
        var left = start
        var right = 0
        for j in start..<end {
            let key = keys[j]
            if goesLeft[Int(key & exampleMask)] != 0 {
                keys[left] = key
                left += 1
            } else {
                temporary[right] = key
                right += 1
            }
        }
        (keys + left).update(from: temporary, count: right)
    }
}

/// One feature column rank-coded for split search: `values` are its sorted distinct values and each
/// example's code is the index of its value there, one byte per example when there are at most 256 values.
///
/// Split thresholds only fall between consecutive distinct values, so splitting on codes is exact. Columns
/// with more than 256 values also keep their examples sorted (`sortedExamples`), which the grower keeps
/// sorted within every node by stable partitioning, so no node ever sorts them again.
struct CodedFeature: Sendable {
    /// The column's distinct values, increasing.
    let values: [Double]
    /// Codes when `values.count ≤ 256`, else empty.
    let narrow: [UInt8]
    /// Codes when `values.count > 256`, else empty.
    let wide: [UInt32]
    /// For wide columns: `(code << 32) | example` for every example, by increasing code; else empty.
    var sortedExamples: [UInt64]

    /// The number of distinct values.
    var valueCount: Int { values.count }
    var isNarrow: Bool { values.count <= 256 }

    /// Codes `column`: by a presence table when it holds integers spanning fewer than 2¹⁶ values, else by a
    /// radix sort of the values' bit patterns.
    /// - Precondition: every value is finite; fewer than 2³² examples.
    /// - Complexity: O(n + span) for integer spans, O(n · passes) (at most 8) otherwise.
    init(column: [Double]) {
        let n = column.count
        var low = Double.infinity
        var high = -Double.infinity
        var integral = true
        for v in column {
            precondition(v.isFinite, "feature values must be finite")
            low = Swift.min(low, v)
            high = Swift.max(high, v)
            if integral && v.rounded(.down) != v { integral = false }
        }
        var values: [Double] = []
        var codes = [UInt32](repeating: 0, count: n)
        var sorted: [UInt64] = []
        if n > 0 && integral && high - low < 65_536 {
            let span = Int(high - low) + 1
            var table = [Int32](repeating: 0, count: span)
            for v in column { table[Int(v - low)] += 1 }
            var slots = [Int](repeating: 0, count: span)  // where each value's examples start in sorted order
            var position = 0
            for k in 0..<span where table[k] != 0 {
                slots[k] = position
                position += Int(table[k])
                table[k] = Int32(values.count)
                values.append(low + Double(k))
            }
            for i in 0..<n { codes[i] = UInt32(table[Int(column[i] - low)]) }
            if values.count > 256 {
                sorted = [UInt64](repeating: 0, count: n)
                for i in 0..<n {
                    let k = Int(column[i] - low)
                    sorted[slots[k]] = UInt64(codes[i]) << 32 | UInt64(i)
                    slots[k] += 1
                }
            }
        } else if n > 0 {
            // Order-preserving bit patterns (−0 taken as +0), radix-sorted with their example indices.
            var keys = column.map { v -> UInt64 in
                let bits = (v == 0 ? 0.0 : v).bitPattern
                return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
            }
            let order = RadixSort.argsort(&keys)
            var code: UInt32 = 0
            for j in 0..<n {
                if j > 0 && keys[j] != keys[j - 1] { code += 1 }
                if j == 0 || keys[j] != keys[j - 1] { values.append(column[Int(order[j])]) }
                codes[Int(order[j])] = code
            }
            if values.count > 256 { sorted = (0..<n).map { UInt64(codes[Int(order[$0])]) << 32 | UInt64(order[$0]) } }
        }
        self.values = values
        if values.count <= 256 {
            narrow = codes.map { UInt8(truncatingIfNeeded: $0) }
            wide = []
        } else {
            narrow = []
            wide = codes
        }
        sortedExamples = sorted
    }
}

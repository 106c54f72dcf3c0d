import WeightFiles

extension SplitMix64 {
    /// `k` distinct indices from `pool`, in draw order (partial Fisher–Yates).
    mutating func sample(_ k: Int, from pool: [Int]) -> [Int] {
        var pool = pool
        let k = min(k, pool.count)
        for i in 0..<k { pool.swapAt(i, i + below(pool.count - i)) }
        return Array(pool[0..<k])
    }
}

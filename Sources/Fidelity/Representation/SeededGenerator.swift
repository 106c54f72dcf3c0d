import Foundation

/// SplitMix64 with Box–Muller normals, so every draw of the representation tests (pairs, initial bases,
/// random units) is reproducible across platforms from one seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    private var spare: Double?

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<n`.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// A standard normal draw.
    mutating func gaussian() -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        let u = (Double(next() >> 11) + 1) / 9_007_199_254_740_992
        let v = Double(next() >> 11) / 9_007_199_254_740_992
        let r = (-2 * log(u)).squareRoot()
        spare = r * sin(2 * Double.pi * v)
        return r * cos(2 * Double.pi * v)
    }

    /// `k` distinct indices from `pool`, in draw order (partial Fisher–Yates).
    mutating func sample(_ k: Int, from pool: [Int]) -> [Int] {
        var pool = pool
        let k = min(k, pool.count)
        for i in 0..<k { pool.swapAt(i, i + below(pool.count - i)) }
        return Array(pool[0..<k])
    }
}

/// Orthonormal rows by modified Gram–Schmidt (twice, for stability): the QR retraction of the subspace
/// basis after each optimiser step. A row that collapses onto the ones before it is replaced by a
/// standard basis vector outside their span, so the basis keeps its rank.
func orthonormalRows(_ rows: [[Double]]) -> [[Double]] {
    var out: [[Double]] = []
    let width = rows.first?.count ?? 0
    func reduce(_ v: [Double]) -> [Double]? {
        var v = v
        for _ in 0..<2 {
            for q in out {
                let dot = zip(q, v).reduce(0) { $0 + $1.0 * $1.1 }
                for j in 0..<width { v[j] -= dot * q[j] }
            }
        }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 1e-9 && norm.isFinite ? v.map { $0 / norm } : nil
    }
    for row in rows {
        if let v = reduce(row) {
            out.append(v)
            continue
        }
        for e in 0..<width {
            var unit = [Double](repeating: 0, count: width)
            unit[e] = 1
            if let v = reduce(unit) {
                out.append(v)
                break
            }
        }
    }
    return out
}

/// `body(i)` for `i` in `0..<count` on up to `threads` threads, results in order.
func parallelMap<T: Sendable>(_ count: Int, threads: Int, _ body: @Sendable (Int) -> T) -> [T] {
    guard threads > 1 && count > 1 else { return (0..<count).map(body) }
    let slots = ResultSlots<T>(count: count)
    let workers = min(threads, count)
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        for i in stride(from: worker, to: count, by: workers) { slots.set(i, body(i)) }
    }
    return slots.values()
}

private final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: T) { lock.withLock { slots[i] = value } }
    func values() -> [T] { lock.withLock { slots.map { $0! } } }
}

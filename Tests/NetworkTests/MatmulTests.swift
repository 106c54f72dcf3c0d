import Network
import Testing

/// Deterministic pseudo-random floats in [-1, 1) (xorshift64*).
private func randomFloats(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed | 1
    return (0..<count).map { _ in
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return Float((state &* 0x2545_F491_4F6C_DD1D) >> 40) / Float(1 << 23) - 1
    }
}

/// One product's operands, laid out with optional extra stride (padding) on every row.
private struct Problem {
    let m: Int, n: Int, k: Int
    let bTransposed: Bool
    let lda: Int, ldb: Int, ldc: Int
    let a: [Float], b: [Float], c0: [Float]

    init(m: Int, n: Int, k: Int, bTransposed: Bool = false, pad: Int = 0, seed: UInt64 = 1) {
        self.m = m
        self.n = n
        self.k = k
        self.bTransposed = bTransposed
        lda = k + pad
        ldb = (bTransposed ? k : n) + pad
        ldc = n + pad
        a = randomFloats(m * lda, seed: seed &* 3 &+ 11)
        b = randomFloats((bTransposed ? n : k) * ldb, seed: seed &* 5 &+ 17)
        c0 = randomFloats(m * ldc, seed: seed &* 7 &+ 23)
    }

    /// The product in Double, added to `c0` when accumulating.
    func reference(accumulate: Bool) -> [Double] {
        var r = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = accumulate ? Double(c0[i * ldc + j]) : 0
                for p in 0..<k {
                    let bv = bTransposed ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(a[i * lda + p]) * Double(bv)
                }
                r[i * n + j] = s
            }
        }
        return r
    }

    /// Runs Matmul.multiply on a copy of `c0` and returns it.
    func run(accumulate: Bool, threads: Int = 1, instructionSet: Matmul.InstructionSet = Matmul.instructionSet) -> [Float] {
        var c = c0
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    // Empty arrays may have no base address; any valid pointer does when nothing is read.
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 1) { dummy in
                        Matmul.multiply(
                            a.baseAddress ?? UnsafePointer(dummy.baseAddress!),
                            b.baseAddress ?? UnsafePointer(dummy.baseAddress!),
                            into: c.baseAddress ?? dummy.baseAddress!, m: m, n: n, k: k, accumulate: accumulate,
                            bTransposed: bTransposed, threads: threads, aStride: lda, bStride: ldb, cStride: ldc,
                            instructionSet: instructionSet)
                    }
                }
            }
        }
        return c
    }

    /// The largest error of `c` against the reference, relative to sqrt(k)·max|operand|
    /// (operands are in [-1, 1)), and whether padding between rows was left untouched.
    func check(_ c: [Float], accumulate: Bool) -> (error: Double, paddingIntact: Bool) {
        let r = reference(accumulate: accumulate)
        var worst = 0.0
        var intact = true
        for i in 0..<m {
            for j in 0..<ldc {
                if j < n {
                    worst = max(worst, abs(Double(c[i * ldc + j]) - r[i * n + j]) / (Double(k) + 1).squareRoot())
                } else if c[i * ldc + j] != c0[i * ldc + j] {
                    intact = false
                }
            }
        }
        return (worst, intact)
    }
}

private let tolerance = 1e-5

/// Every instruction set this CPU can run, from portable up to the best.
private var instructionSets: [Matmul.InstructionSet] {
    [.portable, .avx2, .avx512].filter { $0.rawValue <= Matmul.instructionSet.rawValue }
}

/// Edge sizes around the microkernel tiles (14×32, 6×16), K blocks (512, 256) and the
/// few-rows paths (one row; up to 4 rows with B over 1 MiB; up to 16 rows).
private let shapes: [(Int, Int, Int)] = [
    (1, 1, 1), (7, 13, 5), (17, 33, 65), (14, 32, 256), (15, 33, 257), (6, 16, 300), (29, 65, 513), (3, 200, 40),
    (1, 1000, 300), (3, 700, 401),
]

@Test func shapesMatchDoubleReference() {
    for isa in instructionSets {
        for (m, n, k) in shapes {
            let problem = Problem(m: m, n: n, k: k)
            let (error, _) = problem.check(problem.run(accumulate: false, instructionSet: isa), accumulate: false)
            #expect(error < tolerance, "\(isa) \(m)×\(n)×\(k)")
        }
    }
}

@Test func largeOddShapeMatchesDoubleReference() {
    let problem = Problem(m: 513, n: 511, k: 257, seed: 2)
    let (error, _) = problem.check(problem.run(accumulate: false), accumulate: false)
    #expect(error < tolerance)
}

@Test func zeroDimensionsAreHandled() {
    // m or n zero: nothing written; k zero: C zeroed, or unchanged when accumulating.
    for (m, n) in [(0, 5), (5, 0), (0, 0)] {
        let problem = Problem(m: m, n: n, k: 4, pad: 1)
        #expect(problem.run(accumulate: false) == problem.c0)
    }
    let problem = Problem(m: 3, n: 4, k: 0, pad: 2)
    let zeroed = problem.run(accumulate: false)
    for i in 0..<3 {
        #expect(zeroed[(i * 6)..<(i * 6 + 4)].allSatisfy { $0 == 0 })
        #expect(zeroed[(i * 6 + 4)..<(i * 6 + 6)] == problem.c0[(i * 6 + 4)..<(i * 6 + 6)])
    }
    #expect(problem.run(accumulate: true) == problem.c0)
}

@Test func accumulateAddsToExistingC() {
    for isa in instructionSets {
        for (m, n, k) in [(7, 13, 5), (17, 33, 65), (29, 65, 600)] {
            let problem = Problem(m: m, n: n, k: k, seed: 3)
            let (error, _) = problem.check(problem.run(accumulate: true, instructionSet: isa), accumulate: true)
            #expect(error < tolerance, "\(isa) \(m)×\(n)×\(k)")
        }
    }
}

@Test func transposedBMatchesDoubleReference() {
    for isa in instructionSets {
        // Few rows use the dot-product path; (97, 75, 530) the packed one, with a K tail that is not a multiple of 8.
        for (m, n, k) in shapes + [(40, 100, 600), (97, 75, 530)] {
            let problem = Problem(m: m, n: n, k: k, bTransposed: true, seed: 4)
            for accumulate in [false, true] {
                let (error, _) = problem.check(problem.run(accumulate: accumulate, instructionSet: isa), accumulate: accumulate)
                #expect(error < tolerance, "\(isa) \(m)×\(n)×\(k) accumulate \(accumulate)")
            }
        }
    }
}

@Test func stridedRowsLeavePaddingUntouched() {
    for isa in instructionSets {
        for (m, transposed) in [(5, false), (31, false), (5, true), (50, true)] {
            let problem = Problem(m: m, n: 47, k: 70, bTransposed: transposed, pad: 5, seed: 5)
            let (error, intact) = problem.check(problem.run(accumulate: false, instructionSet: isa), accumulate: false)
            #expect(error < tolerance, "\(isa) m \(m) transposed \(transposed)")
            #expect(intact, "\(isa) m \(m) transposed \(transposed)")
        }
    }
}

@Test func twoThreadsMatchOneThread() {
    // Row split (many rows) and column split (one row, wide). Each block may take another
    // kernel path than the whole does, so the results agree to rounding, not bit for bit.
    for (m, n, k, transposed) in [(300, 200, 150, false), (300, 200, 700, true), (1, 2048, 512, false), (3, 2048, 512, true)] {
        let problem = Problem(m: m, n: n, k: k, bTransposed: transposed, seed: 6)
        for accumulate in [false, true] {
            let one = problem.run(accumulate: accumulate, threads: 1)
            let two = problem.run(accumulate: accumulate, threads: 2)
            let scale = (Double(k) + 1).squareRoot()
            let gap = zip(one, two).map { abs(Double($0) - Double($1)) / scale }.max() ?? 0
            #expect(gap < tolerance, "\(m)×\(n)×\(k) transposed \(transposed) accumulate \(accumulate)")
            #expect(problem.check(two, accumulate: accumulate).error < tolerance)
        }
    }
}

@Test func moreThreadsThanRowsStillCorrect() {
    let problem = Problem(m: 5, n: 70, k: 900, seed: 7)
    let (error, _) = problem.check(problem.run(accumulate: false, threads: 8), accumulate: false)
    #expect(error < tolerance)
}

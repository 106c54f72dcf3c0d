// Single-precision matrix multiply: a Swift face on the blocked C kernel in
// CRetortKernels/gemm.c (AVX-512 / AVX2+FMA / portable, chosen at run time).
import CRetortKernels
import Dispatch

/// Row-major single-precision matrix multiply, `C = A·B` or `C += A·B`, on one or more threads.
public enum Matmul {
    /// The instruction set a matrix-multiply kernel is compiled for.
    public enum InstructionSet: Int, Sendable, CustomStringConvertible {
        /// Plain C, vectorised by the compiler for the baseline ISA.
        case portable = 0
        /// AVX2 with FMA (6×16 microkernel).
        case avx2 = 1
        /// AVX-512F (14×32 microkernel).
        case avx512 = 2

        /// The lower-case name: `portable`, `avx2` or `avx512`.
        public var description: String {
            switch self {
            case .portable: "portable"
            case .avx2: "avx2"
            case .avx512: "avx512"
            }
        }
    }

    /// The fastest instruction set this CPU and OS support, which `multiply` uses.
    public static var instructionSet: InstructionSet {
        InstructionSet(rawValue: Int(retort_sgemm_isa())) ?? .portable
    }

    /// Multiplies row-major matrices: `c[m×n] = a[m×k] · b[k×n]`, or `+=` when `accumulate`.
    ///
    /// With `bTransposed`, `b` holds Bᵀ as an n×k row-major matrix (a PyTorch `[out, in]`
    /// weight, or the keys of an attention score), and `c = a · bᵀ`. Strides default to the
    /// dense row widths (`k` for `a`, `n` or `k` for `b`, `n` for `c`). `c` must not overlap
    /// `a` or `b`. With `k == 0`, `c` is zeroed (left alone when accumulating). With
    /// `threads > 1` the rows of `c` (or, for few rows, its columns) are split across
    /// the kernels' worker pool (`Parallel`); products under 2¹⁸ multiply-adds stay on the calling thread.
    ///
    /// - Complexity: O(m·n·k) arithmetic, plus O(k·n) packing per thread.
    public static func multiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, accumulate: Bool = false, bTransposed: Bool = false, threads: Int = 1,
        aStride: Int? = nil, bStride: Int? = nil, cStride: Int? = nil
    ) {
        multiply(
            a, b, into: c, m: m, n: n, k: k, accumulate: accumulate, bTransposed: bTransposed, threads: threads,
            aStride: aStride, bStride: bStride, cStride: cStride, instructionSet: instructionSet)
    }

    /// `multiply` with the kernel's instruction set capped at `instructionSet` (for tests and benchmarks).
    ///
    /// - Complexity: O(m·n·k).
    package static func multiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, accumulate: Bool = false, bTransposed: Bool = false, threads: Int = 1,
        aStride: Int? = nil, bStride: Int? = nil, cStride: Int? = nil, instructionSet: InstructionSet
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "Matmul.multiply: negative dimension")
        let lda = aStride ?? k
        let ldb = bStride ?? (bTransposed ? k : n)
        let ldc = cStride ?? n
        precondition(lda >= k && ldb >= (bTransposed ? k : n) && ldc >= n, "Matmul.multiply: stride below row width")
        if m == 0 || n == 0 { return }

        let isa = Int32(instructionSet.rawValue)
        let bt: Int32 = bTransposed ? 1 : 0
        let acc: Int32 = accumulate ? 1 : 0
        // Split rows when each thread gets a few full microkernel strips, else columns in
        // 64-wide blocks (one-row products such as batch-1 inference), else do not split.
        let work = m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: max(k, 1))
        let parts = work.overflow || work.partialValue >= 1 << 18 ? max(1, threads) : 1
        let rowChunk = ((m + parts - 1) / parts + 15) / 16 * 16
        let colChunk = ((n + parts - 1) / parts + 63) / 64 * 64
        let splitRows = m >= 32 * parts || m >= n

        let chunk = splitRows ? rowChunk : colChunk
        let total = splitRows ? m : n
        let count = (total + chunk - 1) / chunk
        if count <= 1 {
            retort_sgemm_with_isa(isa, bt, m, n, k, a, lda, b, ldb, c, ldc, acc)
            return
        }
        // Pointers cross into the worker closure as addresses; each worker writes a disjoint block of c.
        let aAddress = UInt(bitPattern: a)
        let bAddress = UInt(bitPattern: b)
        let cAddress = UInt(bitPattern: c)
        Parallel.forEach(count, threads: parts) { part in
            let start = part * chunk
            let size = min(chunk, total - start)
            let a = UnsafePointer<Float>(bitPattern: aAddress)!
            let b = UnsafePointer<Float>(bitPattern: bAddress)!
            let c = UnsafeMutablePointer<Float>(bitPattern: cAddress)!
            if splitRows {
                retort_sgemm_with_isa(isa, bt, size, n, k, a + start * lda, lda, b, ldb, c + start * ldc, ldc, acc)
            } else {
                let bBlock = bTransposed ? b + start * ldb : b + start
                retort_sgemm_with_isa(isa, bt, m, size, k, a, lda, bBlock, ldb, c + start, ldc, acc)
            }
        }
    }
}

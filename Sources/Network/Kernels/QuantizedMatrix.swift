// Weights kept in ggml's 32-element block formats and multiplied without a Float32 copy:
// a Swift face on CRetortKernels/qgemm.c.
import CRetortKernels
import Dispatch
import WeightFiles

/// How products by block-quantized weights are computed.
public enum QuantizedArithmetic: String, Sendable, CaseIterable {
    /// Each 32-element block of each activation row is rounded to 16-bit integers with its own
    /// scale (`max|x| / 32767`), multiplied by the weights' integer quants exactly (int32), and
    /// scaled by the two scales in float32; the weights' mins multiply the blocks' float32 sums.
    /// With AVX-512 VNNI about 1.5× faster than `float32` on one core; a product differs from
    /// `float32`'s by about 2·10⁻⁵ of its largest output. The same bits on every machine.
    case int16
    /// The weights decoded to float32 a few rows at a time and multiplied in float32: the same
    /// bits as the model dequantized to float32 (as gguf-py and transformers load it).
    case float32
}

/// A `[rows, columns]` matrix stored as GGUF stores it, in one of ggml's 32-element block
/// formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0), each row `columns / 32` blocks.
///
/// Multiplying by it decodes a few rows at a time into a per-thread buffer and runs the Float32
/// kernels on them: the results are bit-identical to multiplying by the dequantized matrix
/// (`dequantized()`, itself bit-identical to gguf-py), while the weights take 4.5 to 8.5 bits
/// each in memory instead of 32, and a decode step reads that much less of them.
package struct QuantizedMatrix: Sendable {
    package let type: GGMLType
    package let rows: Int
    package let columns: Int
    /// Bytes of one row: `columns / 32` blocks.
    package let rowBytes: Int
    /// `rows × rowBytes` bytes, row-major.
    package let bytes: [UInt8]
    /// Each block's min, for the types that have one (Q4_1, Q5_1): `[columns / 32, rows]` (by block,
    /// then row), as `retort_add_mins_product` reads them.
    package let mins: [Float]?
    /// The quants as int8 in panels of 32 rows, and the blocks' scales, as the integer kernel
    /// reads them (`retort_pack_panels_i8`).
    private let panelQuants: [Int8]
    private let panelScales: [Float]

    /// Whether the kernels take `type` (the 32-element block types other than Q8_1).
    package static func supports(_ type: GGMLType) -> Bool { retort_qblock_bytes(Int32(type.rawValue)) > 0 }

    /// Copies the blocks of a `[rows, columns]` matrix of `type` from `source`; nil when the type
    /// is not one the kernels take, `columns` is not a multiple of 32, or `source` is too short.
    package init?(type: GGMLType, rows: Int, columns: Int, source: UnsafeRawBufferPointer) {
        let blockBytes = retort_qblock_bytes(Int32(type.rawValue))
        guard blockBytes > 0, rows >= 0, columns >= 0, columns % 32 == 0 else { return nil }
        let rowBytes = columns / 32 * blockBytes
        let total = rows.multipliedReportingOverflow(by: rowBytes)
        guard !total.overflow, source.count >= total.partialValue else { return nil }
        self.init(type: type, rows: rows, columns: columns, rowBytes: rowBytes, bytes: Array(source[0..<total.partialValue]))
    }

    private init(type: GGMLType, rows: Int, columns: Int, rowBytes: Int, bytes: [UInt8]) {
        (self.type, self.rows, self.columns, self.rowBytes, self.bytes) = (type, rows, columns, rowBytes, bytes)
        if type == .q4_1 || type == .q5_1 {
            let blocks = columns / 32
            let byRow = [Float](unsafeUninitializedCapacity: rows * blocks) { out, count in
                bytes.withUnsafeBufferPointer { b in
                    if rows * blocks > 0 {
                        retort_block_mins(
                            Int32(type.rawValue), b.baseAddress!, rowBytes, rows, columns, out.baseAddress!)
                    }
                }
                count = rows * blocks
            }
            var byBlock = [Float](repeating: 0, count: rows * blocks)
            for r in 0..<rows {
                for b in 0..<blocks { byBlock[b * rows + r] = byRow[r * blocks + b] }
            }
            mins = byBlock
        } else {
            mins = nil
        }
        let panels = (rows + 31) / 32, blocks = columns / 32
        var scales = [Float](repeating: 0, count: panels * blocks * 32)
        panelQuants = [Int8](unsafeUninitializedCapacity: panels * columns * 32) { q, count in
            bytes.withUnsafeBufferPointer { b in
                scales.withUnsafeMutableBufferPointer { d in
                    guard panels * blocks > 0 else { return }
                    // Panels are independent: large matrices are packed on every core.
                    let workers = panels * columns >= 1 << 16 ? min(System.coreCount, panels) : 1
                    let addresses = (
                        UInt(bitPattern: b.baseAddress!), UInt(bitPattern: q.baseAddress!), UInt(bitPattern: d.baseAddress!)
                    )
                    let kind = Int32(type.rawValue)
                    DispatchQueue.concurrentPerform(iterations: workers) { part in
                        let first = panels * part / workers, end = panels * (part + 1) / workers
                        guard end > first else { return }
                        let row = first * 32, count = min(rows, end * 32) - row
                        retort_pack_panels_i8(
                            kind, UnsafePointer<UInt8>(bitPattern: addresses.0)! + row * rowBytes, rowBytes, count, columns,
                            UnsafeMutablePointer<Int8>(bitPattern: addresses.1)! + first * columns * 32,
                            UnsafeMutablePointer<Float>(bitPattern: addresses.2)! + first * blocks * 32)
                    }
                }
            }
            count = panels * columns * 32
        }
        panelScales = scales
    }

    /// The rows of `matrices`, one matrix after another; nil unless all have one type and one width.
    /// - Complexity: O(total bytes)
    package init?(stacking matrices: [QuantizedMatrix]) {
        guard let first = matrices.first,
            matrices.allSatisfy({ $0.type == first.type && $0.columns == first.columns })
        else { return nil }
        self.init(
            type: first.type, rows: matrices.reduce(0) { $0 + $1.rows }, columns: first.columns, rowBytes: first.rowBytes,
            bytes: matrices.flatMap(\.bytes))
    }

    /// The rows `order[0]`, `order[1]`, … of this matrix, in that order.
    /// - Complexity: O(order.count × rowBytes)
    package func selectingRows(_ order: [Int]) -> QuantizedMatrix {
        var out = [UInt8](repeating: 0, count: order.count * rowBytes)
        bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                for (to, from) in order.enumerated() {
                    precondition(from >= 0 && from < rows, "row \(from) of \(rows)")
                    (dst.baseAddress! + to * rowBytes).copyMemory(from: src.baseAddress! + from * rowBytes, byteCount: rowBytes)
                }
            }
        }
        return QuantizedMatrix(type: type, rows: order.count, columns: columns, rowBytes: rowBytes, bytes: out)
    }

    /// Decodes row `row` into `out[0..<columns]`.
    /// - Complexity: O(columns)
    package func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(row >= 0 && row < rows, "row \(row) of \(rows)")
        bytes.withUnsafeBufferPointer { b in
            retort_dequantize_rows(Int32(type.rawValue), b.baseAddress! + row * rowBytes, rowBytes, 1, columns, out, columns)
        }
    }

    /// The whole matrix as Float32, row-major.
    /// - Complexity: O(rows × columns)
    package func dequantized() -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * columns) { out, count in
            bytes.withUnsafeBufferPointer { b in
                if rows > 0 {
                    retort_dequantize_rows(
                        Int32(type.rawValue), b.baseAddress!, rowBytes, rows, columns, out.baseAddress!, columns)
                }
            }
            count = rows * columns
        }
    }

    /// `y[m, rows] = x[m, columns] · selfᵀ`, or `+=` when `accumulate`, in `arithmetic`: with
    /// `.float32`, what `Matmul.multiply(x, dequantized(), into: y, …, bTransposed: true)` gives,
    /// bit for bit. With `threads > 1` the rows of this matrix (columns of `y`) are split across
    /// threads. `vector: false` forces the portable integer kernels, `avx2: true` the AVX2 ones where
    /// AVX-512 VNNI would run (the same bits; for tests).
    /// - Complexity: O(m × rows × columns)
    package func multiplyTransposed(
        _ x: UnsafePointer<Float>, m: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool = false,
        threads: Int = 1, arithmetic: QuantizedArithmetic = .float32,
        instructionSet: Matmul.InstructionSet = Matmul.instructionSet, vector: Bool = true, avx2: Bool = false
    ) {
        multiplyTransposed(
            x, m: m, into: [y], widths: [rows], accumulate: accumulate, threads: threads, arithmetic: arithmetic,
            instructionSet: instructionSet, vector: vector, avx2: avx2)
    }

    /// The same product with its columns written to several outputs: `outputs[p]` (`[m, widths[p]]`,
    /// dense) gets the columns of rows `widths[0] + … + widths[p-1]` onward of this matrix, as if
    /// the product were written whole and cut up. Every width but the last must be a multiple of 32.
    /// - Complexity: O(m × rows × columns)
    package func multiplyTransposed(
        _ x: UnsafePointer<Float>, m: Int, into outputs: [UnsafeMutablePointer<Float>], widths: [Int],
        accumulate: Bool = false, threads: Int = 1, arithmetic: QuantizedArithmetic = .float32,
        instructionSet: Matmul.InstructionSet = Matmul.instructionSet, vector: Bool = true, avx2: Bool = false
    ) {
        precondition(outputs.count == widths.count && widths.reduce(0, +) == rows, "output widths must add up to the rows")
        precondition(widths.dropLast().allSatisfy { $0 % 32 == 0 }, "every output but the last must be a multiple of 32 wide")
        if m == 0 || rows == 0 { return }
        if columns == 0 {
            if !accumulate { for (y, w) in zip(outputs, widths) { y.update(repeating: 0, count: m * w) } }
            return
        }
        var firsts: [Int] = []
        var total = 0
        for w in widths {
            firsts.append(total)
            total += w
        }
        // Calls `body(part, column in part, count)` for the pieces of columns start..<start+size in each output.
        func pieces(_ start: Int, _ size: Int, _ body: (Int, Int, Int) -> Void) {
            for p in widths.indices {
                let lower = max(start, firsts[p]), upper = min(start + size, firsts[p] + widths[p])
                if lower < upper { body(p, lower - firsts[p], upper - lower) }
            }
        }
        let kind = Int32(type.rawValue), acc: Int32 = accumulate ? 1 : 0
        let (n, k, rowBytes) = (rows, columns, rowBytes)
        let work = m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: max(k, 1))
        let parallel = work.overflow || work.partialValue >= 1 << 18
        switch arithmetic {
        case .float32:
            let isa = Int32(instructionSet.rawValue)
            splitting(n, multipleOf: 16, threads: parallel ? threads : 1) { start, size in
                bytes.withUnsafeBufferPointer { w in
                    pieces(start, size) { p, column, count in
                        let row = firsts[p] + column
                        let status = retort_qgemm_bt(
                            isa, kind, m, count, k, x, k, w.baseAddress! + row * rowBytes, rowBytes, outputs[p] + column,
                            widths[p], acc)
                        precondition(status == 0, "retort_qgemm_bt refused a \(type.name) matrix")
                    }
                }
            }
        case .int16:
            let blocks = k / 32
            // Every element is written by retort_quantize_rows_i16.
            var quants = [Int16](unsafeUninitializedCapacity: m * k) { _, count in count = m * k }
            var scales = [Float](unsafeUninitializedCapacity: m * blocks) { _, count in count = m * blocks }
            var sums = [Float](unsafeUninitializedCapacity: m * blocks) { _, count in count = m * blocks }
            quants.withUnsafeMutableBufferPointer { q in
                scales.withUnsafeMutableBufferPointer { s in
                    sums.withUnsafeMutableBufferPointer { σ in
                        let (q, s, σ) = (q.baseAddress!, s.baseAddress!, σ.baseAddress!)
                        splitting(m, multipleOf: 1, threads: parallel && m >= 16 ? threads : 1) { start, size in
                            retort_quantize_rows_i16(
                                vector ? 1 : 0, size, k, x + start * k, k, q + start * k, s + start * blocks,
                                σ + start * blocks)
                        }
                    }
                }
            }
            quants.withUnsafeBufferPointer { q in
                scales.withUnsafeBufferPointer { s in
                    panelQuants.withUnsafeBufferPointer { pq in
                        panelScales.withUnsafeBufferPointer { pd in
                            splitting(n, multipleOf: 32, threads: parallel ? threads : 1) { start, size in
                                pieces(start, size) { p, column, count in
                                    let panel = (firsts[p] + column) / 32
                                    retort_qgemm_i16_bt(
                                        vector ? (avx2 ? 2 : 1) : 0, m, count, k, q.baseAddress!, s.baseAddress!,
                                        pq.baseAddress! + panel * k * 32, pd.baseAddress! + panel * blocks * 32,
                                        outputs[p] + column, widths[p], acc)
                                }
                            }
                        }
                    }
                }
            }
            // A kernel of its own rather than Matmul's, whose few-row kernels sum in another order: a row's
            // result must not depend on how many rows share the product (resumed prompt runs rely on it).
            if let mins, blocks > 0 {
                sums.withUnsafeBufferPointer { s in
                    mins.withUnsafeBufferPointer { w in
                        let (s, w) = (s.baseAddress!, w.baseAddress!)
                        splitting(m, multipleOf: 1, threads: parallel && m >= 16 ? threads : 1) { start, size in
                            for p in widths.indices where widths[p] > 0 {
                                retort_add_mins_product(
                                    vector ? 1 : 0, size, widths[p], blocks, s + start * blocks, w + firsts[p], n,
                                    outputs[p] + start * widths[p], widths[p])
                            }
                        }
                    }
                }
            }
        }
    }

    /// Runs `body(start, size)` on column blocks of `n` (sizes a multiple of `multipleOf`, one per
    /// thread) that together cover `0..<n`.
    private func splitting(_ n: Int, multipleOf unit: Int, threads: Int, _ body: (Int, Int) -> Void) {
        let parts = max(1, min(threads, (n + unit - 1) / unit))
        if parts == 1 { return body(0, n) }
        let chunk = ((n + parts - 1) / parts + unit - 1) / unit * unit
        Parallel.forEach((n + chunk - 1) / chunk, threads: parts) { part in
            let start = part * chunk
            body(start, min(chunk, n - start))
        }
    }
}

// Weights kept in ggml's 32-element block formats and multiplied without a Float32 copy:
// a Swift face on CRetortKernels/qgemm.c.
import CRetortKernels
import Dispatch
import WeightFiles

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

    /// `y[m, rows] = x[m, columns] · selfᵀ`, or `+=` when `accumulate`: what
    /// `Matmul.multiply(x, dequantized(), into: y, …, bTransposed: true)` gives, bit for bit.
    /// With `threads > 1` the rows of this matrix (columns of `y`) are split across threads.
    /// - Complexity: O(m × rows × columns)
    package func multiplyTransposed(
        _ x: UnsafePointer<Float>, m: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool = false,
        threads: Int = 1, instructionSet: Matmul.InstructionSet = Matmul.instructionSet
    ) {
        if m == 0 || rows == 0 { return }
        let isa = Int32(instructionSet.rawValue), kind = Int32(type.rawValue), acc: Int32 = accumulate ? 1 : 0
        let (n, k, rowBytes) = (rows, columns, rowBytes)
        let work = m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: max(k, 1))
        let parts = work.overflow || work.partialValue >= 1 << 18 ? max(1, min(threads, (n + 15) / 16)) : 1
        bytes.withUnsafeBufferPointer { w in
            if parts == 1 {
                let status = retort_qgemm_bt(isa, kind, m, n, k, x, k, w.baseAddress!, rowBytes, y, n, acc)
                precondition(status == 0, "retort_qgemm_bt refused a \(type.name) matrix")
                return
            }
            // Column blocks in multiples of 16, one per thread; each writes a disjoint part of y.
            let chunk = ((n + parts - 1) / parts + 15) / 16 * 16
            let addresses = (UInt(bitPattern: x), UInt(bitPattern: w.baseAddress!), UInt(bitPattern: y))
            DispatchQueue.concurrentPerform(iterations: (n + chunk - 1) / chunk) { part in
                let start = part * chunk, size = min(chunk, n - start)
                let x = UnsafePointer<Float>(bitPattern: addresses.0)!
                let w = UnsafePointer<UInt8>(bitPattern: addresses.1)!
                let y = UnsafeMutablePointer<Float>(bitPattern: addresses.2)!
                let status = retort_qgemm_bt(isa, kind, m, size, k, x, k, w + start * rowBytes, rowBytes, y + start, n, acc)
                precondition(status == 0, "retort_qgemm_bt refused a \(type.name) matrix")
            }
        }
    }
}

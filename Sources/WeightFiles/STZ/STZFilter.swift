/// How a chunk's bytes are rearranged before entropy coding (`formats/stz.md`, "Filters").
public enum STZFilter: String, Sendable, CaseIterable {
    /// The bytes as they are: one stream.
    case none
    /// Byte i of every w-byte element goes to stream i.
    case bytegroup2, bytegroup4, bytegroup8
    /// As bytegroup, after rotating each little-endian element left by one bit, so that
    /// the sign leaves the exponent's byte: for BF16 and F32 the top byte is then pure exponent.
    case bytegroup2Rot1 = "bytegroup2-rot1"
    case bytegroup4Rot1 = "bytegroup4-rot1"

    /// The number of streams (the element width for byte grouping).
    public var streamCount: Int {
        switch self {
        case .none: 1
        case .bytegroup2, .bytegroup2Rot1: 2
        case .bytegroup4, .bytegroup4Rot1: 4
        case .bytegroup8: 8
        }
    }

    /// The filter the writer chooses for `dtype`.
    public static func preferred(for dtype: DType) -> STZFilter {
        switch dtype {
        case .bf16: .bytegroup2Rot1
        case .f32, .c64: .bytegroup4Rot1
        case .f16, .i16, .u16: .bytegroup2
        case .i32, .u32: .bytegroup4
        case .f64, .i64, .u64: .bytegroup8
        default: .none
        }
    }

    /// Whether the filter can apply to `dtype` (its width divides the element size).
    public func applies(to dtype: DType) -> Bool {
        self == .none || (dtype.byteWidth.map { $0 % streamCount == 0 } ?? false)
    }

    /// Splits `input` (a whole number of elements) into `streamCount` streams written
    /// back to back into `output`, each `input.count / streamCount` bytes.
    /// - Complexity: O(n)
    func split(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        let n = input.count / streamCount
        switch self {
        case .none:
            output.copyMemory(from: input)
        case .bytegroup2, .bytegroup2Rot1:
            let rotate = self == .bytegroup2Rot1
            for i in 0..<n {
                var x = input.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                if rotate { x = x << 1 | x >> 15 }
                output[i] = UInt8(truncatingIfNeeded: x)
                output[n + i] = UInt8(truncatingIfNeeded: x >> 8)
            }
        case .bytegroup4, .bytegroup4Rot1:
            let rotate = self == .bytegroup4Rot1
            for i in 0..<n {
                var x = input.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                if rotate { x = x << 1 | x >> 31 }
                output[i] = UInt8(truncatingIfNeeded: x)
                output[n + i] = UInt8(truncatingIfNeeded: x >> 8)
                output[2 * n + i] = UInt8(truncatingIfNeeded: x >> 16)
                output[3 * n + i] = UInt8(truncatingIfNeeded: x >> 24)
            }
        case .bytegroup8:
            for i in 0..<n {
                for k in 0..<8 { output[k * n + i] = input[8 * i + k] }
            }
        }
    }

    /// The inverse of `split`.
    /// - Complexity: O(n)
    func merge(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        let n = output.count / streamCount
        switch self {
        case .none:
            output.copyMemory(from: input)
        case .bytegroup2, .bytegroup2Rot1:
            let rotate = self == .bytegroup2Rot1
            for i in 0..<n {
                var x = UInt16(input[i]) | UInt16(input[n + i]) << 8
                if rotate { x = x >> 1 | x << 15 }
                output.storeBytes(of: x, toByteOffset: 2 * i, as: UInt16.self)
            }
        case .bytegroup4, .bytegroup4Rot1:
            let rotate = self == .bytegroup4Rot1
            for i in 0..<n {
                var x = UInt32(input[i]) | UInt32(input[n + i]) << 8 | UInt32(input[2 * n + i]) << 16
                    | UInt32(input[3 * n + i]) << 24
                if rotate { x = x >> 1 | x << 31 }
                output.storeBytes(of: x, toByteOffset: 4 * i, as: UInt32.self)
            }
        case .bytegroup8:
            for i in 0..<n {
                for k in 0..<8 { output[8 * i + k] = input[k * n + i] }
            }
        }
    }
}

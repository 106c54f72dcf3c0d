/// Bit-exact conversions between the floating-point dtypes and `Float`.
///
/// Decoding matches the reference libraries bit for bit, NaN included: F16 as
/// NumPy (payload kept, quiet bit not forced), BF16 by widening, the 8-, 6- and
/// 4-bit types as ml_dtypes (NaN becomes the quiet NaN with the code's sign), F64
/// as NumPy's `astype(float32)` (round to nearest even). Casts from `Float`:
/// F16 as NumPy, BF16 as ml_dtypes (round to nearest even; NaN → quiet NaN with its sign).
public enum FloatConversion {
    static let f8E4M3Table = MinifloatFormat.f8E4M3.table()
    static let f8E5M2Table = MinifloatFormat.f8E5M2.table()
    static let f8E4M3FNUZTable = MinifloatFormat.f8E4M3FNUZ.table()
    static let f8E5M2FNUZTable = MinifloatFormat.f8E5M2FNUZ.table()
    static let f8E8M0Table = MinifloatFormat.f8E8M0.table()
    static let f4Table = MinifloatFormat.f4E2M1.table()
    static let f6E2M3Table = MinifloatFormat.f6E2M3.table()
    static let f6E3M2Table = MinifloatFormat.f6E3M2.table()

    /// The types a tensor can be cast to with `cast(_:to:)`.
    public static let castTargets: [DType] = [.f32, .f16, .bf16, .f64]

    /// Decodes `count` elements of `dtype` from little-endian `bytes` (any alignment) into `out`.
    ///
    /// Packed types: F4 holds element 2i in the low nibble of byte i and 2i+1 in the
    /// high nibble; F6 holds element i in bits [6i, 6i+6) of the little-endian bit stream.
    /// - Precondition: `dtype.isFloatingPoint` and `bytes` holds `count` elements.
    /// - Complexity: O(count)
    public static func decode(
        _ dtype: DType, _ bytes: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(out.count >= count && bytes.count * 8 >= count * dtype.bitWidth)
        switch dtype {
        case .f32:
            if count > 0 {
                out.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: count * 4) {
                    $0.initialize(from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count * 4)
                }
            }
        case .f64:
            for i in 0..<count { out[i] = Float(bytes.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        case .f16:
            for i in 0..<count { out[i] = float(fromF16Bits: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .bf16:
            for i in 0..<count {
                out[i] = Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
            }
        case .f8E4M3: lookup(f8E4M3Table, bytes, count, out)
        case .f8E5M2: lookup(f8E5M2Table, bytes, count, out)
        case .f8E4M3FNUZ: lookup(f8E4M3FNUZTable, bytes, count, out)
        case .f8E5M2FNUZ: lookup(f8E5M2FNUZTable, bytes, count, out)
        case .f8E8M0: lookup(f8E8M0Table, bytes, count, out)
        case .f4:
            for i in 0..<count {
                let byte = bytes[i / 2]
                out[i] = f4Table[Int(i % 2 == 0 ? byte & 0x0F : byte >> 4)]
            }
        case .f6E2M3, .f6E3M2:
            let table = dtype == .f6E2M3 ? f6E2M3Table : f6E3M2Table
            for i in 0..<count {
                let bit = 6 * i
                let low = UInt16(bytes[bit / 8])
                let high = bit / 8 + 1 < bytes.count ? UInt16(bytes[bit / 8 + 1]) : 0
                out[i] = table[Int(((high << 8 | low) >> (bit % 8)) & 0x3F)]
            }
        default:
            preconditionFailure("\(dtype) is not a floating-point type")
        }
    }

    private static func lookup(
        _ table: [Float], _ bytes: UnsafeRawBufferPointer, _ count: Int, _ out: UnsafeMutableBufferPointer<Float>
    ) {
        table.withUnsafeBufferPointer { t in
            for i in 0..<count { out[i] = t[Int(bytes[i])] }
        }
    }

    /// The tensor's values as `Float`, row-major.
    /// - Throws: `unsupportedCast` for non-float tensors.
    /// - Complexity: O(n)
    public static func float32Values(of view: TensorView) throws(WeightFileError) -> [Float] {
        guard view.dtype.isFloatingPoint else { throw .unsupportedCast(tensor: view.name, from: view.dtype, to: .f32) }
        let count = view.info.elementCount
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            decode(view.dtype, view.bytes, count: count, into: buffer)
            initialized = count
        }
    }

    /// `view` converted to `target` (F32, F16, BF16 or F64), in new owned storage.
    ///
    /// A tensor already of type `target` is returned as it is. Casting to F64 goes
    /// through `Float` except from F64 itself, which loses nothing since every other type fits in F32.
    /// - Throws: `unsupportedCast` when either type is not a float type or the target is not a cast target.
    public static func cast(_ view: TensorView, to target: DType) throws(WeightFileError) -> TensorView {
        if view.dtype == target { return view }
        guard view.dtype.isFloatingPoint, castTargets.contains(target) else {
            throw .unsupportedCast(tensor: view.name, from: view.dtype, to: target)
        }
        let values = try float32Values(of: view)
        var info = view.info
        info.dtype = target
        info.fileOffset = nil
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(info.byteCount, 1), alignment: 64)
        switch target {
        case .f32:
            for (i, v) in values.enumerated() {
                buffer.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
            }
        case .f64:
            for (i, v) in values.enumerated() {
                buffer.storeBytes(of: Double(v).bitPattern.littleEndian, toByteOffset: 8 * i, as: UInt64.self)
            }
        case .f16:
            for (i, v) in values.enumerated() {
                buffer.storeBytes(of: f16Bits(from: v).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        case .bf16:
            for (i, v) in values.enumerated() {
                buffer.storeBytes(of: bf16Bits(from: v).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        default:
            buffer.deallocate()
            throw .unsupportedCast(tensor: view.name, from: view.dtype, to: target)
        }
        let storage = ByteStorage(adopting: buffer, count: info.byteCount)
        return TensorView(info: info, storage: storage, byteRange: 0..<info.byteCount)
    }

    /// The `Float` an IEEE half-precision bit pattern denotes (NaN payloads kept as NumPy keeps them).
    @inline(__always)
    public static func float(fromF16Bits h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        if exponent == 0 {
            let magnitude = Float(mantissa) * 0x1p-24
            return Float(bitPattern: sign | magnitude.bitPattern)
        }
        return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    }

    /// The half-precision bits nearest `value` (ties to even), NaN as NumPy encodes it.
    @inline(__always)
    public static func f16Bits(from value: Float) -> UInt16 {
        if value.isNaN {
            let bits = value.bitPattern
            var payload = UInt16(0x7C00) + UInt16((bits & 0x007F_FFFF) >> 13)
            if payload == 0x7C00 { payload += 1 }
            return UInt16((bits >> 16) & 0x8000) | payload
        }
        return Float16(value).bitPattern
    }

    /// The bfloat16 bits nearest `value` (ties to even), NaN as the quiet NaN with `value`'s sign.
    @inline(__always)
    public static func bf16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) & 0x8000 | 0x7FC0 }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }
}

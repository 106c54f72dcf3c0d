extension TensorView {
    /// Element `index` (row-major) as text: the decoded value for float types,
    /// the integer for integer types, `true`/`false` for BOOL, `re+imi` for C64.
    /// - Precondition: `0 <= index < info.elementCount`.
    public func elementDescription(at index: Int) -> String {
        defer { withExtendedLifetime(storage) {} }
        let raw = bytes
        switch dtype {
        case .bool: return raw[index] == 0 ? "false" : raw[index] == 1 ? "true" : "invalid(\(raw[index]))"
        case .u8: return String(raw[index])
        case .i8: return String(Int8(bitPattern: raw[index]))
        case .u16: return String(raw.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self).littleEndian)
        case .i16: return String(raw.loadUnaligned(fromByteOffset: 2 * index, as: Int16.self).littleEndian)
        case .u32: return String(raw.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self).littleEndian)
        case .i32: return String(raw.loadUnaligned(fromByteOffset: 4 * index, as: Int32.self).littleEndian)
        case .u64: return String(raw.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self).littleEndian)
        case .i64: return String(raw.loadUnaligned(fromByteOffset: 8 * index, as: Int64.self).littleEndian)
        case .f64: return String(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self).littleEndian))
        case .c64:
            let re = Float(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * index, as: UInt32.self).littleEndian)
            let im = Float(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * index + 4, as: UInt32.self).littleEndian)
            return "\(re)\(im.sign == .minus ? "" : "+")\(im)i"
        default:
            // Decode just the containing slice: one element, or the packed group it sits in.
            let group = dtype.bitWidth == 6 ? 4 : (dtype.bitWidth == 4 ? 2 : 1)
            let groupStart = index / group * group
            let groupByte = groupStart * dtype.bitWidth / 8
            let groupBytes = min(raw.count - groupByte, max(1, group * dtype.bitWidth / 8))
            var decoded = [Float](repeating: 0, count: group)
            decoded.withUnsafeMutableBufferPointer { out in
                FloatConversion.decode(
                    dtype, UnsafeRawBufferPointer(rebasing: raw[groupByte..<(groupByte + groupBytes)]),
                    count: min(group, info.elementCount - groupStart), into: out)
            }
            return String(decoded[index - groupStart])
        }
    }

    /// The row-major multi-index of flat element `index`.
    public func multiIndex(of index: Int) -> [Int] {
        var rest = index
        var result = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            result[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return result
    }
}

/// Writes NumPy `.npy` arrays and uncompressed `.npz` archives of them, as `numpy.save` / `numpy.savez` do.
public enum NumPyWriter {
    /// One array to write: little-endian data of a NumPy-representable dtype.
    public struct Array: Sendable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var data: [UInt8]

        public init(name: String, dtype: DType, shape: [Int], data: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.data = data
        }

        /// A float32 array.
        public init(name: String, shape: [Int], floats: [Float]) {
            let data = floats.withUnsafeBytes { [UInt8]($0) }
            self.init(name: name, dtype: .f32, shape: shape, data: data)
        }
    }

    /// The NumPy `descr` for `dtype`, if NumPy has one.
    static func descr(_ dtype: DType) -> String? {
        switch dtype {
        case .bool: "|b1"
        case .u8: "|u1"
        case .i8: "|i1"
        case .i16: "<i2"
        case .u16: "<u2"
        case .f16: "<f2"
        case .i32: "<i4"
        case .u32: "<u4"
        case .f32: "<f4"
        case .i64: "<i8"
        case .u64: "<u8"
        case .f64: "<f8"
        case .c64: "<c8"
        default: nil
        }
    }

    /// The bytes of a version 1.0 `.npy` file holding `array` (header padded to 64 bytes, as NumPy pads it).
    /// - Throws: `npyUnsupportedDType` for dtypes NumPy cannot hold (BF16, FP8, …).
    /// - Complexity: O(n)
    public static func npy(_ array: Array) throws(WeightFileError) -> [UInt8] {
        guard let descr = descr(array.dtype) else { throw .npyUnsupportedDType(descr: array.dtype.name) }
        let shape =
            array.shape.count == 1 ? "(\(array.shape[0]),)" : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Swift.Array("NUMPY".utf8) + [1, 0]
        let length = header.utf8.count
        guard length <= 0xFFFF else { throw .npyBadHeader(reason: "header of \(length) bytes exceeds version 1.0's limit") }
        out += [UInt8(length & 0xFF), UInt8(length >> 8)]
        out += header.utf8
        out += array.data
        return out
    }

    /// Writes `arrays` as an uncompressed `.npz` (a zip of `NAME.npy` entries) to `path`, atomically.
    /// - Throws: I/O errors; `zipInvalid` when an entry would need zip64 (over 4 GiB).
    public static func writeNPZ(_ arrays: [Array], to path: String, inputs: [String] = [], overwrite: Bool = true)
        throws(WeightFileError)
    {
        let output = try AtomicOutputFile(path: path, inputs: inputs, overwrite: overwrite)
        var central: [UInt8] = []
        var offset = 0
        for array in arrays {
            let entry = try npy(array)
            let name = Swift.Array((array.name + ".npy").utf8)
            guard entry.count < 0xFFFF_FFFF, offset < 0xFFFF_FFFF, name.count <= 0xFFFF else {
                throw .zipInvalid(reason: "entry \(array.name) needs zip64, which this writer does not produce", offset: offset)
            }
            let crc = entry.withUnsafeBytes { Inflater.crc32($0) }
            var local: [UInt8] = []
            local.append32(0x0403_4b50)
            local.append16(20); local.append16(0); local.append16(0)  // version, flags, stored
            local.append16(0); local.append16(0x21)  // 00:00, 1980-01-01
            local.append32(crc); local.append32(UInt32(entry.count)); local.append32(UInt32(entry.count))
            local.append16(UInt16(name.count)); local.append16(0)
            local += name
            try output.write(local)
            try output.write(entry)
            central.append32(0x0201_4b50)
            central.append16(20); central.append16(20); central.append16(0); central.append16(0)
            central.append16(0); central.append16(0x21)
            central.append32(crc); central.append32(UInt32(entry.count)); central.append32(UInt32(entry.count))
            central.append16(UInt16(name.count)); central.append16(0); central.append16(0)
            central.append16(0); central.append16(0); central.append32(0)
            central.append32(UInt32(offset))
            central += name
            offset += local.count + entry.count
        }
        guard arrays.count < 0xFFFF, offset < 0xFFFF_FFFF else {
            throw .zipInvalid(reason: "archive needs zip64, which this writer does not produce", offset: offset)
        }
        var end: [UInt8] = []
        end.append32(0x0605_4b50)
        end.append16(0); end.append16(0)
        end.append16(UInt16(arrays.count)); end.append16(UInt16(arrays.count))
        end.append32(UInt32(central.count)); end.append32(UInt32(offset))
        end.append16(0)
        try output.write(central)
        try output.write(end)
        try output.commit()
    }

    /// Writes one array as `.npy` to `path`, atomically.
    public static func writeNPY(_ array: Array, to path: String, inputs: [String] = [], overwrite: Bool = true)
        throws(WeightFileError)
    {
        let output = try AtomicOutputFile(path: path, inputs: inputs, overwrite: overwrite)
        try output.write(try npy(array))
        try output.commit()
    }
}

extension [UInt8] {
    fileprivate mutating func append16(_ v: UInt16) { append(UInt8(v & 0xFF)); append(UInt8(v >> 8)) }
    fileprivate mutating func append32(_ v: UInt32) {
        for s in stride(from: 0, to: 32, by: 8) { append(UInt8((v >> UInt32(s)) & 0xFF)) }
    }
}

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
        try header(dtype: array.dtype, shape: array.shape) + array.data
    }

    /// The header of a version 1.0 `.npy` file of `dtype` and `shape` (C order), padded to 64 bytes as NumPy pads it.
    /// - Throws: `npyUnsupportedDType` for dtypes NumPy cannot hold (BF16, FP8, …).
    static func header(dtype: DType, shape: [Int]) throws(WeightFileError) -> [UInt8] {
        guard let descr = descr(dtype) else { throw .npyUnsupportedDType(descr: dtype.name) }
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Swift.Array("NUMPY".utf8) + [1, 0]
        let length = header.utf8.count
        guard length <= 0xFFFF else { throw .npyBadHeader(reason: "header of \(length) bytes exceeds version 1.0's limit") }
        out += [UInt8(length & 0xFF), UInt8(length >> 8)]
        out += header.utf8
        return out
    }

    /// Whether NumPy has a dtype for `dtype` (BF16 and the FP8 types have none).
    public static func canHold(_ dtype: DType) -> Bool { descr(dtype) != nil }

    /// Writes `arrays` as an uncompressed `.npz` (a zip of `NAME.npy` entries) to `path`, atomically.
    /// - Throws: I/O errors; `zipInvalid` when an entry would need zip64 (over 4 GiB).
    public static func writeNPZ(_ arrays: [Array], to path: String, inputs: [String] = [], overwrite: Bool = true)
        throws(WeightFileError)
    {
        let views = arrays.map { TensorView(info: TensorInfo(name: $0.name, dtype: $0.dtype, shape: $0.shape), copying: $0.data) }
        try writeNPZ(tensors: views.map(\.info), to: path, inputs: inputs, overwrite: overwrite) { info in
            views.first { $0.name == info.name }!
        }
    }

    /// Writes `tensors` as an uncompressed `.npz` to `path`, atomically, as `numpy.savez` does: one `NAME.npy`
    /// entry per tensor, in the given order. `data` is asked for one tensor at a time (its dtype and shape must
    /// be the info's), so only one is in memory.
    /// - Throws: I/O errors; `npyUnsupportedDType` for a dtype NumPy lacks; `zipInvalid` when the archive
    ///   would need zip64 (an entry or the whole over 4 GiB, or 65,535 entries or more), which this writer does
    ///   not produce.
    /// - Complexity: O(total bytes)
    public static func writeNPZ(
        tensors: [TensorInfo], to path: String, inputs: [String] = [], overwrite: Bool = true,
        progress: ((Int, Int) -> Void)? = nil, data: (TensorInfo) throws(WeightFileError) -> TensorView
    ) throws(WeightFileError) {
        if let unheld = tensors.first(where: { !canHold($0.dtype) }) { throw .npyUnsupportedDType(descr: unheld.dtype.name) }
        guard tensors.count < 0xFFFF else {
            throw .zipInvalid(reason: "\(tensors.count) entries need zip64, which this writer does not produce", offset: 0)
        }
        let total = tensors.reduce(0) { $0 + $1.byteCount }
        let output = try AtomicOutputFile(path: path, inputs: inputs, overwrite: overwrite)
        var central: [UInt8] = []
        var offset = 0
        var done = 0
        for info in tensors {
            let view = try data(info)
            precondition(view.dtype == info.dtype && view.shape == info.shape, "data(\(info.name)) is not the tensor asked for")
            let header = try header(dtype: info.dtype, shape: info.shape)
            let size = header.count + info.byteCount
            let name = Swift.Array((info.name + ".npy").utf8)
            guard size < 0xFFFF_FFFF, offset < 0xFFFF_FFFF, name.count <= 0xFFFF else {
                throw .zipInvalid(reason: "entry \(info.name) needs zip64, which this writer does not produce", offset: offset)
            }
            let crc = view.withUnsafeBytes { bytes in
                Inflater.crc32(bytes, continuing: header.withUnsafeBytes { Inflater.crc32($0) })
            }
            var local: [UInt8] = []
            local.append32(0x0403_4b50)
            local.append16(20); local.append16(0); local.append16(0)  // version, flags, stored
            local.append16(0); local.append16(0x21)  // 00:00, 1980-01-01
            local.append32(crc); local.append32(UInt32(size)); local.append32(UInt32(size))
            local.append16(UInt16(name.count)); local.append16(0)
            local += name
            try output.write(local)
            try output.write(header)
            try view.withUnsafeBytes { (bytes) throws(WeightFileError) in try output.write(bytes) }
            central.append32(0x0201_4b50)
            central.append16(20); central.append16(20); central.append16(0); central.append16(0)
            central.append16(0); central.append16(0x21)
            central.append32(crc); central.append32(UInt32(size)); central.append32(UInt32(size))
            central.append16(UInt16(name.count)); central.append16(0); central.append16(0)
            central.append16(0); central.append16(0); central.append32(0)
            central.append32(UInt32(offset))
            central += name
            offset += local.count + size
            done += info.byteCount
            progress?(done, total)
        }
        guard offset < 0xFFFF_FFFF else {
            throw .zipInvalid(reason: "archive needs zip64, which this writer does not produce", offset: offset)
        }
        var end: [UInt8] = []
        end.append32(0x0605_4b50)
        end.append16(0); end.append16(0)
        end.append16(UInt16(tensors.count)); end.append16(UInt16(tensors.count))
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

    /// Writes `view` as `.npy` to `path`, atomically, without copying its data.
    /// - Throws: I/O errors; `npyUnsupportedDType` for a dtype NumPy lacks.
    /// - Complexity: O(bytes)
    public static func writeNPY(_ view: TensorView, to path: String, inputs: [String] = [], overwrite: Bool = true)
        throws(WeightFileError)
    {
        let header = try header(dtype: view.dtype, shape: view.shape)
        let output = try AtomicOutputFile(path: path, inputs: inputs, overwrite: overwrite)
        try output.write(header)
        try view.withUnsafeBytes { (bytes) throws(WeightFileError) in try output.write(bytes) }
        try output.commit()
    }
}

extension [UInt8] {
    fileprivate mutating func append16(_ v: UInt16) { append(UInt8(v & 0xFF)); append(UInt8(v >> 8)) }
    fileprivate mutating func append32(_ v: UInt32) {
        for s in stride(from: 0, to: 32, by: 8) { append(UInt8((v >> UInt32(s)) & 0xFF)) }
    }
}

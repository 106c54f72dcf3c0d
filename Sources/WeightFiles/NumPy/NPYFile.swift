/// A NumPy `.npy` file: one array, read as one tensor.
///
/// Little-endian row-major data is a view into the memory map; big-endian or
/// `fortran_order` data is decoded into owned memory on each `tensor(named:)` call.
/// As numpy's `read_array` does, bytes after the array's data are ignored; fewer
/// bytes than the shape needs is `npyDataSize`.
public struct NPYFile: WeightFile {
    public var format: WeightFileFormat { .npy }
    public var metadata: Metadata? { nil }
    /// The validated preamble.
    public let header: NPYHeader
    /// The bytes the NPY data lies in (the whole file, or an inflated zip entry).
    public let storage: ByteStorage
    /// The one tensor's description.
    public let info: TensorInfo
    public var tensors: [TensorInfo] { [info] }

    /// Maps and validates the file at `path`; the tensor is named after the file's stem
    /// (`weights/W_E.npy` → `W_E`).
    /// - Complexity: O(header), independent of the data size.
    public init(path: String) throws(WeightFileError) {
        try self.init(storage: ByteStorage.map(path: path), name: NPYFile.stem(of: path))
    }

    /// Validates NPY bytes held in `storage` (e.g. a zip entry); the tensor is called `name`.
    /// - Complexity: O(header)
    public init(storage: ByteStorage, name: String) throws(WeightFileError) {
        self.storage = storage
        self.header = try NPYHeader.parse(storage.bytes)
        try NPYFile.checkDataSize(header, available: storage.count - header.dataOffset)
        self.info = TensorInfo(name: name, dtype: header.dtype, shape: header.shape, fileOffset: header.dataOffset)
    }

    /// The tensor's little-endian row-major bytes: a view into `storage` when the file
    /// is already in that layout, otherwise a decoded copy.
    /// - Complexity: O(1) for a view, O(n) to decode.
    public func tensor(named name: String) throws(WeightFileError) -> TensorView {
        guard name == info.name else { throw .tensorNotFound(name: name) }
        return NPYFile.view(header: header, info: info, storage: storage, dataStart: header.dataOffset)
    }

    public func info(named name: String) -> TensorInfo? { name == info.name ? info : nil }

    /// The last path component without its extension.
    static func stem(of path: String) -> String {
        let file = path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
        guard let dot = file.lastIndex(of: "."), dot != file.startIndex else { return file }
        return String(file[..<dot])
    }

    /// Refuses data shorter than the header's shape needs (longer is accepted, as numpy does).
    static func checkDataSize(_ header: NPYHeader, available: Int) throws(WeightFileError) {
        guard available >= header.dataByteCount else {
            throw .npyDataSize(expected: header.dataByteCount, actual: max(available, 0))
        }
    }

    /// The data at `dataStart` in `storage` as a little-endian row-major tensor.
    /// `storage` must hold at least `header.dataByteCount` bytes from `dataStart`.
    static func view(header: NPYHeader, info: TensorInfo, storage: ByteStorage, dataStart: Int) -> TensorView {
        let range = dataStart..<(dataStart + header.dataByteCount)
        if header.isNativeLayout {
            return TensorView(info: info, storage: storage, byteRange: range)
        }
        let count = header.dataByteCount
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 64)
        let source = UnsafeRawBufferPointer(rebasing: storage.bytes[range])
        let width = header.dtype.byteWidth ?? 1
        if header.fortranOrder {
            transposeFortran(source, into: output, shape: header.shape, width: width)
        } else if count > 0 {
            output.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: count)
        }
        if header.isBigEndian {
            // A complex number is two floats, each swapped on its own.
            swapBytes(output, count: count, width: header.dtype == .c64 ? 4 : width)
        }
        return TensorView(info: info, storage: ByteStorage(adopting: output, count: count), byteRange: 0..<count)
    }

    /// Rewrites column-major `source` as row-major `output`.
    /// - Complexity: O(n) elements.
    static func transposeFortran(
        _ source: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, shape: [Int], width: Int
    ) {
        let elements = shape.reduce(1, *)
        guard elements > 0 else { return }
        // Column-major strides (in bytes): the first dimension varies fastest.
        var strides = [Int](repeating: width, count: shape.count)
        for k in shape.indices.dropFirst() { strides[k] = strides[k - 1] * shape[k - 1] }
        var index = [Int](repeating: 0, count: shape.count)
        var sourceOffset = 0
        var out = 0
        let last = shape.count - 1
        let inner = shape[last]
        let innerStride = strides[last]
        while out < elements * width {
            var s = sourceOffset
            for _ in 0..<inner {
                (output.baseAddress! + out).copyMemory(from: source.baseAddress! + s, byteCount: width)
                out += width
                s += innerStride
            }
            // Advance the row-major odometer over the outer dimensions.
            var k = last - 1
            while k >= 0 {
                index[k] += 1
                sourceOffset += strides[k]
                if index[k] < shape[k] { break }
                sourceOffset -= strides[k] * shape[k]
                index[k] = 0
                k -= 1
            }
        }
    }

    /// Reverses the bytes of each `width`-byte group of the first `count` bytes.
    /// - Complexity: O(count)
    static func swapBytes(_ buffer: UnsafeMutableRawBufferPointer, count: Int, width: Int) {
        guard width > 1, let base = buffer.baseAddress else { return }
        var i = 0
        switch width {
        case 2:
            while i + 2 <= count {
                let v = base.loadUnaligned(fromByteOffset: i, as: UInt16.self)
                base.storeBytes(of: v.byteSwapped, toByteOffset: i, as: UInt16.self)
                i += 2
            }
        case 4:
            while i + 4 <= count {
                let v = base.loadUnaligned(fromByteOffset: i, as: UInt32.self)
                base.storeBytes(of: v.byteSwapped, toByteOffset: i, as: UInt32.self)
                i += 4
            }
        case 8:
            while i + 8 <= count {
                let v = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                base.storeBytes(of: v.byteSwapped, toByteOffset: i, as: UInt64.self)
                i += 8
            }
        default:
            while i + width <= count {
                var low = i
                var high = i + width - 1
                while low < high {
                    buffer.swapAt(low, high)
                    low += 1
                    high -= 1
                }
                i += width
            }
        }
    }
}

/// Full checks of a weight file: every tensor's every byte, and tensor-by-tensor
/// bitwise comparison of two files of any formats.
public enum Verifier {
    /// What reading one tensor found.
    public struct TensorCheck: Sendable, Equatable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var byteCount: Int
        /// NaN elements (float types only).
        public var nanCount: Int
        /// Infinite elements (float types only).
        public var infinityCount: Int
        /// BOOL bytes other than 0 and 1.
        public var invalidBoolCount: Int
    }

    /// The result of `verify`.
    public struct Report: Sendable {
        public var format: WeightFileFormat
        public var tensors: [TensorCheck]
        public var totalBytes: Int { tensors.reduce(0) { $0 + $1.byteCount } }
        /// Problems that make the file invalid (so far: BOOL bytes outside 0/1).
        public var problems: [String] {
            tensors.filter { $0.invalidBoolCount > 0 }.map {
                "tensor `\($0.name)`: \($0.invalidBoolCount) BOOL bytes are neither 0 nor 1"
            }
        }
    }

    /// Reads every tensor of `file` completely (decompressing what is compressed).
    ///
    /// The header and structure were validated when the file was opened; this reads
    /// every data byte, counts NaN and infinite floats and checks BOOL bytes.
    /// - Parameter progress: called with (bytes read, total bytes) after each tensor.
    /// - Complexity: O(total bytes)
    public static func verify(_ file: any WeightFile, progress: ((Int, Int) -> Void)? = nil) throws(WeightFileError) -> Report {
        if let compressed = file as? CompressedSafetensorsFile { return try verifyStreaming(compressed, progress: progress) }
        let total = file.totalByteCount
        var done = 0
        var checks: [TensorCheck] = []
        checks.reserveCapacity(file.tensors.count)
        for (position, info) in file.tensors.enumerated() {
            if let npz = file as? NPZFile {
                // Entry by entry, in pieces: a deflated entry is never held whole.
                var check = TensorCheck(
                    name: info.name, dtype: info.dtype, shape: info.shape, byteCount: info.byteCount, nanCount: 0,
                    infinityCount: 0, invalidBoolCount: 0)
                try npz.forEachPiece(of: position) { (_, bytes) throws(WeightFileError) in
                    check.add(bytes)
                    progress?(done + bytes.count, total)
                }
                checks.append(check)
                done += info.byteCount
                continue
            }
            let view = try file.tensor(at: position)
            guard view.bytes.count == info.byteCount else {
                throw .tensorInvalidInfo(tensor: info.name, expectedBytes: info.byteCount, declaredBytes: view.bytes.count)
            }
            let (nan, inf) = nonFiniteCounts(view)
            var invalidBool = 0
            if info.dtype == .bool {
                view.withUnsafeBytes { bytes in
                    for byte in bytes where byte > 1 { invalidBool += 1 }
                }
            }
            checks.append(
                TensorCheck(
                    name: info.name, dtype: info.dtype, shape: info.shape, byteCount: info.byteCount, nanCount: nan,
                    infinityCount: inf, invalidBoolCount: invalidBool))
            done += info.byteCount
            progress?(done, total)
        }
        return Report(format: file.format, tensors: checks)
    }

    /// `verify` of a gzip/zlib-wrapped file in one pass of bounded memory: the data is inflated in
    /// pieces (`CompressedSafetensorsFile.pieceSize`), never whole.
    static func verifyStreaming(_ file: CompressedSafetensorsFile, progress: ((Int, Int) -> Void)?) throws(WeightFileError)
        -> Report
    {
        let infos = file.tensors
        var checks = infos.map {
            TensorCheck(
                name: $0.name, dtype: $0.dtype, shape: $0.shape, byteCount: $0.byteCount, nanCount: 0, infinityCount: 0,
                invalidBoolCount: 0)
        }
        let total = file.totalByteCount
        var done = 0
        try file.forEachPiece { (position, _, bytes) throws(WeightFileError) in
            checks[position].add(bytes)
            done += bytes.count
            progress?(done, total)
        }
        return Report(format: file.format, tensors: checks)
    }

    /// The number of NaN and infinite elements of a tensor; every byte is read.
    /// - Complexity: O(n)
    public static func nonFiniteCounts(_ view: TensorView) -> (nan: Int, infinity: Int) {
        defer { withExtendedLifetime(view) {} }
        return nonFiniteCounts(view.bytes, dtype: view.dtype, count: view.info.elementCount)
    }

    /// The number of NaN and infinite elements among `count` elements of `dtype` in `bytes`.
    /// - Complexity: O(n)
    public static func nonFiniteCounts(_ bytes: UnsafeRawBufferPointer, dtype: DType, count: Int) -> (nan: Int, infinity: Int) {
        switch dtype {
        case .f32, .c64:
            let n = dtype == .c64 ? 2 * count : count
            return countSpecials(bytes, n, UInt32.self, exponentMask: 0x7F80_0000, mantissaMask: 0x007F_FFFF)
        case .f64:
            return countSpecials(
                bytes, count, UInt64.self, exponentMask: 0x7FF0_0000_0000_0000, mantissaMask: 0x000F_FFFF_FFFF_FFFF)
        case .f16:
            return countSpecials(bytes, count, UInt16.self, exponentMask: 0x7C00, mantissaMask: 0x03FF)
        case .bf16:
            return countSpecials(bytes, count, UInt16.self, exponentMask: 0x7F80, mantissaMask: 0x007F)
        case .f8E4M3, .f8E5M2, .f8E4M3FNUZ, .f8E5M2FNUZ, .f8E8M0, .f4, .f6E2M3, .f6E3M2:
            // Small types: decode in blocks and classify.
            var nan = 0
            var inf = 0
            let block = 4096
            var values = [Float](repeating: 0, count: block)
            var start = 0
            while start < count {
                let n = min(block, count - start)
                let first = start * dtype.bitWidth / 8
                let last = min(bytes.count, ((start + n) * dtype.bitWidth + 7) / 8)
                values.withUnsafeMutableBufferPointer { out in
                    FloatConversion.decode(dtype, UnsafeRawBufferPointer(rebasing: bytes[first..<last]), count: n, into: out)
                }
                for v in values[0..<n] {
                    if v.isNaN { nan += 1 } else if v.isInfinite { inf += 1 }
                }
                start += n
            }
            return (nan, inf)
        default:
            // Integers: no specials, but read every byte so that the whole file is touched.
            var fold: UInt64 = 0
            var i = 0
            while i + 8 <= bytes.count {
                fold ^= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < bytes.count { fold ^= UInt64(bytes[i]); i += 1 }
            blackHole(fold)
            return (0, 0)
        }
    }

    @inline(never)
    static func blackHole(_ value: UInt64) { if value == 0x5EED_0000_0000_0001 { print("", terminator: "") } }

    @inline(__always)
    private static func countSpecials<T: FixedWidthInteger & UnsignedInteger>(
        _ bytes: UnsafeRawBufferPointer, _ count: Int, _: T.Type, exponentMask: T, mantissaMask: T
    ) -> (nan: Int, infinity: Int) {
        var nonFinite = 0
        var nan = 0
        let stride = MemoryLayout<T>.size
        for i in 0..<count {
            let bits = T(littleEndian: bytes.loadUnaligned(fromByteOffset: i * stride, as: T.self))
            if bits & exponentMask == exponentMask {
                nonFinite += 1
                if bits & mantissaMask != 0 { nan += 1 }
            }
        }
        return (nan, nonFinite - nan)
    }
}

extension Verifier.TensorCheck {
    /// Counts a piece of the tensor's bytes (a whole number of elements, little-endian) into the check.
    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        let (nan, inf) = Verifier.nonFiniteCounts(bytes, dtype: dtype, count: bytes.count * 8 / dtype.bitWidth)
        nanCount += nan
        infinityCount += inf
        if dtype == .bool {
            for byte in bytes where byte > 1 { invalidBoolCount += 1 }
        }
    }
}

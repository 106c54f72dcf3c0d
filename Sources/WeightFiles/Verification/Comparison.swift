/// Tensor-by-tensor bitwise comparison of two weight files.
public enum Comparison {
    /// How one tensor differs between the two files.
    public enum Difference: Sendable, Equatable {
        case dtype(DType, DType)
        case shape([Int], [Int])
        /// The first differing element (flat and multi-index), both values, and how many elements differ.
        case values(flatIndex: Int, index: [Int], first: String, second: String, differingElements: Int)
    }

    /// One tensor that differs.
    public struct Mismatch: Sendable, Equatable {
        public var name: String
        public var difference: Difference
    }

    /// The result of `compare`.
    public struct Report: Sendable {
        public var identical: [String] = []
        public var onlyInFirst: [String] = []
        public var onlyInSecond: [String] = []
        public var mismatches: [Mismatch] = []
        /// Metadata differs (compared as ordered key/value lists).
        public var metadataDiffers = false
        /// True when every tensor is present in both with equal dtype, shape and bytes.
        public var tensorsIdentical: Bool { onlyInFirst.isEmpty && onlyInSecond.isEmpty && mismatches.isEmpty }
    }

    /// Compares `first` and `second` tensor by tensor, bit for bit.
    /// - Complexity: O(total bytes)
    public static func compare(
        _ first: any WeightFile, _ second: any WeightFile, progress: ((Int, Int) -> Void)? = nil
    ) throws(WeightFileError) -> Report {
        var report = Report()
        let secondNames = Set(second.tensors.map(\.name))
        let firstNames = Set(first.tensors.map(\.name))
        report.onlyInSecond = second.tensors.map(\.name).filter { !firstNames.contains($0) }
        report.metadataDiffers = (first.metadata ?? Metadata()) != (second.metadata ?? Metadata())
        let total = first.totalByteCount
        var done = 0
        for info in first.tensors {
            defer {
                done += info.byteCount
                progress?(done, total)
            }
            guard secondNames.contains(info.name), let other = second.info(named: info.name) else {
                report.onlyInFirst.append(info.name)
                continue
            }
            if info.dtype != other.dtype {
                report.mismatches.append(Mismatch(name: info.name, difference: .dtype(info.dtype, other.dtype)))
                continue
            }
            if info.shape != other.shape {
                report.mismatches.append(Mismatch(name: info.name, difference: .shape(info.shape, other.shape)))
                continue
            }
            let a = try first.tensor(named: info.name)
            let b = try second.tensor(named: info.name)
            if let difference = firstDifference(a, b) {
                report.mismatches.append(Mismatch(name: info.name, difference: difference))
            } else {
                report.identical.append(info.name)
            }
        }
        return report
    }

    /// The first element where two tensors of equal dtype and shape differ bitwise, or `nil`.
    public static func firstDifference(_ a: TensorView, _ b: TensorView) -> Difference? {
        defer { withExtendedLifetime((a, b)) {} }
        let x = a.bytes
        let y = b.bytes
        if x.count == y.count, x.count == 0 || memcmpEqual(x, y) { return nil }
        let bits = a.dtype.bitWidth
        var firstElement: Int?
        var differing = 0
        for element in 0..<a.info.elementCount {
            let startBit = element * bits
            var same = true
            var bit = startBit
            while bit < startBit + bits {
                if bits % 8 == 0 {
                    let byte = bit / 8
                    let width = bits / 8
                    for k in 0..<width where x[byte + k] != y[byte + k] { same = false; break }
                    break
                }
                let mask = UInt8(1) << UInt8(bit % 8)
                if x[bit / 8] & mask != y[bit / 8] & mask { same = false; break }
                bit += 1
            }
            if !same {
                differing += 1
                if firstElement == nil { firstElement = element }
            }
        }
        guard let element = firstElement else { return nil }
        return .values(
            flatIndex: element, index: a.multiIndex(of: element), first: a.elementDescription(at: element),
            second: b.elementDescription(at: element), differingElements: differing)
    }

    private static func memcmpEqual(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = x.count
        while i + 8 <= n {
            if x.loadUnaligned(fromByteOffset: i, as: UInt64.self) != y.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i += 8
        }
        while i < n {
            if x[i] != y[i] { return false }
            i += 1
        }
        return true
    }
}

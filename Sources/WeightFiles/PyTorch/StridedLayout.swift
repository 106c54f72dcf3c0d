/// Where one tensor's elements lie in its storage: an element offset and strides, validated so
/// that every element it can address is inside the storage.
struct StridedLayout: Sendable {
    var shape: [Int]
    var strides: [Int]
    /// Bytes from the storage's start to element 0.
    var byteOffset: Int
    var elementSize: Int
    var elementCount: Int

    /// Row-major with no gaps: the bytes are one contiguous run.
    var isContiguous: Bool {
        var expected = 1
        for d in shape.indices.reversed() where shape[d] != 1 {
            if strides[d] != expected { return false }
            expected *= shape[d]
        }
        return true
    }

    /// The most dimensions accepted (torch's own limit is 64 for most kernels).
    static let maxDimensions = 64

    /// Validates `tensor` against a storage of `storageBytes` bytes (`base` bytes into it for a legacy view).
    /// - Throws: `pytorchInvalid` naming the tensor: negative sizes, strides or offset; overflow; an
    ///   element past the storage's end.
    init(_ tensor: TorchTensorReference, name: String, storageBytes: Int, base: Int = 0) throws(WeightFileError) {
        func fail(_ reason: String) -> WeightFileError {
            .pytorchInvalid(
                reason: "tensor `\(name)` (size \(tensor.shape), stride \(tensor.strides), offset \(tensor.storageOffset)): \(reason)")
        }
        shape = tensor.shape
        strides = tensor.strides
        elementSize = tensor.type.elementSize
        guard shape.count <= StridedLayout.maxDimensions else { throw fail("more than \(StridedLayout.maxDimensions) dimensions") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("a negative size") }
        guard strides.allSatisfy({ $0 >= 0 }) else { throw fail("a negative stride") }
        guard tensor.storageOffset >= 0 else { throw fail("a negative storage offset") }
        var count = 1
        var last = tensor.storageOffset
        for (size, stride) in zip(shape, strides) {
            let (product, o1) = count.multipliedReportingOverflow(by: size)
            guard !o1 else { throw fail("the element count overflows") }
            count = product
            guard size > 0 else { continue }
            let (span, o2) = (size - 1).multipliedReportingOverflow(by: stride)
            let (sum, o3) = last.addingReportingOverflow(span)
            guard !o2, !o3 else { throw fail("the last element's index overflows") }
            last = sum
        }
        elementCount = count
        let (bytes, o4) = count.multipliedReportingOverflow(by: elementSize)
        guard !o4, bytes <= Int.max / 2 else { throw fail("the byte count overflows") }
        let (offsetBytes, o5) = tensor.storageOffset.multipliedReportingOverflow(by: elementSize)
        guard !o5 else { throw fail("the storage offset overflows") }
        byteOffset = base + offsetBytes
        if count > 0 {
            let (end, o6) = (last + 1).multipliedReportingOverflow(by: elementSize)
            guard !o6, end <= storageBytes else {
                throw fail("element \(last) runs past the end of its storage (\(storageBytes) bytes)")
            }
        }
    }

    /// Copies the addressed elements of `source` (the storage's bytes, from its start) into
    /// `output` in row-major order.
    /// - Complexity: O(n) elements; contiguous innermost runs are copied with `memcpy`.
    func gather(from source: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        guard elementCount > 0, let out = output.baseAddress, let base = source.baseAddress else { return }
        if shape.isEmpty {
            out.copyMemory(from: base + byteOffset, byteCount: elementSize)
            return
        }
        let last = shape.count - 1
        let inner = shape[last]
        let innerStride = strides[last] * elementSize
        let width = elementSize
        var index = [Int](repeating: 0, count: shape.count)
        var sourceOffset = byteOffset
        var written = 0
        let total = elementCount * width
        while written < total {
            if innerStride == width {
                (out + written).copyMemory(from: base + sourceOffset, byteCount: inner * width)
                written += inner * width
            } else {
                var s = sourceOffset
                switch width {
                case 1:
                    for _ in 0..<inner { out.storeBytes(of: base.load(fromByteOffset: s, as: UInt8.self), toByteOffset: written, as: UInt8.self); written += 1; s += innerStride }
                case 2:
                    for _ in 0..<inner { out.storeBytes(of: base.loadUnaligned(fromByteOffset: s, as: UInt16.self), toByteOffset: written, as: UInt16.self); written += 2; s += innerStride }
                case 4:
                    for _ in 0..<inner { out.storeBytes(of: base.loadUnaligned(fromByteOffset: s, as: UInt32.self), toByteOffset: written, as: UInt32.self); written += 4; s += innerStride }
                case 8:
                    for _ in 0..<inner { out.storeBytes(of: base.loadUnaligned(fromByteOffset: s, as: UInt64.self), toByteOffset: written, as: UInt64.self); written += 8; s += innerStride }
                default:
                    for _ in 0..<inner { (out + written).copyMemory(from: base + s, byteCount: width); written += width; s += innerStride }
                }
            }
            // Advance the odometer over the outer dimensions.
            var k = last - 1
            while k >= 0 {
                index[k] += 1
                sourceOffset += strides[k] * width
                if index[k] < shape[k] { break }
                sourceOffset -= strides[k] * width * shape[k]
                index[k] = 0
                k -= 1
            }
            if k < 0 { break }
        }
    }
}

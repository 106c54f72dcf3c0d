import CRetortKernels

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

    private var rotates: Bool { self == .bytegroup2Rot1 || self == .bytegroup4Rot1 }

    /// Splits `input` (a whole number of elements) into `streamCount` streams written
    /// back to back into `output`, each `input.count / streamCount` bytes.
    /// - Complexity: O(n)
    func split(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        guard input.count > 0 else { return }
        if self == .none {
            output.copyMemory(from: input)
            return
        }
        retort_bytegroup_split(
            input.baseAddress!.assumingMemoryBound(to: UInt8.self), input.count / streamCount, Int32(streamCount),
            rotates ? 1 : 0, output.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }

    /// The inverse of `split`, reading stream k from `streams[k]` (each `output.count / streamCount` bytes).
    /// `streaming`: the output is not read again soon (a whole restored file), so it may be
    /// written around the caches.
    /// - Complexity: O(n)
    func merge(_ streams: [UnsafeRawPointer], into output: UnsafeMutableRawBufferPointer, streaming: Bool = false) {
        guard output.count > 0 else { return }
        if self == .none {
            output.baseAddress!.copyMemory(from: streams[0], byteCount: output.count)
            return
        }
        let pointers = streams.map { Optional($0.assumingMemoryBound(to: UInt8.self)) }
        pointers.withUnsafeBufferPointer { list in
            let merge = streaming ? retort_bytegroup_merge_streaming : retort_bytegroup_merge
            merge(
                list.baseAddress!, output.count / streamCount, Int32(streamCount), rotates ? 1 : 0,
                output.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }
}

import CLibDeflate
import CZlib

/// One-shot raw deflate (RFC 1951) of whole buffers, as the `.stz` codec uses it.
///
/// A value owns a zlib stream for one strategy and level and is reused across
/// buffers (`deflateReset`), so a worker thread pays for `deflateInit2` once.
final class RawDeflater {
    private var stream = z_stream()
    private var ready = false

    /// `strategy`: `Z_HUFFMAN_ONLY` (entropy coding only) or `Z_DEFAULT_STRATEGY` (LZ77 + Huffman).
    init(level: Int32, strategy: Int32) {
        ready = retort_deflateInit2(&stream, level, Z_DEFLATED, -15, 9, strategy) == Z_OK
    }

    deinit { if ready { deflateEnd(&stream) } }

    /// `input` deflated into `output`; the byte count, or `nil` when it does not fit.
    func deflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard ready, input.count <= Int(UInt32.max), output.count <= Int(UInt32.max) else { return nil }
        deflateReset(&stream)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = UInt32(input.count)
        stream.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = UInt32(output.count)
        let status = CZlib.deflate(&stream, Z_FINISH)
        guard status == Z_STREAM_END else { return nil }
        return output.count - Int(stream.avail_out)
    }

    /// The most bytes deflating `count` bytes can produce.
    static func bound(_ count: Int) -> Int { count + count / 1000 + 64 + (count >> 12) + (count >> 14) + (count >> 25) + 13 }
}

/// One-shot raw inflate (libdeflate) of a buffer whose decompressed size is known exactly.
final class RawInflater {
    private let decompressor: OpaquePointer?

    init() { decompressor = libdeflate_alloc_decompressor() }

    deinit { if let decompressor { libdeflate_free_decompressor(decompressor) } }

    /// Inflates all of `input` into exactly `output.count` bytes; false when the
    /// stream is corrupt, ends early or late, or leaves input unused.
    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard let decompressor, let inBase = input.baseAddress, let outBase = output.baseAddress else { return false }
        var consumed = 0
        var produced = 0
        let result = libdeflate_deflate_decompress_ex(
            decompressor, inBase, input.count, outBase, output.count, &consumed, &produced)
        return result == LIBDEFLATE_SUCCESS && consumed == input.count && produced == output.count
    }
}

import CZlib

/// Sequential inflation of a gzip, zlib or raw deflate stream held in memory, a piece at a
/// time into the caller's buffer, so that a stream is read with memory independent of its
/// decompressed size.
///
/// The same checks as `Inflater.inflate`: a hard cap on the output (`limit`), the wrapper's
/// checksum and length check, concatenated gzip members read as one stream, and nothing
/// allowed after the end.
public final class InflateStream {
    private var stream = z_stream()
    private let input: UnsafeRawBufferPointer
    private let wrapper: Inflater.Wrapper
    private let limit: Int
    private let entry: String
    private var consumed = 0
    /// Bytes produced so far.
    public private(set) var produced = 0
    /// Whether the whole stream has been read and checked.
    public private(set) var finished = false

    /// Starts inflating `input` (which must stay valid while the stream is used).
    /// - Parameters:
    ///   - limit: the most bytes the stream may produce; more is `decompressedSizeExceeded`.
    ///   - entry: the name used in errors.
    public init(_ input: UnsafeRawBufferPointer, wrapper: Inflater.Wrapper, limit: Int, entry: String) throws(WeightFileError) {
        self.input = input
        self.wrapper = wrapper
        self.limit = limit
        self.entry = entry
        guard retort_inflateInit2(&stream, wrapper.windowBits) == Z_OK else {
            throw .compressedCorrupt(format: wrapper.name, message: "inflateInit2 failed")
        }
    }

    deinit { inflateEnd(&stream) }

    /// Fills `output` from the stream; the bytes written, fewer than `output.count` only at the end.
    /// - Complexity: O(output.count)
    public func read(into output: UnsafeMutableRawBufferPointer) throws(WeightFileError) -> Int {
        var filled = 0
        while filled < output.count && !finished {
            // One byte past the cap is asked for, so that a stream longer than the cap is caught.
            let room = min(output.count - filled, Int(UInt32.max), limit - produced + 1)
            let availableIn = min(input.count - consumed, Int(UInt32.max))
            stream.next_in = UnsafeMutablePointer(
                mutating: input.baseAddress?.advanced(by: consumed).assumingMemoryBound(to: Bytef.self))
            stream.avail_in = UInt32(availableIn)
            stream.next_out = output.baseAddress!.advanced(by: filled).assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(room)
            let status = CZlib.inflate(&stream, Z_NO_FLUSH)
            consumed += availableIn - Int(stream.avail_in)
            let made = room - Int(stream.avail_out)
            produced += made
            filled += made
            if produced > limit { throw .decompressedSizeExceeded(entry: entry, limit: limit) }
            switch status {
            case Z_STREAM_END:
                // gzip allows several members back to back; anything else after the end is refused.
                if wrapper == .gzip, consumed + 2 <= input.count, input[consumed] == 0x1F, input[consumed + 1] == 0x8B {
                    inflateReset(&stream)
                    continue
                }
                guard consumed == input.count else { throw .compressedTrailingData(format: wrapper.name) }
                finished = true
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress: the output piece is full (the loop ends), or the input ran out.
                if stream.avail_out == 0 { continue }
                throw .compressedTruncated(format: wrapper.name)
            default:
                throw Inflater.failure(status: status, message: stream.msg, wrapper: wrapper, entry: entry)
            }
        }
        return filled
    }

    /// Reads exactly `output.count` bytes; a stream that ends first is `short(produced)`'s error.
    func readExactly(
        into output: UnsafeMutableRawBufferPointer, short: (Int) -> WeightFileError
    ) throws(WeightFileError) {
        let n = try read(into: output)
        if n < output.count { throw short(produced) }
    }

    /// Reads to the end, checking that nothing more comes (the checksum is checked on the way).
    /// - Returns: the bytes that came (0 for a stream that was read to its end).
    func drain() throws(WeightFileError) -> Int {
        var extra = 0
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { scratch.deallocate() }
        while !finished { extra += try read(into: scratch) }
        return extra
    }
}

import CLibDeflate
import CZlib

#if canImport(Glibc)
    import Glibc
#endif

/// Streaming zlib inflation with a hard cap on the output size.
///
/// The output grows by doubling as the stream produces data, so a small stream
/// that claims a huge size allocates nothing up front, and a deflate bomb stops at
/// the cap with an error instead of exhausting memory.
public enum Inflater {
    /// The container around the deflate data.
    public enum Wrapper: Sendable {
        /// gzip (RFC 1952); concatenated members are read as one stream, as gzip(1) does.
        case gzip
        /// zlib (RFC 1950).
        case zlib
        /// Raw deflate (RFC 1951), as in zip entries.
        case raw

        var windowBits: Int32 {
            switch self {
            case .gzip: 31
            case .zlib: 15
            case .raw: -15
            }
        }

        public var name: String {
            switch self {
            case .gzip: "gzip"
            case .zlib: "zlib"
            case .raw: "deflate"
            }
        }
    }

    /// The default cap on decompressed output: 64 GiB.
    public static let defaultLimit = 64 << 30

    /// Inflates all of `input`.
    /// - Parameters:
    ///   - sizeHint: the expected output size, used to size the first allocation (capped at `limit`).
    ///   - limit: the most bytes the output may have; more is `decompressedSizeExceeded`.
    ///   - entry: the name used in errors.
    /// - Throws: `compressedTruncated`, `compressedChecksum`, `compressedCorrupt`,
    ///   `compressedTrailingData`, `decompressedSizeExceeded`.
    /// - Complexity: O(output)
    public static func inflate(
        _ input: UnsafeRawBufferPointer, wrapper: Wrapper, sizeHint: Int = 0, limit: Int = defaultLimit,
        entry: String = "input"
    ) throws(WeightFileError) -> ByteStorage {
        var stream = z_stream()
        guard retort_inflateInit2(&stream, wrapper.windowBits) == Z_OK else {
            throw .compressedCorrupt(format: wrapper.name, message: "inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }

        var capacity = max(1, min(max(sizeHint, 4096), limit))
        guard var output = malloc(capacity) else {
            throw .io(path: entry, operation: "malloc(\(capacity))", message: "out of memory")
        }
        var produced = 0
        var consumed = 0
        var ok = false
        defer { if !ok { free(output) } }

        while true {
            if produced == capacity {
                guard capacity < limit else { throw .decompressedSizeExceeded(entry: entry, limit: limit) }
                let grown = min(capacity <= limit / 2 ? capacity * 2 : limit, limit)
                guard let bigger = realloc(output, grown) else {
                    throw .io(path: entry, operation: "realloc(\(grown))", message: "out of memory")
                }
                output = bigger
                capacity = grown
            }
            let availableIn = min(input.count - consumed, Int(UInt32.max))
            stream.next_in = UnsafeMutablePointer(
                mutating: input.baseAddress?.advanced(by: consumed).assumingMemoryBound(to: Bytef.self))
            stream.avail_in = UInt32(availableIn)
            let room = min(capacity - produced, Int(UInt32.max))
            stream.next_out = output.advanced(by: produced).assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(room)
            let status = CZlib.inflate(&stream, Z_NO_FLUSH)
            consumed += availableIn - Int(stream.avail_in)
            produced += room - Int(stream.avail_out)
            switch status {
            case Z_STREAM_END:
                // gzip allows several members back to back; anything else after the end is refused.
                if wrapper == .gzip, consumed + 2 <= input.count, input[consumed] == 0x1F, input[consumed + 1] == 0x8B {
                    inflateReset(&stream)
                    continue
                }
                guard consumed == input.count else { throw .compressedTrailingData(format: wrapper.name) }
                ok = true
                if produced < capacity, produced > 0, let shrunk = realloc(output, produced) { output = shrunk }
                return ByteStorage(mallocated: output, count: produced)
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: either the output is full (grow and retry) or the input ran out.
                if produced == capacity { continue }
                throw .compressedTruncated(format: wrapper.name)
            default:
                throw Inflater.failure(status: status, message: stream.msg, wrapper: wrapper, entry: entry)
            }
        }
    }

    /// The CRC-32 (ISO-HDLC, as zlib and zip use) of `bytes`, continuing from `crc`;
    /// computed by libdeflate, which uses carry-less multiplication where the CPU has it.
    /// The error for an inflate status other than Z_OK, Z_STREAM_END and Z_BUF_ERROR: a checksum
    /// mismatch, corrupt data (with zlib's message), or running out of memory.
    static func failure(
        status: Int32, message: UnsafePointer<CChar>?, wrapper: Wrapper, entry: String
    ) -> WeightFileError {
        switch status {
        case Z_DATA_ERROR:
            let text = message.map { String(cString: $0) } ?? "invalid data"
            if text.contains("incorrect data check") || text.contains("incorrect length check") {
                return .compressedChecksum(format: wrapper.name)
            }
            return .compressedCorrupt(format: wrapper.name, message: text)
        case Z_MEM_ERROR:
            return .io(path: entry, operation: "inflate", message: "out of memory")
        default:
            return .compressedCorrupt(format: wrapper.name, message: message.map { String(cString: $0) } ?? "zlib status \(status)")
        }
    }

    public static func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return libdeflate_crc32(crc, base, bytes.count)
    }
}

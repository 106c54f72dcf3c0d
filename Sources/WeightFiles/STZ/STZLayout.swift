import CRetortKernels

#if canImport(Glibc)
    import Glibc
#endif

/// The fixed parts of the `.stz` container (`formats/stz.md`).
public enum STZLayout {
    /// `RTSTZ\0\r\n`: the NUL and CR LF reveal text-mode transfer damage, as PNG's magic does.
    public static let magic: [UInt8] = [0x52, 0x54, 0x53, 0x54, 0x5A, 0x00, 0x0D, 0x0A]
    /// `RTSTZEND`, the last 8 bytes.
    public static let endMagic: [UInt8] = Array("RTSTZEND".utf8)
    /// The version this code writes. Version 2 added the header's CRC-32 to the footer.
    public static let version: UInt32 = 2
    /// The versions this code reads: version 1 files (no header checksum) still read.
    public static let readableVersions: ClosedRange<UInt32> = 1...2
    /// Magic, u32 version, u32 flags (0).
    public static let preludeLength = 16
    /// The shortest footer (version 1): u64 header offset, u64 header length, end magic.
    public static let footerLength = 24
    /// The footer of `version`: version 2 puts the header's u32 CRC-32 before the end magic.
    public static func footerLength(version: UInt32) -> Int { version >= 2 ? 28 : 24 }
    /// The largest header accepted (a checkpoint with millions of tensors stays far below it).
    public static let maxHeaderLength = 1 << 30
    /// The default chunk size: 1 MiB.
    public static let defaultChunkSize = 1 << 20
    /// The largest chunk size accepted.
    public static let maxChunkSize = 1 << 28
    /// Decoding budget: a restore's window buffers hold at most max(this, largest chunk) bytes
    /// each, and its workers' scratch space as much, whatever `threads` and `chunk_size` say.
    public static let decodeBudget = 64 << 20
    /// The most worker threads a reader or writer starts, whatever it is asked for.
    public static let maxThreads = 1024
    /// The codec this version knows.
    public static let codec = "deflate"

    private static let vectorCRC = retort_crc32_fast_available() != 0

    /// The CRC-32 of a chunk's encoded bytes: Retort's VPCLMULQDQ kernel where the CPU has
    /// it (about 4× libdeflate's), libdeflate's otherwise. The same value either way.
    static func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        if vectorCRC && bytes.count >= 256 {
            return retort_crc32(crc, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count)
        }
        return Inflater.crc32(bytes, continuing: crc)
    }
}

/// One chunk of a tensor in a `.stz` file.
public struct STZChunk: Sendable, Hashable {
    /// Where the encoded chunk starts, from the start of the file.
    public var offset: Int
    /// The encoded chunk's length.
    public var storedLength: Int
    /// The decoded chunk's length.
    public var rawLength: Int
    /// CRC-32 of the encoded bytes, checked before decoding. (The decoded bytes are
    /// covered by the deflate structure and the whole file's SHA-256.)
    public var crc: UInt32
}

/// What a `.stz` restore found out when the restored file's SHA-256 differed from the recorded one.
public enum STZDigestFinding: Sendable, Hashable {
    /// `name` is the first tensor, in file order, whose decoded bytes' CRC-32 (`actual`) differs
    /// from the `data_crc32` the header records for it (`expected`).
    case tensor(name: String, expected: UInt32, actual: UInt32)
    /// Every tensor's decoded bytes match their recorded CRC-32s: the difference lies in the
    /// restored header bytes or in the recorded digest itself.
    case tensorsMatch
    /// The container records no per-tensor CRC-32s (it was written before they were added),
    /// so the tensor that differs cannot be named.
    case notRecorded
}

/// A worker-shared counter handing out work items one at a time.
final class WorkCounter: @unchecked Sendable {
    private let value = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        value.initialize(to: 0)
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
        value.deallocate()
    }

    /// The next item number.
    func next() -> Int {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        let current = value.pointee
        value.pointee += 1
        return current
    }
}

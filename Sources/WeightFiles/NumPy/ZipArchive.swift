import CZlib

/// A minimal, strictly bounds-checked zip reader (PKWARE APPNOTE 6.3): the central
/// directory, zip64 records and extra fields, stored (0) and deflate (8) entries.
///
/// Opening reads the end-of-central-directory record (searched for in the last
/// 65,557 bytes), the central directory and every local header; every offset and
/// size is checked against the file, and entries whose bytes overlap each other or
/// the central directory are refused, so no byte is shared between two entries (the
/// trick behind non-recursive zip bombs). Data is read and CRC-checked only on demand.
/// Refused: multi-disk archives, encryption, methods other than 0 and 8, entry names
/// that are not UTF-8.
public struct ZipArchive: Sendable {
    /// One file in the archive.
    public struct Entry: Sendable, Hashable {
        /// The name as stored (UTF-8), e.g. `W_E.npy`.
        public var name: String
        /// 0 stored, 8 deflate.
        public var method: UInt16
        /// The CRC-32 of the uncompressed data.
        public var crc32: UInt32
        /// Bytes of (compressed) data in the archive.
        public var compressedSize: Int
        /// Bytes after decompression, as declared.
        public var uncompressedSize: Int
        /// The offset of the local header.
        public var localHeaderOffset: Int
        /// The offset of the entry's (compressed) data.
        public var dataOffset: Int

        /// The range of the entry's (compressed) data in the archive.
        public var dataRange: Range<Int> { dataOffset..<(dataOffset + compressedSize) }
    }

    /// The most entries an archive may list.
    public static let maxEntryCount = 1 << 20
    /// The size of the search window for the end record: 22 bytes + the longest comment.
    static let endSearchWindow = 22 + 0xFFFF

    /// The entries in central-directory order.
    public let entries: [Entry]
    /// The largest declared uncompressed size accepted for an entry.
    public let limit: Int

    /// Reads and validates the directory of the zip archive in `bytes`.
    /// - Parameter limit: the largest uncompressed size an entry may declare.
    /// - Throws: `zipInvalid` (naming the offset), `zipUnsupportedCompression`,
    ///   `decompressedSizeExceeded` (a declared size over `limit`).
    /// - Complexity: O(e log e + d) for e entries and a d-byte central directory.
    public init(bytes: UnsafeRawBufferPointer, limit: Int = Inflater.defaultLimit) throws(WeightFileError) {
        self.limit = limit
        let reader = ByteReader(bytes: bytes)
        let end = try ZipArchive.findEnd(bytes)
        let diskNumber = try reader.u16(at: end + 4)
        let directoryDisk = try reader.u16(at: end + 6)
        var diskEntries = Int(try reader.u16(at: end + 8))
        var count = Int(try reader.u16(at: end + 10))
        var directorySize = Int(try reader.u32(at: end + 12))
        var directoryOffset = Int(try reader.u32(at: end + 16))
        // Everything before the end record (or the zip64 record) may belong to entries.
        var directoryLimit = end

        if end >= 20, try reader.u32(at: end - 20) == 0x0706_4B50 {
            let locator = end - 20
            let recordDisk = try reader.u32(at: locator + 4)
            let record = try reader.offset(reader.u64(at: locator + 8), at: locator + 8)
            let totalDisks = try reader.u32(at: locator + 16)
            guard recordDisk == 0, totalDisks <= 1 else {
                throw .zipInvalid(reason: "multi-disk archives are not supported", offset: locator)
            }
            guard record <= locator - 56, try reader.u32(at: record) == 0x0606_4B50 else {
                throw .zipInvalid(reason: "the zip64 locator does not point at a zip64 end record", offset: locator)
            }
            guard try reader.u32(at: record + 16) == 0, try reader.u32(at: record + 20) == 0 else {
                throw .zipInvalid(reason: "multi-disk archives are not supported", offset: record)
            }
            diskEntries = try reader.offset(reader.u64(at: record + 24), at: record + 24)
            count = try reader.offset(reader.u64(at: record + 32), at: record + 32)
            directorySize = try reader.offset(reader.u64(at: record + 40), at: record + 40)
            directoryOffset = try reader.offset(reader.u64(at: record + 48), at: record + 48)
            directoryLimit = record
        } else if diskNumber != 0 || directoryDisk != 0 {
            throw .zipInvalid(reason: "multi-disk archives are not supported", offset: end)
        }
        guard diskEntries == count else {
            throw .zipInvalid(reason: "\(diskEntries) entries on this disk but \(count) in total", offset: end)
        }
        guard count <= ZipArchive.maxEntryCount else {
            throw .zipInvalid(reason: "\(count) entries exceed the \(ZipArchive.maxEntryCount)-entry cap", offset: end)
        }
        guard directoryOffset <= directoryLimit, directorySize <= directoryLimit - directoryOffset else {
            throw .zipInvalid(
                reason: "the central directory [\(directoryOffset), +\(directorySize)) runs past its end record",
                offset: end)
        }
        guard count <= directorySize / 46 else {
            throw .zipInvalid(reason: "\(count) entries cannot fit in a \(directorySize)-byte central directory", offset: end)
        }

        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var position = directoryOffset
        let directoryEnd = directoryOffset + directorySize
        for _ in 0..<count {
            let entry = try ZipArchive.readDirectoryEntry(reader, at: &position, end: directoryEnd, limit: limit)
            entries.append(entry)
        }
        guard position == directoryEnd else {
            throw .zipInvalid(reason: "\(directoryEnd - position) unexplained bytes in the central directory", offset: position)
        }

        // Each entry's local header and data must end before the next entry begins.
        let ordered = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        for (i, entry) in ordered.enumerated() {
            let next = i + 1 < ordered.count ? ordered[i + 1].localHeaderOffset : directoryOffset
            guard entry.dataRange.upperBound <= next else {
                throw .zipInvalid(
                    reason: "entry \(entry.name) overlaps the next entry or the central directory",
                    offset: entry.localHeaderOffset)
            }
        }
        self.entries = entries
    }

    /// The end-of-central-directory record: the last signature in the final 65,557
    /// bytes whose comment fits in the file.
    private static func findEnd(_ bytes: UnsafeRawBufferPointer) throws(WeightFileError) -> Int {
        guard bytes.count >= 22 else {
            throw .zipInvalid(reason: "\(bytes.count) bytes are too few for a zip archive", offset: 0)
        }
        var candidate = bytes.count - 22
        let lowest = max(0, bytes.count - endSearchWindow)
        while candidate >= lowest {
            if bytes[candidate] == 0x50, bytes[candidate + 1] == 0x4B, bytes[candidate + 2] == 0x05,
                bytes[candidate + 3] == 0x06
            {
                let commentLength = Int(bytes[candidate + 20]) | Int(bytes[candidate + 21]) << 8
                if candidate + 22 + commentLength <= bytes.count { return candidate }
            }
            candidate -= 1
        }
        throw .zipInvalid(reason: "no end-of-central-directory record", offset: bytes.count)
    }

    /// Reads one central-directory record at `position` and the local header it points to.
    private static func readDirectoryEntry(
        _ reader: ByteReader, at position: inout Int, end: Int, limit: Int
    ) throws(WeightFileError) -> Entry {
        let start = position
        guard end - start >= 46, try reader.u32(at: start) == 0x0201_4B50 else {
            throw .zipInvalid(reason: "expected a central directory record", offset: start)
        }
        let flags = try reader.u16(at: start + 8)
        let method = try reader.u16(at: start + 10)
        let crc = try reader.u32(at: start + 16)
        var compressedSize = UInt64(try reader.u32(at: start + 20))
        var uncompressedSize = UInt64(try reader.u32(at: start + 24))
        let nameLength = Int(try reader.u16(at: start + 28))
        let extraLength = Int(try reader.u16(at: start + 30))
        let commentLength = Int(try reader.u16(at: start + 32))
        var disk = UInt32(try reader.u16(at: start + 34))
        var localOffset = UInt64(try reader.u32(at: start + 42))
        let recordEnd = start + 46 + nameLength + extraLength + commentLength
        guard recordEnd <= end else {
            throw .zipInvalid(reason: "a central directory record runs past the directory", offset: start)
        }
        let nameBytes = UnsafeRawBufferPointer(rebasing: reader.bytes[(start + 46)..<(start + 46 + nameLength)])
        guard firstInvalidUTF8Offset(nameBytes) == nil else {
            throw .zipInvalid(reason: "an entry name is not UTF-8", offset: start + 46)
        }
        let name = String(decoding: nameBytes, as: UTF8.self)

        // Zip64 extra field (0x0001): the 64-bit values of exactly the fields set to all ones, in order.
        var extra = start + 46 + nameLength
        let extraEnd = extra + extraLength
        while extra < extraEnd {
            guard extraEnd - extra >= 4 else {
                throw .zipInvalid(reason: "entry \(name): truncated extra field", offset: extra)
            }
            let id = try reader.u16(at: extra)
            let size = Int(try reader.u16(at: extra + 2))
            guard extra + 4 + size <= extraEnd else {
                throw .zipInvalid(reason: "entry \(name): extra field runs past its record", offset: extra)
            }
            if id == 0x0001 {
                var field = extra + 4
                func next() throws(WeightFileError) -> UInt64 {
                    guard field + 8 <= extra + 4 + size else {
                        throw .zipInvalid(reason: "entry \(name): zip64 extra field too short", offset: extra)
                    }
                    defer { field += 8 }
                    return try reader.u64(at: field)
                }
                if uncompressedSize == 0xFFFF_FFFF { uncompressedSize = try next() }
                if compressedSize == 0xFFFF_FFFF { compressedSize = try next() }
                if localOffset == 0xFFFF_FFFF { localOffset = try next() }
                if disk == 0xFFFF {
                    guard field + 4 <= extra + 4 + size else {
                        throw .zipInvalid(reason: "entry \(name): zip64 extra field too short", offset: extra)
                    }
                    disk = try reader.u32(at: field)
                }
            }
            extra += 4 + size
        }
        position = recordEnd

        guard disk == 0 else { throw .zipInvalid(reason: "entry \(name) is on disk \(disk)", offset: start) }
        guard flags & 0x1 == 0, flags & 0x40 == 0 else {
            throw .zipInvalid(reason: "entry \(name) is encrypted", offset: start)
        }
        guard method == 0 || method == 8 else { throw .zipUnsupportedCompression(entry: name, method: method) }
        let compressed = try reader.offset(compressedSize, at: start + 20)
        let uncompressed = try reader.offset(uncompressedSize, at: start + 24)
        let local = try reader.offset(localOffset, at: start + 42)
        if method == 0, compressed != uncompressed {
            throw .zipInvalid(
                reason: "stored entry \(name) has compressed size \(compressed) but uncompressed size \(uncompressed)",
                offset: start)
        }
        guard uncompressed <= limit else { throw .decompressedSizeExceeded(entry: name, limit: limit) }

        // The local header: same signature and name; its sizes may be zero (data descriptor)
        // or all ones (zip64), so the central directory's are used.
        guard local <= reader.bytes.count - 30, try reader.u32(at: local) == 0x0403_4B50 else {
            throw .zipInvalid(reason: "entry \(name): no local header at its offset", offset: local)
        }
        let localNameLength = Int(try reader.u16(at: local + 26))
        let localExtraLength = Int(try reader.u16(at: local + 28))
        let dataOffset = local + 30 + localNameLength + localExtraLength
        guard dataOffset <= reader.bytes.count else {
            throw .zipInvalid(reason: "entry \(name): local header runs past the end of the file", offset: local)
        }
        let localName = UnsafeRawBufferPointer(rebasing: reader.bytes[(local + 30)..<(local + 30 + localNameLength)])
        guard localName.elementsEqual(nameBytes) else {
            throw .zipInvalid(reason: "entry \(name): the local header names a different file", offset: local)
        }
        guard compressed <= reader.bytes.count - dataOffset else {
            throw .zipInvalid(reason: "entry \(name): data runs past the end of the file", offset: dataOffset)
        }
        return Entry(
            name: name, method: method, crc32: crc, compressedSize: compressed, uncompressedSize: uncompressed,
            localHeaderOffset: local, dataOffset: dataOffset)
    }

    /// The contents of `entry` as a range of `storage` (stored) or newly inflated bytes
    /// (deflate), CRC-checked.
    /// - Parameter storage: the archive's bytes, the same ones the archive was opened on.
    /// - Throws: `zipChecksum`, `decompressedSizeExceeded` (the stream inflates past
    ///   the declared size), `zipInvalid` (it inflates to less), the `compressed*` errors.
    /// - Complexity: O(uncompressed size).
    public func contents(of entry: Entry, in storage: ByteStorage) throws(WeightFileError)
        -> (storage: ByteStorage, range: Range<Int>)
    {
        let source = UnsafeRawBufferPointer(rebasing: storage.bytes[entry.dataRange])
        if entry.method == 0 {
            guard Inflater.crc32(source) == entry.crc32 else { throw .zipChecksum(entry: entry.name) }
            return (storage, entry.dataRange)
        }
        // Deflate expands at most ~1032:1, so a larger declared size is not allocated up front.
        let hint = min(entry.uncompressedSize, entry.compressedSize.multipliedReportingOverflow(by: 1032).partialValue + 1024)
        let inflated = try Inflater.inflate(
            source, wrapper: .raw, sizeHint: hint, limit: entry.uncompressedSize, entry: entry.name)
        guard inflated.count <= entry.uncompressedSize else {
            throw .decompressedSizeExceeded(entry: entry.name, limit: entry.uncompressedSize)
        }
        guard inflated.count == entry.uncompressedSize else {
            throw .zipInvalid(
                reason: "entry \(entry.name) inflates to \(inflated.count) bytes, \(entry.uncompressedSize) declared",
                offset: entry.dataOffset)
        }
        guard Inflater.crc32(inflated.bytes) == entry.crc32 else { throw .zipChecksum(entry: entry.name) }
        return (inflated, 0..<inflated.count)
    }

    /// The first `count` bytes of `entry` (fewer if it is shorter), without reading the rest
    /// and without a CRC check — enough to read a header inside a compressed entry.
    /// - Complexity: O(count)
    public func prefix(of entry: Entry, in storage: ByteStorage, count: Int) throws(WeightFileError) -> [UInt8] {
        let wanted = min(count, entry.uncompressedSize)
        let source = UnsafeRawBufferPointer(rebasing: storage.bytes[entry.dataRange])
        if entry.method == 0 { return Array(source.prefix(wanted)) }
        guard wanted > 0 else { return [] }
        var stream = z_stream()
        guard retort_inflateInit2(&stream, -15) == Z_OK else {
            throw .compressedCorrupt(format: "deflate", message: "inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: wanted)
        var produced = 0
        var consumed = 0
        while produced < wanted {
            let availableIn = min(source.count - consumed, Int(UInt32.max))
            let room = wanted - produced
            let status: Int32 = output.withUnsafeMutableBytes { out in
                stream.next_in = UnsafeMutablePointer(
                    mutating: source.baseAddress?.advanced(by: consumed).assumingMemoryBound(to: Bytef.self))
                stream.avail_in = UInt32(availableIn)
                stream.next_out = out.baseAddress!.advanced(by: produced).assumingMemoryBound(to: Bytef.self)
                stream.avail_out = UInt32(room)
                return CZlib.inflate(&stream, Z_NO_FLUSH)
            }
            consumed += availableIn - Int(stream.avail_in)
            produced += room - Int(stream.avail_out)
            switch status {
            case Z_OK: continue
            case Z_STREAM_END: return Array(output[0..<produced])
            case Z_BUF_ERROR: throw .compressedTruncated(format: "deflate")
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw .compressedCorrupt(format: "deflate", message: message)
            }
        }
        return output
    }
}

/// Little-endian reads that check every offset against the buffer.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer

    private func check(_ offset: Int, _ size: Int) throws(WeightFileError) {
        guard offset >= 0, offset <= bytes.count - size else {
            throw .zipInvalid(reason: "a \(size)-byte field runs past the end of the file", offset: offset)
        }
    }

    func u16(at offset: Int) throws(WeightFileError) -> UInt16 {
        try check(offset, 2)
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    func u32(at offset: Int) throws(WeightFileError) -> UInt32 {
        try check(offset, 4)
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    func u64(at offset: Int) throws(WeightFileError) -> UInt64 {
        try check(offset, 8)
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// A 64-bit size or offset as an `Int`, refused above 2^61 so that sums of a few never overflow.
    func offset(_ value: UInt64, at field: Int) throws(WeightFileError) -> Int {
        guard value <= UInt64(Int.max / 4) else {
            throw .zipInvalid(reason: "value \(value) is out of range", offset: field)
        }
        return Int(value)
    }
}

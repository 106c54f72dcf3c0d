/// A NumPy `.npz` archive (`numpy.savez` stores its entries, `savez_compressed`
/// deflates them): each `name.npy` entry is a tensor called `name`.
///
/// Opening reads the zip directory and every entry's NPY header: in place for stored
/// entries, and for deflated ones by inflating only the first bytes of the stream up
/// to the end of the header, so no array data is inflated at open. `tensor(named:)`
/// then reads the entry, checks its CRC-32, and for deflated entries inflates it
/// with the declared size as a hard limit.
///
/// Entries whose names do not end in `.npy` are ignored (numpy's `NpzFile` would
/// return them as raw bytes; they hold no arrays). Two entries that give the same
/// tensor name are refused (`DuplicateTensor`).
public struct NPZFile: WeightFile {
    public var format: WeightFileFormat { .npz }
    public var metadata: Metadata? { nil }
    /// The whole archive's bytes.
    public let storage: ByteStorage
    /// The zip directory.
    public let archive: ZipArchive
    public let tensors: [TensorInfo]
    private let members: [Member]
    private let index: [String: Int]

    private struct Member: Sendable {
        var entry: ZipArchive.Entry
        var header: NPYHeader
    }

    /// Maps the archive at `path` and reads its directory and NPY headers.
    /// - Parameter limit: the largest uncompressed size an entry may declare.
    /// - Complexity: O(e · h) for e entries with h-byte headers, independent of the data size.
    public init(path: String, limit: Int = Inflater.defaultLimit) throws(WeightFileError) {
        try self.init(storage: ByteStorage.map(path: path), limit: limit)
    }

    /// Reads the archive held in `storage`.
    /// - Complexity: O(e · h), as `init(path:limit:)`.
    public init(storage: ByteStorage, limit: Int = Inflater.defaultLimit) throws(WeightFileError) {
        self.storage = storage
        self.archive = try ZipArchive(bytes: storage.bytes, limit: limit)
        var members: [Member] = []
        var tensors: [TensorInfo] = []
        var index: [String: Int] = [:]
        for entry in archive.entries where entry.name.hasSuffix(".npy") {
            let name = String(entry.name.dropLast(4))
            guard index[name] == nil else { throw .duplicateTensor(name: name) }
            let header = try NPZFile.readHeader(entry, archive: archive, storage: storage)
            try NPYFile.checkDataSize(header, available: entry.uncompressedSize - header.dataOffset)
            index[name] = members.count
            members.append(Member(entry: entry, header: header))
            tensors.append(
                TensorInfo(
                    name: name, dtype: header.dtype, shape: header.shape,
                    fileOffset: entry.method == 0 ? entry.dataOffset + header.dataOffset : nil))
        }
        self.members = members
        self.tensors = tensors
        self.index = index
    }

    /// The NPY header of `entry`: read in place when stored, from an inflated prefix when deflated.
    private static func readHeader(
        _ entry: ZipArchive.Entry, archive: ZipArchive, storage: ByteStorage
    ) throws(WeightFileError) -> NPYHeader {
        if entry.method == 0 {
            return try NPYHeader.parse(UnsafeRawBufferPointer(rebasing: storage.bytes[entry.dataRange]))
        }
        // 12 bytes give the header length; a second, longer inflate reads the header itself.
        var prefix = try archive.prefix(of: entry, in: storage, count: 12)
        let needed = try withBytes(prefix) { (raw) throws(WeightFileError) in try NPYHeader.dataOffset(prefix: raw) }
        if let needed, needed > prefix.count {
            prefix = try archive.prefix(of: entry, in: storage, count: needed)
        }
        return try withBytes(prefix) { (raw) throws(WeightFileError) in try NPYHeader.parse(raw) }
    }

    /// The tensor's little-endian row-major bytes. A stored, little-endian, C-order
    /// entry is a view into the map (after its CRC-32 is checked); others are decoded.
    /// - Complexity: O(n) in the entry's size (CRC-32, and inflation for deflated entries).
    public func tensor(named name: String) throws(WeightFileError) -> TensorView {
        guard let i = index[name] else { throw .tensorNotFound(name: name) }
        let member = members[i]
        let (bytes, range) = try archive.contents(of: member.entry, in: storage)
        return NPYFile.view(
            header: member.header, info: tensors[i], storage: bytes,
            dataStart: range.lowerBound + member.header.dataOffset)
    }

    public func info(named name: String) -> TensorInfo? { index[name].map { tensors[$0] } }

    /// The bytes `forEachPiece` hands over at a time.
    public static let pieceSize = 4 << 20

    /// Whether `tensors[position]` is stored column-major (Fortran order), which `forEachPiece`
    /// hands over in that order.
    public func isFortranOrder(_ position: Int) -> Bool { members[position].header.fortranOrder }

    /// Reads `tensors[position]` in pieces of at most `pieceSize` bytes, each a whole number of
    /// elements, little-endian, in the order the entry stores them (row-major, or column-major
    /// when `isFortranOrder`): `body` gets (byte offset in the tensor, piece). A deflated entry is
    /// inflated as a stream, so memory is the piece's whatever the entry's size; the entry's size
    /// and CRC-32 are checked at the end, as `tensor(named:)` checks them.
    /// - Complexity: O(entry size) time, O(`pieceSize`) memory.
    public func forEachPiece(
        of position: Int, _ body: (Int, UnsafeRawBufferPointer) throws(WeightFileError) -> Void
    ) throws(WeightFileError) {
        let member = members[position]
        let header = member.header
        let entry = member.entry
        let width = header.dtype.byteWidth ?? 1
        let swapWidth = header.dtype == .c64 ? 4 : width
        // A multiple of 24 bytes: whole elements of every width (and of the 6-bit types' 3-byte groups).
        let piece = NPZFile.pieceSize / 24 * 24
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: piece, alignment: 64)
        defer { buffer.deallocate() }
        let source = UnsafeRawBufferPointer(rebasing: storage.bytes[entry.dataRange])
        if entry.method == 0 {
            guard Inflater.crc32(source) == entry.crc32 else { throw .zipChecksum(entry: entry.name) }
        }
        let stream =
            entry.method == 0
            ? nil : try InflateStream(source, wrapper: .raw, limit: entry.uncompressedSize, entry: entry.name)
        var crc: UInt32 = 0
        func read(into target: UnsafeMutableRawBufferPointer, at offset: Int) throws(WeightFileError) {
            guard let stream else {
                target.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: target.count)
                return
            }
            let n = try stream.read(into: target)
            crc = Inflater.crc32(UnsafeRawBufferPointer(rebasing: target[0..<n]), continuing: crc)
            guard n == target.count else {
                throw .zipInvalid(
                    reason: "entry \(entry.name) inflates to \(stream.produced) bytes, \(entry.uncompressedSize) declared",
                    offset: entry.dataOffset)
            }
        }
        // The NPY header (already parsed at open) is read past, then the data.
        var offset = 0
        while offset < header.dataOffset {
            let n = min(piece, header.dataOffset - offset)
            try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n]), at: offset)
            offset += n
        }
        var done = 0
        while done < header.dataByteCount {
            let n = min(piece, header.dataByteCount - done)
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
            try read(into: target, at: header.dataOffset + done)
            if header.isBigEndian { NPYFile.swapBytes(target, count: n, width: swapWidth) }
            try body(done, UnsafeRawBufferPointer(target))
            done += n
        }
        if let stream {
            // Whatever follows the array in the entry still counts towards its size and CRC.
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(piece, 65536)])
            while !stream.finished {
                let n = try stream.read(into: rest)
                crc = Inflater.crc32(UnsafeRawBufferPointer(rebasing: rest[0..<n]), continuing: crc)
            }
            guard stream.produced == entry.uncompressedSize else {
                throw .zipInvalid(
                    reason: "entry \(entry.name) inflates to \(stream.produced) bytes, \(entry.uncompressedSize) declared",
                    offset: entry.dataOffset)
            }
            guard crc == entry.crc32 else { throw .zipChecksum(entry: entry.name) }
        }
    }
}

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
}

/// The zip layout of `torch.save` (PyTorch ≥ 1.6): every entry under one root folder (the first
/// entry's prefix, `archive` by default), `<root>/data.pkl` (the pickle), `<root>/data/<key>`
/// (each storage's raw bytes, stored and 64-byte aligned), `<root>/byteorder` (`little` or `big`;
/// absent in files from before 1.10, which were little-endian in practice), `<root>/version` and
/// `<root>/.format_version`.
struct ZipCheckpoint {
    let archive: ZipArchive
    let root: String
    /// The pickle's entry name, for errors.
    let pickleName: String
    let result: PickleResult
    let bigEndian: Bool
    /// Every `<root>/data/<key>` entry by key.
    let storages: [String: PyTorchCheckpoint.StorageLocation]

    init(storage: ByteStorage, limit: Int) throws(WeightFileError) {
        archive = try ZipArchive(bytes: storage.bytes, limit: limit)
        guard let first = archive.entries.first else { throw .pytorchInvalid(reason: "the zip archive is empty") }
        guard let slash = first.name.firstIndex(of: "/") else {
            throw .pytorchInvalid(reason: "the first zip entry `\(first.name)` is not inside a root folder")
        }
        root = String(first.name[..<slash])
        let prefix = root + "/"
        var byName: [String: ZipArchive.Entry] = [:]
        var storages: [String: PyTorchCheckpoint.StorageLocation] = [:]
        for entry in archive.entries where entry.name.hasPrefix(prefix) {
            let relative = String(entry.name.dropFirst(prefix.count))
            byName[relative] = entry
            if relative.hasPrefix("data/") { storages[String(relative.dropFirst(5))] = .entry(entry) }
        }
        // torch.jit.save archives: their data.pkl names __torch__ classes compiled from code/.
        if byName["constants.pkl"] != nil || byName.keys.contains(where: { $0.hasPrefix("code/") }) {
            throw .unsupportedFormat(detected: "TorchScript archive (torch.jit.save)")
        }
        guard let pickle = byName["data.pkl"] else {
            throw .pytorchInvalid(reason: "no \(prefix)data.pkl entry: not a torch.save checkpoint")
        }
        pickleName = pickle.name
        if let order = byName["byteorder"] {
            let (source, range) = try ZipCheckpoint.read(order, of: archive, in: storage)
            let text = String(decoding: source.bytes[range], as: UTF8.self).trimmingWhitespace
            switch text {
            case "little": bigEndian = false
            case "big": bigEndian = true
            default: throw .pytorchInvalid(reason: "\(order.name) says `\(text.prefix(40))`, not `little` or `big`")
            }
        } else {
            bigEndian = false
        }
        let (source, range) = try ZipCheckpoint.read(pickle, of: archive, in: storage)
        result = try withExtendedLifetime(source) { () throws(WeightFileError) -> PickleResult in
            try PickleMachine.run(UnsafeRawBufferPointer(rebasing: source.bytes[range]), entry: pickle.name)
        }
        self.storages = storages
    }

    /// The entry's bytes, CRC-checked unless the recorded CRC-32 is 0 (torch's `compute_crc32=False`).
    static func read(_ entry: ZipArchive.Entry, of archive: ZipArchive, in storage: ByteStorage) throws(WeightFileError) -> (ByteStorage, Range<Int>) {
        if entry.method == 0 {
            try checkCRC(entry, in: storage)
            return (storage, entry.dataRange)
        }
        if entry.crc32 == 0 {
            // Inflate without the CRC check by asking for the whole entry as a prefix.
            let bytes = try archive.prefix(of: entry, in: storage, count: entry.uncompressedSize)
            guard bytes.count == entry.uncompressedSize else {
                throw .zipInvalid(reason: "entry \(entry.name) inflates to \(bytes.count) bytes, \(entry.uncompressedSize) declared", offset: entry.dataOffset)
            }
            let owned = ByteStorage(copying: bytes)
            return (owned, 0..<owned.count)
        }
        let (owned, range) = try archive.contents(of: entry, in: storage)
        return (owned, range)
    }

    static func checkCRC(_ entry: ZipArchive.Entry, in storage: ByteStorage) throws(WeightFileError) {
        guard entry.crc32 != 0 else { return }
        let crc = Inflater.crc32(UnsafeRawBufferPointer(rebasing: storage.bytes[entry.dataRange]))
        guard crc == entry.crc32 else { throw .zipChecksum(entry: entry.name) }
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}

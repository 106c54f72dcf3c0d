/// The legacy `torch.save` format (before PyTorch 1.6, and `_use_new_zipfile_serialization=False`):
/// five pickles back to back — the magic number 0x1950a86a20f9469cfc6c, the protocol version 1001,
/// `sys_info` (`little_endian`, type sizes), the object (persistent ids
/// `('storage', StorageType, key, location, numel, view_metadata)`), the sorted list of storage
/// keys — then, for each key in that order, an 8-byte element count and the storage's raw bytes
/// (count × the element size of the storage's type), in the byte order `sys_info` states.
struct LegacyCheckpoint {
    let result: PickleResult
    let bigEndian: Bool
    let storages: [String: PyTorchCheckpoint.StorageLocation]

    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    static let entry = "legacy checkpoint"

    init(bytes: UnsafeRawBufferPointer) throws(WeightFileError) {
        let entry = LegacyCheckpoint.entry
        let first = try PickleMachine.run(bytes, entry: entry)
        var magic: [UInt8] = []
        if case .bigInt(let raw) = first.root { magic = raw }
        while magic.count > LegacyCheckpoint.magic.count, magic.last == 0 { magic.removeLast() }
        guard magic == LegacyCheckpoint.magic else {
            throw .pytorchInvalid(reason: "a pickle that does not start with torch.save's magic number: not a PyTorch checkpoint")
        }
        let version = try PickleMachine.run(bytes, entry: entry, from: first.end)
        guard version.root == .int(1001) else {
            throw .pytorchInvalid(reason: "legacy checkpoint protocol version is not 1001")
        }
        let info = try PickleMachine.run(bytes, entry: entry, from: version.end)
        var little = true
        if case .object(let d) = info.root, info.objects[d].isDict,
            let k = info.objects[d].items.firstIndex(of: .string("little_endian"))
        {
            guard case .bool(let flag) = info.objects[d].values[k] else {
                throw .pytorchInvalid(reason: "legacy sys_info's little_endian is not a bool")
            }
            little = flag
        } else {
            throw .pytorchInvalid(reason: "legacy sys_info is not a dict with `little_endian`")
        }
        result = try PickleMachine.run(bytes, entry: entry, from: info.end)
        let keysPickle = try PickleMachine.run(bytes, entry: entry, from: result.end)
        guard case .object(let l) = keysPickle.root, keysPickle.objects[l].kind == .list else {
            throw .pytorchInvalid(reason: "the legacy storage-key list is missing")
        }
        // Each key's element size, from the persistent ids that name it.
        var elementSize: [String: Int] = [:]
        for object in result.objects {
            if let s = object.storage, elementSize[s.key] == nil { elementSize[s.key] = s.type.elementSize }
        }
        var storages: [String: PyTorchCheckpoint.StorageLocation] = [:]
        var position = keysPickle.end
        for key in keysPickle.objects[l].items {
            guard case .string(let name) = key else { throw .pytorchInvalid(reason: "a legacy storage key is not a string") }
            guard let size = elementSize[name] else {
                throw .pytorchInvalid(reason: "legacy storage `\(name)` is listed but no tensor refers to it (its element size is unknown)")
            }
            guard bytes.count - position >= 8 else {
                throw .pytorchInvalid(reason: "legacy storage `\(name)`: the file ends before its element count at byte \(position)")
            }
            let raw = bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            let count = little ? UInt64(littleEndian: raw) : UInt64(bigEndian: raw)
            position += 8
            let (length, overflow) = count.multipliedReportingOverflow(by: UInt64(size))
            guard !overflow, length <= UInt64(bytes.count - position) else {
                throw .pytorchInvalid(reason: "legacy storage `\(name)`: \(count) elements of \(size) bytes run past the end of the file")
            }
            guard storages[name] == nil else { throw .pytorchInvalid(reason: "legacy storage `\(name)` is listed twice") }
            storages[name] = .range(position..<(position + Int(length)))
            position += Int(length)
        }
        bigEndian = !little
        self.storages = storages
    }
}

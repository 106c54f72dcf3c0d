import Synchronization

/// A PyTorch checkpoint written by `torch.save`, read without executing its pickle: the zip
/// format (PyTorch ≥ 1.6) and the legacy format (`_use_new_zipfile_serialization=False`).
///
/// Opening interprets the pickle with `PickleMachine` (an allowlist of tensor-rebuilding globals;
/// nothing is called), names every tensor and non-tensor leaf by its path (see `CheckpointTree`),
/// and checks every tensor's size, stride and offset against its storage. No tensor data is read
/// at open. `tensor(named:)` then returns little-endian row-major bytes: a view into the memory
/// map for a contiguous little-endian tensor in a stored entry, otherwise a gathered copy
/// (strided views, big-endian files, deflated entries).
///
/// Zip entries are CRC-checked once per storage on first read, unless the recorded CRC-32 is 0:
/// torch writes 0 when `set_crc32_options(False)` is in effect, and `torch.load` never checks it.
public struct PyTorchCheckpoint: WeightFile {
    /// `.pytorchZip` or `.pickle` (legacy format).
    public let format: WeightFileFormat
    /// Non-tensor leaves by path (`epoch` → `3`); `nil` when there are none.
    public let metadata: Metadata?
    public let tensors: [TensorInfo]
    /// The whole file's bytes.
    public let storage: ByteStorage
    /// True when the data is big-endian (`byteorder` is `big`, or the legacy sys_info says so).
    public let isBigEndian: Bool

    private let layouts: [StridedLayout]
    private let storageKeys: [String]
    private let storages: [String: StorageLocation]
    private let index: [String: Int]
    private let verified: VerifiedEntries
    private let archive: ZipArchive?

    /// Where a storage's bytes are in the file.
    enum StorageLocation: Sendable {
        /// A zip entry (zip format).
        case entry(ZipArchive.Entry)
        /// A byte range of the file (legacy format).
        case range(Range<Int>)
    }

    /// The names of stored entries whose CRC-32 has been checked, shared by copies of the reader.
    final class VerifiedEntries: Sendable {
        let names = Mutex<Set<String>>([])
    }

    /// Maps the checkpoint at `path` and reads its structure.
    /// - Parameter limit: the largest uncompressed size a zip entry may declare.
    /// - Complexity: O(p + t) for a p-byte pickle and t tensors; no tensor data is read.
    public init(path: String, limit: Int = Inflater.defaultLimit) throws(WeightFileError) {
        try self.init(storage: ByteStorage.map(path: path), limit: limit)
    }

    /// Reads a checkpoint held in `storage`: a zip (`PK\3\4`) or a legacy pickle stream.
    /// Arbitrary bytes give a value or a typed error; nothing is allocated beyond a small multiple
    /// of the pickle's length.
    public init(storage: ByteStorage, limit: Int = Inflater.defaultLimit) throws(WeightFileError) {
        let bytes = storage.bytes
        if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B, bytes[2] == 3 || bytes[2] == 5 {
            let zip = try ZipCheckpoint(storage: storage, limit: limit)
            try self.init(
                storage: storage, format: .pytorchZip, result: zip.result, entry: zip.pickleName,
                storages: zip.storages, bigEndian: zip.bigEndian, archive: zip.archive)
        } else if bytes.count >= 2, bytes[0] == 0x80 {
            let legacy = try LegacyCheckpoint(bytes: bytes)
            try self.init(
                storage: storage, format: .pickle, result: legacy.result, entry: "legacy checkpoint",
                storages: legacy.storages, bigEndian: legacy.bigEndian, archive: nil)
        } else {
            throw .pytorchInvalid(reason: "neither a zip archive nor a pickle stream (legacy torch.save format)")
        }
    }

    private init(
        storage: ByteStorage, format: WeightFileFormat, result: PickleResult, entry: String,
        storages: [String: StorageLocation], bigEndian: Bool, archive: ZipArchive?
    ) throws(WeightFileError) {
        let tree = try CheckpointTree(result, entry: entry)
        var tensors: [TensorInfo] = []
        var layouts: [StridedLayout] = []
        var keys: [String] = []
        var index: [String: Int] = [:]
        for (name, object) in tree.tensors {
            let tensor: TorchTensorReference
            if let t = result.objects[object].tensor {
                tensor = t
            } else {
                // A bare storage: one dimension over all of it.
                let s = result.objects[object].storage!
                tensor = TorchTensorReference(storage: s, type: s.type, storageOffset: 0, shape: [s.elementCount], strides: [1])
            }
            guard let dtype = tensor.type.dtype else {
                throw .pytorchInvalid(
                    reason: "tensor `\(name)` has dtype torch.\(tensor.type.name) (storage \(tensor.storage.type.displayName)), which has no safetensors dtype")
            }
            let reference = tensor.storage
            guard let location = storages[reference.key] else {
                throw .pytorchInvalid(reason: "tensor `\(name)`: storage `\(reference.key)` has no record in the file")
            }
            let (declared, overflow) = reference.elementCount.multipliedReportingOverflow(by: reference.type.elementSize)
            guard !overflow else { throw .pytorchInvalid(reason: "tensor `\(name)`: storage `\(reference.key)`'s size overflows") }
            var available = declared
            var base = 0
            if let view = reference.view {
                // Legacy views: a window of the root storage, in the root's elements.
                let (start, o1) = view.offset.multipliedReportingOverflow(by: reference.type.elementSize)
                let (length, o2) = view.count.multipliedReportingOverflow(by: reference.type.elementSize)
                guard !o1, !o2, view.offset >= 0, view.count >= 0, start <= declared, length <= declared - start else {
                    throw .pytorchInvalid(reason: "tensor `\(name)`: storage view `\(view.key)` lies outside storage `\(reference.key)`")
                }
                base = start
                available = start + length
            }
            let recordBytes =
                switch location {
                case .entry(let e): e.uncompressedSize
                case .range(let r): r.count
                }
            guard recordBytes == declared else {
                throw .pytorchInvalid(
                    reason: "tensor `\(name)`: storage `\(reference.key)` declares \(reference.elementCount) × \(reference.type.elementSize) bytes but its record holds \(recordBytes)")
            }
            let layout = try StridedLayout(tensor, name: name, storageBytes: available, base: base)
            var fileOffset: Int?
            if layout.isContiguous, !bigEndian || layout.elementSize == 1 {
                switch location {
                case .entry(let e) where e.method == 0: fileOffset = e.dataOffset + layout.byteOffset
                case .range(let r): fileOffset = r.lowerBound + layout.byteOffset
                default: break
                }
            }
            index[name] = tensors.count
            tensors.append(TensorInfo(name: name, dtype: dtype, shape: tensor.shape, fileOffset: fileOffset))
            layouts.append(layout)
            keys.append(reference.key)
        }
        self.storage = storage
        self.format = format
        self.metadata = tree.metadata.isEmpty ? nil : tree.metadata
        self.tensors = tensors
        self.layouts = layouts
        self.storageKeys = keys
        self.storages = storages
        self.index = index
        self.isBigEndian = bigEndian
        self.verified = VerifiedEntries()
        self.archive = archive
    }

    public func info(named name: String) -> TensorInfo? { index[name].map { tensors[$0] } }

    public func tensor(named name: String) throws(WeightFileError) -> TensorView {
        guard let i = index[name] else { throw .tensorNotFound(name: name) }
        return try tensor(at: i)
    }

    /// The tensor's little-endian row-major bytes.
    /// - Complexity: O(1) for a view into the map (plus a one-time CRC-32 of its storage entry),
    ///   O(n) for a gathered copy.
    public func tensor(at i: Int) throws(WeightFileError) -> TensorView {
        let info = tensors[i]
        let layout = layouts[i]
        let (source, range) = try storageBytes(storageKeys[i])
        let needsSwap = isBigEndian && layout.elementSize > 1
        if layout.isContiguous && !needsSwap {
            let start = range.lowerBound + layout.byteOffset
            return TensorView(info: info, storage: source, byteRange: start..<(start + info.byteCount))
        }
        let count = info.byteCount
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 64)
        layout.gather(from: UnsafeRawBufferPointer(rebasing: source.bytes[range]), into: output)
        if needsSwap {
            NPYFile.swapBytes(output, count: count, width: info.dtype == .c64 ? 4 : layout.elementSize)
        }
        return TensorView(info: info, storage: ByteStorage(adopting: output, count: count), byteRange: 0..<count)
    }

    /// The bytes of storage `key`: a range of the map, CRC-checked once (stored entries and legacy
    /// ranges), or a freshly inflated entry.
    private func storageBytes(_ key: String) throws(WeightFileError) -> (ByteStorage, Range<Int>) {
        switch storages[key]! {
        case .range(let range):
            return (storage, range)
        case .entry(let entry):
            if entry.method == 0 {
                let checked = verified.names.withLock { $0.contains(entry.name) }
                if !checked {
                    try ZipCheckpoint.checkCRC(entry, in: storage)
                    verified.names.withLock { _ = $0.insert(entry.name) }
                }
                return (storage, entry.dataRange)
            }
            return try ZipCheckpoint.read(entry, of: archive!, in: storage)
        }
    }
}

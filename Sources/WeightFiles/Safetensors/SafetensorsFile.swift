/// A safetensors file, memory-mapped: opening it reads and validates only the
/// header; each tensor is a view into the map.
public struct SafetensorsFile: WeightFile {
    public let format: WeightFileFormat
    /// The validated header.
    public let header: SafetensorsHeader
    /// The whole file's bytes.
    public let storage: ByteStorage

    public var metadata: Metadata? { header.metadata }
    public var tensors: [TensorInfo] { header.tensors }

    /// Maps and validates the file at `path`.
    /// - Complexity: O(header), independent of the data size.
    public init(path: String) throws(WeightFileError) {
        try self.init(storage: ByteStorage.map(path: path), format: .safetensors)
    }

    /// Validates safetensors bytes held in `storage` (e.g. decompressed from a wrapper).
    public init(storage: ByteStorage, format: WeightFileFormat = .safetensors) throws(WeightFileError) {
        self.storage = storage
        self.format = format
        self.header = try SafetensorsHeader.parse(file: storage.bytes)
    }

    public func tensor(named name: String) throws(WeightFileError) -> TensorView {
        guard let i = header.positions[name] else { throw .tensorNotFound(name: name) }
        return try tensor(at: i)
    }

    public func tensor(at i: Int) throws(WeightFileError) -> TensorView {
        let range = header.dataOffsets[i]
        let start = header.dataStart + range.lowerBound
        return TensorView(info: header.tensors[i], storage: storage, byteRange: start..<(start + range.count))
    }

    public func info(named name: String) -> TensorInfo? { header.positions[name].map { header.tensors[$0] } }
}

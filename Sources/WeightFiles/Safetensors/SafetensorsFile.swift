/// A safetensors file, memory-mapped: opening it reads and validates only the
/// header; each tensor is a view into the map.
public struct SafetensorsFile: WeightFile {
    public let format: WeightFileFormat
    /// The validated header.
    public let header: SafetensorsHeader
    /// The whole file's bytes.
    public let storage: ByteStorage
    private let index: [String: Int]

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
        var index: [String: Int] = [:]
        index.reserveCapacity(header.tensors.count)
        for (i, tensor) in header.tensors.enumerated() { index[tensor.name] = i }
        self.index = index
    }

    public func tensor(named name: String) throws(WeightFileError) -> TensorView {
        guard let i = index[name] else { throw .tensorNotFound(name: name) }
        let range = header.dataOffsets[i]
        let start = header.dataStart + range.lowerBound
        return TensorView(info: header.tensors[i], storage: storage, byteRange: start..<(start + range.count))
    }

    public func info(named name: String) -> TensorInfo? { index[name].map { header.tensors[$0] } }
}

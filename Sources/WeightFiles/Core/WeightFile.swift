/// The formats Retort recognises.
public enum WeightFileFormat: String, Sendable, CaseIterable {
    case safetensors
    case shardedSafetensors = "sharded-safetensors"
    case gzipSafetensors = "safetensors+gzip"
    case zlibSafetensors = "safetensors+zlib"
    case npy
    case npz
    /// `torch.save`'s zip format (PyTorch 1.6 and later).
    case pytorchZip = "pytorch-zip"
    /// `torch.save`'s legacy format: pickles and raw storages, no zip.
    case pickle
    /// Several PyTorch checkpoints joined by a `pytorch_model.bin.index.json`.
    case shardedPyTorch = "sharded-pytorch"
    case gguf
    case stz
}

/// A weight file opened for reading: its tensors' descriptions are read up front,
/// their data lazily, one tensor at a time.
public protocol WeightFile: Sendable {
    /// The format the file was read as.
    var format: WeightFileFormat { get }
    /// String metadata (safetensors `__metadata__`); `nil` when the file has none.
    var metadata: Metadata? { get }
    /// Every tensor, in the order the file stores them.
    var tensors: [TensorInfo] { get }
    /// The data of the tensor named `name`.
    ///
    /// Memory-mapped formats return a view into the map; others decode into owned memory.
    func tensor(named name: String) throws(WeightFileError) -> TensorView
    /// The description of the tensor named `name`, if there is one.
    func info(named name: String) -> TensorInfo?
    /// The data of `tensors[position]`.
    func tensor(at position: Int) throws(WeightFileError) -> TensorView
}

extension WeightFile {
    /// The data of `tensors[position]`, looked up by name; readers that can index directly override it.
    public func tensor(at position: Int) throws(WeightFileError) -> TensorView {
        try tensor(named: tensors[position].name)
    }

    /// The description of the tensor named `name`, if there is one.
    /// - Complexity: O(n); readers with an index override it.
    public func info(named name: String) -> TensorInfo? { tensors.first { $0.name == name } }

    /// The total number of data bytes across tensors.
    public var totalByteCount: Int { tensors.reduce(0) { $0 + $1.byteCount } }

    /// The total number of elements across tensors.
    public var totalElementCount: Int { tensors.reduce(0) { $0 + $1.elementCount } }
}

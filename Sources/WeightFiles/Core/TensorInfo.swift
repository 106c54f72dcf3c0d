/// What a weight file says about one tensor, without its data.
public struct TensorInfo: Sendable, Hashable {
    /// The tensor's name, e.g. `blocks.0.attn.W_Q`.
    public var name: String
    /// The element type.
    public var dtype: DType
    /// The dimensions, outermost first; `[]` is a scalar.
    public var shape: [Int]
    /// Where the data starts, counted from the start of the file that holds it
    /// (`nil` when the data is not stored contiguously in the file, e.g. deflated).
    public var fileOffset: Int?
    /// The file that holds the data, for sharded checkpoints (`nil`: the opened file).
    public var file: String?
    /// How the file stores the data when that is not `dtype` itself: a block-quantized GGUF type
    /// such as `Q4_1`, which reading decodes to `dtype` values (`nil`: stored as `dtype`).
    public var storedAs: StoredEncoding?

    public init(
        name: String, dtype: DType, shape: [Int], fileOffset: Int? = nil, file: String? = nil,
        storedAs: StoredEncoding? = nil
    ) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.fileOffset = fileOffset
        self.file = file
        self.storedAs = storedAs
    }

    /// The number of elements: the product of the shape (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }

    /// The number of bytes of data, packed sub-byte types included.
    public var byteCount: Int { elementCount * dtype.bitWidth / 8 }
}

/// A stored form of a tensor that is not one of the `DType`s: its name and how many bytes it takes in the file.
public struct StoredEncoding: Sendable, Hashable {
    /// The format's own name for it, e.g. `Q4_K`.
    public var name: String
    /// The bytes the tensor occupies in the file.
    public var byteCount: Int

    public init(name: String, byteCount: Int) {
        self.name = name
        self.byteCount = byteCount
    }
}

/// The `__metadata__` of a weight file: string keys and values, in file order.
public struct Metadata: Sendable, Hashable, Sequence {
    /// The keys in the order the file lists them.
    public private(set) var keys: [String] = []
    private var values: [String: String] = [:]

    public init() {}

    /// Metadata with `pairs` in the given order; a repeated key keeps its last value and first position.
    public init(_ pairs: [(String, String)]) {
        for (key, value) in pairs { self[key] = value }
    }

    /// The value for `key`; setting a new key appends it.
    public subscript(key: String) -> String? {
        get { values[key] }
        set {
            if let newValue {
                if values.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if values.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    public func makeIterator() -> some IteratorProtocol<(key: String, value: String)> {
        keys.lazy.map { (key: $0, value: values[$0]!) }.makeIterator()
    }
}

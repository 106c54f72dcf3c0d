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

    public init(name: String, dtype: DType, shape: [Int], fileOffset: Int? = nil, file: String? = nil) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.fileOffset = fileOffset
        self.file = file
    }

    /// The number of elements: the product of the shape (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }

    /// The number of bytes of data, packed sub-byte types included.
    public var byteCount: Int { elementCount * dtype.bitWidth / 8 }
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

/// A value on the pickle machine's stack: an immediate, or a reference to an object in the
/// machine's arena (containers are mutable and shared by reference, as in Python).
public enum PickleValue: Sendable, Hashable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer beyond 64 bits (LONG1/LONG4): its little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// An allowlisted global, not applied.
    case global(PickleGlobal)
    /// `PickleResult.objects[i]`.
    case object(Int)
}

/// An object the pickle built: a container, a storage reference, a tensor, or a symbolic instance
/// of an allowlisted class (`torch.Size`, `torch.device`, …).
public struct PickleObject: Sendable {
    public enum Kind: Sendable, Hashable {
        case list, tuple, dict, orderedDict, set, frozenSet
        case storage, tensor
        /// The result of applying an allowlisted class or function that carries no tensor
        /// (`torch.Size((2, 3))`, `torch.device('cpu')`, `complex(1, 2)`, a layout): kept for rendering.
        case instance(PickleGlobal)
    }

    public internal(set) var kind: Kind
    /// Items of a list, tuple, set or instance (its arguments); the keys of a dict.
    public internal(set) var items: [PickleValue] = []
    /// The values of a dict, parallel to `items`.
    public internal(set) var values: [PickleValue] = []
    /// Attributes set by BUILD on an ordered dict (`_metadata` of a module's state dict): a dict object.
    public internal(set) var attributes: Int?
    /// The storage or tensor this object stands for.
    public internal(set) var storage: TorchStorageReference?
    public internal(set) var tensor: TorchTensorReference?
    /// Nesting depth (1 + the deepest item) when the object was last changed.
    var depth = 1
    /// Positions of dict keys / set items, for Python's replace-on-repeat semantics.
    var index: [PickleKey: Int] = [:]

    init(kind: Kind) { self.kind = kind }

    var isDict: Bool { kind == .dict || kind == .orderedDict }
}

/// The bytes a storage's data lives in, as a persistent id names it:
/// `('storage', StorageType, key, location, numel)`.
public struct TorchStorageReference: Sendable, Hashable {
    /// The record name under `data/` (zip format) or the storage key (legacy format).
    public var key: String
    /// The storage's element type (`UntypedStorage`: bytes).
    public var type: TorchDType
    /// `cpu`, `cuda:0`, …: where torch would put it; Retort reads every storage from the file.
    public var location: String
    /// The number of elements (bytes for an untyped storage).
    public var elementCount: Int
    /// Legacy format views: `(view key, element offset, element count)` into the root storage `key`.
    public var view: (key: String, offset: Int, count: Int)?

    public static func == (a: Self, b: Self) -> Bool {
        a.key == b.key && a.type == b.type && a.location == b.location && a.elementCount == b.elementCount
            && a.view?.key == b.view?.key && a.view?.offset == b.view?.offset && a.view?.count == b.view?.count
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        hasher.combine(elementCount)
    }
}

/// A tensor as a rebuild function describes it: a strided view of a storage.
public struct TorchTensorReference: Sendable, Hashable {
    public var storage: TorchStorageReference
    /// The tensor's element type (`_rebuild_tensor_v3` gives it separately from an untyped storage).
    public var type: TorchDType
    /// The first element, counted in elements of `type` from the storage's start.
    public var storageOffset: Int
    public var shape: [Int]
    /// Element strides, one per dimension.
    public var strides: [Int]
}

/// A hashable form of a dict key or set item: by value for immutable values (as Python hashes
/// them), by identity for arena objects Python hashes by identity.
indirect enum PickleKey: Hashable {
    case none, bool(Bool), int(Int), bigInt([UInt8]), float(Double), string(String), bytes([UInt8])
    case global(String)
    case tuple([PickleKey])
    case identity(Int)
}

/// One tensor's data: little-endian, row-major bytes in a storage it keeps alive.
///
/// The bytes may sit at any alignment (safetensors data can start at odd offsets);
/// read them with `loadUnaligned` or through the conversion functions.
public struct TensorView: Sendable {
    /// The tensor's name, dtype and shape.
    public let info: TensorInfo
    /// The storage that owns the bytes.
    public let storage: ByteStorage
    /// The range of `storage` holding this tensor.
    public let byteRange: Range<Int>

    /// Creates a view; `byteRange` must lie inside `storage` and match `info.byteCount`.
    public init(info: TensorInfo, storage: ByteStorage, byteRange: Range<Int>) {
        precondition(byteRange.lowerBound >= 0 && byteRange.upperBound <= storage.count)
        precondition(byteRange.count == info.byteCount)
        self.info = info
        self.storage = storage
        self.byteRange = byteRange
    }

    /// A view over a copy of `bytes`.
    public init(info: TensorInfo, copying bytes: some Collection<UInt8>) {
        let storage = ByteStorage(copying: bytes)
        self.init(info: info, storage: storage, byteRange: 0..<storage.count)
    }

    /// The tensor's bytes, valid only while this view (or its storage) is alive: Swift
    /// may end a value's lifetime at its last use, so keep the view alive across every
    /// use of the pointer (`withUnsafeBytes`, `copyBytes()` or `withExtendedLifetime`).
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage.bytes[byteRange])
    }

    /// Calls `body` with the tensor's bytes, keeping the storage alive meanwhile.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        defer { withExtendedLifetime(storage) {} }
        return try body(bytes)
    }

    /// A copy of the tensor's bytes.
    /// - Complexity: O(n)
    public func copyBytes() -> [UInt8] { withUnsafeBytes { Array($0) } }

    public var name: String { info.name }
    public var dtype: DType { info.dtype }
    public var shape: [Int] { info.shape }
}

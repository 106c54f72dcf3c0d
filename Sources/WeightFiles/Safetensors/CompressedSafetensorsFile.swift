/// A gzip- or zlib-wrapped safetensors file, read as a stream: opening it inflates only the
/// 8-byte length and the header, so listing its tensors costs the header, whatever the data's size.
///
/// Data comes in file order. `forEachPiece` reads the whole data area in pieces of at most
/// `pieceSize` bytes (what `Verifier` and `Converter` use: bounded memory, one pass); `tensor(at:)`
/// inflates forward to the tensor asked for and returns its bytes (memory: that tensor), and the
/// first request for a tensor behind the stream's position inflates the whole file once and keeps
/// it, so random access (loading a network) does not inflate from the start again and again.
/// Every pass checks that the data ends where the header says, the wrapper's checksum, and that
/// nothing follows.
public final class CompressedSafetensorsFile: WeightFile, @unchecked Sendable {
    public let format: WeightFileFormat
    /// The validated header; its `fileSize` is the size the decompressed file must have.
    public let header: SafetensorsHeader
    /// The header's bytes (without the 8-byte length), as in the decompressed file.
    public let headerBytes: [UInt8]
    /// The compressed bytes.
    public let storage: ByteStorage
    /// The wrapper (gzip or zlib).
    public let wrapper: Inflater.Wrapper
    /// The most bytes the stream may inflate to.
    public let limit: Int
    /// The name used in errors.
    public let path: String

    /// The bytes `forEachPiece` hands over at a time.
    public static let pieceSize = 4 << 20

    private let lock = Lock()
    /// The stream `tensor(at:)` reads forward from, and the data offset it has reached.
    private var cursor: (stream: InflateStream, position: Int)?
    /// The whole decompressed file, once random access asked for it.
    private var whole: SafetensorsFile?

    /// Whether random access has inflated the whole file into memory (for the package's tests).
    package var hasInflatedWhole: Bool {
        lock.lock()
        defer { lock.unlock() }
        return whole != nil
    }

    public var metadata: Metadata? { header.metadata }
    public var tensors: [TensorInfo] { header.tensors.map { var t = $0; t.fileOffset = nil; return t } }

    /// Maps `path` and reads its header.
    /// - Complexity: O(header).
    public convenience init(path: String, wrapper: Inflater.Wrapper, limit: Int = Inflater.defaultLimit)
        throws(WeightFileError)
    {
        try self.init(storage: ByteStorage.map(path: path), wrapper: wrapper, limit: limit, path: path)
    }

    /// Reads the header of the compressed file in `storage`.
    /// - Complexity: O(header).
    public init(storage: ByteStorage, wrapper: Inflater.Wrapper, limit: Int = Inflater.defaultLimit, path: String = "input")
        throws(WeightFileError)
    {
        self.storage = storage
        self.wrapper = wrapper
        self.limit = limit
        self.path = path
        self.format = wrapper == .gzip ? .gzipSafetensors : .zlibSafetensors
        let stream = try InflateStream(storage.bytes, wrapper: wrapper, limit: limit, entry: path)
        let (bytes, header) = try CompressedSafetensorsFile.readHeader(stream)
        guard header.fileSize <= limit else { throw .decompressedSizeExceeded(entry: path, limit: limit) }
        self.headerBytes = bytes
        self.header = header
        cursor = (stream, 0)
    }

    /// The header from the start of `stream`, which is left at the start of the data.
    private static func readHeader(_ stream: InflateStream) throws(WeightFileError) -> ([UInt8], SafetensorsHeader) {
        let length = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)
        defer { length.deallocate() }
        try stream.readExactly(into: length) { .headerTooSmall(fileSize: $0) }
        let declared = UInt64(littleEndian: length.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(SafetensorsHeader.maxHeaderLength) else {
            throw .headerTooLarge(declared: declared, limit: SafetensorsHeader.maxHeaderLength)
        }
        let n = Int(declared)
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(n, 1), alignment: 8)
        defer { raw.deallocate() }
        let headerRegion = UnsafeMutableRawBufferPointer(rebasing: raw[0..<n])
        try stream.readExactly(into: headerRegion) { .invalidHeaderLength(declared: declared, fileSize: $0) }
        let header = try SafetensorsHeader.parse(headerBytes: UnsafeRawBufferPointer(headerRegion), fileSize: nil)
        return (Array(headerRegion), header)
    }

    /// A new stream positioned at the start of the data (its header checked to be the same).
    private func freshStream() throws(WeightFileError) -> InflateStream {
        let stream = try InflateStream(storage.bytes, wrapper: wrapper, limit: limit, entry: path)
        _ = try CompressedSafetensorsFile.readHeader(stream)
        return stream
    }

    /// Reads the data area once, in file order, handing `body` each tensor's bytes in pieces of at
    /// most `pieceSize` bytes (each piece a whole number of elements): (tensor position, byte offset
    /// of the piece inside the tensor, the piece). Then checks that the stream ends exactly where
    /// the header says (`metadataIncompleteBuffer`) and its checksum.
    /// - Complexity: O(decompressed size) time, O(`pieceSize`) memory.
    public func forEachPiece(
        _ body: (Int, Int, UnsafeRawBufferPointer) throws(WeightFileError) -> Void
    ) throws(WeightFileError) {
        let stream = try freshStream()
        // A multiple of 24 bytes: whole elements of every dtype, the 6-bit ones (3 bytes per 4) included.
        let piece = CompressedSafetensorsFile.pieceSize / 24 * 24
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: piece, alignment: 64)
        defer { buffer.deallocate() }
        for position in header.tensors.indices {
            let size = header.dataOffsets[position].count
            var offset = 0
            while offset < size {
                let n = min(piece, size - offset)
                let target = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
                try readData(stream, into: target)
                try body(position, offset, UnsafeRawBufferPointer(target))
                offset += n
            }
        }
        try finish(stream)
    }

    /// Reads data bytes; a stream that ends first says how long the file was.
    private func readData(_ stream: InflateStream, into target: UnsafeMutableRawBufferPointer) throws(WeightFileError) {
        let expected = header.fileSize
        try stream.readExactly(into: target) { .metadataIncompleteBuffer(expectedFileSize: expected, fileSize: $0) }
    }

    /// Checks that `stream` (at the end of the data) has nothing more and a good checksum.
    private func finish(_ stream: InflateStream) throws(WeightFileError) {
        let extra = try stream.drain()
        if extra > 0 {
            throw .metadataIncompleteBuffer(expectedFileSize: header.fileSize, fileSize: header.fileSize + extra)
        }
    }

    public func info(named name: String) -> TensorInfo? { header.positions[name].map { tensors[$0] } }

    public func tensor(named name: String) throws(WeightFileError) -> TensorView {
        guard let position = header.positions[name] else { throw .tensorNotFound(name: name) }
        return try tensor(at: position)
    }

    /// The bytes of `tensors[position]`: inflated forward from the stream's position when the
    /// tensor lies ahead of it, else from the whole file (inflated once and kept).
    public func tensor(at position: Int) throws(WeightFileError) -> TensorView {
        lock.lock()
        defer { lock.unlock() }
        if let whole { return try wholeView(whole, position) }
        let range = header.dataOffsets[position]
        if let (stream, at) = cursor, at <= range.lowerBound {
            // Skip to the tensor, then read it into its own buffer.
            let skip = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 64)
            defer { skip.deallocate() }
            var gap = range.lowerBound - at
            while gap > 0 {
                let n = min(gap, skip.count)
                try readData(stream, into: UnsafeMutableRawBufferPointer(rebasing: skip[0..<n]))
                gap -= n
            }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(range.count, 1), alignment: 64)
            do throws(WeightFileError) {
                try readData(stream, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<range.count]))
                if range.upperBound == header.dataLength {
                    try finish(stream)
                    cursor = nil
                } else {
                    cursor = (stream, range.upperBound)
                }
            } catch {
                buffer.deallocate()
                cursor = nil
                throw error
            }
            return TensorView(
                info: tensors[position], storage: ByteStorage(adopting: buffer, count: range.count), byteRange: 0..<range.count)
        }
        let hint = wrapper == .gzip && storage.count >= 18
            ? Int(storage.bytes.loadUnaligned(fromByteOffset: storage.count - 4, as: UInt32.self).littleEndian) : 0
        let inflated = try Inflater.inflate(storage.bytes, wrapper: wrapper, sizeHint: hint, limit: limit, entry: path)
        let file = try SafetensorsFile(storage: inflated, format: format)
        whole = file
        cursor = nil
        return try wholeView(file, position)
    }

    private func wholeView(_ file: SafetensorsFile, _ position: Int) throws(WeightFileError) -> TensorView {
        let view = try file.tensor(at: position)
        return TensorView(info: tensors[position], storage: view.storage, byteRange: view.byteRange)
    }
}

#if canImport(Glibc)
    import Glibc
#endif

/// A mutex (pthread) for state shared by the threads that read one file.
final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}

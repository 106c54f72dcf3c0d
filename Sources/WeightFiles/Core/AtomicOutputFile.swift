import CRetortKernels

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An output file written under a temporary name in the destination's directory and
/// renamed into place only when complete, so a failure never leaves a half-written
/// file and never touches an existing file at the destination.
public final class AtomicOutputFile {
    /// The final path.
    public let path: String
    private let temporaryPath: String
    private var fd: Int32
    private var committed = false
    private var buffer: [UInt8] = []
    private static let bufferLimit = 1 << 20
    /// Bytes written to the file so far, and how many of them have been handed to writeback.
    private var written = 0
    private var scheduled = 0
    /// Writeback is started every this many bytes, so that the final fsync finds most of a large
    /// file already on its way to the disk instead of writing all of it at the end.
    private static let writebackStep = 32 << 20

    /// Creates the temporary file (`mkstemp` next to `path`).
    ///
    /// Refuses when `path` names one of `inputs` (the same file by device and inode,
    /// so links and relative paths are caught too), or exists and `overwrite` is false.
    public init(path: String, inputs: [String] = [], overwrite: Bool = true) throws(WeightFileError) {
        self.path = path
        var target = stat()
        if stat(path, &target) == 0 {
            for input in inputs {
                var source = stat()
                if stat(input, &source) == 0 && source.st_dev == target.st_dev && source.st_ino == target.st_ino {
                    throw .outputIsInput(path: path)
                }
            }
            if !overwrite { throw .outputExists(path: path) }
            if (target.st_mode & S_IFMT) == S_IFDIR { throw .io(path: path, operation: "create", message: "is a directory") }
        }
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(directory)/.\(name).retort-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 { throw .io(path: path, operation: "mkstemp in \(directory)", message: errnoMessage()) }
        self.fd = fd
        self.temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let mask = umask(0)
        umask(mask)
        fchmod(fd, 0o666 & ~mask)
    }

    deinit {
        if !committed { abandon() }
    }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(WeightFileError) {
        if buffer.count + bytes.count <= AtomicOutputFile.bufferLimit {
            buffer.append(contentsOf: bytes)
            return
        }
        try flush()
        if bytes.count >= AtomicOutputFile.bufferLimit {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) throws(WeightFileError) {
        try withBytes(bytes) { (raw) throws(WeightFileError) in try write(raw) }
    }

    private func flush() throws(WeightFileError) {
        guard !buffer.isEmpty else { return }
        try withBytes(buffer) { (raw) throws(WeightFileError) in try writeAll(raw) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(WeightFileError) {
        var offset = 0
        while offset < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: temporaryPath, operation: "write", message: errnoMessage())
            }
            offset += n
        }
        written += bytes.count
        if written - scheduled >= AtomicOutputFile.writebackStep {
            // Asynchronous: starts writing the dirty range and returns (Linux sync_file_range(2)).
            retort_start_writeback(fd, Int64(scheduled), Int64(written - scheduled))
            scheduled = written
        }
    }

    /// Flushes, closes and renames the temporary file to `path`.
    public func commit() throws(WeightFileError) {
        try flush()
        if fsync(fd) != 0 { throw .io(path: temporaryPath, operation: "fsync", message: errnoMessage()) }
        if close(fd) != 0 {
            fd = -1
            throw .io(path: temporaryPath, operation: "close", message: errnoMessage())
        }
        fd = -1
        if rename(temporaryPath, path) != 0 { throw .io(path: path, operation: "rename", message: errnoMessage()) }
        committed = true
    }

    /// Closes and deletes the temporary file; the destination is untouched.
    public func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporaryPath)
        committed = true
    }
}

private func posixWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, pointer, count) }

/// `Array.withUnsafeBytes` with a typed error (the standard library's is untyped).
func withBytes<R>(
    _ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(WeightFileError) -> R
) throws(WeightFileError) -> R {
    let result: Result<R, WeightFileError> = array.withUnsafeBytes { raw in
        Result { () throws(WeightFileError) in try body(raw) }
    }
    return try result.get()
}

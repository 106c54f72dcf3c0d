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
///
/// A process killed while writing (`kill -9`, a crash, a power cut) leaves nothing behind
/// for long: on Linux the data goes to an unnamed file (`open(2)` with `O_TMPFILE` in the
/// destination's directory), which the kernel frees when the process dies, and which gets a
/// name (`linkat(2)` through `/proc/self/fd`) only at `commit`, just before the rename. Where the
/// file system has no `O_TMPFILE` (or `/proc` is absent) the file is created by `mkstemp(3)` as
/// `.NAME.retort-PID-XXXXXX`; every later `AtomicOutputFile` for the same directory removes such
/// files whose process (PID) no longer runs, so a killed run's leftovers go with the next run.
public final class AtomicOutputFile {
    /// The final path.
    public let path: String
    /// The directory the temporary file lives in (the destination's).
    private let directory: String
    /// The temporary file's name while it has one (the `mkstemp` fallback, or after `linkat`).
    private var temporaryPath: String?
    /// Whether the temporary file is unnamed (`O_TMPFILE`) until `commit`.
    public let isUnnamed: Bool
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

    /// The marker in a temporary file's name: `.NAME.retort-PID-XXXXXX`.
    public static let temporaryMarker = ".retort-"

    /// For the package's tests: when set, new files take the `mkstemp` fallback (named
    /// `.NAME.retort-PID-XXXXXX` from the start), as on a file system without `O_TMPFILE`.
    nonisolated(unsafe) package static var avoidsUnnamedFiles = false

    /// Creates the temporary file (unnamed where the file system allows, see the type's summary).
    ///
    /// Refuses when `path` names one of `inputs` (the same file by device and inode,
    /// so links and relative paths are caught too), is something other than a regular file
    /// (a directory, FIFO, device or socket: never replaced, even with `overwrite`), or exists
    /// and `overwrite` is false. Errors name `path`, never the temporary file.
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
            if let kind = AtomicOutputFile.specialKind(target.st_mode) { throw .outputNotRegularFile(path: path, kind: kind) }
            if !overwrite { throw .outputExists(path: path) }
        }
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        self.directory = directory
        let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        AtomicOutputFile.removeStaleTemporaries(in: directory, name: name)
        let mask = umask(0)
        umask(mask)
        #if os(Linux)
            // O_TMPFILE is __O_TMPFILE | O_DIRECTORY; __O_TMPFILE is 0o20000000 on every Linux ABI Swift runs on.
            let unnamed =
                AtomicOutputFile.avoidsUnnamedFiles
                ? -1 : open(directory, Int32(0o20000000) | O_DIRECTORY | O_WRONLY | O_CLOEXEC, mode_t(0o666 & ~mask))
        #else
            let unnamed: Int32 = -1
        #endif
        if unnamed >= 0 && access("/proc/self/fd", X_OK) == 0 {
            fd = unnamed
            isUnnamed = true
            temporaryPath = nil
        } else {
            if unnamed >= 0 { close(unnamed) }
            var template = Array("\(directory)/.\(name)\(AtomicOutputFile.temporaryMarker)\(getpid())-XXXXXX".utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd < 0 {
                throw .io(path: path, operation: "create", message: "\(errnoMessage()) (a temporary file in \(directory))")
            }
            self.fd = fd
            isUnnamed = false
            temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            fchmod(fd, 0o666 & ~mask)
        }
    }

    /// The kind of a file that is not a regular file ("a directory", "a FIFO", …), nil for a regular file.
    static func specialKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }

    /// Removes `.NAME.retort-PID-XXXXXX` files in `directory` whose process no longer runs
    /// (what a killed run of the `mkstemp` fallback leaves). Files of running processes, and
    /// names of any other form, are left alone.
    static func removeStaleTemporaries(in directory: String, name: String) {
        for path in staleTemporaries(in: directory, name: name) { unlink(path) }
    }

    /// The `.NAME.retort-PID-XXXXXX` entries in `directory` whose process no longer runs (files of this
    /// type, folders of `OutputDirectory`).
    static func staleTemporaries(in directory: String, name: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var stale: [String] = []
        let prefix = Array(".\(name)\(temporaryMarker)".utf8)
        while let entry = readdir(dir) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            guard entryName.count >= prefix.count + 8, entryName.starts(with: prefix) else { continue }
            // PID-XXXXXX: digits, a dash, six characters.
            let rest = entryName[prefix.count...]
            guard let dash = rest.firstIndex(of: UInt8(ascii: "-")), entryName.endIndex - dash == 7,
                dash > rest.startIndex, rest[..<dash].allSatisfy({ (0x30...0x39).contains($0) }),
                let pid = Int32(String(decoding: rest[..<dash], as: UTF8.self)), pid > 0
            else { continue }
            if kill(pid, 0) == 0 || errno != ESRCH { continue }
            stale.append("\(directory)/\(String(decoding: entryName, as: UTF8.self))")
        }
        return stale
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

    /// Writes `bytes` at `offset` from the start of the file (`pwrite(2)`), after what was
    /// appended before; the bytes between the end of the file and `offset` read as zeros until
    /// written. The writer that places pieces this way must cover every byte it skips.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(WeightFileError) {
        try flush()
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", message: errnoMessage())
            }
            done += n
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
                throw .io(path: path, operation: "write", message: errnoMessage())
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

    /// Flushes, closes and renames the temporary file to `path` (an unnamed one is first linked
    /// under a `.NAME.retort-PID-XXXXXX` name beside it).
    public func commit() throws(WeightFileError) {
        try flush()
        if fsync(fd) != 0 { throw .io(path: path, operation: "write", message: errnoMessage()) }
        if isUnnamed {
            let name = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
            var linked: String?
            for attempt in 0..<100 {
                let suffix = String(UInt32.random(in: 0..<UInt32.max) % 1_000_000 + 1_000_000).dropFirst()
                let candidate = "\(directory)/.\(name)\(AtomicOutputFile.temporaryMarker)\(getpid())-\(suffix)"
                if linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, candidate, AT_SYMLINK_FOLLOW) == 0 {
                    linked = candidate
                    break
                }
                if errno != EEXIST || attempt == 99 {
                    throw .io(path: path, operation: "create", message: errnoMessage())
                }
            }
            temporaryPath = linked
        }
        if close(fd) != 0 {
            fd = -1
            throw .io(path: path, operation: "write", message: errnoMessage())
        }
        fd = -1
        if rename(temporaryPath!, path) != 0 { throw .io(path: path, operation: "rename", message: errnoMessage()) }
        committed = true
    }

    /// Closes and deletes the temporary file; the destination is untouched.
    public func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        if let temporaryPath { unlink(temporaryPath) }
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

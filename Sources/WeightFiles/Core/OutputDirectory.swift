#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An output folder written as a whole, as `AtomicOutputFile` writes a file: its files go into a fresh
/// temporary folder beside the destination, which takes the destination's place only at `commit`.
///
/// So a failed run leaves nothing (not even the parent folders it created), and a run that replaces an
/// earlier one never leaves that run's files mixed with its own: the earlier folder is renamed aside, the
/// new one renamed into place, and the old one deleted. An existing folder that is not empty is replaced
/// only with `overwrite`, and never when it holds a file `replaceable` does not accept (something the
/// user put there) or one of `inputs`. A killed run's temporary folder (`.NAME.retort-PID-XXXXXX`) is
/// removed by the next run for the same destination once process PID has ended.
public final class OutputDirectory {
    /// The destination.
    public let path: String
    /// The folder the files are written into until `commit`.
    public let temporaryPath: String
    private let parent: String
    private let name: String
    /// Folders above the destination that this run created, innermost first.
    private let createdParents: [String]
    private let overwrite: Bool
    private var finished = false

    /// Checks the destination and creates the temporary folder (and the destination's missing parents).
    ///
    /// - Parameters:
    ///   - inputs: files the run reads; a destination holding one is never replaced.
    ///   - overwrite: replace a destination folder that is not empty.
    ///   - replaceable: whether a file name is one the run's kind writes; a destination holding any other
    ///     name is not replaced, even with `overwrite`.
    /// - Throws: `outputDirectory` naming the destination and why it cannot be written (exists and is not
    ///   empty, is not a folder, holds a foreign file or an input, is `.` or `..`); `io` when a folder cannot
    ///   be created.
    public init(
        path given: String, inputs: [String] = [], overwrite: Bool, replaceable: (String) -> Bool
    ) throws(WeightFileError) {
        var path = given
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.path = path
        self.overwrite = overwrite
        let slash = path.lastIndex(of: "/")
        name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        parent = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        guard !name.isEmpty, name != ".", name != ".." else {
            throw .outputDirectory(path: given, reason: "cannot be replaced as a whole; name a folder inside it")
        }
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                let kind = (info.st_mode & S_IFMT) == S_IFLNK ? "a symbolic link" : AtomicOutputFile.specialKind(info.st_mode) ?? "a file"
                throw .outputDirectory(path: path, reason: "is \(kind), not a folder")
            }
            let entries = try Self.entries(of: path)
            if !entries.isEmpty {
                guard overwrite else {
                    throw .outputDirectory(path: path, reason: "exists and is not empty (use --force to replace it)")
                }
                if let foreign = entries.sorted().first(where: { !replaceable($0) }) {
                    throw .outputDirectory(
                        path: path,
                        reason: "holds \(foreign), which this command does not write; not replaced, even with --force")
                }
                if let held = Self.inputInside(path, inputs: inputs) {
                    throw .outputDirectory(path: path, reason: "holds the input \(held); not replaced")
                }
            }
        }
        // The destination's missing parents, created outermost first and remembered innermost first.
        var missing: [String] = []
        var folder = parent
        while !folder.isEmpty, folder != ".", folder != "/", access(folder, F_OK) != 0 {
            missing.append(folder)
            let up = folder.lastIndex(of: "/").map { $0 == folder.startIndex ? "/" : String(folder[..<$0]) } ?? "."
            folder = up
        }
        var created: [String] = []
        for folder in missing.reversed() {
            guard mkdir(folder, 0o777) == 0 || errno == EEXIST else {
                let message = errnoMessage()
                for made in created.reversed() { rmdir(made) }
                throw .io(path: path, operation: "create", message: "\(message) (creating \(folder))")
            }
            created.append(folder)
        }
        createdParents = created.reversed()
        for stale in AtomicOutputFile.staleTemporaries(in: parent, name: name) { Self.removeTree(stale) }
        var template = Array("\(parent)/.\(name)\(AtomicOutputFile.temporaryMarker)\(getpid())-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            let message = errnoMessage()
            for made in createdParents { rmdir(made) }
            throw .io(path: path, operation: "create", message: "\(message) (a temporary folder in \(parent))")
        }
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let mask = umask(0)
        umask(mask)
        chmod(temporaryPath, 0o777 & ~mask)
    }

    deinit {
        if !finished { abandon() }
    }

    /// Where the file `name` is written until `commit`.
    public func file(_ name: String) -> String { "\(temporaryPath)/\(name)" }

    /// Puts the written folder in the destination's place; an earlier folder there is deleted.
    /// - Throws: `io` when a rename fails (the destination is then as it was).
    public func commit() throws(WeightFileError) {
        precondition(!finished, "OutputDirectory committed or abandoned twice")
        if rename(temporaryPath, path) == 0 {  // no destination, or an empty folder
            finished = true
            return
        }
        guard errno == ENOTEMPTY || errno == EEXIST else {
            throw .io(path: path, operation: "rename", message: errnoMessage())
        }
        // Filled since it was checked, by someone else: replaced only when that was allowed.
        guard overwrite else {
            throw .outputDirectory(path: path, reason: "exists and is not empty (use --force to replace it)")
        }
        let suffix = String(UInt32.random(in: 0..<UInt32.max) % 1_000_000 + 1_000_000).dropFirst()
        let aside = "\(parent)/.\(name)\(AtomicOutputFile.temporaryMarker)\(getpid())-\(suffix)"
        guard rename(path, aside) == 0 else { throw .io(path: path, operation: "rename", message: errnoMessage()) }
        guard rename(temporaryPath, path) == 0 else {
            let message = errnoMessage()
            rename(aside, path)
            throw .io(path: path, operation: "rename", message: message)
        }
        finished = true
        Self.removeTree(aside)
    }

    /// Deletes the temporary folder and the parents this run created; the destination is untouched.
    public func abandon() {
        finished = true
        Self.removeTree(temporaryPath)
        for folder in createdParents where rmdir(folder) != 0 { break }
    }

    /// The names in folder `path`, without `.` and `..`.
    private static func entries(of path: String) throws(WeightFileError) -> [String] {
        guard let dir = opendir(path) else { throw .io(path: path, operation: "read", message: errnoMessage()) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The first of `inputs` that lies inside folder `path` (after resolving links), if any.
    private static func inputInside(_ path: String, inputs: [String]) -> String? {
        func resolved(_ p: String) -> String? {
            guard let real = realpath(p, nil) else { return nil }
            defer { free(real) }
            return String(cString: real)
        }
        guard let folder = resolved(path) else { return nil }
        return inputs.first { input in resolved(input).map { $0.hasPrefix(folder + "/") } ?? false }
    }

    /// Deletes `path` and everything under it, never following symbolic links.
    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in (try? entries(of: path)) ?? [] { removeTree("\(path)/\(name)") }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

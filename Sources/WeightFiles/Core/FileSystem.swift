#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

func fileExists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0
}

/// The size of the file at `path` (`stat`).
func fileSize(_ path: String) throws(WeightFileError) -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else { throw .io(path: path, operation: "stat", message: errnoMessage()) }
    return Int(info.st_size)
}

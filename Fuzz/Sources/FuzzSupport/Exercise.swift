#if canImport(Glibc)
    import Glibc
#endif
import WeightFiles

/// Runs `open` on a copy of the fuzzer's bytes and reads every tensor of what it opens, so that the
/// readers' header checks and their data paths are both exercised. Errors are the expected outcome for
/// most inputs; a trap, an out-of-bounds access (AddressSanitizer) or a leak is the finding.
public func exercise(
    _ data: UnsafePointer<UInt8>, _ count: Int, open: (ByteStorage) throws(WeightFileError) -> any WeightFile
) -> CInt {
    let storage = ByteStorage(copying: UnsafeBufferPointer(start: data, count: count))
    guard let file = try? open(storage) else { return 0 }
    readEveryTensor(file)
    return 0
}

/// Reads `file`'s metadata and every tensor, touching each tensor's first and last byte: a view
/// that lies about its range is found here.
public func readEveryTensor(_ file: any WeightFile) {
    _ = file.metadata?.count
    for position in file.tensors.indices {
        guard let view = try? file.tensor(at: position) else { continue }
        view.withUnsafeBytes { bytes in
            if let first = bytes.first, let last = bytes.last { blackHole(first ^ last) }
        }
    }
}

@inline(never) func blackHole(_ value: UInt8) { withExtendedLifetime(value) {} }

/// libFuzzer's entry for programs that keep their own `main` (SwiftPM renames an executable's `main`).
@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Hands the command line to libFuzzer with `callback` as the target and exits with its status.
public func runFuzzer(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(llvmFuzzerRunDriver(&argc, &argv, callback))
}

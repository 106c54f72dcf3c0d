import ArgumentParser
import WeightFiles

#if canImport(Glibc)
import Glibc
#endif

/// Prints `message` as one line on stderr.
func printError(_ message: String) {
    var line = "retort: error: \(message)\n"
    line.withUTF8 { _ = fwrite($0.baseAddress, 1, $0.count, stderr) }
}

/// Runs `body`; a `WeightFileError` becomes one clear line on stderr (prefixed by `path`) and exit status 1.
func reportingErrors<T>(path: String, _ body: () throws(WeightFileError) -> T) throws(ExitCode) -> T {
    do {
        return try body()
    } catch {
        switch error {
        case .io, .outputIsInput, .outputExists, .unknownFormat: printError("\(error)")
        default: printError("\(path): \(error)")
        }
        throw ExitCode.failure
    }
}

/// Writes `text` to stdout.
func emit(_ text: String) {
    print(text)
}

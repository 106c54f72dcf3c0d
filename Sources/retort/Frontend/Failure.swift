import ArgumentParser
import WeightFiles

#if canImport(Glibc)
    import Glibc
#endif

/// Prints `message` as one line on stderr.
func printError(_ message: String) {
    writeStandardError("retort: error: \(message)\n")
}

/// Writes `text` to file descriptor 2, unbuffered.
func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(2, buffer.baseAddress! + offset, buffer.count - offset)
            if n <= 0 { return }
            offset += n
        }
    }
}

/// Runs `body`; a `WeightFileError` becomes one clear line on stderr (prefixed by `path`) and exit status 1.
func reportingErrors<T>(path: String, _ body: () throws(WeightFileError) -> T) throws(ExitCode) -> T {
    do {
        return try body()
    } catch {
        switch error {
        case .io, .outputIsInput, .outputExists, .outputNotRegularFile, .outputDirectory, .unknownFormat:
            printError("\(error)")
        default: printError("\(path): \(error)")
        }
        throw ExitCode.failure
    }
}

/// Runs `body`; any typed error of the library (network, task, surrogate, representation) becomes one line
/// on stderr prefixed by `path` (unless the message already starts with it), and exit status 1. Weight-file
/// errors go through `reportingErrors`, which knows which of them already name their file.
func reportingFailures<T, E: Error>(path: String, _ body: () throws(E) -> T) throws(ExitCode) -> T {
    do {
        return try body()
    } catch {
        let message = "\(error)"
        printError(message.hasPrefix("\(path): ") ? message : "\(path): \(message)")
        throw ExitCode.failure
    }
}

/// Writes `text` to stdout.
func emit(_ text: String) {
    print(text)
}

/// `text` with control characters shown as escapes, so that a name or metadata value
/// cannot break a table line or drive the terminal.
func printable(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0x0A: out += "\\n"
        case 0x09: out += "\\t"
        case 0x0D: out += "\\r"
        case 0..<0x20, 0x7F, 0x80..<0xA0: out += "\\u{\(String(scalar.value, radix: 16))}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

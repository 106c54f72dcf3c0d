import WeightFiles

#if canImport(Glibc)
    import Glibc
#endif

/// `retort-bench stz compress IN.safetensors [--threads T] [--level L] [--repeat R] [--output OUT.stz]`
/// `retort-bench stz decompress FILE.stz [--threads T] [--repeat R] [--digest]`
///
/// In-process timing of the `.stz` codec, like for like with a peer that works on bytes
/// in memory. `compress` reads the source file into memory first, then times
/// `STZWriter.encode` (memory in, the container in one buffer out, no file I/O);
/// `--output` writes the last run's container to a file afterwards.
/// `decompress` reads the container into memory, then times `STZFile.restore(into:)`
/// restoring the whole safetensors byte image into one buffer allocated (and touched) once
/// before the runs; every chunk's CRC-32 is checked, the SHA-256 of the restored bytes only
/// with `--digest`. After the runs the restored bytes are checked against the recorded
/// SHA-256 (untimed). One warm-up run precedes the timed ones. Prints one JSON line:
/// best and median seconds, the byte counts and MB/s (10^6 bytes of the safetensors file
/// per second, best run).
func stzBenchmark(_ arguments: Arguments) {
    let words = arguments.positional
    guard words.count == 2, ["compress", "decompress"].contains(words[0]) else {
        fail("stz takes `compress IN.safetensors` or `decompress FILE.stz`")
    }
    let threads = arguments.int("threads", default: 1)
    let repeats = arguments.int("repeat", default: 5)
    let level = arguments.int("level", default: 1, minimum: 0)
    let digest = arguments.flags.contains("digest")
    do {
        // The file's bytes copied into anonymous memory: no page cache or mapping in the timing.
        let mapped = try ByteStorage.map(path: words[1])
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(mapped.count, 1), alignment: 4096)
        if mapped.count > 0 { copy.baseAddress!.copyMemory(from: mapped.bytes.baseAddress!, byteCount: mapped.count) }
        let storage = ByteStorage(adopting: copy, count: mapped.count)
        var times: [Double] = []
        var summary = ""
        if words[0] == "compress" {
            let file = try SafetensorsFile(storage: storage)
            var options = STZWriter.Options()
            options.threads = threads
            options.level = level
            var size = 0
            for run in 0...repeats {
                let start = monotonicSeconds()
                let container = try STZWriter.encode(file, options: options)
                let elapsed = monotonicSeconds() - start
                if run > 0 { times.append(elapsed) }
                size = container.count
                if run == repeats, let path = arguments.options["output"] { writeFile(path, container.bytes) }
            }
            summary =
                "\"mode\":\"compress\",\"level\":\(level),\"source_bytes\":\(storage.count),\"stz_bytes\":\(size),"
                + "\"ratio\":\(json(Double(size) / Double(storage.count)))"
            times.sort()
            report(summary, times: times, bytes: storage.count, threads: threads)
        } else {
            var file = try STZFile(storage: storage)
            file.threads = threads
            let size = file.source.fileSize
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 4096)
            defer { buffer.deallocate() }
            let output = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size])
            output.initializeMemory(as: UInt8.self, repeating: 0)
            for run in 0...repeats {
                let start = monotonicSeconds()
                try file.restore(into: output, checkDigest: digest)
                let elapsed = monotonicSeconds() - start
                if run > 0 { times.append(elapsed) }
            }
            var check = SHA256()
            check.update(UnsafeRawBufferPointer(output))
            let restoredDigest = check.finalize().map { String($0, radix: 16).leftPadded(to: 2) }.joined()
            summary =
                "\"mode\":\"decompress\",\"digest\":\(digest),\"stz_bytes\":\(storage.count),\"source_bytes\":\(size),"
                + "\"ratio\":\(json(Double(storage.count) / Double(size))),\"sha256_ok\":\(restoredDigest == file.sourceSHA256)"
            times.sort()
            report(summary, times: times, bytes: size, threads: threads)
        }
    } catch {
        fail("stz: \(error)")
    }
}

/// Writes `bytes` to a new file at `path` (untimed, for `--output`).
private func writeFile(_ path: String, _ bytes: UnsafeRawBufferPointer) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { fail("cannot create \(path)") }
    defer { close(fd) }
    var offset = 0
    while offset < bytes.count {
        let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n <= 0 { fail("cannot write \(path)") }
        offset += n
    }
}

/// Prints the JSON line: `fields`, then threads, repeats, best/median seconds and MB/s.
private func report(_ fields: String, times: [Double], bytes: Int, threads: Int) {
    let best = times[0]
    let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
    print(
        "{\(fields),\"threads\":\(threads),\"repeat\":\(times.count),\"best_s\":\(json(best)),"
            + "\"median_s\":\(json(median)),\"mb_s\":\(json(Double(bytes) / best / 1e6)),"
            + "\"median_mb_s\":\(json(Double(bytes) / median / 1e6))}")
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

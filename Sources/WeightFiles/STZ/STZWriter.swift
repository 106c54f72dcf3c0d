import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// Writes `.stz` containers: any readable weight file in, compressed chunks out.
public enum STZWriter {
    /// Settings for `write`.
    public struct Options: Sendable {
        /// Worker threads for compression (default: every core).
        public var threads: Int = System.coreCount
        /// The zlib level of the LZ77 attempt (1–9); 0 keeps Huffman-only coding alone.
        public var level: Int = 1
        /// Bytes per chunk (a multiple of 8).
        public var chunkSize: Int = STZLayout.defaultChunkSize
        /// Replace an existing output file (never one of the inputs).
        public var overwrite = true
        public init() {}
    }

    /// Compresses `input` into a `.stz` file at `output`.
    ///
    /// The container restores a safetensors file byte for byte: for a safetensors input
    /// (plain or gzip/zlib-wrapped) the original file, for any other input the canonical
    /// safetensors file `Converter.convertToSafetensors` writes. Tensors are read one
    /// at a time and compressed in windows of chunks across `threads` workers, so memory
    /// stays near chunk size × threads × 4 whatever the input size. The output is written
    /// under a temporary name and renamed into place.
    /// - Returns: the number of bytes written.
    @discardableResult
    public static func write(
        _ input: any WeightFile, inputPaths: [String], to output: String, options: Options = Options(),
        progress: ((Int, Int) -> Void)? = nil
    ) throws(WeightFileError) -> Int {
        guard options.chunkSize > 0, options.chunkSize % 8 == 0, options.chunkSize <= STZLayout.maxChunkSize else {
            throw .stzInvalid(
                reason: "chunk size \(options.chunkSize) is not a positive multiple of 8 up to \(STZLayout.maxChunkSize)",
                offset: 0)
        }
        let sourceHeaderBytes = try sourceHeader(of: input)
        let source = try withBytes(sourceHeaderBytes) { (raw) throws(WeightFileError) in
            // The data length is not known until parsed; parse against its own claim first.
            try SafetensorsHeader.parse(headerBytes: raw, fileSize: 8 + raw.count + input.totalByteCount)
        }
        guard source.positions["__stz__"] == nil else { throw .duplicateTensor(name: "__stz__") }
        let threads = max(1, options.threads)
        let file = try AtomicOutputFile(path: output, inputs: inputPaths, overwrite: options.overwrite)
        do throws(WeightFileError) {
            var prelude = STZLayout.magic
            appendLE(STZLayout.version, to: &prelude)
            appendLE(UInt32(0), to: &prelude)
            try file.write(prelude)
            var written = prelude.count

            var digest = SHA256()
            var lengthField: [UInt8] = []
            appendLE(UInt64(sourceHeaderBytes.count), to: &lengthField)
            digest.update(lengthField)
            digest.update(sourceHeaderBytes)

            let codecs = (0..<threads).map { _ in STZChunkCodec(level: Int32(options.level), chunkSize: options.chunkSize) }
            var tables = [[STZChunk]](repeating: [], count: source.tensors.count)
            let filters = source.tensors.map { STZFilter.preferred(for: $0.dtype) }
            var done = 0
            // Windows of chunks, across tensors, keep memory near chunk size × window
            // while every worker stays busy; one extra worker hashes the window meanwhile.
            let window = threads * 8
            var jobs: [ChunkJob] = []
            let hasher = SendableBox(HashState())
            hasher.value.digest = digest
            func flush() throws(WeightFileError) {
                guard !jobs.isEmpty else { return }
                let encoded = encodeParallel(jobs, filters: filters, codecs: codecs, hasher: hasher)
                for (job, chunk) in zip(jobs, encoded) {
                    try file.write(chunk.bytes)
                    tables[job.tensor].append(
                        STZChunk(offset: written, storedLength: chunk.bytes.count, rawLength: job.range.count, crc: chunk.crc))
                    written += chunk.bytes.count
                    done += job.range.count
                }
                progress?(done, source.dataLength)
                jobs.removeAll(keepingCapacity: true)
            }
            for (position, info) in source.tensors.enumerated() {
                let view = try input.tensor(named: info.name)
                guard view.bytes.count == info.byteCount else {
                    throw .tensorInvalidInfo(tensor: info.name, expectedBytes: info.byteCount, declaredBytes: view.bytes.count)
                }
                for start in stride(from: 0, to: info.byteCount, by: options.chunkSize) {
                    jobs.append(
                        ChunkJob(tensor: position, view: view, range: start..<min(start + options.chunkSize, info.byteCount)))
                    if jobs.count == window { try flush() }
                }
            }
            try flush()
            digest = hasher.value.digest
            let headerOffset = written
            let json = headerJSON(
                source: source, sourceHeader: sourceHeaderBytes, digest: digest.finalize(), chunkSize: options.chunkSize,
                filters: filters, tables: tables)
            try file.write(json)
            var footer: [UInt8] = []
            appendLE(UInt64(headerOffset), to: &footer)
            appendLE(UInt64(json.count), to: &footer)
            footer += STZLayout.endMagic
            try file.write(footer)
            try file.commit()
            return headerOffset + json.count + footer.count
        } catch {
            file.abandon()
            throw error
        }
    }

    /// The safetensors header (without its length) that the container restores.
    static func sourceHeader(of input: any WeightFile) throws(WeightFileError) -> [UInt8] {
        if let safetensors = input as? SafetensorsFile {
            let header = safetensors.header
            return Array(UnsafeRawBufferPointer(rebasing: safetensors.storage.bytes[8..<header.dataStart]))
        }
        let ordered = SafetensorsWriter.canonicalOrder(input.tensors)
        return try SafetensorsWriter.header(for: ordered, metadata: input.metadata).bytes
    }

    private struct EncodedChunk {
        var bytes: [UInt8]
        var crc: UInt32
    }

    /// One chunk to encode: a range of a tensor's bytes.
    struct ChunkJob {
        var tensor: Int
        var view: TensorView
        var range: Range<Int>
        var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: view.bytes[range]) }
    }

    final class HashState { var digest = SHA256() }

    /// Encodes `jobs` on `codecs.count` workers while one more worker feeds the raw
    /// bytes, in order, to the file's SHA-256.
    private static func encodeParallel(
        _ jobs: [ChunkJob], filters: [STZFilter], codecs: [STZChunkCodec], hasher: SendableBox<HashState>
    ) -> [EncodedChunk] {
        let results = UnsafeMutableBufferPointer<EncodedChunk>.allocate(capacity: jobs.count)
        defer { results.deallocate() }
        let counter = WorkCounter()
        let workers = min(codecs.count, jobs.count)
        let shared = SendableBox((jobs, results, codecs, filters))
        DispatchQueue.concurrentPerform(iterations: workers + 1) { worker in
            let (jobs, results, codecs, filters) = shared.value
            if worker == workers {
                for job in jobs { hasher.value.digest.update(job.bytes) }
                return
            }
            while true {
                let i = counter.next()
                guard i < jobs.count else { return }
                let encoded = codecs[worker].encode(jobs[i].bytes, filter: filters[jobs[i].tensor])
                let crc = encoded.withUnsafeBytes { Inflater.crc32($0) }
                (results.baseAddress! + i).initialize(to: EncodedChunk(bytes: encoded, crc: crc))
            }
        }
        let array = Array(results)
        _ = results.baseAddress!.deinitialize(count: jobs.count)
        return array
    }

    private static func headerJSON(
        source: SafetensorsHeader, sourceHeader: [UInt8], digest: [UInt8], chunkSize: Int, filters: [STZFilter],
        tables: [[STZChunk]]
    ) -> [UInt8] {
        var out: [UInt8] = []
        func append(_ s: String) { out.append(contentsOf: s.utf8) }
        append("{\"__stz__\":{\"version\":\(STZLayout.version),\"codec\":\"\(STZLayout.codec)\",\"chunk_size\":\(chunkSize),")
        append("\"source_size\":\(source.fileSize),\"source_sha256\":\"\(hexString(digest))\",\"source_header\":")
        JSONWriter.appendString(String(decoding: sourceHeader, as: UTF8.self), to: &out)
        append("}")
        if let metadata = source.metadata {
            append(",\"__metadata__\":{")
            var first = true
            for (key, value) in metadata {
                if !first { append(",") }
                first = false
                JSONWriter.appendString(key, to: &out)
                append(":")
                JSONWriter.appendString(value, to: &out)
            }
            append("}")
        }
        for (i, info) in source.tensors.enumerated() {
            append(",")
            JSONWriter.appendString(info.name, to: &out)
            let offsets = source.dataOffsets[i]
            append(":{\"dtype\":\"\(info.dtype.name)\",\"shape\":[\(info.shape.map(String.init).joined(separator: ","))],")
            append(
                "\"data_offsets\":[\(offsets.lowerBound),\(offsets.upperBound)],\"filter\":\"\(filters[i].rawValue)\",\"chunks\":["
            )
            for (k, chunk) in tables[i].enumerated() {
                if k > 0 { append(",") }
                append("[\(chunk.offset),\(chunk.storedLength),\(chunk.rawLength),\(chunk.crc)]")
            }
            append("]}")
        }
        append("}")
        return out
    }
}

/// Wraps values that are shared read-only (or written at disjoint indices) across workers.
struct SendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

func appendLE<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    for k in 0..<(T.bitWidth / 8) { out.append(UInt8(truncatingIfNeeded: value >> (8 * k))) }
}

func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes { out += [digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
    return String(decoding: out, as: UTF8.self)
}

/// Facts about the machine.
public enum System {
    /// The number of cores the process may use.
    public static var coreCount: Int {
        #if canImport(Glibc)
            return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
            return 1
        #endif
    }
}

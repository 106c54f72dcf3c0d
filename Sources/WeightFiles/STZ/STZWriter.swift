import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// Writes `.stz` containers: any readable weight file in, compressed chunks out.
public enum STZWriter {
    /// Settings for `write`.
    public struct Options: Sendable {
        /// Worker threads for compression (default: every core; at most `STZLayout.maxThreads` are started).
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
    /// at a time and compressed in windows of 8 chunks a worker across `threads` workers, so
    /// memory stays near chunk size × threads × 10 whatever the input size. The output is written
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
        let file = try AtomicOutputFile(path: output, inputs: inputPaths, overwrite: options.overwrite)
        do throws(WeightFileError) {
            let written = try produce(input, options: options, progress: progress) { (bytes) throws(WeightFileError) in
                try file.write(bytes)
            }
            try file.commit()
            return written
        } catch {
            file.abandon()
            throw error
        }
    }

    /// The `.stz` container of `input`, built in memory (the same bytes `write` puts in a
    /// file), ready for `STZFile(storage:)`.
    ///
    /// The source's bytes are read where they lie (an in-memory or mapped file) and the
    /// container is assembled in one buffer (huge pages advised, so that filling it costs
    /// few page faults); no file is written.
    public static func encode(
        _ input: any WeightFile, options: Options = Options(), progress: ((Int, Int) -> Void)? = nil
    ) throws(WeightFileError) -> ByteStorage {
        let out = GrowingBuffer(capacity: input.totalByteCount + input.totalByteCount / 32 + (1 << 20))
        _ = try produce(input, options: options, progress: progress) { (bytes) throws(WeightFileError) in
            out.append(bytes)
        }
        return out.finish()
    }

    /// Compresses `input`, handing the container's bytes to `sink` in order; returns their count.
    private static func produce(
        _ input: any WeightFile, options: Options, progress: ((Int, Int) -> Void)?,
        sink: (UnsafeRawBufferPointer) throws(WeightFileError) -> Void
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
        // No more workers than chunks, and no more than the budget's worth of one-chunk scratch each
        // beyond the first few: `threads` 1,024 on a small file must not allocate gigabytes.
        let chunkCount = source.tensors.reduce(0) { $0 + ($1.byteCount + options.chunkSize - 1) / options.chunkSize }
        let threads = max(
            1, min(options.threads, STZLayout.maxThreads, chunkCount + 1, max(2, STZLayout.decodeBudget / options.chunkSize)))
        var prelude = STZLayout.magic
        appendLE(STZLayout.version, to: &prelude)
        appendLE(UInt32(0), to: &prelude)
        try withBytes(prelude) { (raw) throws(WeightFileError) in try sink(raw) }
        var written = prelude.count

        var digest = SHA256()
        var lengthField: [UInt8] = []
        appendLE(UInt64(sourceHeaderBytes.count), to: &lengthField)
        digest.update(lengthField)
        digest.update(sourceHeaderBytes)

        var tables = [[STZChunk]](repeating: [], count: source.tensors.count)
        let filters = source.tensors.map { STZFilter.preferred(for: $0.dtype) }
        var done = 0
        // Windows of chunks, across tensors, keep memory near chunk size × window
        // while every worker stays busy; one of the workers hashes the window meanwhile.
        let largestChunk = min(options.chunkSize, source.tensors.map(\.byteCount).max() ?? 0)
        let slot = (STZChunkCodec.encodedCapacity(largestChunk) + 63) & ~63
        // A codec's scratch holds one chunk: the largest there is, not the chunk size.
        let codecs = (0..<threads).map { _ in STZChunkCodec(level: Int32(options.level), chunkSize: max(1, largestChunk)) }
        // 8 chunks a worker, within the budget (at least one chunk a worker).
        let window = max(threads, min(threads * 8, STZLayout.decodeBudget / slot))
        var jobs: [ChunkJob] = []
        let hasher = SendableBox(HashState(tensors: source.tensors.count))
        hasher.value.digest = digest
        // One arena for the window's encoded chunks, reused from window to window.
        let arena = UnsafeMutableRawBufferPointer.allocate(byteCount: slot * window, alignment: 64)
        defer { arena.deallocate() }
        func flush() throws(WeightFileError) {
            guard !jobs.isEmpty else { return }
            let encoded = encodeParallel(jobs, filters: filters, codecs: codecs, hasher: hasher, arena: arena, slot: slot)
            for (i, (job, chunk)) in zip(jobs, encoded).enumerated() {
                try sink(UnsafeRawBufferPointer(rebasing: arena[(i * slot)..<(i * slot + chunk.length)]))
                tables[job.tensor].append(
                    STZChunk(offset: written, storedLength: chunk.length, rawLength: job.range.count, crc: chunk.crc))
                written += chunk.length
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
            filters: filters, tables: tables, dataCRCs: hasher.value.crcs)
        try withBytes(json) { (raw) throws(WeightFileError) in try sink(raw) }
        var footer: [UInt8] = []
        appendLE(UInt64(headerOffset), to: &footer)
        appendLE(UInt64(json.count), to: &footer)
        appendLE(json.withUnsafeBytes { Inflater.crc32($0) }, to: &footer)
        footer += STZLayout.endMagic
        try withBytes(footer) { (raw) throws(WeightFileError) in try sink(raw) }
        return headerOffset + json.count + footer.count
    }

    /// The safetensors header (without its length) that the container restores.
    static func sourceHeader(of input: any WeightFile) throws(WeightFileError) -> [UInt8] {
        if let safetensors = input as? SafetensorsFile {
            let header = safetensors.header
            return Array(UnsafeRawBufferPointer(rebasing: safetensors.storage.bytes[8..<header.dataStart]))
        }
        if let compressed = input as? CompressedSafetensorsFile { return compressed.headerBytes }
        let ordered = SafetensorsWriter.canonicalOrder(input.tensors)
        return try SafetensorsWriter.header(for: ordered, metadata: input.metadata).bytes
    }

    /// Where a job's encoded chunk lies in the window's arena, and its CRC-32.
    private struct EncodedChunk {
        var length: Int
        var crc: UInt32
    }

    /// One chunk to encode: a range of a tensor's bytes.
    struct ChunkJob {
        var tensor: Int
        var view: TensorView
        var range: Range<Int>
        var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: view.bytes[range]) }
    }

    /// The source's SHA-256 and each tensor's CRC-32, fed the raw bytes in order.
    final class HashState {
        var digest = SHA256()
        var crcs: [UInt32]
        init(tensors: Int) { crcs = [UInt32](repeating: 0, count: tensors) }
    }

    /// Encodes `jobs` on `codecs.count` workers, job i into slot i of `arena` (`slot` bytes
    /// each); the first free worker first feeds the window's raw bytes, in order, to the
    /// file's SHA-256 (so `threads` workers do all the work).
    private static func encodeParallel(
        _ jobs: [ChunkJob], filters: [STZFilter], codecs: [STZChunkCodec], hasher: SendableBox<HashState>,
        arena: UnsafeMutableRawBufferPointer, slot: Int
    ) -> [EncodedChunk] {
        let results = UnsafeMutableBufferPointer<EncodedChunk>.allocate(capacity: jobs.count)
        defer { results.deallocate() }
        let counter = WorkCounter()
        let workers = min(codecs.count, jobs.count + 1)
        let shared = SendableBox((jobs, results, codecs, filters, arena))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let (jobs, results, codecs, filters, arena) = shared.value
            while true {
                let item = counter.next()
                if item == 0 {
                    for job in jobs {
                        hasher.value.digest.update(job.bytes)
                        hasher.value.crcs[job.tensor] = STZLayout.crc32(job.bytes, continuing: hasher.value.crcs[job.tensor])
                    }
                    continue
                }
                let i = item - 1
                guard i < jobs.count else { return }
                let target = UnsafeMutableRawBufferPointer(rebasing: arena[(i * slot)..<((i + 1) * slot)])
                let length = codecs[worker].encode(jobs[i].bytes, filter: filters[jobs[i].tensor], into: target)
                let crc = STZLayout.crc32(UnsafeRawBufferPointer(rebasing: target[0..<length]))
                (results.baseAddress! + i).initialize(to: EncodedChunk(length: length, crc: crc))
            }
        }
        let array = Array(results)
        _ = results.baseAddress!.deinitialize(count: jobs.count)
        return array
    }

    private static func headerJSON(
        source: SafetensorsHeader, sourceHeader: [UInt8], digest: [UInt8], chunkSize: Int, filters: [STZFilter],
        tables: [[STZChunk]], dataCRCs: [UInt32]
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
                "\"data_offsets\":[\(offsets.lowerBound),\(offsets.upperBound)],\"data_crc32\":\(dataCRCs[i]),\"filter\":\"\(filters[i].rawValue)\",\"chunks\":["
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

/// Bytes appended to malloc'd memory that grows as needed, then handed over as `ByteStorage`.
final class GrowingBuffer {
    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    private var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 4096)
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, GrowingBuffer.hugePage, self.capacity) == 0, let pointer else {
            fatalError("out of memory allocating \(capacity) bytes")
        }
        base = pointer
        GrowingBuffer.adviseHugePages(base, self.capacity)
    }

    deinit { if capacity > 0 { free(base) } }

    private static let hugePage = 1 << 21

    /// Asks for transparent huge pages over the whole 2 MiB pages of the region.
    private static func adviseHugePages(_ pointer: UnsafeMutableRawPointer, _ count: Int) {
        #if canImport(Glibc)
            let start = (Int(bitPattern: pointer) + hugePage - 1) & ~(hugePage - 1)
            let end = (Int(bitPattern: pointer) + count) & ~(hugePage - 1)
            if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE) }
        #endif
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        if count + bytes.count > capacity {
            let grown = max(capacity * 2, count + bytes.count)
            guard let pointer = realloc(base, grown) else { fatalError("out of memory allocating \(grown) bytes") }
            base = pointer
            capacity = grown
            GrowingBuffer.adviseHugePages(base, capacity)
        }
        (base + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += bytes.count
    }

    /// The bytes so far; the buffer is empty afterwards.
    func finish() -> ByteStorage {
        let storage = ByteStorage(mallocated: base, count: count)
        capacity = 0
        return storage
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

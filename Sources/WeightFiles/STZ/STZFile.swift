import Dispatch

/// A `.stz` container opened for reading: the header is read and validated at open
/// (nothing is decompressed); each tensor decodes on its own, checking its chunks' CRCs.
public struct STZFile: WeightFile {
    public var format: WeightFileFormat { .stz }
    /// The container's bytes (memory-mapped).
    public let storage: ByteStorage
    /// The safetensors header of the file the container restores.
    public let source: SafetensorsHeader
    /// The exact header bytes (without the 8-byte length) of the restored file.
    public let sourceHeader: [UInt8]
    /// The SHA-256 of the restored file, as recorded (lowercase hex).
    public let sourceSHA256: String
    /// The chunk size the writer used.
    public let chunkSize: Int
    /// Each tensor's filter, parallel to `tensors`.
    public let filters: [STZFilter]
    /// Each tensor's chunks, parallel to `tensors`.
    public let chunks: [[STZChunk]]
    /// Each tensor's recorded CRC-32 of its decoded bytes (`data_crc32`), parallel to `tensors`;
    /// nil where the header records none (containers written before these were added). They
    /// only name the tensor that differs once the SHA-256 has failed; they decide nothing alone.
    public let dataCRCs: [UInt32?]
    /// Worker threads used to decode a tensor's chunks (fewer run when the chunks are large:
    /// see `decodeWorkers`).
    public var threads: Int = System.coreCount
    /// The container version (1 or 2; version 2 has a header checksum).
    public let version: UInt32
    /// The largest decoded chunk, which sizes every decoding buffer (never `chunk_size` itself).
    public let largestChunk: Int

    public var metadata: Metadata? { source.metadata }
    public var tensors: [TensorInfo] {
        source.tensors.map {
            var t = $0; t.fileOffset = nil; return t
        }
    }

    /// The container's size on disk.
    public var storedSize: Int { storage.count }

    /// Maps and validates the container at `path`.
    public init(path: String) throws(WeightFileError) {
        try self.init(storage: ByteStorage.map(path: path))
    }

    /// Validates the container in `storage`.
    /// - Complexity: O(header); no chunk is read.
    public init(storage: ByteStorage) throws(WeightFileError) {
        self.storage = storage
        let bytes = storage.bytes
        let size = bytes.count
        guard size >= STZLayout.preludeLength + STZLayout.footerLength else {
            throw .stzInvalid(reason: "the file has \(size) bytes, fewer than the prelude and footer", offset: 0)
        }
        guard Array(bytes[0..<8]) == STZLayout.magic else { throw .stzInvalid(reason: "missing the RTSTZ magic", offset: 0) }
        let version = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard STZLayout.readableVersions.contains(version) else { throw .stzUnsupportedVersion(version) }
        let flags = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard flags == 0 else { throw .stzInvalid(reason: "unknown flags \(flags)", offset: 12) }
        let footerLength = STZLayout.footerLength(version: version)
        guard size >= STZLayout.preludeLength + footerLength else {
            throw .stzInvalid(reason: "the file has \(size) bytes, fewer than the prelude and footer", offset: 0)
        }
        let footer = size - footerLength
        guard Array(bytes[(size - 8)..<size]) == STZLayout.endMagic else {
            throw .stzInvalid(reason: "missing the RTSTZEND end magic (truncated?)", offset: size - 8)
        }
        let headerOffset = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: footer, as: UInt64.self))
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: footer + 8, as: UInt64.self))
        guard headerLength <= UInt64(STZLayout.maxHeaderLength), headerOffset >= UInt64(STZLayout.preludeLength),
            headerOffset <= UInt64(footer), headerOffset + headerLength == UInt64(footer)
        else {
            throw .stzInvalid(
                reason:
                    "footer places the header at [\(headerOffset), +\(headerLength)), which does not end at the footer (byte \(footer))",
                offset: footer)
        }
        if version >= 2 {
            // The header's own checksum: a damaged or edited header (metadata, filters, the chunk
            // table's order, offsets or CRCs) is refused before anything is decoded.
            let recorded = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: footer + 16, as: UInt32.self))
            let actual = Inflater.crc32(UnsafeRawBufferPointer(rebasing: bytes[Int(headerOffset)..<footer]))
            guard recorded == actual else { throw .stzHeaderChecksum(expected: recorded, actual: actual) }
        }
        let dataEnd = Int(headerOffset)
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[dataEnd..<footer])
        if let bad = firstInvalidUTF8Offset(headerBytes) {
            throw .stzInvalid(reason: "header is not UTF-8", offset: dataEnd + bad)
        }
        let root: JSONValue
        do { root = try JSONParser.parse(headerBytes) } catch {
            throw .stzInvalid(reason: "header JSON: \(error.reason)", offset: dataEnd + error.offset)
        }
        guard case .object(let members) = root else { throw .stzInvalid(reason: "header is not an object", offset: dataEnd) }
        func fail(_ reason: String, _ member: JSONMember? = nil) -> WeightFileError {
            .stzInvalid(reason: reason, offset: dataEnd + (member?.offset ?? 0))
        }
        guard let stzMember = members.first(where: { $0.key == "__stz__" }), case .object(let fields) = stzMember.value else {
            throw fail("no `__stz__` object")
        }
        func field(_ name: String) -> JSONValue? { fields.first { $0.key == name }?.value }
        guard let declared = field("version")?.uint64, declared == UInt64(version) else {
            throw fail("`__stz__.version` is missing or differs from the prelude's", stzMember)
        }
        guard case .string(let codec)? = field("codec") else { throw fail("`__stz__.codec` is missing", stzMember) }
        guard codec == STZLayout.codec else { throw .stzUnknownCodec(codec) }
        guard let chunkSize = field("chunk_size")?.uint64, chunkSize > 0, chunkSize <= UInt64(STZLayout.maxChunkSize),
            chunkSize % 8 == 0
        else { throw fail("`__stz__.chunk_size` must be a positive multiple of 8 up to \(STZLayout.maxChunkSize)", stzMember) }
        guard let sourceSize = field("source_size")?.uint64, sourceSize <= UInt64(Int.max / 2) else {
            throw fail("`__stz__.source_size` is missing or absurd", stzMember)
        }
        guard case .string(let digest)? = field("source_sha256"), digest.utf8.count == 64,
            digest.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { throw fail("`__stz__.source_sha256` is not 64 lowercase hex digits", stzMember) }
        guard case .string(let sourceHeaderText)? = field("source_header") else {
            throw fail("`__stz__.source_header` is missing", stzMember)
        }
        let sourceHeader = Array(sourceHeaderText.utf8)
        let source: SafetensorsHeader
        do {
            source = try withBytes(sourceHeader) { (raw) throws(WeightFileError) in
                try SafetensorsHeader.parse(headerBytes: raw, fileSize: Int(sourceSize))
            }
        } catch {
            throw fail("`__stz__.source_header` is not a valid safetensors header for \(sourceSize) bytes: \(error)", stzMember)
        }

        var filters = [STZFilter](repeating: .none, count: source.tensors.count)
        var tables = [[STZChunk]?](repeating: nil, count: source.tensors.count)
        var dataCRCs = [UInt32?](repeating: nil, count: source.tensors.count)
        var used: [(range: Range<Int>, tensor: String, chunk: Int)] = []
        for member in members where member.key != "__stz__" && member.key != "__metadata__" {
            guard let position = source.positions[member.key] else {
                throw fail("tensor `\(member.key)` is not in the source header", member)
            }
            guard tables[position] == nil else { throw .duplicateTensor(name: member.key) }
            let info = source.tensors[position]
            guard case .object(let entry) = member.value else { throw fail("tensor `\(member.key)` is not an object", member) }
            func value(_ name: String) -> JSONValue? { entry.first { $0.key == name }?.value }
            let offsets = source.dataOffsets[position]
            guard case .string(let dtype)? = value("dtype"), dtype == info.dtype.name,
                case .array(let shape)? = value("shape"), shape.map({ $0.uint64 }) == info.shape.map({ UInt64($0) }),
                case .array(let pair)? = value("data_offsets"), pair.count == 2,
                pair[0].uint64 == UInt64(offsets.lowerBound), pair[1].uint64 == UInt64(offsets.upperBound)
            else { throw fail("tensor `\(member.key)`: dtype, shape or data_offsets differ from the source header", member) }
            guard case .string(let filterName)? = value("filter") else {
                throw fail("tensor `\(member.key)` has no filter", member)
            }
            guard let filter = STZFilter(rawValue: filterName), filter.applies(to: info.dtype) else {
                throw .stzUnknownFilter(tensor: member.key, filter: filterName)
            }
            if let recorded = value("data_crc32") {
                guard let crc = recorded.uint64, crc <= UInt64(UInt32.max) else {
                    throw fail("tensor `\(member.key)`: `data_crc32` is not an integer in [0, 2^32)", member)
                }
                dataCRCs[position] = UInt32(crc)
            }
            guard case .array(let list)? = value("chunks") else { throw fail("tensor `\(member.key)` has no chunk list", member) }
            var table: [STZChunk] = []
            table.reserveCapacity(list.count)
            var covered = 0
            for (k, item) in list.enumerated() {
                guard case .array(let numbers) = item, numbers.count == 4, let offset = numbers[0].uint64,
                    let stored = numbers[1].uint64, let raw = numbers[2].uint64, let crc = numbers[3].uint64,
                    crc <= UInt64(UInt32.max)
                else {
                    throw .stzChunkTable(
                        tensor: member.key, chunk: k, reason: "not [offset, stored, raw, crc32] non-negative integers")
                }
                guard raw > 0, raw <= chunkSize, raw % UInt64(filter.streamCount) == 0 else {
                    throw .stzChunkTable(
                        tensor: member.key, chunk: k,
                        reason: "decoded size \(raw) is not a multiple of \(filter.streamCount) in (0, \(chunkSize)]")
                }
                guard stored >= UInt64(1 + 5 * filter.streamCount),
                    stored <= UInt64(RawDeflater.bound(Int(raw)) + 1 + 5 * filter.streamCount)
                else {
                    throw .stzChunkTable(
                        tensor: member.key, chunk: k, reason: "stored size \(stored) is absurd for \(raw) decoded bytes")
                }
                guard offset >= UInt64(STZLayout.preludeLength), offset <= UInt64(dataEnd), stored <= UInt64(dataEnd) - offset
                else {
                    throw .stzChunkTable(
                        tensor: member.key, chunk: k,
                        reason: "bytes [\(offset), +\(stored)) lie outside the data area [16, \(dataEnd))")
                }
                covered += Int(raw)
                guard covered <= info.byteCount else {
                    throw .stzChunkTable(
                        tensor: member.key, chunk: k, reason: "chunks decode to more than the tensor's \(info.byteCount) bytes")
                }
                let chunk = STZChunk(offset: Int(offset), storedLength: Int(stored), rawLength: Int(raw), crc: UInt32(crc))
                table.append(chunk)
                used.append((chunk.offset..<(chunk.offset + chunk.storedLength), member.key, k))
            }
            guard covered == info.byteCount else {
                throw .stzChunkTable(
                    tensor: member.key, chunk: list.count,
                    reason: "chunks decode to \(covered) bytes, the tensor has \(info.byteCount)")
            }
            filters[position] = filter
            tables[position] = table
        }
        if let missing = tables.firstIndex(where: { $0 == nil }) {
            throw fail("tensor `\(source.tensors[missing].name)` has no entry in the header")
        }
        used.sort { $0.range.lowerBound < $1.range.lowerBound }
        for i in used.indices.dropFirst() where used[i].range.lowerBound < used[i - 1].range.upperBound {
            throw .stzChunkTable(
                tensor: used[i].tensor, chunk: used[i].chunk,
                reason: "overlaps chunk \(used[i - 1].chunk) of `\(used[i - 1].tensor)`")
        }
        self.source = source
        self.sourceHeader = sourceHeader
        self.sourceSHA256 = digest
        self.chunkSize = Int(chunkSize)
        self.filters = filters
        self.dataCRCs = dataCRCs
        let chunks = tables.map { $0! }
        self.chunks = chunks
        self.version = version
        self.largestChunk = chunks.lazy.flatMap { $0 }.map(\.rawLength).max() ?? 0
    }

    public func info(named name: String) -> TensorInfo? { source.positions[name].map { tensors[$0] } }

    public func tensor(named name: String) throws(WeightFileError) -> TensorView {
        guard let position = source.positions[name] else { throw .tensorNotFound(name: name) }
        return try tensor(at: position)
    }

    /// Decodes `tensors[position]`, checking every chunk's CRCs.
    public func tensor(at position: Int) throws(WeightFileError) -> TensorView {
        var info = source.tensors[position]
        info.fileOffset = nil
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(info.byteCount, 1), alignment: 64)
        do throws(WeightFileError) {
            try decode(position, chunks: chunks[position].indices, into: buffer)
        } catch {
            buffer.deallocate()
            throw error
        }
        return TensorView(
            info: info, storage: ByteStorage(adopting: buffer, count: info.byteCount), byteRange: 0..<info.byteCount)
    }

    /// The workers that decode at once: `threads`, but no more than keep their scratch space
    /// (one chunk each) within `STZLayout.decodeBudget`, and at least one.
    public var decodeWorkers: Int {
        let byMemory = max(1, STZLayout.decodeBudget / max(1, largestChunk))
        return max(1, min(threads, STZLayout.maxThreads, byMemory))
    }

    /// The bytes a streaming restore decodes at a time (each of its two window buffers): up to
    /// 8 chunks a worker, within `STZLayout.decodeBudget`, and at least the largest chunk.
    public var windowCapacity: Int {
        max(largestChunk, min(8 * decodeWorkers * largestChunk, STZLayout.decodeBudget))
    }

    /// One chunk to decode and where its bytes go.
    struct DecodeJob {
        var tensor: Int
        var chunk: Int
        var outputOffset: Int
    }

    /// Decodes chunks `range` of tensor `position` into `output` (which starts at the first chunk's data).
    func decode(_ position: Int, chunks range: Range<Int>, into output: UnsafeMutableRawBufferPointer) throws(WeightFileError) {
        var jobs: [DecodeJob] = []
        var offset = 0
        for k in range {
            jobs.append(DecodeJob(tensor: position, chunk: k, outputOffset: offset))
            offset += chunks[position][k].rawLength
        }
        try decodeParallel(jobs, into: output, alongside: nil)
    }

    /// Decodes `jobs` into `output` on `threads` workers; `alongside`, when given, runs
    /// at the same time on one more worker (the restore loop writes and hashes the
    /// previous window there). The first failure, by job order, is thrown.
    func decodeParallel(
        _ jobs: [DecodeJob], into output: UnsafeMutableRawBufferPointer,
        alongside: (() -> WeightFileError?)?, streaming: Bool = false
    ) throws(WeightFileError) {
        guard !jobs.isEmpty || alongside != nil else { return }
        let workers = max(1, min(decodeWorkers, jobs.count))
        let failures = UnsafeMutableBufferPointer<WeightFileError?>.allocate(capacity: jobs.count + 1)
        failures.initialize(repeating: nil)
        defer { failures.deallocate() }
        let shared = SendableBox(
            DecodeRun(
                jobs: jobs, output: output, failures: failures, counter: WorkCounter(), alongside: alongside,
                streaming: streaming))
        let file = self
        DispatchQueue.concurrentPerform(iterations: workers + (alongside == nil ? 0 : 1)) { worker in
            file.decodeWorker(worker, of: workers, shared.value)
        }
        if let failure = failures.first(where: { $0 != nil }) { throw failure! }
    }

    struct DecodeRun {
        var jobs: [DecodeJob]
        var output: UnsafeMutableRawBufferPointer
        var failures: UnsafeMutableBufferPointer<WeightFileError?>
        var counter: WorkCounter
        var alongside: (() -> WeightFileError?)?
        var streaming: Bool
    }

    /// One worker's loop: take jobs until none are left (the last worker runs `alongside`).
    private func decodeWorker(_ worker: Int, of workers: Int, _ run: DecodeRun) {
        if worker == workers {
            run.failures[run.jobs.count] = run.alongside?()
            return
        }
        let codec = STZChunkCodec(level: 0, chunkSize: largestChunk)
        while true {
            let i = run.counter.next()
            guard i < run.jobs.count else { return }
            let job = run.jobs[i]
            let chunk = chunks[job.tensor][job.chunk]
            let stored = UnsafeRawBufferPointer(rebasing: storage.bytes[chunk.offset..<(chunk.offset + chunk.storedLength)])
            let target = UnsafeMutableRawBufferPointer(
                rebasing: run.output[job.outputOffset..<(job.outputOffset + chunk.rawLength)])
            if STZLayout.crc32(stored) != chunk.crc {
                run.failures[i] = .stzChunkChecksum(tensor: source.tensors[job.tensor].name, chunk: job.chunk)
            } else if let reason = codec.decode(stored, filter: filters[job.tensor], into: target, streaming: run.streaming) {
                run.failures[i] = .stzChunkCorrupt(tensor: source.tensors[job.tensor].name, chunk: job.chunk, reason: reason)
            }
        }
    }

    /// Writes the safetensors file the container holds, byte for byte, to `output`
    /// (through a temporary file renamed into place), decoding `threads` chunks at a time.
    ///
    /// Every chunk's CRCs are checked; the whole file's SHA-256 is checked too when
    /// `checkDigest` is set (it costs one sequential pass over the output).
    public func restore(
        to output: String, inputPaths: [String], checkDigest: Bool = true, overwrite: Bool = true,
        progress: ((Int, Int) -> Void)? = nil
    ) throws(WeightFileError) {
        let file = try AtomicOutputFile(path: output, inputs: inputPaths, overwrite: overwrite)
        do throws(WeightFileError) {
            try stream(checkDigest: checkDigest, progress: progress) { (bytes) throws(WeightFileError) in try file.write(bytes) }
            try file.commit()
        } catch {
            file.abandon()
            throw error
        }
    }

    /// Restores the safetensors file the container holds, byte for byte, into `output`
    /// (exactly `source.fileSize` bytes), decoding every chunk straight into place on
    /// `threads` workers. Every chunk's CRC is checked; the SHA-256 of the restored bytes
    /// only when `checkDigest` is set (one more sequential pass over the output).
    public func restore(into output: UnsafeMutableRawBufferPointer, checkDigest: Bool = false) throws(WeightFileError) {
        guard output.count == source.fileSize else {
            throw .stzInvalid(reason: "restore buffer has \(output.count) bytes, the file has \(source.fileSize)", offset: 0)
        }
        var prefix: [UInt8] = []
        appendLE(UInt64(sourceHeader.count), to: &prefix)
        prefix += sourceHeader
        prefix.withUnsafeBytes { output.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        var jobs: [DecodeJob] = []
        for position in source.tensors.indices {
            var offset = source.dataStart + source.dataOffsets[position].lowerBound
            for (k, chunk) in chunks[position].enumerated() {
                jobs.append(DecodeJob(tensor: position, chunk: k, outputOffset: offset))
                offset += chunk.rawLength
            }
        }
        try decodeParallel(jobs, into: output, alongside: nil, streaming: true)
        if checkDigest {
            var digest = SHA256()
            digest.update(UnsafeRawBufferPointer(output))
            let actual = hexString(digest.finalize())
            guard actual == sourceSHA256 else {
                let tracker = TensorCRCTracker(self)
                tracker.consume(UnsafeRawBufferPointer(rebasing: output[source.dataStart...]))
                throw .stzDigestMismatch(expected: sourceSHA256, actual: actual, finding: tracker.finding())
            }
        }
    }

    /// Decodes every chunk and checks the CRCs and the SHA-256 of the restored file, writing nothing.
    public func verifyIntegrity(progress: ((Int, Int) -> Void)? = nil) throws(WeightFileError) {
        try stream(checkDigest: true, progress: progress) { (_: UnsafeRawBufferPointer) throws(WeightFileError) in }
    }

    private func stream(
        checkDigest: Bool, progress: ((Int, Int) -> Void)?,
        _ sink: @escaping (UnsafeRawBufferPointer) throws(WeightFileError) -> Void
    ) throws(WeightFileError) {
        var digest = SHA256()
        var prefix: [UInt8] = []
        appendLE(UInt64(sourceHeader.count), to: &prefix)
        prefix += sourceHeader
        try withBytes(prefix) { (raw) throws(WeightFileError) in try sink(raw) }
        if checkDigest { digest.update(prefix) }

        // Double buffering: while the workers decode window k into one buffer, one more
        // worker writes and hashes window k − 1 from the other. The windows are sized by the
        // chunks the file has, within a fixed budget, never by the declared chunk size.
        let capacity = windowCapacity
        let buffers = (0..<2).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, capacity), alignment: 64) }
        defer { buffers.forEach { $0.deallocate() } }
        let state = SendableBox(SinkState(digest: digest))
        var pending: UnsafeRawBufferPointer?
        var done = 0
        var jobs: [DecodeJob] = []
        var filled = 0
        var turn = 0
        func finishWindow() throws(WeightFileError) {
            let previous = pending
            let alongside: (() -> WeightFileError?)? = previous.map { bytes in
                { () -> WeightFileError? in
                    let outcome = Result { () throws(WeightFileError) in try sink(bytes) }
                    if case .failure(let error) = outcome { return error }
                    if checkDigest { state.value.digest.update(bytes) }
                    return nil
                }
            }
            try decodeParallel(jobs, into: buffers[turn], alongside: alongside)
            done += filled
            progress?(done, source.dataLength)
            pending = UnsafeRawBufferPointer(rebasing: buffers[turn][0..<filled])
            turn ^= 1
            jobs.removeAll(keepingCapacity: true)
            filled = 0
        }
        for position in source.tensors.indices {
            for (k, chunk) in chunks[position].enumerated() {
                if filled + chunk.rawLength > capacity { try finishWindow() }
                jobs.append(DecodeJob(tensor: position, chunk: k, outputOffset: filled))
                filled += chunk.rawLength
            }
        }
        try finishWindow()
        if let last = pending {
            try sink(last)
            if checkDigest { state.value.digest.update(last) }
        }
        if checkDigest {
            let actual = hexString(state.value.digest.finalize())
            guard actual == sourceSHA256 else {
                throw .stzDigestMismatch(expected: sourceSHA256, actual: actual, finding: try locateDifference())
            }
        }
    }

    /// Decodes every chunk once more (nothing is written) to find the first tensor whose bytes
    /// differ from their recorded CRC-32: run only after the SHA-256 failed, so a restore that
    /// succeeds pays nothing for it.
    private func locateDifference() throws(WeightFileError) -> STZDigestFinding {
        guard dataCRCs.contains(where: { $0 != nil }) else { return .notRecorded }
        let tracker = TensorCRCTracker(self)
        var skip = 8 + sourceHeader.count
        try stream(checkDigest: false, progress: nil) { (bytes: UnsafeRawBufferPointer) throws(WeightFileError) in
            let header = min(skip, bytes.count)
            skip -= header
            tracker.consume(UnsafeRawBufferPointer(rebasing: bytes[header...]))
        }
        return tracker.finding()
    }

    /// The CRC-32 of each tensor's bytes, fed the restored data area in order.
    final class TensorCRCTracker {
        let names: [String]
        let sizes: [Int]
        let recorded: [UInt32?]
        var crcs: [UInt32]
        var tensor = 0
        var used = 0

        init(_ file: STZFile) {
            names = file.source.tensors.map(\.name)
            sizes = file.source.tensors.map(\.byteCount)
            recorded = file.dataCRCs
            crcs = [UInt32](repeating: 0, count: names.count)
        }

        func consume(_ bytes: UnsafeRawBufferPointer) {
            var start = 0
            while start < bytes.count {
                while tensor < sizes.count && used == sizes[tensor] {
                    tensor += 1
                    used = 0
                }
                guard tensor < sizes.count else { return }
                let count = min(sizes[tensor] - used, bytes.count - start)
                crcs[tensor] = STZLayout.crc32(
                    UnsafeRawBufferPointer(rebasing: bytes[start..<(start + count)]), continuing: crcs[tensor])
                used += count
                start += count
            }
        }

        /// The first tensor whose CRC-32 differs from its recorded one.
        func finding() -> STZDigestFinding {
            guard recorded.contains(where: { $0 != nil }) else { return .notRecorded }
            for (k, expected) in recorded.enumerated() {
                if let expected, expected != crcs[k] { return .tensor(name: names[k], expected: expected, actual: crcs[k]) }
            }
            return .tensorsMatch
        }
    }

    final class SinkState {
        var digest: SHA256
        init(digest: SHA256) { self.digest = digest }
    }
}

import CZlib

/// Encodes and decodes one `.stz` chunk: the filter's streams, each deflated
/// (keeping the smaller of Huffman-only and LZ77+Huffman) or stored.
///
/// Chunk layout: `u8 streamCount`, then per stream `u8 mode` (0 stored, 1 raw
/// deflate) and `u32 LE storedLength`, then the streams' bytes back to back.
/// A worker keeps one codec, so zlib's state is allocated once per thread.
final class STZChunkCodec {
    /// A stream that does not shrink below this fraction of its size is stored.
    static let storeThreshold = 0.95

    private let level: Int32
    // Created on first use: a decoding worker never pays for deflate state.
    private lazy var huffman = RawDeflater(level: 1, strategy: Z_HUFFMAN_ONLY)
    private lazy var lz: RawDeflater? = level > 0 ? RawDeflater(level: level, strategy: Z_DEFAULT_STRATEGY) : nil
    private lazy var inflater = RawInflater()
    private var scratch: UnsafeMutableRawBufferPointer
    private var packed: UnsafeMutableRawBufferPointer

    /// - Parameter level: the zlib level for the LZ77 attempt; 0 tries Huffman-only alone.
    init(level: Int32, chunkSize: Int) {
        self.level = level
        scratch = .allocate(byteCount: max(chunkSize, 1), alignment: 64)
        packed = .allocate(byteCount: RawDeflater.bound(chunkSize), alignment: 64)
    }

    deinit {
        scratch.deallocate()
        packed.deallocate()
    }

    /// The encoded chunk for `raw` (a whole number of elements, at most the chunk size).
    func encode(_ raw: UnsafeRawBufferPointer, filter: STZFilter) -> [UInt8] {
        let streams = filter.streamCount
        let streamLength = raw.count / streams
        let grouped = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<raw.count])
        filter.split(raw, into: grouped)
        var header: [UInt8] = [UInt8(streams)]
        var body: [UInt8] = []
        body.reserveCapacity(raw.count)
        for s in 0..<streams {
            let stream = UnsafeRawBufferPointer(rebasing: grouped[(s * streamLength)..<((s + 1) * streamLength)])
            var mode: UInt8 = 0
            var best = stream.count
            let limit = Int(Double(stream.count) * STZChunkCodec.storeThreshold)
            let out = UnsafeMutableRawBufferPointer(rebasing: packed[0..<RawDeflater.bound(stream.count)])
            var bestBytes: UnsafeRawBufferPointer = stream
            if let n = huffman.deflate(stream, into: out), n < limit {
                mode = 1
                best = n
                bestBytes = UnsafeRawBufferPointer(rebasing: out[0..<n])
            }
            // LZ77 pays where bytes repeat (zeros, constant or integer tensors); on a
            // weight stream that Huffman barely shrinks it only costs time, so skip it there.
            var lzResult: [UInt8]?
            if let lz, mode == 1, best < stream.count / 2 {
                let second = UnsafeMutableRawBufferPointer.allocate(byteCount: RawDeflater.bound(stream.count), alignment: 64)
                defer { second.deallocate() }
                if let n = lz.deflate(stream, into: second), n < best {
                    best = n
                    lzResult = Array(UnsafeRawBufferPointer(rebasing: second[0..<n]))
                }
            }
            header.append(mode)
            for k in 0..<4 { header.append(UInt8(truncatingIfNeeded: UInt32(best) >> (8 * UInt32(k)))) }
            if let lzResult { body.append(contentsOf: lzResult) } else { body.append(contentsOf: bestBytes) }
        }
        return header + body
    }

    /// Decodes `chunk` into `output` (exactly the chunk's raw size); a reason on failure.
    func decode(_ chunk: UnsafeRawBufferPointer, filter: STZFilter, into output: UnsafeMutableRawBufferPointer) -> String? {
        let streams = filter.streamCount
        guard chunk.count >= 1 else { return "empty chunk" }
        guard Int(chunk[0]) == streams else { return "chunk has \(chunk[0]) streams, filter \(filter.rawValue) needs \(streams)" }
        guard output.count % streams == 0 else { return "chunk size \(output.count) is not a multiple of \(streams)" }
        let tableEnd = 1 + 5 * streams
        guard chunk.count >= tableEnd else { return "chunk stream table is truncated" }
        let streamLength = output.count / streams
        let direct = filter == .none
        let target = direct ? output : UnsafeMutableRawBufferPointer(rebasing: scratch[0..<output.count])
        var offset = tableEnd
        for s in 0..<streams {
            let mode = chunk[1 + 5 * s]
            let length = Int(chunk.loadUnaligned(fromByteOffset: 2 + 5 * s, as: UInt32.self).littleEndian)
            guard length <= chunk.count - offset else { return "stream \(s) runs past the end of the chunk" }
            let source = UnsafeRawBufferPointer(rebasing: chunk[offset..<(offset + length)])
            let destination = UnsafeMutableRawBufferPointer(rebasing: target[(s * streamLength)..<((s + 1) * streamLength)])
            switch mode {
            case 0:
                guard length == streamLength else { return "stored stream \(s) has \(length) bytes, expected \(streamLength)" }
                if length > 0 { destination.copyMemory(from: source) }
            case 1:
                guard inflater.inflate(source, into: destination) else { return "stream \(s) does not inflate to \(streamLength) bytes" }
            default:
                return "stream \(s) has unknown mode \(mode)"
            }
            offset += length
        }
        guard offset == chunk.count else { return "\(chunk.count - offset) unused bytes after the streams" }
        if !direct { filter.merge(UnsafeRawBufferPointer(target), into: output) }
        return nil
    }
}

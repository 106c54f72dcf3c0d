import CRetortKernels
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
    private lazy var packed = UnsafeMutableRawBufferPointer.allocate(byteCount: RawDeflater.bound(chunkSize), alignment: 64)
    private lazy var scratch2 = UnsafeMutableRawBufferPointer.allocate(byteCount: RawDeflater.bound(chunkSize), alignment: 64)
    private var usedEncoding = false
    private let chunkSize: Int

    /// - Parameter level: the zlib level for the LZ77 attempt; 0 tries Huffman-only alone.
    init(level: Int32, chunkSize: Int) {
        self.level = level
        self.chunkSize = chunkSize
        scratch = .allocate(byteCount: max(chunkSize, 1), alignment: 64)
    }

    deinit {
        scratch.deallocate()
        if usedEncoding {
            packed.deallocate()
            scratch2.deallocate()
        }
    }

    /// The encoded chunk for `raw` (a whole number of elements, at most the chunk size).
    ///
    /// A stream whose byte histogram already says it cannot shrink below the store
    /// threshold (the mantissa bytes of trained weights) is stored without trying the coder.
    func encode(_ raw: UnsafeRawBufferPointer, filter: STZFilter) -> [UInt8] {
        let streams = filter.streamCount
        let streamLength = raw.count / streams
        usedEncoding = true
        let grouped = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<raw.count])
        filter.split(raw, into: grouped)
        var out = [UInt8](repeating: 0, count: 1 + 5 * streams)
        out.reserveCapacity(1 + 5 * streams + raw.count)
        out[0] = UInt8(streams)
        for s in 0..<streams {
            let stream = UnsafeRawBufferPointer(rebasing: grouped[(s * streamLength)..<((s + 1) * streamLength)])
            let limit = Int(Double(stream.count) * STZChunkCodec.storeThreshold)
            var mode: UInt8 = 0
            var length = stream.count
            let entropyBytes =
                stream.count == 0
                ? 0 : retort_entropy_bits(stream.baseAddress!.assumingMemoryBound(to: UInt8.self), stream.count) / 8
            if entropyBytes < Double(limit) {
                let packedOut = UnsafeMutableRawBufferPointer(rebasing: packed[0..<RawDeflater.bound(stream.count)])
                if let n = huffman.deflate(stream, into: packedOut), n < limit {
                    // LZ77 pays where bytes repeat (zeros, constants, small integers), which shows as a
                    // Huffman code far below 8 bits a byte; on weight exponents it only costs time.
                    var best = UnsafeRawBufferPointer(rebasing: packedOut[0..<n])
                    if let lz, n < stream.count / 5 {
                        let second = UnsafeMutableRawBufferPointer(rebasing: scratch2[0..<RawDeflater.bound(stream.count)])
                        if let m = lz.deflate(stream, into: second), m < n {
                            best = UnsafeRawBufferPointer(rebasing: second[0..<m])
                        }
                    }
                    mode = 1
                    length = best.count
                    out.append(contentsOf: best)
                }
            }
            if mode == 0 { out.append(contentsOf: stream) }
            out[1 + 5 * s] = mode
            for k in 0..<4 { out[2 + 5 * s + k] = UInt8(truncatingIfNeeded: UInt32(length) >> (8 * UInt32(k))) }
        }
        return out
    }

    /// Decodes `chunk` into `output` (exactly the chunk's raw size); a reason on failure.
    ///
    /// Stored streams are read in place and deflated ones inflated into scratch space,
    /// and the filter merges them straight into `output`.
    func decode(_ chunk: UnsafeRawBufferPointer, filter: STZFilter, into output: UnsafeMutableRawBufferPointer) -> String? {
        let streams = filter.streamCount
        guard chunk.count >= 1 else { return "empty chunk" }
        guard Int(chunk[0]) == streams else { return "chunk has \(chunk[0]) streams, filter \(filter.rawValue) needs \(streams)" }
        guard output.count % streams == 0 else { return "chunk size \(output.count) is not a multiple of \(streams)" }
        let tableEnd = 1 + 5 * streams
        guard chunk.count >= tableEnd else { return "chunk stream table is truncated" }
        let streamLength = output.count / streams
        var sources: [UnsafeRawPointer] = []
        sources.reserveCapacity(streams)
        var offset = tableEnd
        for s in 0..<streams {
            let mode = chunk[1 + 5 * s]
            let length = Int(chunk.loadUnaligned(fromByteOffset: 2 + 5 * s, as: UInt32.self).littleEndian)
            guard length <= chunk.count - offset else { return "stream \(s) runs past the end of the chunk" }
            let source = UnsafeRawBufferPointer(rebasing: chunk[offset..<(offset + length)])
            switch mode {
            case 0:
                guard length == streamLength else { return "stored stream \(s) has \(length) bytes, expected \(streamLength)" }
                sources.append(chunk.baseAddress! + offset)
            case 1:
                // Without a filter the single stream inflates straight into place.
                let destination =
                    filter == .none
                    ? output : UnsafeMutableRawBufferPointer(rebasing: scratch[(s * streamLength)..<((s + 1) * streamLength)])
                guard inflater.inflate(source, into: destination) else {
                    return "stream \(s) does not inflate to \(streamLength) bytes"
                }
                sources.append(UnsafeRawPointer(destination.baseAddress!))
            default:
                return "stream \(s) has unknown mode \(mode)"
            }
            offset += length
        }
        guard offset == chunk.count else { return "\(chunk.count - offset) unused bytes after the streams" }
        if filter == .none && chunk[1] == 1 { return nil }
        filter.merge(sources, into: output)
        return nil
    }
}

import CRetortKernels
import CZlib

/// Encodes and decodes one `.stz` chunk: the filter's streams, each deflated
/// (keeping the smaller of Huffman-only and LZ77+Huffman) or stored.
///
/// Chunk layout: `u8 streamCount`, then per stream `u8 mode` (0 stored, 1 raw
/// deflate, 2 split deflate) and `u32 LE storedLength`, then the streams' bytes back to back.
///
/// The Huffman-only coder is `retort_huffman_deflate`: one dynamic block of literals
/// whose code (at most 12 bits) comes from the byte histogram the entropy check already
/// made, so the coded size is known before a bit is written. A long stream is split into
/// four parts coded with that one code (`retort_huffman_deflate_split`), which the reader
/// decodes in one interleaved loop, four table lookups in flight. Deflate streams decode
/// through `retort_huffman_inflate`/`_split` (several literals per table lookup); a stream
/// they do not take (matches from the LZ77 attempt, other writers' stored blocks, damage)
/// goes to libdeflate, whose verdict stands. A worker keeps one codec, so zlib's state (for
/// the LZ77 attempt) is allocated once per thread.
final class STZChunkCodec {
    /// A stream that does not shrink below this fraction of its size is stored.
    static let storeThreshold = 0.95

    private let level: Int32
    // Created on first use: a decoding worker never pays for deflate state.
    private lazy var lz: RawDeflater? = level > 0 ? RawDeflater(level: level, strategy: Z_DEFAULT_STRATEGY) : nil
    private lazy var inflater = RawInflater()
    private var scratch: UnsafeMutableRawBufferPointer
    private let histogram = UnsafeMutablePointer<UInt32>.allocate(capacity: 256)
    private var lzOutput: UnsafeMutableRawBufferPointer?
    private let chunkSize: Int

    /// - Parameter level: the zlib level for the LZ77 attempt; 0 tries Huffman-only alone.
    init(level: Int32, chunkSize: Int) {
        self.level = level
        self.chunkSize = chunkSize
        scratch = .allocate(byteCount: max(chunkSize, 1), alignment: 64)
    }

    deinit {
        scratch.deallocate()
        histogram.deallocate()
        lzOutput?.deallocate()
    }

    /// Room for the LZ77 attempt's output, allocated on first use.
    private func lzScratch() -> UnsafeMutableRawBufferPointer {
        if let lzOutput { return lzOutput }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: RawDeflater.bound(chunkSize), alignment: 64)
        lzOutput = buffer
        return buffer
    }

    /// The most bytes `encode` writes for a chunk of `rawCount` bytes (it stores 8 bytes at a
    /// time, so the buffer needs this much room, not just the encoded length).
    static func encodedCapacity(_ rawCount: Int) -> Int { rawCount + 1 + 5 * 8 + 64 }

    /// A stream at least this long is coded as a split stream (mode 2) of `splitParts` parts,
    /// which decode in one interleaved loop; shorter ones as one deflate stream (mode 1).
    static let splitMinimum = 32768
    static let splitParts: UInt32 = 4

    /// A stream at least this long is first judged from a sample (32 blocks of 512 bytes):
    /// one whose sample has at least `sampleRandomBits` bits of entropy a byte is stored
    /// without counting the rest. The store threshold is 0.95 × 8 = 7.6 bits a byte, and the
    /// sample's estimate errs low (by about 0.01 bit), so only streams that could not be
    /// coded below the threshold, or a rare one barely under it, are stored this way.
    static let sampleMinimum = 65536
    static let sampleRandomBits = 7.9

    /// Encodes `raw` (a whole number of elements, at most the chunk size) into `output`
    /// (at least `encodedCapacity(raw.count)` bytes); returns the encoded length.
    ///
    /// A stream whose byte histogram already says it cannot shrink below the store
    /// threshold (the mantissa bytes of trained weights) is stored without trying the coder.
    func encode(_ raw: UnsafeRawBufferPointer, filter: STZFilter, into output: UnsafeMutableRawBufferPointer) -> Int {
        let streams = filter.streamCount
        let streamLength = raw.count / streams
        let grouped = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<raw.count])
        filter.split(raw, into: grouped)
        let base = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        base[0] = UInt8(streams)
        var position = 1 + 5 * streams
        for s in 0..<streams {
            let stream = UnsafeRawBufferPointer(rebasing: grouped[(s * streamLength)..<((s + 1) * streamLength)])
            let limit = Int(Double(stream.count) * STZChunkCodec.storeThreshold)
            var mode: UInt8 = 0
            var length = 0
            let bytes = stream.baseAddress!.assumingMemoryBound(to: UInt8.self)
            // A long stream whose sample already looks random (mantissa bytes) is stored
            // without counting all of it.
            let random =
                stream.count >= STZChunkCodec.sampleMinimum
                && retort_sampled_entropy_bits_per_byte(bytes, stream.count) >= STZChunkCodec.sampleRandomBits
            if stream.count > 0 && !random {
                retort_byte_histogram(bytes, stream.count, histogram)
                let entropyBytes = retort_histogram_entropy_bits(histogram, stream.count) / 8
                if entropyBytes < Double(limit) {
                    let room = output.count - position
                    if stream.count >= STZChunkCodec.splitMinimum {
                        length = retort_huffman_deflate_split(
                            bytes, stream.count, histogram, STZChunkCodec.splitParts, limit, base + position, room)
                        mode = length > 0 ? 2 : 0
                    } else {
                        length = retort_huffman_deflate(bytes, stream.count, histogram, limit, base + position, room)
                        mode = length > 0 ? 1 : 0
                    }
                    // LZ77 pays where bytes repeat (zeros, constants, small integers), which shows as a
                    // Huffman code far below 8 bits a byte; on weight exponents it only costs time.
                    if mode != 0, let lz, length < stream.count / 5 {
                        let second = UnsafeMutableRawBufferPointer(rebasing: lzScratch()[0..<RawDeflater.bound(stream.count)])
                        if let m = lz.deflate(stream, into: second), m < length {
                            (base + position).update(
                                from: second.baseAddress!.assumingMemoryBound(to: UInt8.self), count: m)
                            mode = 1
                            length = m
                        }
                    }
                }
            }
            if mode == 0 {
                (base + position).update(from: stream.baseAddress!.assumingMemoryBound(to: UInt8.self), count: stream.count)
                length = stream.count
            }
            position += length
            base[1 + 5 * s] = mode
            for k in 0..<4 { base[2 + 5 * s + k] = UInt8(truncatingIfNeeded: UInt32(length) >> (8 * UInt32(k))) }
        }
        return position
    }

    /// Decodes `chunk` into `output` (exactly the chunk's raw size); a reason on failure.
    ///
    /// Stored streams are read in place and deflated ones inflated into scratch space,
    /// and the filter merges them straight into `output` (around the caches when `streaming`).
    func decode(
        _ chunk: UnsafeRawBufferPointer, filter: STZFilter, into output: UnsafeMutableRawBufferPointer, streaming: Bool = false
    ) -> String? {
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
            case 1, 2:
                // Without a filter the single stream inflates straight into place.
                let destination =
                    filter == .none
                    ? output : UnsafeMutableRawBufferPointer(rebasing: scratch[(s * streamLength)..<((s + 1) * streamLength)])
                if let reason = inflate(source, split: mode == 2, into: destination) { return "stream \(s) \(reason)" }
                sources.append(UnsafeRawPointer(destination.baseAddress!))
            default:
                return "stream \(s) has unknown mode \(mode)"
            }
            offset += length
        }
        guard offset == chunk.count else { return "\(chunk.count - offset) unused bytes after the streams" }
        if filter == .none && chunk[1] != 0 { return nil }
        filter.merge(sources, into: output, streaming: streaming)
        return nil
    }

    /// Inflates one coded stream (mode 1: a raw deflate stream; mode 2, `split`: its parts)
    /// into exactly `destination`; a reason on failure.
    ///
    /// Literal-only Huffman streams (what the writer makes) take the fast decoder; anything
    /// else, or damage, goes to libdeflate, whose verdict stands.
    private func inflate(_ source: UnsafeRawBufferPointer, split: Bool, into destination: UnsafeMutableRawBufferPointer)
        -> String?
    {
        let count = destination.count
        if source.count > 0 && count > 0 {
            let input = source.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let output = destination.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let fast =
                split
                ? retort_huffman_inflate_split(input, source.count, output, count)
                : retort_huffman_inflate(input, source.count, output, count)
            if fast == 0 { return nil }
        }
        guard split else {
            return inflater.inflate(source, into: destination) ? nil : "does not inflate to \(count) bytes"
        }
        guard source.count >= 1, (2...Int(RETORT_SPLIT_MAX_PARTS)).contains(Int(source[0])) else {
            return "is split into \(source.first.map(String.init) ?? "no") parts, not 2 to \(RETORT_SPLIT_MAX_PARTS)"
        }
        let parts = Int(source[0])
        var position = 1 + 4 * (parts - 1)
        guard source.count >= position else { return "split stream table is truncated" }
        for k in 0..<parts {
            let length =
                k + 1 < parts
                ? Int(source.loadUnaligned(fromByteOffset: 1 + 4 * k, as: UInt32.self).littleEndian) : source.count - position
            guard length <= source.count - position else { return "part \(k) runs past the end of the stream" }
            let begin = k * count / parts
            let end = (k + 1) * count / parts
            guard
                inflater.inflate(
                    UnsafeRawBufferPointer(rebasing: source[position..<(position + length)]),
                    into: UnsafeMutableRawBufferPointer(rebasing: destination[begin..<end]))
            else { return "part \(k) does not inflate to \(end - begin) bytes" }
            position += length
        }
        return nil
    }
}

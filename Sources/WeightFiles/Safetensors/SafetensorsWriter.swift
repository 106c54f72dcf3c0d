/// Writes safetensors files in the reference writer's canonical layout.
///
/// Tensors are ordered by dtype (descending in the reference's declaration order)
/// then by name (bytewise), packed with no gaps; the header is serde_json's compact
/// form with `__metadata__` first, padded with spaces to a multiple of 8 bytes.
/// For the same tensors and metadata (in the same key order) the output is
/// byte-identical to what the Python `safetensors` library writes.
public enum SafetensorsWriter {
    /// The tensors in canonical order.
    /// - Complexity: O(n log n)
    public static func canonicalOrder(_ tensors: [TensorInfo]) -> [TensorInfo] {
        tensors.sorted { a, b in
            if a.dtype != b.dtype { return a.dtype.declarationIndex > b.dtype.declarationIndex }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
    }

    /// The header (without the 8-byte length) for `tensors`, already in canonical
    /// order, and the data length.
    /// - Throws: `headerTooLarge` when the header exceeds the reference limit,
    ///   `duplicateTensor` when two tensors share a name.
    public static func header(for tensors: [TensorInfo], metadata: Metadata?) throws(WeightFileError)
        -> (bytes: [UInt8], dataLength: Int)
    {
        var names = Set<String>()
        var out: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        if let metadata {
            JSONWriter.appendString("__metadata__", to: &out)
            out.append(contentsOf: Array(":{".utf8))
            var firstPair = true
            for (key, value) in metadata {
                if !firstPair { out.append(UInt8(ascii: ",")) }
                firstPair = false
                JSONWriter.appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                JSONWriter.appendString(value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
            first = false
        }
        var offset = 0
        for tensor in tensors {
            guard names.insert(tensor.name).inserted, tensor.name != "__metadata__" else {
                throw .duplicateTensor(name: tensor.name)
            }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.appendString(tensor.name, to: &out)
            out.append(contentsOf: Array(":{\"dtype\":".utf8))
            JSONWriter.appendString(tensor.dtype.name, to: &out)
            out.append(contentsOf: Array(",\"shape\":[".utf8))
            for (i, dim) in tensor.shape.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.appendInteger(dim, to: &out)
            }
            out.append(contentsOf: Array("],\"data_offsets\":[".utf8))
            JSONWriter.appendInteger(offset, to: &out)
            out.append(UInt8(ascii: ","))
            offset += tensor.byteCount
            JSONWriter.appendInteger(offset, to: &out)
            out.append(contentsOf: Array("]}".utf8))
        }
        out.append(UInt8(ascii: "}"))
        while out.count % 8 != 0 { out.append(UInt8(ascii: " ")) }
        guard out.count <= SafetensorsHeader.maxHeaderLength else {
            throw .headerTooLarge(declared: UInt64(out.count), limit: SafetensorsHeader.maxHeaderLength)
        }
        return (out, offset)
    }

    /// Writes `tensors` and `metadata` to `path` through a temporary file renamed into place.
    ///
    /// `data` is asked for each tensor's bytes once, in canonical order, so a
    /// converter can produce (or decompress) one tensor at a time.
    /// - Parameters:
    ///   - inputs: paths that must not be overwritten (the files being converted).
    ///   - progress: called with (bytes written, total bytes) after each tensor.
    public static func write(
        tensors: [TensorInfo],
        metadata: Metadata?,
        to path: String,
        inputs: [String] = [],
        overwrite: Bool = true,
        data: (TensorInfo) throws(WeightFileError) -> TensorView,
        progress: ((Int, Int) -> Void)? = nil
    ) throws(WeightFileError) {
        let ordered = canonicalOrder(tensors)
        let (header, dataLength) = try header(for: ordered, metadata: metadata)
        let output = try AtomicOutputFile(path: path, inputs: inputs, overwrite: overwrite)
        do throws(WeightFileError) {
            try output.write(prefix(header))
            var written = 0
            for info in ordered {
                let view = try data(info)
                guard view.info.dtype == info.dtype, view.info.shape == info.shape else {
                    throw WeightFileError.tensorInvalidInfo(
                        tensor: info.name, expectedBytes: info.byteCount, declaredBytes: view.bytes.count)
                }
                try view.withUnsafeBytes { (bytes) throws(WeightFileError) in try output.write(bytes) }
                written += view.byteRange.count
                progress?(written, dataLength)
            }
            try output.commit()
        } catch {
            output.abandon()
            throw error
        }
    }

    /// Writes `tensors` (already in canonical order) and `metadata` to `path` from a stream of
    /// data bytes: `body` is handed a sink and must pass it every tensor's bytes, in order, in
    /// pieces of any size. Memory is the pieces', whatever the file's size.
    /// - Throws: `tensorInvalidInfo` (naming the last tensor) when `body` passes more or fewer
    ///   bytes than the tensors need.
    public static func writeStreaming(
        tensors ordered: [TensorInfo], metadata: Metadata?, to path: String, inputs: [String] = [], overwrite: Bool = true,
        progress: ((Int, Int) -> Void)? = nil,
        body: ((UnsafeRawBufferPointer) throws(WeightFileError) -> Void) throws(WeightFileError) -> Void
    ) throws(WeightFileError) {
        let (header, dataLength) = try header(for: ordered, metadata: metadata)
        let output = try AtomicOutputFile(path: path, inputs: inputs, overwrite: overwrite)
        do throws(WeightFileError) {
            try output.write(prefix(header))
            var written = 0
            try body { (bytes) throws(WeightFileError) in
                guard written + bytes.count <= dataLength else {
                    throw .tensorInvalidInfo(
                        tensor: ordered.last?.name ?? "", expectedBytes: dataLength, declaredBytes: written + bytes.count)
                }
                try output.write(bytes)
                written += bytes.count
                progress?(written, dataLength)
            }
            guard written == dataLength else {
                throw .tensorInvalidInfo(tensor: ordered.last?.name ?? "", expectedBytes: dataLength, declaredBytes: written)
            }
            try output.commit()
        } catch {
            output.abandon()
            throw error
        }
    }

    /// Writes `tensors` (already in canonical order) and `metadata` to `path` from pieces that
    /// arrive tensor by tensor in any order of tensors: `body` is handed a sink taking (the
    /// tensor's index in `ordered`, the piece's byte offset inside the tensor, the bytes) and must
    /// pass every tensor's bytes exactly once, each tensor's pieces in order. Each piece is written
    /// at its place in the file (`pwrite(2)`), so memory is the pieces' whatever the order.
    /// - Throws: `tensorInvalidInfo` naming the tensor when a piece is out of place or overruns
    ///   it, or when a tensor gets fewer bytes than it needs.
    public static func writePlaced(
        tensors ordered: [TensorInfo], metadata: Metadata?, to path: String, inputs: [String] = [], overwrite: Bool = true,
        progress: ((Int, Int) -> Void)? = nil,
        body: ((Int, Int, UnsafeRawBufferPointer) throws(WeightFileError) -> Void) throws(WeightFileError) -> Void
    ) throws(WeightFileError) {
        let (header, dataLength) = try header(for: ordered, metadata: metadata)
        let dataStart = 8 + header.count
        var starts: [Int] = []
        var next = dataStart
        for info in ordered {
            starts.append(next)
            next += info.byteCount
        }
        let output = try AtomicOutputFile(path: path, inputs: inputs, overwrite: overwrite)
        do throws(WeightFileError) {
            try output.write(prefix(header))
            var placed = [Int](repeating: 0, count: ordered.count)
            var written = 0
            try body { (index, offset, bytes) throws(WeightFileError) in
                let info = ordered[index]
                guard offset == placed[index], offset + bytes.count <= info.byteCount else {
                    throw .tensorInvalidInfo(tensor: info.name, expectedBytes: info.byteCount, declaredBytes: offset + bytes.count)
                }
                if bytes.count > 0 { try output.write(bytes, at: starts[index] + offset) }
                placed[index] += bytes.count
                written += bytes.count
                progress?(written, dataLength)
            }
            if let short = placed.indices.first(where: { placed[$0] != ordered[$0].byteCount }) {
                throw .tensorInvalidInfo(tensor: ordered[short].name, expectedBytes: ordered[short].byteCount, declaredBytes: placed[short])
            }
            try output.commit()
        } catch {
            output.abandon()
            throw error
        }
    }

    /// The file's first bytes: the header's length as a little-endian UInt64, then the header.
    private static func prefix(_ header: [UInt8]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * UInt64(i))) }
        return bytes + header
    }

    /// The safetensors bytes for `tensors` in memory.
    public static func serialize(_ tensors: [TensorView], metadata: Metadata?) throws(WeightFileError) -> [UInt8] {
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let ordered = canonicalOrder(tensors.map(\.info))
        let (header, dataLength) = try header(for: ordered, metadata: metadata)
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + dataLength)
        out.append(contentsOf: prefix(header))
        for info in ordered { out.append(contentsOf: byName[info.name]!.copyBytes()) }
        return out
    }
}

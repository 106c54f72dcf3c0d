/// A validated safetensors header: the tensors (in data order) and `__metadata__`.
///
/// Validation follows the reference reader (`safetensors/src/tensor.rs`) check by
/// check and in the same order, so a file gets the same error kind here as there;
/// on top of it, a tensor named twice is refused (`DuplicateTensor`) rather than
/// silently keeping one of the two.
public struct SafetensorsHeader: Sendable {
    /// The reference reader's limit on the header length.
    public static let maxHeaderLength = 100_000_000

    /// The metadata, in header order; `nil` when the header has no `__metadata__` field
    /// (an empty object and a missing field are kept apart so that a rewrite is byte-identical).
    public var metadata: Metadata?
    /// The tensors sorted by their data offsets, with absolute file offsets.
    public var tensors: [TensorInfo]
    /// Each tensor's `data_offsets`, parallel to `tensors`.
    public var dataOffsets: [Range<Int>]
    /// Each tensor's position in `tensors`, by name.
    public var positions: [String: Int]
    /// The header length N from the first 8 bytes (padding included).
    public var headerLength: Int
    /// The data area's start in the file: 8 + N.
    public var dataStart: Int { 8 + headerLength }
    /// The data area's length.
    public var dataLength: Int

    /// The total file size the header describes.
    public var fileSize: Int { dataStart + dataLength }

    /// Parses and validates the header at the start of `buffer`, which holds the whole file.
    ///
    /// Reads only the header bytes (plus the buffer's length), so on a memory map it
    /// touches only the header's pages.
    /// - Complexity: O(h + t log t) for a header of h bytes describing t tensors.
    public static func parse(file buffer: UnsafeRawBufferPointer) throws(WeightFileError) -> SafetensorsHeader {
        guard buffer.count >= 8 else { throw .headerTooSmall(fileSize: buffer.count) }
        let declared = UInt64(littleEndian: buffer.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(maxHeaderLength) else {
            throw .headerTooLarge(declared: declared, limit: maxHeaderLength)
        }
        let n = Int(declared)
        guard 8 + n <= buffer.count else { throw .invalidHeaderLength(declared: declared, fileSize: buffer.count) }
        return try parse(headerBytes: UnsafeRawBufferPointer(rebasing: buffer[8..<(8 + n)]), fileSize: buffer.count)
    }

    /// Parses the N header bytes (without the 8-byte length) of a file of `fileSize` bytes; nil
    /// when the size is not known yet (a compressed file read as a stream, whose size the caller
    /// checks against `fileSize` at the end).
    public static func parse(headerBytes: UnsafeRawBufferPointer, fileSize: Int?) throws(WeightFileError)
        -> SafetensorsHeader
    {
        let n = headerBytes.count
        if let bad = firstInvalidUTF8Offset(headerBytes) { throw .invalidHeader(offset: 8 + bad) }
        let root: JSONValue
        do {
            root = try JSONParser.parse(headerBytes)
        } catch {
            throw .invalidHeaderDeserialization(reason: error.reason, offset: 8 + error.offset)
        }
        guard case .object(let members) = root else {
            throw .invalidHeaderDeserialization(reason: "the header is \(root.kindDescription), not an object", offset: 8)
        }

        var metadata: Metadata?
        var sawMetadata = false
        var entries: [(name: String, dtype: DType, shape: [UInt64], begin: UInt64, end: UInt64)] = []
        entries.reserveCapacity(members.count)
        for member in members {
            if member.key == "__metadata__" {
                guard !sawMetadata else {
                    throw .invalidHeaderDeserialization(reason: "duplicate field `__metadata__`", offset: 8 + member.offset)
                }
                metadata = try parseMetadata(member)
                sawMetadata = true
                continue
            }
            entries.append(try parseTensorEntry(member))
        }

        // The reference sorts by (begin, end); Swift's sort is not stable, so break ties by header order.
        let order = entries.indices.sorted {
            (entries[$0].begin, entries[$0].end, $0) < (entries[$1].begin, entries[$1].end, $1)
        }
        var tensors: [TensorInfo] = []
        var dataOffsets: [Range<Int>] = []
        var positions: [String: Int] = [:]
        tensors.reserveCapacity(entries.count)
        dataOffsets.reserveCapacity(entries.count)
        positions.reserveCapacity(entries.count)
        var start: UInt64 = 0
        for index in order {
            let entry = entries[index]
            // One hash pass serves both the duplicate check and the name index.
            if positions.updateValue(tensors.count, forKey: entry.name) != nil { throw .duplicateTensor(name: entry.name) }
            if entry.begin != start || entry.end < entry.begin {
                throw .invalidOffset(tensor: entry.name, expectedBegin: Int(start), begin: entry.begin, end: entry.end)
            }
            start = entry.end
            var elements: UInt64 = 1
            for dim in entry.shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
                if overflow { throw .validationOverflow(tensor: entry.name, shape: entry.shape) }
                elements = product
            }
            let (bits, overflow) = elements.multipliedReportingOverflow(by: UInt64(entry.dtype.bitWidth))
            // Shapes are stored as Int: a dimension above Int.max is refused even when another is 0.
            if overflow || entry.shape.contains(where: { $0 > UInt64(Int.max) }) {
                throw .validationOverflow(tensor: entry.name, shape: entry.shape)
            }
            if bits % 8 != 0 { throw .misalignedSlice(tensor: entry.name, bits: Int(bits)) }
            let size = bits / 8
            if entry.end - entry.begin != size {
                throw .tensorInvalidInfo(
                    tensor: entry.name, expectedBytes: Int(clamping: size), declaredBytes: Int(clamping: entry.end - entry.begin))
            }
            // Every offset is now bounded by a validated size; the file-size check follows.
            tensors.append(
                TensorInfo(
                    name: entry.name, dtype: entry.dtype, shape: entry.shape.map { Int($0) },
                    fileOffset: nil))
            dataOffsets.append(Int(clamping: entry.begin)..<Int(clamping: entry.end))
        }
        let (expected, overflow) = start.addingReportingOverflow(UInt64(8 + n))
        if overflow || expected > UInt64(Int.max) || (fileSize.map { expected != UInt64($0) } ?? false) {
            throw .metadataIncompleteBuffer(expectedFileSize: Int(clamping: expected), fileSize: fileSize ?? Int.max)
        }
        for i in tensors.indices { tensors[i].fileOffset = 8 + n + dataOffsets[i].lowerBound }
        return SafetensorsHeader(
            metadata: metadata, tensors: tensors, dataOffsets: dataOffsets, positions: positions, headerLength: n,
            dataLength: Int(start))
    }

    /// The `__metadata__` object, or nil for `null` (which the reference treats as absent).
    private static func parseMetadata(_ member: JSONMember) throws(WeightFileError) -> Metadata? {
        var metadata = Metadata()
        switch member.value {
        case .null:
            return nil
        case .object(let pairs):
            var keys = Set<String>()
            for pair in pairs {
                guard case .string(let value) = pair.value else {
                    throw .invalidHeaderDeserialization(
                        reason: "__metadata__ value for `\(pair.key)` is \(pair.value.kindDescription), not a string",
                        offset: 8 + pair.offset)
                }
                guard keys.insert(pair.key).inserted else {
                    throw .invalidHeaderDeserialization(
                        reason: "duplicate __metadata__ key `\(pair.key)`", offset: 8 + pair.offset)
                }
                metadata[pair.key] = value
            }
            return metadata
        default:
            throw .invalidHeaderDeserialization(
                reason: "__metadata__ is \(member.value.kindDescription), not an object of strings", offset: 8 + member.offset)
        }
    }

    private static func parseTensorEntry(_ member: JSONMember) throws(WeightFileError)
        -> (name: String, dtype: DType, shape: [UInt64], begin: UInt64, end: UInt64)
    {
        let name = member.key
        func fail(_ reason: String) -> WeightFileError {
            .invalidHeaderDeserialization(reason: "tensor `\(name)`: \(reason)", offset: 8 + member.offset)
        }
        guard case .object(let fields) = member.value else {
            throw fail("expected an object with dtype, shape and data_offsets, found \(member.value.kindDescription)")
        }
        var dtype: DType?
        var shape: [UInt64]?
        var offsets: (UInt64, UInt64)?
        var seen = Set<String>()
        for field in fields {
            guard seen.insert(field.key).inserted else { throw fail("duplicate field `\(field.key)`") }
            switch field.key {
            case "dtype":
                guard case .string(let text) = field.value else { throw fail("dtype is \(field.value.kindDescription)") }
                guard let parsed = DType(name: text) else { throw fail("unknown dtype `\(text)`") }
                dtype = parsed
            case "shape":
                guard case .array(let dims) = field.value else { throw fail("shape is \(field.value.kindDescription)") }
                var parsed: [UInt64] = []
                parsed.reserveCapacity(dims.count)
                for dim in dims {
                    guard let value = dim.uint64 else {
                        throw fail("shape dimension is \(dim.kindDescription), not a non-negative integer below 2^64")
                    }
                    parsed.append(value)
                }
                shape = parsed
            case "data_offsets":
                guard case .array(let pair) = field.value, pair.count == 2 else {
                    throw fail("data_offsets must be an array of two integers")
                }
                guard let begin = pair[0].uint64, let end = pair[1].uint64 else {
                    throw fail("data_offsets must be non-negative integers below 2^64")
                }
                offsets = (begin, end)
            default:
                continue  // The reference reader ignores unknown fields.
            }
        }
        guard let dtype else { throw fail("missing field `dtype`") }
        guard let shape else { throw fail("missing field `shape`") }
        guard let offsets else { throw fail("missing field `data_offsets`") }
        return (name, dtype, shape, offsets.0, offsets.1)
    }
}

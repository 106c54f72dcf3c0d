/// The validated header of a GGUF file: version, typed metadata, tensor descriptions, data section.
///
/// Parsing never reads outside the buffer and never allocates more than a small multiple of the
/// file's size: every count is checked against the bytes left before anything is reserved.
public struct GGUFHeader: Sendable {
    /// The GGUF version: 2 or 3 (they share one layout; 3 allowed big-endian files, which Retort refuses).
    public let version: UInt32
    /// Every metadata key and value, in file order.
    public let values: [(key: String, value: GGUFValue)]
    /// Every tensor, in file order.
    public let tensors: [GGUFTensor]
    /// The data section's alignment: `general.alignment`, or 32.
    public let alignment: Int
    /// Where the data section starts: the first multiple of `alignment` after the tensor infos.
    public let dataStart: Int

    /// The four bytes every GGUF file starts with.
    public static let magic: [UInt8] = Array("GGUF".utf8)
    /// The alignment when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// The most dimensions a tensor may have (ggml `GGML_MAX_DIMS`).
    public static let maxDimensions = 4
    /// The deepest nesting of arrays inside arrays accepted.
    public static let maxArrayDepth = 32

    /// Parses and validates the header of the GGUF file in `bytes`.
    /// - Complexity: O(header), independent of the tensor data's size.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(WeightFileError) -> GGUFHeader {
        var reader = GGUFByteReader(bytes: bytes)
        guard bytes.count >= 4 else {
            throw .ggufInvalid(reason: "the file has \(bytes.count) bytes, too few for the GGUF magic", offset: 0)
        }
        guard bytes[0] == 0x47, bytes[1] == 0x47, bytes[2] == 0x55, bytes[3] == 0x46 else {
            let found = (0..<4).map { String(bytes[$0], radix: 16) }.joined(separator: " ")
            throw .ggufInvalid(reason: "not a GGUF file: the magic is \(found), not 47 47 55 46 (\"GGUF\")", offset: 0)
        }
        reader.position = 4
        let version = try reader.u32("version")
        if version != 0 && version & 0xFFFF == 0 {
            throw .ggufInvalid(
                reason:
                    "big-endian GGUF file (the version field reads \(version.byteSwapped) byte-swapped); only little-endian files are read",
                offset: 4)
        }
        if version == 1 {
            throw .ggufInvalid(reason: "GGUF version 1 (32-bit counts) is not supported; versions 2 and 3 are", offset: 4)
        }
        guard version == 2 || version == 3 else {
            throw .ggufInvalid(reason: "unsupported GGUF version \(version); versions 2 and 3 are read", offset: 4)
        }
        let tensorCountOffset = reader.position
        let tensorCount = try reader.u64("tensor count")
        let valueCountOffset = reader.position
        let valueCount = try reader.u64("metadata count")
        // A tensor info takes at least 24 bytes (name length, n_dims, type, offset), a key-value at least 13.
        guard tensorCount <= UInt64(reader.remaining / 24) else {
            throw .ggufInvalid(
                reason:
                    "tensor count \(tensorCount) cannot fit in the \(reader.remaining) bytes left (each tensor info takes at least 24)",
                offset: tensorCountOffset)
        }
        guard valueCount <= UInt64(reader.remaining / 13) else {
            throw .ggufInvalid(
                reason:
                    "metadata count \(valueCount) cannot fit in the \(reader.remaining) bytes left (each key-value takes at least 13)",
                offset: valueCountOffset)
        }

        var values: [(key: String, value: GGUFValue)] = []
        values.reserveCapacity(Int(valueCount))
        var keyPositions: [String: Int] = [:]
        var alignment = defaultAlignment
        for _ in 0..<Int(valueCount) {
            let keyOffset = reader.position
            let key = try reader.string("metadata key")
            if keyPositions[key] != nil {
                throw .ggufInvalid(reason: "metadata key `\(key)` appears twice", offset: keyOffset)
            }
            let typeOffset = reader.position
            let type = try reader.valueType("type of `\(key)`")
            let value = try reader.value(of: type, depth: 0, key: key)
            if key == "general.alignment" {
                guard case .uint32(let a) = value else {
                    throw .ggufInvalid(reason: "general.alignment must be a uint32, not \(type)", offset: typeOffset)
                }
                guard a != 0 && a & (a - 1) == 0 else {
                    throw .ggufInvalid(reason: "general.alignment \(a) is not a nonzero power of two", offset: typeOffset + 4)
                }
                alignment = Int(a)
            }
            keyPositions[key] = values.count
            values.append((key: key, value: value))
        }

        var tensors: [GGUFTensor] = []
        tensors.reserveCapacity(Int(tensorCount))
        var names: Set<String> = []
        for _ in 0..<Int(tensorCount) {
            let tensor = try reader.tensorInfo()
            guard names.insert(tensor.name).inserted else { throw .duplicateTensor(name: tensor.name) }
            tensors.append(tensor)
        }

        // The data section starts at the next multiple of the alignment (the file may end before it
        // when there are no tensors).
        let infoEnd = reader.position
        let dataStart = (infoEnd + alignment - 1) / alignment * alignment
        var resolved = tensors
        for i in resolved.indices {
            let t = resolved[i]
            guard t.relativeOffset % alignment == 0 else {
                throw .ggufInvalid(
                    reason: "tensor `\(t.name)` has offset \(t.relativeOffset), not a multiple of the alignment \(alignment)",
                    offset: infoEnd)
            }
            let (start, o1) = dataStart.addingReportingOverflow(t.relativeOffset)
            let (end, o2) = start.addingReportingOverflow(t.byteCount)
            guard !o1, !o2, end <= bytes.count else {
                throw .ggufInvalid(
                    reason:
                        "tensor `\(t.name)` (\(t.byteCount) bytes at data offset \(t.relativeOffset)) runs past the end of the \(bytes.count)-byte file",
                    offset: dataStart)
            }
            resolved[i].fileOffset = start
        }
        // No two tensors may share bytes.
        let order = resolved.indices.sorted { (resolved[$0].fileOffset, $0) < (resolved[$1].fileOffset, $1) }
        for (a, b) in zip(order, order.dropFirst()) {
            let first = resolved[a]
            let second = resolved[b]
            if first.byteCount > 0 && second.byteCount > 0 && first.fileOffset + first.byteCount > second.fileOffset {
                throw .ggufInvalid(
                    reason:
                        "tensors `\(first.name)` (bytes \(first.fileOffset)..<\(first.fileOffset + first.byteCount)) and `\(second.name)` (from byte \(second.fileOffset)) overlap",
                    offset: second.fileOffset)
            }
        }
        return GGUFHeader(version: version, values: values, tensors: resolved, alignment: alignment, dataStart: dataStart)
    }
}

/// A bounds-checked little-endian reader over the header bytes; every failure names its offset.
struct GGUFByteReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    var remaining: Int { bytes.count - position }

    private func truncated(_ what: String, needs: Int) -> WeightFileError {
        .ggufInvalid(
            reason: "truncated: \(what) needs \(needs) bytes, only \(remaining) are left in the \(bytes.count)-byte file",
            offset: position)
    }

    mutating func load<T: FixedWidthInteger>(_ what: @autoclosure () -> String, as: T.Type) throws(WeightFileError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw truncated(what(), needs: size) }
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
        position += size
        return v
    }

    mutating func u32(_ what: @autoclosure () -> String) throws(WeightFileError) -> UInt32 { try load(what(), as: UInt32.self) }
    mutating func u64(_ what: @autoclosure () -> String) throws(WeightFileError) -> UInt64 { try load(what(), as: UInt64.self) }

    mutating func valueType(_ what: @autoclosure () -> String) throws(WeightFileError) -> GGUFValueType {
        let offset = position
        let raw = try u32(what())
        guard let type = GGUFValueType(rawValue: raw) else {
            throw .ggufInvalid(reason: "\(what()) is \(raw), not a GGUF value type (0–12)", offset: offset)
        }
        return type
    }

    /// A u64 length and that many bytes of UTF-8.
    mutating func string(_ what: @autoclosure () -> String) throws(WeightFileError) -> String {
        let lengthOffset = position
        let length = try u64("length of \(what())")
        guard length <= UInt64(remaining) else {
            throw .ggufInvalid(
                reason: "\(what()) is \(length) bytes long but only \(remaining) bytes are left", offset: lengthOffset)
        }
        let range = position..<(position + Int(length))
        let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
        if let bad = firstInvalidUTF8Offset(slice) {
            throw .ggufInvalid(reason: "\(what()) is not valid UTF-8", offset: position + bad)
        }
        position = range.upperBound
        return String(decoding: slice, as: UTF8.self)
    }

    /// `count` consecutive little-endian values of `T`, copied.
    mutating func scalars<T: FixedWidthInteger>(_ count: Int, as: T.Type) -> [T] {
        let size = MemoryLayout<T>.size
        let start = position
        position += count * size
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                buffer[i] = T(littleEndian: bytes.loadUnaligned(fromByteOffset: start + i * size, as: T.self))
            }
            initialized = count
        }
    }

    mutating func bool(_ what: @autoclosure () -> String) throws(WeightFileError) -> Bool {
        let offset = position
        let b = try load(what(), as: UInt8.self)
        guard b <= 1 else { throw .ggufInvalid(reason: "\(what()) is a bool stored as \(b), not 0 or 1", offset: offset) }
        return b == 1
    }

    mutating func value(of type: GGUFValueType, depth: Int, key: String) throws(WeightFileError) -> GGUFValue {
        let what = "value of `\(key)`"
        switch type {
        case .uint8: return .uint8(try load(what, as: UInt8.self))
        case .int8: return .int8(try load(what, as: Int8.self))
        case .uint16: return .uint16(try load(what, as: UInt16.self))
        case .int16: return .int16(try load(what, as: Int16.self))
        case .uint32: return .uint32(try load(what, as: UInt32.self))
        case .int32: return .int32(try load(what, as: Int32.self))
        case .uint64: return .uint64(try load(what, as: UInt64.self))
        case .int64: return .int64(try load(what, as: Int64.self))
        case .float32: return .float32(Float(bitPattern: try load(what, as: UInt32.self)))
        case .float64: return .float64(Double(bitPattern: try load(what, as: UInt64.self)))
        case .bool: return .bool(try bool(what))
        case .string: return .string(try string(what))
        case .array: return .array(try array(depth: depth, key: key))
        }
    }

    /// An element type, a u64 count and the elements; the count is capped by the bytes left.
    mutating func array(depth: Int, key: String) throws(WeightFileError) -> GGUFArray {
        let start = position
        guard depth < GGUFHeader.maxArrayDepth else {
            throw .ggufInvalid(
                reason: "`\(key)` nests arrays deeper than \(GGUFHeader.maxArrayDepth) levels", offset: start)
        }
        let elementType = try valueType("element type of the array `\(key)`")
        let countOffset = position
        let count64 = try u64("element count of the array `\(key)`")
        guard count64 <= UInt64(remaining / elementType.minimumByteCount) else {
            throw .ggufInvalid(
                reason:
                    "array `\(key)` claims \(count64) \(elementType) elements, more than the \(remaining) bytes left can hold",
                offset: countOffset)
        }
        let count = Int(count64)
        switch elementType {
        case .uint8: return .uint8(scalars(count, as: UInt8.self))
        case .int8: return .int8(scalars(count, as: Int8.self))
        case .uint16: return .uint16(scalars(count, as: UInt16.self))
        case .int16: return .int16(scalars(count, as: Int16.self))
        case .uint32: return .uint32(scalars(count, as: UInt32.self))
        case .int32: return .int32(scalars(count, as: Int32.self))
        case .uint64: return .uint64(scalars(count, as: UInt64.self))
        case .int64: return .int64(scalars(count, as: Int64.self))
        case .float32: return .float32(scalars(count, as: UInt32.self).map(Float.init(bitPattern:)))
        case .float64: return .float64(scalars(count, as: UInt64.self).map(Double.init(bitPattern:)))
        case .bool:
            var result = [Bool]()
            result.reserveCapacity(count)
            for i in 0..<count { result.append(try bool("element \(i) of `\(key)`")) }
            return .bool(result)
        case .string:
            var result = [String]()
            result.reserveCapacity(count)
            for i in 0..<count { result.append(try string("element \(i) of `\(key)`")) }
            return .string(result)
        case .array:
            var result = [GGUFArray]()
            result.reserveCapacity(count)
            for _ in 0..<count { result.append(try array(depth: depth + 1, key: key)) }
            return .array(result)
        }
    }

    /// Name, n_dims, dimensions (fastest first), type, offset; sizes checked for overflow.
    mutating func tensorInfo() throws(WeightFileError) -> GGUFTensor {
        let name = try string("tensor name")
        let dimsOffset = position
        let dimensionCount = try u32("n_dims of tensor `\(name)`")
        guard dimensionCount <= UInt32(GGUFHeader.maxDimensions) else {
            throw .ggufInvalid(
                reason: "tensor `\(name)` has \(dimensionCount) dimensions; at most \(GGUFHeader.maxDimensions) are allowed",
                offset: dimsOffset)
        }
        var dimensions: [Int] = []
        // The product of the nonzero dimensions bounds every partial product in any order (shape
        // is the reverse of this), and 8 bytes per element must fit too (the F32 a block type decodes to).
        var nonzeroProduct = 1
        var overflow = false
        for k in 0..<Int(dimensionCount) {
            let offset = position
            let d = try u64("dimension \(k) of tensor `\(name)`")
            guard d <= UInt64(Int64.max) else {
                throw .ggufInvalid(reason: "dimension \(k) of tensor `\(name)` is \(d), more than 2^63 − 1", offset: offset)
            }
            dimensions.append(Int(d))
            let (product, o) = nonzeroProduct.multipliedReportingOverflow(by: max(Int(d), 1))
            nonzeroProduct = product
            overflow = overflow || o || product > Int.max / 8
        }
        let typeOffset = position
        let rawType = try u32("type of tensor `\(name)`")
        let offsetOffset = position
        let offset = try u64("offset of tensor `\(name)`")
        if overflow {
            throw .ggufInvalid(
                reason: "tensor `\(name)` has dimensions \(dimensions) whose product overflows (2^60 elements at most)",
                offset: dimsOffset)
        }
        let elements = dimensions.reduce(1, *)
        guard let type = GGMLType(rawValue: rawType) else {
            let known = GGMLType.removed[rawType].map { " (\($0), removed from ggml)" } ?? ""
            throw .ggufInvalid(
                reason: "tensor `\(name)` has ggml type \(rawType)\(known), which has no known block size", offset: typeOffset)
        }
        let fastest = dimensions.first ?? 1
        guard fastest % type.blockSize == 0 else {
            throw .ggufInvalid(
                reason:
                    "tensor `\(name)` of type \(type.name) has \(fastest) elements per row, not a multiple of the block size \(type.blockSize)",
                offset: dimsOffset)
        }
        let (byteCount, o) = (elements / type.blockSize).multipliedReportingOverflow(by: type.typeSize)
        guard !o, offset <= UInt64(Int64.max) else {
            throw .ggufInvalid(
                reason: "tensor `\(name)`'s size or offset overflows 64 bits", offset: o ? dimsOffset : offsetOffset)
        }
        return GGUFTensor(
            name: name, type: type, dimensions: dimensions, relativeOffset: Int(offset), fileOffset: 0, byteCount: byteCount)
    }
}

/// Everything that can go wrong reading, writing or converting a weight file.
///
/// Each case carries the tensor, offset or value at fault, so that the message
/// says what is wrong and where. The safetensors cases carry the names of the
/// reference reader's errors (`HeaderTooSmall`, `InvalidOffset`, …), see `kind`.
public enum WeightFileError: Error, Equatable, Sendable {
    // MARK: Files
    /// A system call failed on `path`.
    case io(path: String, operation: String, message: String)
    /// The output path is the input path (or the same file): converting would destroy the input.
    case outputIsInput(path: String)
    /// The output exists and overwriting was not allowed.
    case outputExists(path: String)
    /// The output path names a directory, FIFO, device or socket (`kind`), which is never replaced by a file.
    case outputNotRegularFile(path: String, kind: String)
    /// An output folder cannot be written or replaced, for `reason` (`OutputDirectory`).
    case outputDirectory(path: String, reason: String)
    /// The file's format was recognised but is not supported yet (`detected` names it).
    case unsupportedFormat(detected: String)
    /// Neither the magic bytes nor the extension identify a readable format.
    case unknownFormat(reason: String)
    /// The output format (`format`, such as ".npz") cannot hold the input, for `reason`.
    case cannotWrite(format: String, reason: String)

    // MARK: safetensors (the reference reader's checks, in its order)
    /// Fewer than 8 bytes: there is no header length.
    case headerTooSmall(fileSize: Int)
    /// The declared header length exceeds the 100,000,000-byte limit.
    case headerTooLarge(declared: UInt64, limit: Int)
    /// 8 + the declared header length runs past the end of the file.
    case invalidHeaderLength(declared: UInt64, fileSize: Int)
    /// The header is not valid UTF-8; `offset` is the first bad byte, counted from the file start.
    case invalidHeader(offset: Int)
    /// The header is not the expected JSON: syntax, an unknown dtype, a negative or
    /// non-integer dimension, non-string metadata, a missing field. `offset` counts from the file start.
    case invalidHeaderDeserialization(reason: String, offset: Int)
    /// Sorted by offsets, the tensors do not tile the data area: `tensor` should
    /// begin at `expectedBegin` but its offsets are `[begin, end]`.
    case invalidOffset(tensor: String, expectedBegin: Int, begin: UInt64, end: UInt64)
    /// The element count or bit count of `tensor`'s shape overflows.
    case validationOverflow(tensor: String, shape: [UInt64])
    /// `tensor`'s total bit count is not a multiple of 8 (packed sub-byte types).
    case misalignedSlice(tensor: String, bits: Int)
    /// `tensor`'s offsets span `declaredBytes` but its dtype and shape need `expectedBytes`.
    case tensorInvalidInfo(tensor: String, expectedBytes: Int, declaredBytes: Int)
    /// The tensors end at `expectedFileSize` but the file has `fileSize` bytes.
    case metadataIncompleteBuffer(expectedFileSize: Int, fileSize: Int)
    /// The header names the same tensor twice.
    case duplicateTensor(name: String)
    /// No tensor of that name.
    case tensorNotFound(name: String)

    // MARK: Sharded checkpoints
    /// `model.safetensors.index.json` is not the expected JSON.
    case invalidIndex(reason: String)
    /// The index maps `tensor` to `file`, which does not exist.
    case shardMissing(file: String, tensor: String)
    /// `tensor` is stored in more than one shard.
    case shardDuplicateTensor(tensor: String, files: [String])
    /// The index maps `tensor` to `file`, but that shard does not contain it.
    case shardTensorAbsent(tensor: String, file: String)
    /// A shard is itself invalid.
    indirect case inShard(file: String, error: WeightFileError)

    // MARK: NPY / NPZ
    /// The file does not start with `\x93NUMPY`.
    case npyBadMagic
    /// The format version is not 1.0, 2.0 or 3.0.
    case npyUnsupportedVersion(major: UInt8, minor: UInt8)
    /// The header dictionary is malformed.
    case npyBadHeader(reason: String)
    /// The array holds Python objects (a pickle); refused.
    case npyObjectDType(descr: String)
    /// The array has a structured (record) dtype; refused.
    case npyStructuredDType(descr: String)
    /// A dtype descriptor Retort cannot represent.
    case npyUnsupportedDType(descr: String)
    /// The data is shorter than the header's shape and dtype require (trailing bytes are ignored, as NumPy ignores them).
    case npyDataSize(expected: Int, actual: Int)
    /// The header's shape (as written) has more elements, or its data more bytes, than fit in an `Int`.
    case npyShapeOverflow(shape: String, descr: String)
    /// The zip archive is malformed at `offset`.
    case zipInvalid(reason: String, offset: Int)
    /// A zip entry uses a compression method other than stored (0) or deflate (8).
    case zipUnsupportedCompression(entry: String, method: UInt16)
    /// An entry inflates to more than its declared size, or than the cap.
    case decompressedSizeExceeded(entry: String, limit: Int)
    /// An entry's CRC-32 does not match its contents.
    case zipChecksum(entry: String)

    // MARK: Compressed streams
    /// The gzip or zlib stream ends before its end marker.
    case compressedTruncated(format: String)
    /// The gzip CRC-32 or zlib Adler-32 trailer does not match the data.
    case compressedChecksum(format: String)
    /// The compressed stream is corrupt (zlib's message).
    case compressedCorrupt(format: String, message: String)
    /// Bytes follow the end of the compressed stream.
    case compressedTrailingData(format: String)

    // MARK: .stz
    /// The `.stz` container is malformed (bad magic, footer, header JSON or field); `offset` counts from the file start.
    case stzInvalid(reason: String, offset: Int)
    /// The container's version is not one this reader knows.
    case stzUnsupportedVersion(UInt32)
    /// The header names a codec this reader does not know.
    case stzUnknownCodec(String)
    /// A tensor names a filter this reader does not know, or one that does not fit its dtype.
    case stzUnknownFilter(tensor: String, filter: String)
    /// A tensor's chunk table is wrong: outside the data area, overlapping, or absurd sizes.
    case stzChunkTable(tensor: String, chunk: Int, reason: String)
    /// A chunk's CRC-32 does not match: the chunk is damaged.
    case stzChunkChecksum(tensor: String, chunk: Int)
    /// A chunk does not decode.
    case stzChunkCorrupt(tensor: String, chunk: Int, reason: String)
    /// The restored file's SHA-256 differs from the one recorded; `finding` names the first
    /// tensor whose bytes differ when the container records per-tensor CRC-32s.
    case stzDigestMismatch(expected: String, actual: String, finding: STZDigestFinding)
    /// The header's CRC-32 (version 2 footer) does not match its bytes: the header was damaged or edited.
    case stzHeaderChecksum(expected: UInt32, actual: UInt32)

    // MARK: PyTorch checkpoints
    /// The pickle in `entry` is malformed or uses an opcode or construct the interpreter refuses;
    /// `offset` counts from the start of the pickle stream.
    case pickleInvalid(entry: String, reason: String, offset: Int)
    /// The pickle in `entry` names `global` (e.g. `os.system`), which is not on the allowlist: loading it
    /// with Python's pickle would run code. Nothing is ever called; the file is refused.
    case pickleForbiddenGlobal(entry: String, global: String, offset: Int)
    /// The checkpoint's structure is wrong (no `data.pkl`, a storage with no record, a tensor that runs
    /// past its storage, an unknown storage type, …); `reason` names the tensor or entry.
    case pytorchInvalid(reason: String)

    // MARK: GGUF
    /// The GGUF file is malformed (magic, version, counts, a string or array, a tensor's dimensions or
    /// offset); `offset` counts from the file start.
    case ggufInvalid(reason: String, offset: Int)
    /// `tensor` is stored in a GGUF type this reader cannot decode (`type` names it, e.g. `IQ2_XXS`).
    case ggufUnsupportedType(tensor: String, type: String)

    // MARK: Conversion
    /// A dtype cast that is not supported (e.g. an integer tensor to a float type).
    case unsupportedCast(tensor: String, from: DType, to: DType)

    /// The reference reader's name for safetensors errors, and a stable name for the others.
    public var kind: String {
        switch self {
        case .io: "IO"
        case .outputIsInput: "OutputIsInput"
        case .outputExists: "OutputExists"
        case .outputNotRegularFile: "OutputNotRegularFile"
        case .outputDirectory: "OutputDirectory"
        case .unsupportedFormat: "UnsupportedFormat"
        case .unknownFormat: "UnknownFormat"
        case .cannotWrite: "CannotWrite"
        case .headerTooSmall: "HeaderTooSmall"
        case .headerTooLarge: "HeaderTooLarge"
        case .invalidHeaderLength: "InvalidHeaderLength"
        case .invalidHeader: "InvalidHeader"
        case .invalidHeaderDeserialization: "InvalidHeaderDeserialization"
        case .invalidOffset: "InvalidOffset"
        case .validationOverflow: "ValidationOverflow"
        case .misalignedSlice: "MisalignedSlice"
        case .tensorInvalidInfo: "TensorInvalidInfo"
        case .metadataIncompleteBuffer: "MetadataIncompleteBuffer"
        case .duplicateTensor: "DuplicateTensor"
        case .tensorNotFound: "TensorNotFound"
        case .invalidIndex: "InvalidIndex"
        case .shardMissing: "ShardMissing"
        case .shardDuplicateTensor: "ShardDuplicateTensor"
        case .shardTensorAbsent: "ShardTensorAbsent"
        case .inShard(_, let error): error.kind
        case .npyBadMagic: "NPYBadMagic"
        case .npyUnsupportedVersion: "NPYUnsupportedVersion"
        case .npyBadHeader: "NPYBadHeader"
        case .npyObjectDType: "NPYObjectDType"
        case .npyStructuredDType: "NPYStructuredDType"
        case .npyUnsupportedDType: "NPYUnsupportedDType"
        case .npyDataSize: "NPYDataSize"
        case .npyShapeOverflow: "NPYShapeOverflow"
        case .zipInvalid: "ZipInvalid"
        case .zipUnsupportedCompression: "ZipUnsupportedCompression"
        case .decompressedSizeExceeded: "DecompressedSizeExceeded"
        case .zipChecksum: "ZipChecksum"
        case .compressedTruncated: "CompressedTruncated"
        case .compressedChecksum: "CompressedChecksum"
        case .compressedCorrupt: "CompressedCorrupt"
        case .compressedTrailingData: "CompressedTrailingData"
        case .stzInvalid: "STZInvalid"
        case .stzUnsupportedVersion: "STZUnsupportedVersion"
        case .stzUnknownCodec: "STZUnknownCodec"
        case .stzUnknownFilter: "STZUnknownFilter"
        case .stzChunkTable: "STZChunkTable"
        case .stzChunkChecksum: "STZChunkChecksum"
        case .stzChunkCorrupt: "STZChunkCorrupt"
        case .stzDigestMismatch: "STZDigestMismatch"
        case .stzHeaderChecksum: "STZHeaderChecksum"
        case .pickleInvalid: "PickleInvalid"
        case .pickleForbiddenGlobal: "PickleForbiddenGlobal"
        case .pytorchInvalid: "PyTorchInvalid"
        case .ggufInvalid: "GGUFInvalid"
        case .ggufUnsupportedType: "GGUFUnsupportedType"
        case .unsupportedCast: "UnsupportedCast"
        }
    }
}

extension WeightFileError: CustomStringConvertible {
    /// One line that says what is wrong and where.
    public var description: String {
        switch self {
        case .io(let path, let operation, let message): "\(path): \(operation) failed: \(message)"
        case .outputIsInput(let path): "refusing to overwrite the input file \(path)"
        case .outputExists(let path): "\(path) exists (use --force to replace it)"
        case .outputDirectory(let path, let reason): "\(path) \(reason)"
        case .outputNotRegularFile(let path, let kind):
            "\(path) is \(kind), not a regular file: refusing to replace it (even with --force)"
        case .unsupportedFormat(let detected): "\(detected): not supported yet"
        case .unknownFormat(let reason): "unknown weight-file format: \(reason)"
        case .cannotWrite(let format, let reason): "cannot write \(format): \(reason)"
        case .headerTooSmall(let size): "header too small: the file has \(size) bytes, fewer than the 8-byte header length"
        case .headerTooLarge(let declared, let limit): "header too large: declared \(declared) bytes, the limit is \(limit)"
        case .invalidHeaderLength(let declared, let size):
            "invalid header length: declared \(declared) bytes, but the file has only \(size) bytes (8 + \(declared) > \(size))"
        case .invalidHeader(let offset): "invalid UTF-8 in header at byte \(offset)"
        case .invalidHeaderDeserialization(let reason, let offset): "invalid JSON in header at byte \(offset): \(reason)"
        case .invalidOffset(let tensor, let expected, let begin, let end):
            "invalid offset for tensor `\(tensor)`: data_offsets [\(begin), \(end)], expected to begin at \(expected) with end >= begin"
        case .validationOverflow(let tensor, let shape):
            "overflow computing the size of tensor `\(tensor)` from shape \(shape)"
        case .misalignedSlice(let tensor, let bits):
            "tensor `\(tensor)` holds \(bits) bits, not a whole number of bytes"
        case .tensorInvalidInfo(let tensor, let expected, let declared):
            "invalid info for tensor `\(tensor)`: its dtype and shape need \(expected) bytes but its data_offsets span \(declared)"
        case .metadataIncompleteBuffer(let expected, let size):
            "incomplete file: the tensors end at byte \(expected) but the file has \(size) bytes"
        case .duplicateTensor(let name): "tensor `\(name)` is named twice in the header"
        case .tensorNotFound(let name): "no tensor named `\(name)`"
        case .invalidIndex(let reason): "invalid sharded index: \(reason)"
        case .shardMissing(let file, let tensor): "shard \(file) (holding `\(tensor)`) does not exist"
        case .shardDuplicateTensor(let tensor, let files):
            "tensor `\(tensor)` is in more than one shard: \(files.joined(separator: ", "))"
        case .shardTensorAbsent(let tensor, let file): "the index puts `\(tensor)` in \(file), but that shard does not contain it"
        case .inShard(let file, let error): "shard \(file): \(error)"
        case .npyBadMagic: "not an NPY file: missing the \\x93NUMPY magic"
        case .npyUnsupportedVersion(let major, let minor): "unsupported NPY version \(major).\(minor)"
        case .npyBadHeader(let reason): "invalid NPY header: \(reason)"
        case .npyObjectDType(let descr): "NPY array of Python objects (descr \(descr)) refused: it holds a pickle"
        case .npyStructuredDType(let descr): "NPY structured dtype \(descr) refused: only plain numeric arrays are weights"
        case .npyUnsupportedDType(let descr): "unsupported NPY dtype \(descr)"
        case .npyDataSize(let expected, let actual): "NPY data has \(actual) bytes, the header's shape and dtype need \(expected)"
        case .npyShapeOverflow(let shape, let descr): "NPY shape \(shape) of \(descr) overflows: more bytes than fit in 63 bits"
        case .zipInvalid(let reason, let offset): "invalid zip archive at byte \(offset): \(reason)"
        case .zipUnsupportedCompression(let entry, let method):
            "zip entry \(entry) uses compression method \(method); only stored (0) and deflate (8) are read"
        case .decompressedSizeExceeded(let entry, let limit):
            "\(entry) decompresses to more than \(limit) bytes (declared size or cap exceeded)"
        case .zipChecksum(let entry): "zip entry \(entry): CRC-32 mismatch"
        case .compressedTruncated(let format): "\(format) stream is truncated"
        case .compressedChecksum(let format): "\(format) checksum mismatch: the data is corrupt"
        case .compressedCorrupt(let format, let message): "\(format) stream is corrupt: \(message)"
        case .compressedTrailingData(let format): "bytes follow the end of the \(format) stream"
        case .stzInvalid(let reason, let offset): "invalid .stz file at byte \(offset): \(reason)"
        case .stzUnsupportedVersion(let version): ".stz version \(version) is not supported (this reader knows versions 1 and 2)"
        case .stzUnknownCodec(let codec): ".stz codec `\(codec)` is not supported (known: deflate)"
        case .stzUnknownFilter(let tensor, let filter):
            "tensor `\(tensor)`: .stz filter `\(filter)` is unknown or does not fit its dtype"
        case .stzChunkTable(let tensor, let chunk, let reason): "tensor `\(tensor)`, chunk \(chunk): \(reason)"
        case .stzChunkChecksum(let tensor, let chunk): "tensor `\(tensor)`, chunk \(chunk): CRC-32 mismatch, the chunk is damaged"
        case .stzChunkCorrupt(let tensor, let chunk, let reason): "tensor `\(tensor)`, chunk \(chunk) does not decode: \(reason)"
        case .stzDigestMismatch(let expected, let actual, let finding):
            switch finding {
            case .tensor(let name, let expectedCRC, let actualCRC):
                "tensor `\(name)` restores to other bytes than the original's (CRC-32 \(hex8(actualCRC)), the header records \(hex8(expectedCRC))); the restored file's SHA-256 is \(actual), the header records \(expected)"
            case .tensorsMatch:
                "restored file's SHA-256 is \(actual), the header records \(expected); every tensor's bytes match their recorded CRC-32s, so the restored header bytes (`source_header`) or the recorded digest differ"
            case .notRecorded:
                "restored file's SHA-256 is \(actual), the header records \(expected) (this container records no per-tensor checksums, so the differing tensor cannot be named)"
            }
        case .stzHeaderChecksum(let expected, let actual):
            "header CRC-32 is \(hex8(actual)), the footer records \(hex8(expected)): the header (metadata, chunk table or filters) is damaged"
        case .pickleInvalid(let entry, let reason, let offset): "\(entry): invalid pickle at byte \(offset): \(reason)"
        case .pickleForbiddenGlobal(let entry, let global, let offset):
            "\(entry): the pickle names `\(global)` at byte \(offset), which is not on the allowlist of tensor-rebuilding globals (loading it with pickle would run code); refused, nothing was executed"
        case .pytorchInvalid(let reason): "invalid PyTorch checkpoint: \(reason)"
        case .ggufInvalid(let reason, let offset): "invalid GGUF file at byte \(offset): \(reason)"
        case .ggufUnsupportedType(let tensor, let type):
            "tensor `\(tensor)` is stored as GGUF type \(type), which Retort cannot decode"
        case .unsupportedCast(let tensor, let from, let to): "cannot cast tensor `\(tensor)` from \(from) to \(to)"
        }
    }
}

/// `value` as 8 lowercase hex digits.
private func hex8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
}

/// A GGUF file (llama.cpp's format), memory-mapped: opening it reads and validates the header,
/// its typed metadata and every tensor's description; data is read one tensor at a time.
///
/// F32, F16, BF16, F64, I8, I16, I32 and I64 tensors are views into the map. Block-quantized
/// tensors (Q4_0 … Q8_0, Q2_K … Q8_K) are listed as F32 with `TensorInfo.storedAs` naming the
/// stored type, and reading one dequantizes it into owned memory, bit-identical to gguf-py.
/// Other types (IQ*, TQ*, MXFP4, …) are listed the same way but reading them throws
/// `ggufUnsupportedType`.
public struct GGUFFile: WeightFile {
    public var format: WeightFileFormat { .gguf }
    /// The validated header.
    public let header: GGUFHeader
    /// The whole file's bytes.
    public let storage: ByteStorage
    /// Every tensor as `WeightFile` describes it: shape outermost first (the reverse of GGUF's order).
    public let tensors: [TensorInfo]
    /// The metadata rendered as text (see `GGUFValue.text`).
    public let metadata: Metadata?
    private let positions: [String: Int]
    private let valuePositions: [String: Int]

    /// Maps and validates the file at `path`.
    /// - Complexity: O(header), independent of the data size.
    public init(path: String) throws(WeightFileError) {
        try self.init(storage: ByteStorage.map(path: path))
    }

    /// Validates GGUF bytes held in `storage`. Any bytes give a value or an error, never a trap.
    /// - Complexity: O(header)
    public init(storage: ByteStorage) throws(WeightFileError) {
        self.storage = storage
        let header = try GGUFHeader.parse(storage.bytes)
        self.header = header
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(header.tensors.count)
        var positions: [String: Int] = [:]
        positions.reserveCapacity(header.tensors.count)
        for (i, t) in header.tensors.enumerated() {
            positions[t.name] = i
            tensors.append(GGUFFile.info(of: t))
        }
        self.tensors = tensors
        self.positions = positions
        var valuePositions: [String: Int] = [:]
        for (i, entry) in header.values.enumerated() { valuePositions[entry.key] = i }
        self.valuePositions = valuePositions
        self.metadata = header.values.isEmpty ? nil : Metadata(header.values.map { ($0.key, $0.value.text) })
    }

    /// The version, 2 or 3.
    public var version: UInt32 { header.version }
    /// Every metadata key and typed value, in file order.
    public var values: [(key: String, value: GGUFValue)] { header.values }
    /// The tensors as GGUF describes them (ggml type, fastest-first dimensions, offsets), in file order.
    public var ggufTensors: [GGUFTensor] { header.tensors }

    /// The typed metadata value for `key`, e.g. `tokenizer.ggml.tokens`.
    /// - Complexity: O(1)
    public func value(forKey key: String) -> GGUFValue? { valuePositions[key].map { header.values[$0].value } }

    /// The GGUF description of the tensor named `name`.
    public func ggufTensor(named name: String) -> GGUFTensor? { positions[name].map { header.tensors[$0] } }

    public func info(named name: String) -> TensorInfo? { positions[name].map { tensors[$0] } }

    public func tensor(named name: String) throws(WeightFileError) -> TensorView {
        guard let i = positions[name] else { throw .tensorNotFound(name: name) }
        return try tensor(at: i)
    }

    /// A view into the map for plainly stored types; block types are dequantized into owned F32 memory.
    /// - Throws: `ggufUnsupportedType` for types Retort does not decode.
    /// - Complexity: O(1) for a view, O(n) to dequantize (split across threads).
    public func tensor(at position: Int) throws(WeightFileError) -> TensorView {
        let t = header.tensors[position]
        let info = tensors[position]
        if t.type.dtype != nil {
            return TensorView(info: info, storage: storage, byteRange: t.byteRange)
        }
        guard t.type.isDequantizable else { throw .ggufUnsupportedType(tensor: t.name, type: t.type.name) }
        let count = t.elementCount
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count * 4, 1), alignment: 64)
        let floats = buffer.bindMemory(to: Float.self)
        withExtendedLifetime(storage) {
            GGUFDequantizer.dequantize(
                t.type, UnsafeRawBufferPointer(rebasing: storage.bytes[t.byteRange]),
                into: UnsafeMutableBufferPointer(rebasing: floats[0..<count]))
        }
        return TensorView(info: info, storage: ByteStorage(adopting: buffer, count: count * 4), byteRange: 0..<(count * 4))
    }

    /// Decodes the tensor named `name` into `out` as `Float`: block types dequantized, F16, BF16
    /// and F64 converted, F32 copied. `out` must hold exactly the tensor's element count.
    /// - Throws: `tensorNotFound`; `ggufUnsupportedType` for types Retort does not decode;
    ///   `unsupportedCast` for integer tensors.
    /// - Complexity: O(n), split across at most `threads` threads (default: every core).
    public func dequantize(
        named name: String, into out: UnsafeMutableBufferPointer<Float>, threads: Int? = nil
    ) throws(WeightFileError) {
        guard let t = ggufTensor(named: name) else { throw .tensorNotFound(name: name) }
        if let dtype = t.type.dtype, !dtype.isFloatingPoint {
            throw .unsupportedCast(tensor: name, from: dtype, to: .f32)
        }
        guard t.type.dtype != nil || t.type.isDequantizable else {
            throw .ggufUnsupportedType(tensor: name, type: t.type.name)
        }
        precondition(out.count == t.elementCount, "`\(name)` has \(t.elementCount) elements, the buffer holds \(out.count)")
        withExtendedLifetime(storage) {
            GGUFDequantizer.dequantize(
                t.type, UnsafeRawBufferPointer(rebasing: storage.bytes[t.byteRange]), into: out, threads: threads)
        }
    }

    /// The `TensorInfo` of a GGUF tensor: reversed dimensions; plain types keep their dtype and
    /// file offset; block types read as F32 and record their stored form.
    static func info(of t: GGUFTensor) -> TensorInfo {
        let shape = Array(t.dimensions.reversed())
        if let dtype = t.type.dtype {
            return TensorInfo(name: t.name, dtype: dtype, shape: shape, fileOffset: t.fileOffset)
        }
        return TensorInfo(
            name: t.name, dtype: .f32, shape: shape, storedAs: StoredEncoding(name: t.type.name, byteCount: t.byteCount))
    }
}

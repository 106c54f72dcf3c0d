/// One tensor as the GGUF file describes it: ggml type, ggml dimension order, where its bytes lie.
public struct GGUFTensor: Sendable, Hashable {
    /// The tensor's name.
    public var name: String
    /// The stored type.
    public var type: GGMLType
    /// The dimensions as the file lists them, fastest-varying first (ggml `ne`);
    /// `TensorInfo.shape` is this reversed.
    public var dimensions: [Int]
    /// The offset the file gives, counted from the start of the data section.
    public var relativeOffset: Int
    /// Where the bytes start, counted from the start of the file.
    public var fileOffset: Int
    /// The number of stored bytes: elements / block size × type size.
    public var byteCount: Int

    /// The number of elements: the product of the dimensions.
    public var elementCount: Int { dimensions.reduce(1, *) }

    /// The bytes' range in the file.
    public var byteRange: Range<Int> { fileOffset..<(fileOffset + byteCount) }
}

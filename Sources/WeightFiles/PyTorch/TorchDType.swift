/// A PyTorch element type as a checkpoint names it: by dtype (`torch.float32`) or by legacy
/// storage class (`torch.FloatStorage`), with its size in bytes and the `DType` it reads as.
public struct TorchDType: Sendable, Hashable {
    /// The dtype's name in `torch`, e.g. `float32`.
    public let name: String
    /// The legacy typed-storage class, e.g. `FloatStorage`; `nil` for dtypes that have none.
    public let storageClass: String?
    /// Bytes per element.
    public let elementSize: Int
    /// The type Retort reads it as; `nil` for types without a safetensors dtype (complex128, quantized, …).
    public let dtype: DType?
    /// The width byte order applies to: complex numbers are two floats, each swapped on its own.
    var swapWidth: Int { dtype == .c64 ? 4 : elementSize }

    /// Every dtype `torch.save` can write (the dtypes of `torch.storage._dtype_to_storage_type_map`
    /// and `_new_dtypes`, and the quantized ones).
    public static let all: [TorchDType] = [
        TorchDType(name: "float64", storageClass: "DoubleStorage", elementSize: 8, dtype: .f64),
        TorchDType(name: "float32", storageClass: "FloatStorage", elementSize: 4, dtype: .f32),
        TorchDType(name: "float16", storageClass: "HalfStorage", elementSize: 2, dtype: .f16),
        TorchDType(name: "bfloat16", storageClass: "BFloat16Storage", elementSize: 2, dtype: .bf16),
        TorchDType(name: "int64", storageClass: "LongStorage", elementSize: 8, dtype: .i64),
        TorchDType(name: "int32", storageClass: "IntStorage", elementSize: 4, dtype: .i32),
        TorchDType(name: "int16", storageClass: "ShortStorage", elementSize: 2, dtype: .i16),
        TorchDType(name: "int8", storageClass: "CharStorage", elementSize: 1, dtype: .i8),
        TorchDType(name: "uint8", storageClass: "ByteStorage", elementSize: 1, dtype: .u8),
        TorchDType(name: "bool", storageClass: "BoolStorage", elementSize: 1, dtype: .bool),
        TorchDType(name: "complex64", storageClass: "ComplexFloatStorage", elementSize: 8, dtype: .c64),
        TorchDType(name: "complex128", storageClass: "ComplexDoubleStorage", elementSize: 16, dtype: nil),
        TorchDType(name: "complex32", storageClass: nil, elementSize: 4, dtype: nil),
        TorchDType(name: "qint8", storageClass: "QInt8Storage", elementSize: 1, dtype: nil),
        TorchDType(name: "quint8", storageClass: "QUInt8Storage", elementSize: 1, dtype: nil),
        TorchDType(name: "qint32", storageClass: "QInt32Storage", elementSize: 4, dtype: nil),
        TorchDType(name: "quint4x2", storageClass: "QUInt4x2Storage", elementSize: 1, dtype: nil),
        TorchDType(name: "quint2x4", storageClass: "QUInt2x4Storage", elementSize: 1, dtype: nil),
        // torch's float8_e4m3fn is safetensors' F8_E4M3 (no infinities, one NaN pattern).
        TorchDType(name: "float8_e4m3fn", storageClass: nil, elementSize: 1, dtype: .f8E4M3),
        TorchDType(name: "float8_e5m2", storageClass: nil, elementSize: 1, dtype: .f8E5M2),
        TorchDType(name: "float8_e4m3fnuz", storageClass: nil, elementSize: 1, dtype: .f8E4M3FNUZ),
        TorchDType(name: "float8_e5m2fnuz", storageClass: nil, elementSize: 1, dtype: .f8E5M2FNUZ),
        TorchDType(name: "float8_e8m0fnu", storageClass: nil, elementSize: 1, dtype: .f8E8M0),
        TorchDType(name: "float4_e2m1fn_x2", storageClass: nil, elementSize: 1, dtype: nil),
        TorchDType(name: "uint16", storageClass: nil, elementSize: 2, dtype: .u16),
        TorchDType(name: "uint32", storageClass: nil, elementSize: 4, dtype: .u32),
        TorchDType(name: "uint64", storageClass: nil, elementSize: 8, dtype: .u64),
        TorchDType(name: "bits1x8", storageClass: nil, elementSize: 1, dtype: nil),
        TorchDType(name: "bits2x4", storageClass: nil, elementSize: 1, dtype: nil),
        TorchDType(name: "bits4x2", storageClass: nil, elementSize: 1, dtype: nil),
        TorchDType(name: "bits8", storageClass: nil, elementSize: 1, dtype: nil),
        TorchDType(name: "bits16", storageClass: nil, elementSize: 2, dtype: nil),
    ] + (1...7).flatMap { bits in
        [
            TorchDType(name: "uint\(bits)", storageClass: nil, elementSize: 1, dtype: nil),
            TorchDType(name: "int\(bits)", storageClass: nil, elementSize: 1, dtype: nil),
        ]
    }

    /// The raw bytes of `torch.UntypedStorage`, counted in bytes.
    public static let untypedBytes = TorchDType(name: "uint8", storageClass: "UntypedStorage", elementSize: 1, dtype: .u8)

    static let byName: [String: TorchDType] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
    static let byStorageClass: [String: TorchDType] = Dictionary(
        uniqueKeysWithValues: all.compactMap { t in t.storageClass.map { ($0, t) } })

    /// The name a message uses: the storage class when there is one, else `torch.<dtype>`.
    var displayName: String { storageClass.map { "torch.\($0)" } ?? "torch.\(name)" }
}

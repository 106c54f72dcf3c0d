/// An element type of a tensor, named as the safetensors format names it.
///
/// The cases are declared in the reference implementation's order; the safetensors
/// writer sorts tensors by this order (descending) before packing them.
public enum DType: String, CaseIterable, Sendable, Hashable, Codable {
    case bool = "BOOL"
    case f4 = "F4"
    case f6E2M3 = "F6_E2M3"
    case f6E3M2 = "F6_E3M2"
    case u8 = "U8"
    case i8 = "I8"
    case f8E5M2 = "F8_E5M2"
    case f8E4M3 = "F8_E4M3"
    case f8E8M0 = "F8_E8M0"
    case f8E4M3FNUZ = "F8_E4M3FNUZ"
    case f8E5M2FNUZ = "F8_E5M2FNUZ"
    case i16 = "I16"
    case u16 = "U16"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    case f32 = "F32"
    case c64 = "C64"
    case f64 = "F64"
    case i64 = "I64"
    case u64 = "U64"

    /// The safetensors name of the type, e.g. `"BF16"`.
    public var name: String { rawValue }

    /// Bits per element; 4 and 6 for the packed sub-byte float types.
    public var bitWidth: Int {
        switch self {
        case .f4: 4
        case .f6E2M3, .f6E3M2: 6
        case .bool, .u8, .i8, .f8E5M2, .f8E4M3, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ: 8
        case .i16, .u16, .f16, .bf16: 16
        case .i32, .u32, .f32: 32
        case .c64, .f64, .i64, .u64: 64
        }
    }

    /// Bytes per element for whole-byte types, `nil` for packed sub-byte types.
    public var byteWidth: Int? { bitWidth % 8 == 0 ? bitWidth / 8 : nil }

    /// The position of the type in the reference implementation's declaration order.
    public var declarationIndex: Int { DType.allCases.firstIndex(of: self)! }

    /// True for real floating-point types, the ones that convert to `Float`.
    public var isFloatingPoint: Bool {
        switch self {
        case .f4, .f6E2M3, .f6E3M2, .f8E5M2, .f8E4M3, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ,
            .f16, .bf16, .f32, .f64:
            true
        default: false
        }
    }

    /// Creates a type from its safetensors name; names are case-sensitive.
    public init?(name: String) { self.init(rawValue: name) }
}

extension DType: CustomStringConvertible {
    public var description: String { rawValue }
}

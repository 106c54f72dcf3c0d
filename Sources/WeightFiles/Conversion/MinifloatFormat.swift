/// The encoding of a small floating-point type: its field widths, bias, and which
/// codes are NaN or infinity.
struct MinifloatFormat: Sendable {
    enum Specials: Sendable {
        /// IEEE-style: the top exponent is infinity (mantissa 0) or NaN (F8_E5M2).
        case ieee
        /// Finite only, except that all-ones exponent and mantissa is NaN (F8_E4M3 "FN").
        case nanOnlyAllOnes
        /// Finite only, no NaN at all (F4, F6).
        case none
        /// Finite only; the negative-zero code 0x80 is the single NaN (the "FNUZ" types).
        case negativeZeroIsNaN
    }

    var signBits: Int
    var exponentBits: Int
    var mantissaBits: Int
    var bias: Int
    var specials: Specials

    /// The value of `code` as a `Float`; exact, since every such value is representable.
    func decode(_ code: UInt32) -> Float {
        let width = signBits + exponentBits + mantissaBits
        let negative = signBits == 1 && (code >> (width - 1)) & 1 == 1
        let exponentMask = UInt32(1 << exponentBits) - 1
        let mantissaMask = UInt32(1 << mantissaBits) - 1
        let exponent = (code >> mantissaBits) & exponentMask
        let mantissa = code & mantissaMask
        let nan = Float(bitPattern: negative ? 0xFFC0_0000 : 0x7FC0_0000)
        switch specials {
        case .ieee where exponent == exponentMask:
            if mantissa == 0 { return negative ? -.infinity : .infinity }
            return nan
        case .nanOnlyAllOnes where exponent == exponentMask && mantissa == mantissaMask:
            return nan
        case .negativeZeroIsNaN where negative && exponent == 0 && mantissa == 0:
            return nan
        default:
            break
        }
        let magnitude: Float
        if exponent == 0 {
            // Subnormal: mantissa × 2^(1 − bias − mantissaBits); E8M0 has no mantissa and no subnormals.
            if mantissaBits == 0 {
                magnitude = Float(sign: .plus, exponent: -bias, significand: 1)
            } else {
                magnitude = Float(sign: .plus, exponent: 1 - bias - mantissaBits, significand: Float(mantissa))
            }
        } else {
            let significand = Float(UInt32(1 << mantissaBits) | mantissa)
            magnitude = Float(sign: .plus, exponent: Int(exponent) - bias - mantissaBits, significand: significand)
        }
        return negative ? -magnitude : magnitude
    }

    /// The decoded value of every code, indexed by code.
    func table() -> [Float] {
        (0..<UInt32(1 << (signBits + exponentBits + mantissaBits))).map(decode)
    }

    static let f8E4M3 = MinifloatFormat(signBits: 1, exponentBits: 4, mantissaBits: 3, bias: 7, specials: .nanOnlyAllOnes)
    static let f8E5M2 = MinifloatFormat(signBits: 1, exponentBits: 5, mantissaBits: 2, bias: 15, specials: .ieee)
    static let f8E4M3FNUZ = MinifloatFormat(signBits: 1, exponentBits: 4, mantissaBits: 3, bias: 8, specials: .negativeZeroIsNaN)
    static let f8E5M2FNUZ = MinifloatFormat(signBits: 1, exponentBits: 5, mantissaBits: 2, bias: 16, specials: .negativeZeroIsNaN)
    static let f8E8M0 = MinifloatFormat(signBits: 0, exponentBits: 8, mantissaBits: 0, bias: 127, specials: .nanOnlyAllOnes)
    static let f4E2M1 = MinifloatFormat(signBits: 1, exponentBits: 2, mantissaBits: 1, bias: 1, specials: .none)
    static let f6E2M3 = MinifloatFormat(signBits: 1, exponentBits: 2, mantissaBits: 3, bias: 1, specials: .none)
    static let f6E3M2 = MinifloatFormat(signBits: 1, exponentBits: 3, mantissaBits: 2, bias: 3, specials: .none)
}

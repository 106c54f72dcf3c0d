import Foundation

/// The one code-length scheme every surrogate family is measured in (`formats/surrogate.md`,
/// "Description length"), so a tree, a rule list, a program with exceptions and a table compare in bits.
public enum DescriptionLength {
    /// Bits of the Elias-gamma code of n ≥ 0 (coding n + 1): `2⌊log₂(n + 1)⌋ + 1`.
    /// - Complexity: O(1)
    public static func natural(_ n: Int) -> Double {
        precondition(n >= 0, "natural numbers only")
        return natural(UInt(n))
    }

    /// `natural` over the whole unsigned range (n + 1 may not fit: then ⌊log₂(n + 1)⌋ = 64).
    static func natural(_ n: UInt) -> Double {
        guard n < UInt.max else { return Double(2 * UInt.bitWidth + 1) }
        let bits = UInt.bitWidth - (n + 1).leadingZeroBitCount  // ⌊log₂(n+1)⌋ + 1
        return Double(2 * (bits - 1) + 1)
    }

    /// Bits of a signed integer: zig-zag (0, −1, 1, −2, … → 0, 1, 2, 3, …), then `natural`; every Int,
    /// `Int.min` and `Int.max` included (surrogate files may hold any constant).
    public static func integer(_ n: Int) -> Double {
        natural(n >= 0 ? UInt(n) << 1 : (UInt(bitPattern: ~n) << 1) | 1)
    }

    /// Bits to pick one of `count` equally likely alternatives: `log₂ count` (0 for one or none).
    public static func choice(_ count: Int) -> Double {
        count <= 1 ? 0 : log2(Double(count))
    }

    /// Bits of a Float32 constant written out in full.
    public static let float: Double = 32

    /// `log₂ C(n, k)`: bits to name a k-element subset of n things (enumerative code).
    /// - Complexity: O(1), or O(min(k, n − k)) when n exceeds 2⁴⁰ (where a difference of `lgamma` values would
    ///   lose the bits to rounding).
    public static func subset(of n: Int, choosing k: Int) -> Double {
        precondition(k >= 0 && k <= n)
        let k = min(k, n - k)
        guard n > 1 << 40 else { return (lgamma(Double(n) + 1) - lgamma(Double(k) + 1) - lgamma(Double(n - k) + 1)) / log(2) }
        return (0..<k).reduce(0) { $0 + log2(Double(n - $1)) - log2(Double($1 + 1)) }
    }

    /// Bits of an exception table of `count` (input, output) pairs over a domain of `domainSize`
    /// inputs and `outputCount` outputs: `natural(E) + log₂ C(|D|, E) + E·log₂|Y|` — the count, which
    /// E inputs (an enumerative subset code, never longer than E explicit indices of `log₂|D|` bits
    /// each), and their outputs.
    /// - Complexity: O(1)
    public static func exceptions(_ count: Int, domainSize: Int, outputCount: Int) -> Double {
        natural(count) + subset(of: max(domainSize, count), choosing: count) + Double(count) * choice(outputCount)
    }

    /// A lookup table of `count` entries over a domain of `domainSize` inputs (`formats/surrogate.md`):
    /// `natural(n)` + 1 flag bit + the cheaper of explicit indices (`n·log₂|D|`) and an enumerative
    /// subset code (`log₂ C(|D|, n)`), + `n·log₂|Y|` outputs + `log₂|Y|` for the fallback.
    public static func table(entries count: Int, domainSize: Int, outputCount: Int) -> Double {
        let inputs = min(Double(count) * choice(domainSize), subset(of: max(domainSize, count), choosing: count))
        return natural(count) + 1 + inputs + Double(count + 1) * choice(outputCount)
    }

    /// The compression ratio against a lookup table of the whole domain (formats/report.md):
    /// `(bits(S) + exceptions(E)) / (|D|·log₂|Y|)`, here with `modelBits` the surrogate's bits excluding its
    /// exception table, `exceptions` = E and the exception table coded as every family codes its own
    /// (`exceptions(_:domainSize:outputCount:)`).
    public static func compressionRatio(modelBits: Double, exceptions count: Int, domainSize: Int, outputCount: Int) -> Double {
        let table = Double(domainSize) * choice(outputCount)
        guard table > 0 else { return .infinity }
        return (modelBits + exceptions(count, domainSize: domainSize, outputCount: outputCount)) / table
    }
}

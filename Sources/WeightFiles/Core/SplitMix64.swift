import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): a small seedable generator that gives the same numbers on every
/// platform, which is what makes Retort's samples, regions, controls and test vectors reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's whole state.
    public var state: UInt64
    /// The second normal of the last Box–Muller pair.
    private var spare: Double?

    private static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// A generator for `seed`: the state starts one increment past it (the convention of task regions and
    /// the representation tests).
    public init(seed: UInt64) { state = seed &+ Self.increment }

    /// A generator whose state is `state` as given.
    public init(state: UInt64) { self.state = state }

    /// The next 64 random bits.
    /// - Complexity: O(1)
    public mutating func next() -> UInt64 {
        state &+= Self.increment
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<n` (modulo reduction: a bias below n / 2⁶⁴, immaterial here).
    /// - Precondition: n ≥ 1.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// A standard normal draw (Box–Muller; the pair's second value is kept for the next call).
    public mutating func gaussian() -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        let u = (Double(next() >> 11) + 1) / 9_007_199_254_740_992  // (0, 1]: log(u) is finite
        let v = Double(next() >> 11) / 9_007_199_254_740_992
        let r = (-2 * log(u)).squareRoot()
        spare = r * sin(2 * Double.pi * v)
        return r * cos(2 * Double.pi * v)
    }
}

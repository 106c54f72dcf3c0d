import Dispatch

/// Decodes ggml block-quantized data to `Float`, bit-identical to gguf-py's `gguf.quants.dequantize`.
///
/// Each kernel performs gguf-py's float32 operations in its order, one rounding per operation:
/// `d * q + m` is a product rounded to float32 and then a sum rounded again, never a fused
/// multiply-add (Swift does not contract `*` and `+`; numpy does not fuse either). Scales are
/// widened from F16 exactly. Large tensors are split by blocks across threads.
public enum GGUFDequantizer {
    /// Blocks below which a tensor is decoded on the calling thread.
    static let parallelThreshold = 8192

    /// Decodes `out.count` elements of `type` from `source` into `out`.
    ///
    /// `type` must be dequantizable (`GGMLType.isDequantizable`) or F32, F16, BF16, F64;
    /// `out.count` must be a multiple of `type.blockSize` and `source` must hold
    /// `out.count / type.blockSize * type.typeSize` bytes (any alignment).
    /// - Parameter threads: at most this many threads (default: the active processor count).
    /// - Complexity: O(n)
    public static func dequantize(
        _ type: GGMLType, _ source: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>,
        threads: Int? = nil
    ) {
        let count = out.count
        precondition(count % type.blockSize == 0, "\(count) elements are not whole \(type.name) blocks")
        let blocks = count / type.blockSize
        precondition(source.count >= blocks * type.typeSize, "\(type.name) source too short")
        guard count > 0, let src = source.baseAddress, let dst = out.baseAddress else { return }
        if let dtype = type.dtype {
            precondition(dtype.isFloatingPoint, "\(type.name) is an integer type")
            FloatConversion.decode(dtype, source, count: count, into: out)
            return
        }
        guard let kernel = kernel(for: type) else { preconditionFailure("\(type.name) is not dequantizable") }
        let workers = max(1, min(threads ?? defaultThreads, blocks / (parallelThreshold / 2)))
        if workers == 1 || blocks < parallelThreshold {
            kernel(src, dst, blocks)
            return
        }
        let typeSize = type.typeSize
        let blockSize = type.blockSize
        let pointers = SendableBox((src, dst))
        DispatchQueue.concurrentPerform(iterations: workers) { part in
            let first = blocks * part / workers
            let end = blocks * (part + 1) / workers
            let (src, dst) = pointers.value
            kernel(src + first * typeSize, dst + first * blockSize, end - first)
        }
    }

    static var defaultThreads: Int { System.coreCount }

    typealias Kernel = @Sendable (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void

    static func kernel(for type: GGMLType) -> Kernel? {
        switch type {
        case .q4_0: q4_0
        case .q4_1: q4_1
        case .q5_0: q5_0
        case .q5_1: q5_1
        case .q8_0: q8_0
        case .q2_K: q2_K
        case .q3_K: q3_K
        case .q4_K: q4_K
        case .q5_K: q5_K
        case .q6_K: q6_K
        case .q8_K: q8_K
        default: nil
        }
    }

    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        FloatConversion.float(fromF16Bits: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    @inline(__always)
    static func byte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 { p.load(fromByteOffset: offset, as: UInt8.self) }

    // MARK: 32-element blocks

    /// Q4_0, 18 bytes: f16 d, 16 bytes of nibbles (element j low nibble of byte j, element j+16 high).
    /// y = d × (q − 8).
    static func q4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 18
            let o = dst + b * 32
            let d = half(p, 0)
            for j in 0..<16 {
                let q = byte(p, 2 + j)
                o[j] = d * Float(Int8(q & 0x0F) - 8)
                o[j + 16] = d * Float(Int8(q >> 4) - 8)
            }
        }
    }

    /// Q4_1, 20 bytes: f16 d, f16 m, 16 bytes of nibbles. y = (d × q) + m.
    static func q4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 20
            let o = dst + b * 32
            let d = half(p, 0)
            let m = half(p, 2)
            for j in 0..<16 {
                let q = byte(p, 4 + j)
                o[j] = d * Float(q & 0x0F) + m
                o[j + 16] = d * Float(q >> 4) + m
            }
        }
    }

    /// Q5_0, 22 bytes: f16 d, u32 qh (bit j is element j's fifth bit), 16 bytes of nibbles.
    /// y = d × (q − 16).
    static func q5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 22
            let o = dst + b * 32
            let d = half(p, 0)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            for j in 0..<16 {
                let q = byte(p, 6 + j)
                let low = (q & 0x0F) | UInt8(truncatingIfNeeded: (qh >> UInt32(j)) & 1) << 4
                let high = (q >> 4) | UInt8(truncatingIfNeeded: (qh >> UInt32(j + 16)) & 1) << 4
                o[j] = d * Float(Int8(low) - 16)
                o[j + 16] = d * Float(Int8(high) - 16)
            }
        }
    }

    /// Q5_1, 24 bytes: f16 d, f16 m, u32 qh, 16 bytes of nibbles. y = (d × q) + m.
    static func q5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 24
            let o = dst + b * 32
            let d = half(p, 0)
            let m = half(p, 2)
            let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            for j in 0..<16 {
                let q = byte(p, 8 + j)
                let low = (q & 0x0F) | UInt8(truncatingIfNeeded: (qh >> UInt32(j)) & 1) << 4
                let high = (q >> 4) | UInt8(truncatingIfNeeded: (qh >> UInt32(j + 16)) & 1) << 4
                o[j] = d * Float(low) + m
                o[j + 16] = d * Float(high) + m
            }
        }
    }

    /// Q8_0, 34 bytes: f16 d, 32 int8. y = q × d.
    static func q8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 34
            let o = dst + b * 32
            let d = half(p, 0)
            for j in 0..<32 { o[j] = Float(Int8(bitPattern: byte(p, 2 + j))) * d }
        }
    }

    // MARK: 256-element super-blocks (K-quants)

    /// Q2_K, 84 bytes: 16 scale bytes (low nibble scale, high nibble min), 64 bytes of 2-bit
    /// quants, f16 d, f16 dmin. Element 128h + 32s + l is bits 2s of byte 32h + l; its group
    /// of 16 is k = e / 16. y = (d × sc_k) × q − (dmin × m_k).
    static func q2_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 84
            let o = dst + b * 256
            let d = half(p, 80)
            let dmin = half(p, 82)
            for h in 0..<2 {
                for s in 0..<4 {
                    for g in 0..<2 {
                        let e0 = h * 128 + s * 32 + g * 16
                        let sc = byte(p, e0 / 16)
                        let dl = d * Float(sc & 0x0F)
                        let ml = dmin * Float(sc >> 4)
                        for l in 0..<16 {
                            let q = (byte(p, 16 + h * 32 + g * 16 + l) >> UInt8(2 * s)) & 3
                            o[e0 + l] = dl * Float(q) - ml
                        }
                    }
                }
            }
        }
    }

    /// Q3_K, 110 bytes: 32 bytes hmask, 64 bytes of 2-bit quants, 12 bytes of 6-bit scales, f16 d.
    /// Element e = 32b + l (b = 4h + s): low bits (qs[32h + l] >> 2s) & 3, high bit (hmask[l] >> b) & 1;
    /// q = low − 4 × (1 − high). Scale k (16 elements each) = (low nibble of byte k, or high nibble
    /// of byte k − 8) | ((byte 8 + k % 4 >> 2(k / 4)) & 3) << 4, minus 32. y = (d × scale_k) × q.
    static func q3_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 110
            let o = dst + b * 256
            let d = half(p, 108)
            for k in 0..<16 {
                let lowScale = k < 8 ? byte(p, 96 + k) & 0x0F : byte(p, 96 + k - 8) >> 4
                let highScale = (byte(p, 104 + k % 4) >> UInt8(2 * (k / 4))) & 3
                let scale = Int8(bitPattern: lowScale | highScale << 4) - 32
                let dl = d * Float(scale)
                let e0 = k * 16
                let bit = e0 / 32
                let h = e0 / 128
                let s = UInt8(2 * ((e0 / 32) % 4))
                let l0 = e0 % 32
                for i in 0..<16 {
                    let l = l0 + i
                    let low = Int8((byte(p, 32 + h * 32 + l) >> s) & 3)
                    let high = Int8((byte(p, l) >> UInt8(bit)) & 1)
                    o[e0 + i] = dl * Float(low - ((high ^ 1) << 2))
                }
            }
        }
    }

    /// The eight 6-bit scales and mins packed into 12 bytes (Q4_K, Q5_K).
    @inline(__always)
    static func scaleMin(_ s: UnsafeRawPointer, _ k: Int) -> (UInt8, UInt8) {
        if k < 4 {
            return (byte(s, k) & 0x3F, byte(s, 4 + k) & 0x3F)
        }
        let j = k - 4
        return (
            (byte(s, 8 + j) & 0x0F) | ((byte(s, j) >> 2) & 0x30),
            (byte(s, 8 + j) >> 4) | ((byte(s, 4 + j) >> 2) & 0x30)
        )
    }

    /// Q4_K, 144 bytes: f16 d, f16 dmin, 12 bytes of scales/mins, 128 bytes of nibbles. Group k
    /// (32 elements) is the low (k even) or high nibbles of bytes 32(k/2)…+31.
    /// y = (d × sc_k) × q − (dmin × m_k).
    static func q4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 144
            let o = dst + b * 256
            let d = half(p, 0)
            let dmin = half(p, 2)
            for k in 0..<8 {
                let (sc, mn) = scaleMin(p + 4, k)
                let dk = d * Float(sc)
                let mk = dmin * Float(mn)
                let q = p + 16 + (k / 2) * 32
                let shift = UInt8(4 * (k % 2))
                for l in 0..<32 {
                    o[k * 32 + l] = dk * Float((byte(q, l) >> shift) & 0x0F) - mk
                }
            }
        }
    }

    /// Q5_K, 176 bytes: f16 d, f16 dmin, 12 bytes of scales/mins, 32 bytes qh, 128 bytes of nibbles.
    /// Group k's fifth bit is bit k of qh[l]. y = (d × sc_k) × q − (dmin × m_k).
    static func q5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 176
            let o = dst + b * 256
            let d = half(p, 0)
            let dmin = half(p, 2)
            for k in 0..<8 {
                let (sc, mn) = scaleMin(p + 4, k)
                let dk = d * Float(sc)
                let mk = dmin * Float(mn)
                let q = p + 48 + (k / 2) * 32
                let shift = UInt8(4 * (k % 2))
                for l in 0..<32 {
                    let v = (byte(q, l) >> shift) & 0x0F | ((byte(p, 16 + l) >> UInt8(k)) & 1) << 4
                    o[k * 32 + l] = dk * Float(v) - mk
                }
            }
        }
    }

    /// Q6_K, 210 bytes: 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 int8 scales, f16 d.
    /// Element e = 128h + 64n + l (l < 64): low nibble n of ql[64h + l]; high bits
    /// (qh[32h + e % 32] >> 2((e / 32) % 4)) & 3; q = (low | high << 4) − 32. y = (d × scale_{e/16}) × q.
    static func q6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 210
            let o = dst + b * 256
            let d = half(p, 208)
            for k in 0..<16 {
                let dk = d * Float(Int8(bitPattern: byte(p, 192 + k)))
                let e0 = k * 16
                let h = e0 / 128
                let lowShift = UInt8(4 * ((e0 / 64) % 2))
                let highShift = UInt8(2 * ((e0 / 32) % 4))
                let l64 = e0 % 64
                let l32 = e0 % 32
                for i in 0..<16 {
                    let low = (byte(p, h * 64 + l64 + i) >> lowShift) & 0x0F
                    let high = (byte(p, 128 + h * 32 + l32 + i) >> highShift) & 3
                    o[e0 + i] = dk * Float(Int8(low | high << 4) - 32)
                }
            }
        }
    }

    /// Q8_K, 292 bytes: f32 d, 256 int8, 16 int16 block sums (unused). y = d × q
    /// (ggml `dequantize_row_q8_K`; gguf-py has no Q8_K decoder).
    static func q8_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let p = src + b * 292
            let o = dst + b * 256
            let d = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
            for j in 0..<256 { o[j] = d * Float(Int8(bitPattern: byte(p, 4 + j))) }
        }
    }
}

@testable import Network
import Testing
import WeightFiles

/// Deterministic pseudo-random bytes (xorshift64*).
private func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    return (0..<count).map { _ in
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return UInt8(truncatingIfNeeded: (state &* 0x2545_F491_4F6C_DD1D) >> 56)
    }
}

/// Random blocks of `type` whose F16 scale and min are finite values between about 2⁻¹⁰ and 2
/// (either sign), as a quantizer writes them.
private func randomBlocks(_ type: GGMLType, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
    var bytes = randomBytes(rows * columns / 32 * type.typeSize, seed: seed)
    let halves = type == .q4_1 || type == .q5_1 ? 2 : 1
    for block in 0..<(bytes.count / type.typeSize) {
        for h in 0..<halves {
            let at = block * type.typeSize + 2 * h
            // Sign, exponent 5…15 (2⁻¹⁰…2⁰), random mantissa.
            let exponent = UInt16(5 + bytes[at + 1] % 11)
            let bits = UInt16(bytes[at + 1] & 0x80) << 8 | exponent << 10 | UInt16(bytes[at]) << 2
            bytes[at] = UInt8(bits & 0xFF)
            bytes[at + 1] = UInt8(bits >> 8)
        }
    }
    return bytes
}

private func floats(_ count: Int, seed: UInt64) -> [Float] {
    randomBytes(count * 2, seed: seed).withUnsafeBytes { raw in
        (0..<count).map { Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) / 16384 }
    }
}

private let blockTypes: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0]

@Test(arguments: blockTypes)
func quantizedMatrixDecodesAsGGUFDequantizerDoes(type: GGMLType) {
    let (rows, columns) = (7, 96)
    let bytes = randomBlocks(type, rows: rows, columns: columns, seed: UInt64(type.rawValue) + 11)
    let matrix = bytes.withUnsafeBytes { QuantizedMatrix(type: type, rows: rows, columns: columns, source: $0) }!
    var expected = [Float](repeating: 0, count: rows * columns)
    bytes.withUnsafeBytes { src in
        expected.withUnsafeMutableBufferPointer { GGUFDequantizer.dequantize(type, src, into: $0, threads: 1) }
    }
    #expect(matrix.dequantized().map(\.bitPattern) == expected.map(\.bitPattern))
}

@Test(arguments: blockTypes)
func quantizedMatrixProductIsBitIdenticalToTheDequantizedProduct(type: GGMLType) {
    let (n, k) = (203, 96)
    let bytes = randomBlocks(type, rows: n, columns: k, seed: UInt64(type.rawValue) + 5)
    let matrix = bytes.withUnsafeBytes { QuantizedMatrix(type: type, rows: n, columns: k, source: $0) }!
    let dense = matrix.dequantized()
    for isa in [Matmul.InstructionSet.portable, .avx2, .avx512] {
        for m in [1, 3, 8, 17, 45, 130] {
            let x = floats(m * k, seed: UInt64(m * 31 + isa.rawValue))
            for threads in [1, 2] {
                var expected = [Float](repeating: 0, count: m * n)
                var actual = [Float](repeating: 0, count: m * n)
                x.withUnsafeBufferPointer { a in
                    dense.withUnsafeBufferPointer { b in
                        Matmul.multiply(
                            a.baseAddress!, b.baseAddress!, into: &expected, m: m, n: n, k: k, bTransposed: true,
                            threads: threads, instructionSet: isa)
                    }
                    matrix.multiplyTransposed(a.baseAddress!, m: m, into: &actual, threads: threads, instructionSet: isa)
                }
                #expect(
                    actual.map(\.bitPattern) == expected.map(\.bitPattern),
                    "\(type.name) m=\(m) isa=\(isa) threads=\(threads)")
            }
        }
    }
}

@Test func quantizedMatrixAccumulatesIntoTheOutput() {
    let (m, n, k) = (4, 40, 64)
    let bytes = randomBlocks(.q4_1, rows: n, columns: k, seed: 3)
    let matrix = bytes.withUnsafeBytes { QuantizedMatrix(type: .q4_1, rows: n, columns: k, source: $0) }!
    let x = floats(m * k, seed: 9)
    var product = [Float](repeating: 0, count: m * n)
    x.withUnsafeBufferPointer { matrix.multiplyTransposed($0.baseAddress!, m: m, into: &product) }
    var accumulated = [Float](repeating: 0.5, count: m * n)
    x.withUnsafeBufferPointer { matrix.multiplyTransposed($0.baseAddress!, m: m, into: &accumulated, accumulate: true) }
    #expect(accumulated == product.map { 0.5 + $0 })
}

@Test func quantizedMatrixSelectsRowsInOrder() {
    let bytes = randomBlocks(.q8_0, rows: 5, columns: 64, seed: 4)
    let matrix = bytes.withUnsafeBytes { QuantizedMatrix(type: .q8_0, rows: 5, columns: 64, source: $0) }!
    let dense = matrix.dequantized()
    let picked = matrix.selectingRows([4, 0, 2]).dequantized()
    #expect(picked == Array(dense[256..<320]) + Array(dense[0..<64]) + Array(dense[128..<192]))
}

@Test func quantizedMatrixRefusesOtherTypesAndShortSources() {
    let bytes = [UInt8](repeating: 0, count: 400)
    bytes.withUnsafeBytes { raw in
        #expect(QuantizedMatrix(type: .q4_K, rows: 1, columns: 256, source: raw) == nil)
        #expect(QuantizedMatrix(type: .q4_0, rows: 1, columns: 48, source: raw) == nil)
        #expect(QuantizedMatrix(type: .q8_0, rows: 20, columns: 64, source: raw) == nil)
        #expect(QuantizedMatrix(type: .q8_0, rows: 5, columns: 64, source: raw) != nil)
    }
}

@Test(arguments: blockTypes)
func integerProductsAreTheSameBitsWithAndWithoutVectorKernels(type: GGMLType) {
    let (n, k) = (75, 128)
    let bytes = randomBlocks(type, rows: n, columns: k, seed: UInt64(type.rawValue) + 21)
    let matrix = bytes.withUnsafeBytes { QuantizedMatrix(type: type, rows: n, columns: k, source: $0) }!
    for m in [1, 5, 6, 13] {
        var x = floats(m * k, seed: UInt64(m) + 2)
        x[3] = 0  // and a block of zeros
        for i in 32..<64 { x[i] = 0 }
        var vector = [Float](repeating: 0.25, count: m * n)
        var portable = vector
        var avx2 = vector
        x.withUnsafeBufferPointer { a in
            matrix.multiplyTransposed(a.baseAddress!, m: m, into: &vector, accumulate: true, threads: 2, arithmetic: .int16)
            matrix.multiplyTransposed(
                a.baseAddress!, m: m, into: &portable, accumulate: true, arithmetic: .int16, vector: false)
            matrix.multiplyTransposed(a.baseAddress!, m: m, into: &avx2, accumulate: true, arithmetic: .int16, avx2: true)
        }
        #expect(vector.map(\.bitPattern) == portable.map(\.bitPattern), "\(type.name) m=\(m)")
        #expect(avx2.map(\.bitPattern) == portable.map(\.bitPattern), "AVX2 \(type.name) m=\(m)")
    }
}

@Test(arguments: blockTypes)
func integerProductsAreWithinTheirStatedErrorOfFloat32(type: GGMLType) {
    let (m, n, k) = (9, 64, 256)
    let bytes = randomBlocks(type, rows: n, columns: k, seed: UInt64(type.rawValue) + 8)
    let matrix = bytes.withUnsafeBytes { QuantizedMatrix(type: type, rows: n, columns: k, source: $0) }!
    let x = floats(m * k, seed: 77)
    var exact = [Float](repeating: 0, count: m * n)
    var integer = exact
    x.withUnsafeBufferPointer { a in
        matrix.multiplyTransposed(a.baseAddress!, m: m, into: &exact, arithmetic: .float32)
        matrix.multiplyTransposed(a.baseAddress!, m: m, into: &integer, arithmetic: .int16)
    }
    let largest = exact.map(abs).max()!
    let worst = zip(exact, integer).map { abs($0 - $1) }.max()!
    #expect(worst / largest < 1e-4, "\(type.name): \(worst / largest)")
    #expect(worst > 0, "\(type.name): the integer products round, so some output differs")
}

@Test func integerProductsOfANonFiniteActivationAreNaN() {
    let bytes = randomBlocks(.q4_0, rows: 32, columns: 64, seed: 1)
    let matrix = bytes.withUnsafeBytes { QuantizedMatrix(type: .q4_0, rows: 32, columns: 64, source: $0) }!
    var x = floats(2 * 64, seed: 5)
    x[70] = .infinity  // row 1, block 0
    var y = [Float](repeating: 0, count: 2 * 32)
    x.withUnsafeBufferPointer { matrix.multiplyTransposed($0.baseAddress!, m: 2, into: &y, arithmetic: .int16) }
    #expect(y[0..<32].allSatisfy { $0.isFinite })
    #expect(y[32..<64].allSatisfy { $0.isNaN })
}

@Test(arguments: [QuantizedArithmetic.int16, .float32])
func aProductIntoSeveralOutputsIsTheWholeProductCutUp(arithmetic: QuantizedArithmetic) {
    // As a block's q, k and v are stacked: 96 + 64 + 43 rows, written to three arrays.
    let widths = [96, 64, 43], n = 203, k = 96
    let bytes = randomBlocks(.q4_1, rows: n, columns: k, seed: 77)
    let matrix = bytes.withUnsafeBytes { QuantizedMatrix(type: .q4_1, rows: n, columns: k, source: $0) }!
    for m in [1, 8, 45] {
        let x = floats(m * k, seed: UInt64(m))
        for threads in [1, 2] {
            var whole = [Float](repeating: 0, count: m * n)
            var parts = widths.map { [Float](repeating: .nan, count: m * $0) }
            var (p0, p1, p2) = (parts[0], parts[1], parts[2])
            x.withUnsafeBufferPointer { a in
                matrix.multiplyTransposed(a.baseAddress!, m: m, into: &whole, threads: threads, arithmetic: arithmetic)
                p0.withUnsafeMutableBufferPointer { y0 in
                    p1.withUnsafeMutableBufferPointer { y1 in
                        p2.withUnsafeMutableBufferPointer { y2 in
                            matrix.multiplyTransposed(
                                a.baseAddress!, m: m, into: [y0.baseAddress!, y1.baseAddress!, y2.baseAddress!],
                                widths: widths, threads: threads, arithmetic: arithmetic)
                        }
                    }
                }
            }
            parts = [p0, p1, p2]
            var first = 0
            for (p, width) in widths.enumerated() {
                let expected = (0..<m).flatMap { r in whole[(r * n + first)..<(r * n + first + width)] }
                #expect(parts[p].map(\.bitPattern) == expected.map(\.bitPattern), "part \(p) m=\(m) threads=\(threads)")
                first += width
            }
        }
    }
}

/// A row's integer product is the same bits whatever rows share the call (the mins' term included): a patched
/// prompt run resumed on fewer rows relies on it.
@Test(arguments: [GGMLType.q4_1, .q5_1, .q8_0])
func anIntegerProductsRowDoesNotDependOnTheRowsBesideIt(type: GGMLType) {
    let (m, n, k) = (70, 96, 576)
    let bytes = randomBlocks(type, rows: n, columns: k, seed: UInt64(type.rawValue) + 31)
    let matrix = bytes.withUnsafeBytes { QuantizedMatrix(type: type, rows: n, columns: k, source: $0) }!
    let x = floats(m * k, seed: 91)
    for threads in [1, 2] {
        var whole = [Float](repeating: 0.5, count: m * n)
        x.withUnsafeBufferPointer { a in
            matrix.multiplyTransposed(a.baseAddress!, m: m, into: &whole, accumulate: true, threads: threads, arithmetic: .int16)
        }
        for (first, count) in [(0, 1), (3, 5), (10, 33), (20, 41), (69, 1)] {
            var part = [Float](repeating: 0.5, count: count * n)
            x.withUnsafeBufferPointer { a in
                matrix.multiplyTransposed(
                    a.baseAddress! + first * k, m: count, into: &part, accumulate: true, threads: threads, arithmetic: .int16)
            }
            let expected = whole[(first * n)..<((first + count) * n)]
            #expect(part.map(\.bitPattern) == expected.map(\.bitPattern), "\(type.name) rows \(first)..<\(first + count), threads \(threads)")
        }
    }
}

import Testing
import WeightFiles

@Suite("Float conversion, bit-exact against ml_dtypes and NumPy")
struct FloatConversionTests {
    static let tables = try! SafetensorsFile(path: GoldenVectors.path("conversion/f8_tables.safetensors"))
    static let wide = try! SafetensorsFile(path: GoldenVectors.path("conversion/f16_bf16_tables.safetensors"))

    func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    func expectedBits(_ file: SafetensorsFile, _ name: String) throws -> [UInt32] {
        let view = try file.tensor(named: name)
        return (0..<view.info.elementCount).map { view.bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self) }
    }

    @Test(
        "every code of every 8-, 6- and 4-bit float type decodes as ml_dtypes does",
        arguments: [DType.f8E4M3, .f8E5M2, .f8E4M3FNUZ, .f8E5M2FNUZ, .f8E8M0, .f4, .f6E2M3, .f6E3M2])
    func smallFloatCodes(_ dtype: DType) throws {
        let expected = try expectedBits(Self.tables, "\(dtype.name).f32")
        // Codes laid out one per element, packed as the dtype packs them.
        let codes = (0..<expected.count).map { UInt32($0) }
        var packed = [UInt8](repeating: 0, count: (codes.count * dtype.bitWidth + 7) / 8)
        for (i, code) in codes.enumerated() {
            for b in 0..<dtype.bitWidth where code >> b & 1 == 1 {
                let bit = i * dtype.bitWidth + b
                packed[bit / 8] |= 1 << (bit % 8)
            }
        }
        let view = TensorView(info: TensorInfo(name: "codes", dtype: dtype, shape: [codes.count]), copying: packed)
        #expect(bits(try FloatConversion.float32Values(of: view)) == expected)
    }

    @Test("all 65,536 F16 and BF16 codes decode as NumPy and ml_dtypes do", arguments: [DType.f16, .bf16])
    func sixteenBitCodes(_ dtype: DType) throws {
        let codes = try Self.wide.tensor(named: "codes")
        let view = TensorView(info: TensorInfo(name: "codes", dtype: dtype, shape: [65536]), copying: codes.bytes)
        #expect(bits(try FloatConversion.float32Values(of: view)) == (try expectedBits(Self.wide, "\(dtype.name).f32")))
    }

    @Test("F64 to F32 rounds as NumPy's astype does, NaN payloads included")
    func f64ToF32() throws {
        let file = try SafetensorsFile(path: GoldenVectors.path("conversion/f64_to_f32.safetensors"))
        let values = try FloatConversion.float32Values(of: try file.tensor(named: "f64_src"))
        #expect(bits(values) == (try expectedBits(file, "f32_from_f64")))
    }

    @Test("F32 casts to F16 and BF16 round as NumPy and ml_dtypes do", arguments: [DType.f16, .bf16])
    func f32Casts(_ dtype: DType) throws {
        let file = try SafetensorsFile(path: GoldenVectors.path("conversion/f32_casts.safetensors"))
        let cast = try FloatConversion.cast(try file.tensor(named: "f32_src"), to: dtype)
        let expected = try file.tensor(named: dtype == .f16 ? "f16_from_f32" : "bf16_from_f32")
        #expect(cast.copyBytes() == expected.copyBytes())
    }

    @Test("casting an integer tensor is refused")
    func integerCastRefused() {
        let view = TensorView(info: TensorInfo(name: "ids", dtype: .i32, shape: [1]), copying: [0, 0, 0, 0])
        #expect(throws: WeightFileError.unsupportedCast(tensor: "ids", from: .i32, to: .f16)) {
            try FloatConversion.cast(view, to: .f16)
        }
    }
}

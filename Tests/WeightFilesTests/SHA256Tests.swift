import Testing

@testable import WeightFiles

@Suite("SHA-256")
struct SHA256Tests {
    static let knownAnswers: [(String, [UInt8])] = [
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", []),
        ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Array("abc".utf8)),
        (
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        ),
        ("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", [UInt8](repeating: 0x61, count: 1_000_000)),
    ]

    func hex(_ bytes: [UInt8], kernel: Bool, pieces: [Int] = []) -> String {
        var hasher = SHA256()
        hasher.usesKernel = kernel
        var start = 0
        for size in pieces where start < bytes.count {
            let end = min(bytes.count, start + size)
            hasher.update(Array(bytes[start..<end]))
            start = end
        }
        hasher.update(Array(bytes[start...]))
        return hasher.finalize().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    @Test("FIPS 180-4 known answers, with and without the CPU's SHA extensions", arguments: [true, false])
    func knownAnswers(kernel: Bool) {
        for (digest, message) in Self.knownAnswers { #expect(hex(message, kernel: kernel) == digest) }
    }

    @Test("hashing in uneven pieces equals hashing at once")
    func pieces() {
        var generator = SplitMix64(state: 42)
        let bytes = (0..<10_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let whole = hex(bytes, kernel: true)
        #expect(hex(bytes, kernel: false) == whole)
        #expect(hex(bytes, kernel: true, pieces: [1, 63, 64, 65, 127, 1000, 3]) == whole)
        #expect(hex(bytes, kernel: false, pieces: [5, 200, 64, 7]) == whole)
    }
}

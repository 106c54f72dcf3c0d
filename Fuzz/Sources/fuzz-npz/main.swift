import FuzzSupport
import WeightFiles

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): libFuzzer drives the reader: every tensor read
// whole, then every entry again in pieces through the streaming verification.
runFuzzer { data, count in
    guard let data else { return 0 }
    _ = exercise(data, count) { (storage) throws(WeightFileError) in try NPZFile(storage: storage, limit: 64 << 20) }
    if let file = try? NPZFile(storage: ByteStorage(copying: UnsafeBufferPointer(start: data, count: count)), limit: 64 << 20) {
        _ = try? Verifier.verify(file)
    }
    return 0
}

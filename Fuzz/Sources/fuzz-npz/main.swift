import FuzzSupport
import WeightFiles

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): libFuzzer drives the NumPy readers. A zip goes to
// the NPZ reader (every tensor read whole, then every entry again in pieces through the streaming
// verification); bytes that start with the NPY magic go to the NPY reader.
runFuzzer { data, count in
    guard let data else { return 0 }
    if count >= 6 && data[0] == 0x93 && data[1] == 0x4E {
        return exercise(data, count) { (storage) throws(WeightFileError) in try NPYFile(storage: storage, name: "fuzz") }
    }
    _ = exercise(data, count) { (storage) throws(WeightFileError) in try NPZFile(storage: storage, limit: 64 << 20) }
    if let file = try? NPZFile(storage: ByteStorage(copying: UnsafeBufferPointer(start: data, count: count)), limit: 64 << 20) {
        _ = try? Verifier.verify(file)
    }
    return 0
}

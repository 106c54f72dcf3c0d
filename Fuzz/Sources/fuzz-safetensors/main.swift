import FuzzSupport
import WeightFiles

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): libFuzzer drives the reader. Bytes that start
// like gzip or zlib go to the streaming reader of wrapped files (header only at open, then every
// tensor, then the one-pass verification); the rest to the plain reader.
runFuzzer { data, count in
    guard let data else { return 0 }
    let isGzip = count >= 2 && data[0] == 0x1F && data[1] == 0x8B
    let isZlib = count >= 2 && data[0] & 0x0F == 8 && (Int(data[0]) << 8 | Int(data[1])) % 31 == 0
    guard isGzip || isZlib else {
        return exercise(data, count) { (storage) throws(WeightFileError) in try SafetensorsFile(storage: storage) }
    }
    // A 64 MiB cap keeps the fuzzer's memory small; the cap itself is what a bomb must hit.
    let open = { (storage: ByteStorage) throws(WeightFileError) -> CompressedSafetensorsFile in
        try CompressedSafetensorsFile(storage: storage, wrapper: isGzip ? .gzip : .zlib, limit: 64 << 20)
    }
    _ = exercise(data, count) { (storage) throws(WeightFileError) in try open(storage) }
    if let file = try? open(ByteStorage(copying: UnsafeBufferPointer(start: data, count: count))) {
        _ = try? Verifier.verify(file)
    }
    return 0
}

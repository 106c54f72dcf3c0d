import FuzzSupport
import WeightFiles

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): libFuzzer drives the reader, zip and legacy
// checkpoints alike; reading every tensor gathers strided views and swaps big-endian data.
runFuzzer { data, count in
    guard let data else { return 0 }
    return exercise(data, count) { (storage) throws(WeightFileError) in try PyTorchCheckpoint(storage: storage) }
}

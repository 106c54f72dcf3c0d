import FuzzSupport
import WeightFiles

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): libFuzzer drives the reader. Reading every
// tensor dequantizes the block-quantized ones.
runFuzzer { data, count in
    guard let data else { return 0 }
    return exercise(data, count) { (storage) throws(WeightFileError) in try GGUFFile(storage: storage) }
}

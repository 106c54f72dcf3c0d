import FuzzSupport
import WeightFiles

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): libFuzzer drives the reader.
runFuzzer { data, count in
    guard let data else { return 0 }
    return exercise(data, count) { (storage) throws(WeightFileError) in try STZFile(storage: storage) }
}

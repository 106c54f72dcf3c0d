import FuzzSupport
import WeightFiles

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): the pickle interpreter alone, on raw pickle
// streams (a zip's CRC would hide most mutations of its data.pkl from the interpreter).
runFuzzer { data, count in
    guard let data else { return 0 }
    _ = try? PickleMachine.run(UnsafeRawBufferPointer(start: data, count: count), entry: "fuzz")
    return 0
}

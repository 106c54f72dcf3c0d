import Network
import FuzzSupport

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): an intervention file, from arbitrary bytes.
runFuzzer { data, count in
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    _ = try? InterventionFile.parse(bytes, inputKind: .tokens, baseDirectory: "/nonexistent")
    return 0
}

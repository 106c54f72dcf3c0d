import Distillation
import FuzzSupport

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): a task description, then its regions resolved, from arbitrary bytes.
runFuzzer { data, count in
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    if let task = try? TaskDescription.parse(bytes, baseDirectory: "/nonexistent") {
        _ = try? task.resolveRegions()
    }
    return 0
}

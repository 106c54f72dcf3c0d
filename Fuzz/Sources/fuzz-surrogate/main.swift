import Distillation
import FuzzSupport

/// The addition task that surrogates are checked against (the bundled example's).
let additionTask = try! TaskDescription.read(repositoryPath("formats/vectors/networks/addition_mlp/task.json"))

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): a surrogate file, read against the bundled addition task, from arbitrary bytes.
runFuzzer { data, count in
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    _ = try? SurrogateFile.parse(bytes, task: additionTask)
    return 0
}

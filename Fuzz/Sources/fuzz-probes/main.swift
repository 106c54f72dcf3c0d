import Distillation
import FuzzSupport
import WeightFiles

/// The bundled example's addition task, which `distill --probes` checks a probe file against.
let additionTask = try! TaskDescription.read(repositoryPath("formats/vectors/networks/addition_mlp/task.json"))

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): a probe file (safetensors with `retort_probes`
// metadata) from arbitrary bytes, read and checked against the task as `distill --probes FILE --task T`
// does and, when it passes, the task's features computed on it and, for up to 256 probes, every
// family fitted to it (the program search within 50 ms).
runFuzzer { data, count in
    guard let data else { return 0 }
    let storage = ByteStorage(copying: UnsafeBufferPointer(start: data, count: count))
    guard let file = try? SafetensorsFile(storage: storage),
        let probes = try? ProbeSet.read(file, path: "probes.safetensors", for: additionTask),
        let features = try? TaskFeatures(task: additionTask, names: additionTask.features, activations: probes.activations),
        // Fitting is the slow part (thousands of probes take seconds under AddressSanitizer): only small
        // files are fitted, so that the fuzzer spends its time on the reader and the checks.
        probes.count <= 256
    else { return 0 }
    var options = Distiller.Options()
    options.programLimits = ProgramSearch.Limits(maxSize: 3, maxSeconds: 0.05)
    for family in SurrogateFamily.allCases {
        guard let fitted = try? Distiller.fit(family, probes: probes, task: additionTask, features: features, options: options)
        else { continue }
        _ = try? fitted.predict(probes, task: additionTask)
    }
    return 0
}

import Distillation
import Fidelity
import Foundation
import FuzzSupport

/// A folder of its own, where each input is written as the shard file `retort merge` would read.
let folder: String = {
    var template = Array((NSTemporaryDirectory() + "/retort-fuzz-shard-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { fatalError("fuzz-shard: cannot make a temporary folder") }
    return String(cString: made)
}()

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): the files `retort merge` reads from shard folders, from
// arbitrary bytes. The first byte picks the file, the rest is its content: 0 a distill shard's probe.safetensors
// (read, then merged as a one-shard run), 1 a fidelity shard's evaluation.safetensors (read, then merged), 2 a
// fidelity shard's representation.json (decoded), 3 a prompt task's first-phase prompt-localisation.json (decoded,
// then its maps joined as a one-shard run), 4 its second-phase prompt-search.json (decoded, then joined).
runFuzzer { data, count in
    guard let data, count > 0 else { return 0 }
    let content = Data(UnsafeBufferPointer(start: data + 1, count: count - 1))
    switch data[0] % 5 {
    case 0:
        let file = folder + "/probe.safetensors"
        guard FileManager.default.createFile(atPath: file, contents: content) else { return 0 }
        if let part = try? ProbeShard.read(folder: folder) { _ = try? ProbeShard.merge([part]) }
    case 1:
        let file = folder + "/" + EvaluationShard.fileName
        guard FileManager.default.createFile(atPath: file, contents: content) else { return 0 }
        if let shard = try? EvaluationShard.read(folder: folder) { _ = try? EvaluationShard.merge([(folder, shard)]) }
    case 2:
        _ = try? RepresentationShard.decoded(Array(content), path: "representation.json")
    case 3:
        if let shard = try? PromptLocalisationShard.decoded(Array(content), path: PromptLocalisationShard.fileName) {
            _ = try? PromptLocalisationShard.maps([(PromptLocalisationShard.fileName, shard)])
        }
    default:
        if let shard = try? PromptSearchShard.decoded(Array(content), path: PromptSearchShard.fileName) {
            _ = try? PromptSearchShard.join([(PromptSearchShard.fileName, shard)], surrogates: shard.surrogates.count)
        }
    }
    return 0
}

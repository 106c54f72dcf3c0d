import Foundation
import FuzzSupport
import WeightFiles

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): the fuzzer's bytes are a sharded checkpoint's
// index (`model.safetensors.index.json`), written into a folder that holds two real shards (the
// golden vectors of formats/vectors/sharded, copied there at start); the index is opened with every
// shard it names, and every tensor read. Shard names that leave the folder, name absent files, or
// list tensors twice or nowhere must be errors.
let folder = NSTemporaryDirectory() + "retort-fuzz-sharded-\(getpid())/"
let index = folder + "model.safetensors.index.json"
let shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "../../../formats/vectors/sharded/"
).standardized.path

try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
for shard in shards {
    try? FileManager.default.removeItem(atPath: folder + shard)
    do { try FileManager.default.copyItem(atPath: vectors + "/" + shard, toPath: folder + shard) } catch {
        FileHandle.standardError.write(Data("fuzz-sharded: cannot copy the shard \(vectors)/\(shard): \(error)\n".utf8))
        exit(2)
    }
}
atexit { try? FileManager.default.removeItem(atPath: folder) }

runFuzzer { data, count in
    guard let data else { return 0 }
    guard FileManager.default.createFile(atPath: index, contents: Data(bytes: data, count: count)) else { return 0 }
    guard let file = try? ShardedSafetensors(indexPath: index) else { return 0 }
    readEveryTensor(file)
    return 0
}

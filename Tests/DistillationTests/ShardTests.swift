import Foundation
import Network
import Testing

@testable import Distillation

/// The message of the `invalidShard` error `body` throws, or nil.
private func shardError(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as DistillationError {
        guard case .invalidShard(let reason) = error else { return nil }
        return reason
    } catch {
        return nil
    }
}

@Suite("Shards: slices, the job array's environment, and merging partial probes")
struct ShardTests {
    @Test("I/N parses only for 0 ≤ I < N")
    func parsing() {
        #expect(Shard("2/4") == Shard(index: 2, count: 4))
        #expect(Shard("0/1") == Shard(index: 0, count: 1))
        for bad in ["4/4", "-1/4", "1/0", "2", "a/b", "1/2/3", ""] { #expect(Shard(bad) == nil, "\(bad)") }
    }

    @Test("the N slices tile the list in order, their lengths differing by at most one")
    func slicesTile() {
        for total in [0, 1, 5, 7, 5000, 10_001] {
            for count in 1...9 {
                let slices = (0..<count).map { Shard(index: $0, count: count)!.slice(of: total) }
                #expect(slices.first!.lowerBound == 0 && slices.last!.upperBound == total)
                #expect(zip(slices, slices.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                let lengths = slices.map(\.count)
                #expect(lengths.max()! - lengths.min()! <= 1, "\(total) in \(count): \(lengths)")
            }
        }
    }

    @Test("a Slurm array's shard is (ID − MIN) / STEP of COUNT, so --array=1-4 gives shards 0…3")
    func slurmEnvironment() throws {
        let found = try Shard.fromEnvironment([
            "SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4", "SLURM_ARRAY_TASK_COUNT": "4",
        ])
        #expect(found?.shard == Shard(index: 2, count: 4))
        let stepped = try Shard.fromEnvironment([
            "SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "6",
            "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "4",
        ])
        #expect(stepped?.shard == Shard(index: 2, count: 4))
    }

    @Test("a Slurm array with gaps (--array=1,5,9) is refused, naming the ids")
    func slurmArrayWithGaps() {
        let message = shardError {
            _ = try Shard.fromEnvironment([
                "SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "9",
                "SLURM_ARRAY_TASK_COUNT": "3",
            ])
        }
        #expect(message?.contains("1…9") == true, "\(message ?? "no error")")
    }

    @Test("a Kubernetes index needs the shard count, from the caller or RETORT_SHARD_COUNT")
    func kubernetesEnvironment() throws {
        let message = shardError { _ = try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1"]) }
        #expect(message?.contains("RETORT_SHARD_COUNT") == true, "\(message ?? "no error")")
        #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1"], count: 3)?.shard == Shard(index: 1, count: 3))
        let fromVariable = try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "2", "RETORT_SHARD_COUNT": "3"])
        #expect(fromVariable?.shard == Shard(index: 2, count: 3))
        #expect(shardError { _ = try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "3"], count: 3) } != nil)
    }

    @Test("no job array variable: no shard")
    func noEnvironment() throws {
        #expect(try Shard.fromEnvironment(["HOME": "/root"]) == nil)
    }

    // Probes of the 10-input region 0…9 of a one-variable task, output 2·x, a hook of width 2.
    private func part(_ index: Int, of count: Int, taskDigest: String = "t", seed: UInt64 = 0) -> ProbeShard.Part {
        let shard = Shard(index: index, count: count)!
        let range = shard.slice(of: 10)
        let values = Array(range)
        let probes = ProbeSet(
            variables: ["x"], region: Region(name: "probe", values: values, indices: values, variableCount: 1),
            outputs: values.map { 2 * $0 },
            activations: ["h": FloatTensor(shape: [values.count, 2], scalars: values.flatMap { [Float($0), -Float($0)] })])
        let metadata = ProbeShard(
            shard: shard, slices: ["probe": (range, 10)], task: .init(path: "task.json", sha256: taskDigest),
            model: .init(path: "m.safetensors", sha256: "m"), network: .init(path: "mlp", sha256: nil), seed: seed,
            arguments: ["m.safetensors", "--network", "mlp", "--task", "task.json"], directory: "/")
        return ProbeShard.Part(path: "out/\(ProbeShard.folderName(shard))", shard: metadata, probes: ["probe": probes])
    }

    @Test("merging all shards, in any order, gives the probes in region order with activations joined")
    func mergeJoinsInOrder() throws {
        let merged = try ProbeShard.merge([part(2, of: 3), part(0, of: 3), part(1, of: 3)])
        let probes = try #require(merged["probe"])
        #expect(probes.region.values == Array(0..<10) && probes.region.indices == Array(0..<10))
        #expect(probes.outputs == (0..<10).map { 2 * $0 })
        #expect(probes.activations["h"]?.shape == [10, 2])
        #expect(probes.activations["h"]?.scalars == (0..<10).flatMap { [Float($0), -Float($0)] })
    }

    @Test("a missing shard is an error naming it")
    func missingShard() {
        let message = shardError { _ = try ProbeShard.merge([part(0, of: 3), part(2, of: 3)]) }
        #expect(message?.contains("shard 1/3 missing") == true, "\(message ?? "no error")")
    }

    @Test("many missing shards are named up to ten and counted")
    func manyMissingShards() {
        let message = shardError { _ = try ProbeShard.ordered([("a", part(0, of: 40).shard)]) }
        #expect(
            message?.contains("shards 1/40, 2/40, 3/40, 4/40, 5/40, 6/40, 7/40, 8/40, 9/40, 10/40 and 29 more missing: 1 of 40")
                == true, "\(message ?? "no error")")
    }

    @Test("a shard given twice is an error naming both parts")
    func duplicatedShard() {
        var twin = part(1, of: 3)
        twin.path = "elsewhere/shard-1-of-3"
        let message = shardError { _ = try ProbeShard.merge([part(0, of: 3), part(1, of: 3), twin, part(2, of: 3)]) }
        #expect(
            message?.contains("elsewhere/shard-1-of-3: shard 1/3 given twice (also out/shard-1-of-3)") == true,
            "\(message ?? "no error")")
    }

    @Test("a shard of another task, seed or shard count is an error naming the part and what differs")
    func mismatchedShard() {
        let task = shardError { _ = try ProbeShard.merge([part(0, of: 2), part(1, of: 2, taskDigest: "other")]) }
        #expect(task?.hasPrefix("out/shard-1-of-2: shard of another task") == true, "\(task ?? "no error")")
        let seed = shardError { _ = try ProbeShard.merge([part(0, of: 2), part(1, of: 2, seed: 7)]) }
        #expect(seed?.contains("another seed (7)") == true, "\(seed ?? "no error")")
        let count = shardError { _ = try ProbeShard.merge([part(0, of: 2), part(1, of: 3)]) }
        #expect(count?.contains("out/shard-1-of-3: shard of another shard count (N = 3)") == true, "\(count ?? "no error")")
    }

    @Test("shard metadata whose slices name a path out of the folder is refused, naming it", arguments: ["../probe", "a/b", "..", ""])
    func sliceNameIsNotAPath(name: String) {
        let json = part(0, of: 2).shard.json.replacingOccurrences(of: "\"slices\":{\"probe\"", with: "\"slices\":{\"\(name)\"")
        #expect(json.contains("\"slices\":{\"\(name)\""))
        #expect {
            _ = try ProbeShard(json: json, path: "x/probe.safetensors")
        } throws: { error in
            guard case DistillationError.mismatch(let path, let reason) = error else { return false }
            return path == "x/probe.safetensors" && reason.contains("\"\(name)\" is not a region name")
        }
    }

    @Test("the shard metadata survives a write and read of the shard folder")
    func folderRoundTrip() throws {
        let folder = NSTemporaryDirectory() + "retort-shard-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let original = part(1, of: 3)
        try original.shard.write(original.probes["probe"]!, into: folder)
        let read = try ProbeShard.read(folder: folder)
        #expect(read.shard.json == original.shard.json)
        #expect(read.probes["probe"]?.outputs == original.probes["probe"]?.outputs)
        #expect(read.probes["probe"]?.activations["h"]?.scalars == original.probes["probe"]?.activations["h"]?.scalars)
    }
}

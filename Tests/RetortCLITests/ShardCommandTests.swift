import Foundation
import Testing

/// `report.json` without its timings (`seconds`, `…_seconds`), as a comparable value.
private func untimedReport(_ path: String) throws -> NSObject {
    func strip(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
            return object.filter { !($0.key == "seconds" || $0.key.hasSuffix("_seconds")) }.mapValues(strip)
        }
        if let array = value as? [Any] { return array.map(strip) }
        return value
    }
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
    return strip(object) as! NSObject
}

/// `retort fidelity --representation --pairs 64` of the hand-wired boolean circuit against a typed program
/// surrogate written into `directory`.
private func circuitRepresentationArguments(in directory: String) throws -> [String] {
    let circuit = RetortRun.vectors + "/networks/boolean_circuit_handwired"
    let typed = directory + "/typed.json"
    try #"{"retort_surrogate": 1, "family": "program", "body": {"expression": "x3 * ((x1 + x2) mod 2)"}}"#
        .write(toFile: typed, atomically: true, encoding: .utf8)
    return [
        "fidelity", circuit + "/model.safetensors", "--network", circuit + "/network.json", "--task",
        circuit + "/task.json", "--surrogate", typed, "--representation", "--pairs", "64",
    ]
}

@Suite("Sharded distill: shards, merge, and the errors of a bad set of parts")
struct ShardCommandTests {
    let example = RetortRun.vectors + "/networks/addition_mlp"
    var arguments: [String] {
        [
            example + "/model.safetensors", "--network", example + "/network.json", "--task", example + "/task.json",
            "--surrogates", "table", "program",
        ]
    }

    @Test("four shards merged write the files one distill writes, identical but for report.json's timings")
    func mergedEqualsOneRun() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let single = try RetortRun(arguments: ["distill"] + arguments + ["--out", directory + "/single"])
        #expect(single.status == 0, "\(single.stderr)")
        for i in 0..<4 {
            let shard = try RetortRun(arguments: ["distill"] + arguments + ["--shard", "\(i)/4", "--out", directory + "/shards"])
            #expect(shard.status == 0, "\(shard.stderr)")
            #expect(
                shard.stdout.hasPrefix("shard \(i)/4: probe: inputs \(1250 * i)..<\(1250 * (i + 1)) of 5000"), "\(shard.stdout)")
        }
        let merge = try RetortRun("merge", directory + "/shards", "--out", directory + "/merged")
        #expect(merge.status == 0, "\(merge.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory + "/single").sorted()
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/merged").sorted() == names)
        #expect(names.contains("probes.safetensors") && names.contains("program.json"))
        for name in names where name != "report.html" {
            let (a, b) = (directory + "/single/" + name, directory + "/merged/" + name)
            if name == "report.json" {
                #expect(try untimedReport(a) == untimedReport(b))
            } else {
                #expect(FileManager.default.contentsEqual(atPath: a, andPath: b), "\(name) differs")
            }
        }
    }

    @Test("merge refuses a missing shard and a shard of another seed, naming them")
    func mergeNamesBadParts() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try RetortRun(arguments: ["distill"] + arguments + ["--shard", "0/2", "--out", directory + "/a"])
        #expect(first.status == 0, "\(first.stderr)")
        let missing = try RetortRun("merge", directory + "/a", "--out", directory + "/merged")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("shard 1/2 missing"), "\(missing.stderr)")
        let other = try RetortRun(
            arguments: ["distill"] + arguments + ["--seed", "7", "--shard", "1/2", "--out", directory + "/a"])
        #expect(other.status == 0, "\(other.stderr)")
        let mismatched = try RetortRun("merge", directory + "/a", "--out", directory + "/merged")
        #expect(mismatched.status == 1)
        #expect(mismatched.stderr.contains("shard-1-of-2: shard of another seed (7)"), "\(mismatched.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/merged"))
    }

    @Test("shards given other --threads, --out spellings or --force still merge: those are not the run's arguments")
    func perShardOptionsAreNotRecorded() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try RetortRun(
            arguments: ["distill"] + arguments + ["--threads", "1", "--shard", "0/2", "--out", directory + "/s"])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try RetortRun(
            arguments: ["distill", "--shard=1/2", "--out=\(directory)/s", "--force", "--threads=2"] + arguments + ["--json"])
        #expect(second.status == 0, "\(second.stderr)")
        let merge = try RetortRun("merge", directory + "/s", "--out", directory + "/merged")
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory + "/merged/report.json"))
    }

    @Test("inside a Slurm array task (--array=1-2) distill probes shard ID − MIN of COUNT")
    func shardFromSlurmEnvironment() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try RetortRun(
            executable: "/usr/bin/env",
            arguments: [
                "SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_MAX=2", "SLURM_ARRAY_TASK_COUNT=2",
                RetortRun.binary, "distill",
            ] + arguments + ["--out", directory])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("shard 1/2 (from SLURM_ARRAY_TASK_ID=2"), "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory + "/shard-1-of-2/probe.safetensors"))
        #expect(FileManager.default.fileExists(atPath: directory + "/shard-1-of-2/held_out.safetensors"))
    }

    @Test("three fidelity shards merged write the report one fidelity run writes, identical but for its timings")
    func mergedFidelityEqualsOneRun() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let distill = try RetortRun(arguments: ["distill"] + arguments + ["--out", directory + "/fitted"])
        #expect(distill.status == 0, "\(distill.stderr)")
        let fidelity = [
            "fidelity", example + "/model.safetensors", "--network", example + "/network.json", "--task",
            example + "/task.json", "--surrogate", directory + "/fitted/program.json", directory + "/fitted/table.json",
        ]
        let single = try RetortRun(arguments: fidelity + ["--out", directory + "/single"])
        #expect(single.status == 0, "\(single.stderr)")
        for i in 0..<3 {
            let shard = try RetortRun(arguments: fidelity + ["--shard", "\(i)/3", "--out", directory + "/shards"])
            #expect(shard.status == 0, "\(shard.stderr)")
            let (start, end) = (10_000 * i / 3, 10_000 * (i + 1) / 3)
            #expect(shard.stdout.hasPrefix("shard \(i)/3: domain: inputs \(start)..<\(end) of 10000"), "\(shard.stdout)")
        }
        #expect(FileManager.default.fileExists(atPath: directory + "/shards/shard-2-of-3/evaluation.safetensors"))
        let merge = try RetortRun("merge", directory + "/shards", "--out", directory + "/merged")
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory + "/merged").sorted() == ["report.html", "report.json"])
        #expect(try untimedReport(directory + "/single/report.json") == untimedReport(directory + "/merged/report.json"))
    }

    @Test("merge names a fidelity shard that evaluated other surrogates")
    func mergeNamesAShardOfOtherSurrogates() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let distill = try RetortRun(arguments: ["distill"] + arguments + ["--out", directory + "/fitted"])
        #expect(distill.status == 0, "\(distill.stderr)")
        let fidelity = [
            "fidelity", example + "/model.safetensors", "--network", example + "/network.json", "--task",
            example + "/task.json", "--out", directory + "/shards", "--surrogate",
        ]
        let first = try RetortRun(arguments: fidelity + [directory + "/fitted/program.json", "--shard", "0/2"])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try RetortRun(arguments: fidelity + [directory + "/fitted/table.json", "--shard", "1/2"])
        #expect(second.status == 0, "\(second.stderr)")
        let merge = try RetortRun("merge", directory + "/shards", "--out", directory + "/merged")
        #expect(merge.status == 1)
        #expect(merge.stderr.contains("shard-1-of-2: shard of another set of surrogates"), "\(merge.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/merged"))
    }

    @Test("fidelity shards with --representation split the tests' work list; merged, the report is one run's")
    func shardedRepresentationTestsEqualOneRun() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let circuit = RetortRun.vectors + "/networks/boolean_circuit_handwired"
        let files = [
            circuit + "/model.safetensors", "--network", circuit + "/network.json", "--task", circuit + "/task.json",
        ]
        let distill = try RetortRun(
            arguments: ["distill"] + files + ["--surrogates", "program", "table", "--out", directory + "/fitted"])
        #expect(distill.status == 0, "\(distill.stderr)")
        let fidelity =
            ["fidelity"] + files + [
                "--surrogate", directory + "/fitted/program.json", directory + "/fitted/table.json", "--representation",
                "--pairs", "64",
            ]
        let single = try RetortRun(arguments: fidelity + ["--out", directory + "/single"])
        #expect(single.status == 0, "\(single.stderr)")
        for i in 0..<3 {
            // Each shard with one thread, the single run with all: the results must not depend on it.
            let shard = try RetortRun(
                arguments: fidelity + ["--shard", "\(i)/3", "--threads", "1", "--out", directory + "/shards"])
            #expect(shard.status == 0, "\(shard.stderr)")
            #expect(shard.stdout.contains("representation items"), "\(shard.stdout)")
        }
        let merge = try RetortRun("merge", directory + "/shards", "--out", directory + "/merged")
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(try untimedReport(directory + "/single/report.json") == untimedReport(directory + "/merged/report.json"))
        let report = try String(contentsOfFile: directory + "/merged/report.json", encoding: .utf8)
        // The program's variables were tested (the table has none): the shards' results are in the report.
        #expect(report.contains("\"representation\":{\"network\":{\"variables\":[{"), "\(report.prefix(300))")
    }

    @Test("fidelity shards with --representation --representation-region test that region's inputs, as one run does")
    func shardedRepresentationTestsHonourTheRegion() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fidelity = try circuitRepresentationArguments(in: directory) + ["--representation-region", "out_of_range"]
        let single = try RetortRun(arguments: fidelity + ["--out", directory + "/single"])
        #expect(single.status == 0, "\(single.stderr)")
        let probeOnly = try RetortRun(arguments: Array(fidelity.dropLast(2)) + ["--out", directory + "/probe"])
        #expect(probeOnly.status == 0, "\(probeOnly.stderr)")
        // The region changes the tests' inputs, so a shard that ignored it would merge into another report.
        #expect(try untimedReport(directory + "/single/report.json") != untimedReport(directory + "/probe/report.json"))
        for i in 0..<2 {
            let shard = try RetortRun(arguments: fidelity + ["--shard", "\(i)/2", "--out", directory + "/shards"])
            #expect(shard.status == 0, "\(shard.stderr)")
        }
        let merge = try RetortRun("merge", directory + "/shards", "--out", directory + "/merged")
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(try untimedReport(directory + "/single/report.json") == untimedReport(directory + "/merged/report.json"))
    }

    @Test("in a Kubernetes Indexed Job fidelity takes shard JOB_COMPLETION_INDEX of RETORT_SHARD_COUNT; named variables merge")
    func fidelityShardFromKubernetesEnvironment() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fidelity = try circuitRepresentationArguments(in: directory) + ["--variables", "x1 + x2"]
        let single = try RetortRun(arguments: fidelity + ["--out", directory + "/single"])
        #expect(single.status == 0, "\(single.stderr)")
        for i in 0..<2 {
            let shard = try RetortRun(
                executable: "/usr/bin/env",
                arguments: ["JOB_COMPLETION_INDEX=\(i)", "RETORT_SHARD_COUNT=2", RetortRun.binary] + fidelity + [
                    "--out", directory + "/shards",
                ])
            #expect(shard.status == 0, "\(shard.stderr)")
            #expect(shard.stderr.contains("shard \(i)/2 (from JOB_COMPLETION_INDEX=\(i) of 2)"), "\(shard.stderr)")
        }
        let merge = try RetortRun("merge", directory + "/shards", "--out", directory + "/merged")
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stdout.contains("x1 + x2") && merge.stdout.contains("2 others not tested"), "\(merge.stdout)")
        #expect(try untimedReport(directory + "/single/report.json") == untimedReport(directory + "/merged/report.json"))
    }
}

import Foundation
import Testing

/// report.json without its timings (the keys `seconds` and `…_seconds`).
private func untimed(_ path: String) throws -> NSObject {
    func strip(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
            return object.filter { !($0.key == "seconds" || $0.key.hasSuffix("_seconds")) }.mapValues(strip)
        }
        if let array = value as? [Any] { return array.map(strip) }
        return value
    }
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return try #require(strip(try JSONSerialization.jsonObject(with: data)) as? NSObject)
}

/// A prompt task on the tiny Llama with a byte tokenizer ("{a}+{b}=" after "1+1=2\n", the answer's first digit by
/// next-token logits) and a program surrogate of it; the `fidelity --representation` arguments of a small study.
private func promptStudy(in directory: String) throws -> [String] {
    let model = try tinyLlamaWithTokenizer()
    let digits = (0..<10).map { "\"\($0)\"" }.joined(separator: ", ")
    let task = """
        {"retort_task": 1, "name": "tiny prompt addition", "variables": [
          {"name": "a", "type": "integer", "min": 10, "max": 39},
          {"name": "b", "type": "integer", "min": 10, "max": 39}],
         "encoder": {"kind": "prompt", "template": "{a}+{b}=", "prefix": "1+1=2\\n"},
         "decoder": {"kind": "next_token", "candidates": [\(digits)], "values": [0,1,2,3,4,5,6,7,8,9]},
         "regions": {"probe": {"all": true}}}
        """
    try task.write(toFile: directory + "/task.json", atomically: true, encoding: .utf8)
    try #"{"retort_surrogate": 1, "family": "program", "body": {"expression": "digit0(a + b)"}}"#.write(
        toFile: directory + "/program.json", atomically: true, encoding: .utf8)
    return [
        "fidelity", model, "--network", "auto", "--task", directory + "/task.json", "--surrogate", directory + "/program.json",
        "--representation", "--pairs", "16", "--prompt-inputs", "24", "--search-sites", "2", "--subspace-dimensions", "1",
        "--subspace-steps", "5", "--positions", "-3,-1",
    ]
}

@Suite("A prompt task's representation tests sharded in two phases")
struct PromptShardCommandTests {
    @Test("two localisation shards, three search shards, merged: the report one run writes but its timings")
    func twoPhasesMergedEqualOneRun() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let study = try promptStudy(in: directory)
        let single = try RetortRun(arguments: study + ["--out", directory + "/single"])
        #expect(single.status == 0, "\(single.stderr)")
        for i in 0..<2 {
            let run = try RetortRun(arguments: study + ["--shard", "\(i)/2", "--out", directory + "/sites"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("program sites \(6 * i)..<\(6 * i + 6) of 12"), "\(run.stdout)")
        }
        for j in 0..<3 {
            let run = try RetortRun(
                arguments: study + ["--shard", "\(j)/3", "--localisation", directory + "/sites", "--out", directory + "/searches"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(FileManager.default.fileExists(atPath: directory + "/searches/shard-\(j)-of-3/prompt-search.json"))
        }
        let merge = try RetortRun("merge", directory + "/sites", directory + "/searches", "--out", directory + "/merged")
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(try untimed(directory + "/single/report.json") == untimed(directory + "/merged/report.json"))
    }

    @Test("a search shard of another seed than the maps', and a merge without the searches, are errors naming them")
    func foreignOrMissingPhasesAreNamed() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let study = try promptStudy(in: directory)
        let sites = try RetortRun(arguments: study + ["--shard", "0/1", "--out", directory + "/sites"])
        #expect(sites.status == 0, "\(sites.stderr)")
        let other = try RetortRun(
            arguments: study + ["--seed", "5", "--shard", "0/1", "--localisation", directory + "/sites", "--out", directory + "/s"])
        #expect(other.status == 1)
        #expect(other.stderr.contains("sites/shard-0-of-1: a shard of another seed (0)"), "\(other.stderr)")
        let merge = try RetortRun("merge", directory + "/sites", "--out", directory + "/merged")
        #expect(merge.status == 1)
        #expect(merge.stderr.contains("without the second"), "\(merge.stderr)")
        let wrong = try RetortRun(
            arguments: study + ["--shard", "0/1", "--localisation", directory + "/nowhere", "--out", directory + "/s"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("nowhere: no prompt-localisation.json"), "\(wrong.stderr)")
    }
}

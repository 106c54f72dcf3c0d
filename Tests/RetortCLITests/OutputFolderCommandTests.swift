import Foundation
import Testing

private let network = RetortRun.vectors + "/networks/boolean_circuit_handwired"

/// `retort distill` of the bundled boolean circuit fitting `family`, into `out`, with `extra` arguments.
private func distill(_ family: String, out: String, _ extra: String...) throws -> RetortRun {
    try RetortRun(
        arguments: [
            "distill", network + "/model.safetensors", "--network", network + "/network.json", "--task",
            network + "/task.json", "--surrogates", family, "--out", out,
        ] + extra)
}

private func names(_ path: String) throws -> Set<String> { Set(try FileManager.default.contentsOfDirectory(atPath: path)) }

@Suite("--out folders of distill and fidelity")
struct OutputFolderCommandTests {
    @Test("distill refuses an existing --out folder that is not empty without --force, and leaves it as it was")
    func distillNeedsForce() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try distill("table", out: directory + "/out").status == 0)
        let before = FileManager.default.contents(atPath: directory + "/out/table.json")
        let run = try distill("tree", out: directory + "/out")
        #expect(run.status == 1)
        #expect(run.stderr == "retort: error: \(directory)/out exists and is not empty (use --force to replace it)\n")
        #expect(try names(directory + "/out").contains("table.json"))
        #expect(FileManager.default.contents(atPath: directory + "/out/table.json") == before)
        #expect(try names(directory) == ["out"])
    }

    @Test("distill --force replaces the earlier run's folder: none of its files stay beside the new run's")
    func distillForceLeavesNoEarlierFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try distill("table", out: directory + "/out").status == 0)
        let run = try distill("tree", out: directory + "/out", "--force")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            try names(directory + "/out") == ["probes.safetensors", "tree.json", "tree.txt", "report.json", "report.html"])
        #expect(try names(directory) == ["out"])
    }

    @Test("--force never replaces a folder holding a file Retort did not write, or an input of the run")
    func forceKeepsForeignFilesAndInputs() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try distill("table", out: directory + "/out").status == 0)
        let refit = try RetortRun(
            "distill", "--probes", directory + "/out/probes.safetensors", "--task", network + "/task.json", "--surrogates",
            "table", "--out", directory + "/out", "--force")
        #expect(refit.status == 1)
        #expect(refit.stderr.contains("out holds the input \(directory)/out/probes.safetensors; not replaced"), "\(refit.stderr)")
        try Data("mine".utf8).write(to: URL(fileURLWithPath: directory + "/out/notes.txt"))
        let run = try distill("tree", out: directory + "/out", "--force")
        #expect(run.status == 1)
        #expect(run.stderr.contains("holds notes.txt, which this command does not write; not replaced, even with --force"))
        #expect(try names(directory + "/out").isSuperset(of: ["notes.txt", "table.json"]))
        #expect(try names(directory) == ["out"])
    }

    @Test("fidelity follows the same rule, and a failed run leaves the earlier folder as it was")
    func fidelityFollowsTheSameRule() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try distill("table", out: directory + "/fit").status == 0)
        let surrogate = directory + "/fit/table.json"
        func fidelity(_ extra: String...) throws -> RetortRun {
            try RetortRun(
                arguments: [
                    "fidelity", network + "/model.safetensors", "--network", network + "/network.json", "--task",
                    network + "/task.json", "--surrogate", surrogate, "--out", directory + "/report",
                ] + extra)
        }
        #expect(try fidelity().status == 0)
        #expect(try names(directory + "/report") == ["report.json", "report.html"])
        let refused = try fidelity()
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("report exists and is not empty (use --force to replace it)"), "\(refused.stderr)")
        let before = FileManager.default.contents(atPath: directory + "/report/report.json")
        let failed = try RetortRun(
            "fidelity", network + "/model.safetensors", "--network", network + "/network.json", "--task",
            network + "/task.json", "--surrogate", directory + "/missing.json", "--out", directory + "/report", "--force")
        #expect(failed.status == 1)
        #expect(FileManager.default.contents(atPath: directory + "/report/report.json") == before)
        #expect(try fidelity("--force").status == 0)
        #expect(try names(directory) == ["fit", "report"])
    }
}

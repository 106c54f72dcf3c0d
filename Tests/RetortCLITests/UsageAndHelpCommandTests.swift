import Foundation
import Testing
import WeightFiles

private let subcommands = ["inspect", "convert", "verify", "run", "generate", "distill", "fidelity"]

@Suite("Usage errors, --version and help text")
struct UsageAndHelpCommandTests {
    @Test("--version prints the version the code states in one place")
    func version() throws {
        let run = try RetortRun("--version")
        #expect(run.status == 0)
        #expect(run.stdout == RetortVersion.current + "\n")
    }

    @Test(
        "a usage error is one line with the same prefix as every error, exit 64",
        arguments: [
            (["convert", "a.safetensors"], "retort: error: missing expected argument '<output>' (see 'retort help convert')"),
            (["frobnicate"], "retort: error: unexpected argument 'frobnicate' (see 'retort help')"),
            (["inspect", "x", "--bogus"], "retort: error: unknown option '--bogus'"),
        ])
    func usageErrorIsOneLine(arguments: [String], expected: String) throws {
        let run = try RetortRun(arguments: arguments)
        #expect(run.status == 64)
        #expect(run.stderr.hasPrefix(expected), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test("--threads -3, written with a space, says the value is invalid")
    func negativeThreadsWithASpace() throws {
        let run = try RetortRun("convert", "--threads", "-3", "a.safetensors", "b.safetensors")
        #expect(run.status == 64)
        #expect(run.stderr.hasPrefix("retort: error: --threads must be between 1 and 1024, got -3"), "\(run.stderr)")
    }

    @Test("an intervention file's errors call it an intervention file, not a network description")
    func interventionFileNoun() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let folder = RetortRun.vectors + "/networks/boolean_circuit_handwired"
        try "0,1,1,0\n".write(toFile: directory + "/in.csv", atomically: true, encoding: .utf8)
        try #"[{"hook": "hook_input", "kind": "zeroo"}]"#.write(toFile: directory + "/iv.json", atomically: true, encoding: .utf8)
        let run = try RetortRun(
            "run", folder + "/model.safetensors", "--network", folder + "/network.json", "--inputs", directory + "/in.csv",
            "--intervene", directory + "/iv.json")
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("retort: error: \(directory)/iv.json: invalid intervention file at [0].kind: unknown kind"), "\(run.stderr)")
        #expect(!run.stderr.contains("network description"))
    }

    @Test("an intervention file that is not JSON is named once: \"invalid intervention file: not valid JSON\"")
    func interventionFileNotJSON() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let folder = RetortRun.vectors + "/networks/boolean_circuit_handwired"
        try "0,1,1,0\n".write(toFile: directory + "/in.csv", atomically: true, encoding: .utf8)
        try "[{\"hook\": ".write(toFile: directory + "/iv.json", atomically: true, encoding: .utf8)
        let run = try RetortRun(
            "run", folder + "/model.safetensors", "--network", folder + "/network.json", "--inputs", directory + "/in.csv",
            "--intervene", directory + "/iv.json")
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("retort: error: \(directory)/iv.json: invalid intervention file: not valid JSON: "), "\(run.stderr)")
    }

    @Test("every subcommand's help has no stray backslash and states each default once", arguments: subcommands)
    func helpText(subcommand: String) throws {
        let run = try RetortRun("help", subcommand)
        #expect(run.status == 0)
        #expect(!run.stdout.contains("\\"), "\(run.stdout)")
        // An option's entry runs from its "  --name" line to the next one.
        var entries: [String] = []
        for line in run.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  -") || entries.isEmpty { entries.append(String(line)) } else { entries[entries.count - 1] += " " + line }
        }
        for entry in entries {
            let squeezed = entry.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(squeezed.components(separatedBy: "default:").count <= 2, "\(squeezed)")
        }
    }
}

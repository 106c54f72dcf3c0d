import Distillation
import Fidelity
import Foundation
import Network
import Testing
import WeightFiles

/// README.md's library example, run as it stands there: the code between the markers below must equal the
/// README's `swift` block after its `let folder` line (checked first), with `folder` made absolute here.
@Suite("README's library example")
struct ReadmeLibraryExampleTests {
    @Test("the README's library example is this test's code, and it runs on the bundled transformer")
    func readmeExampleRuns() throws {
        let readme = try String(contentsOfFile: repositoryRoot + "/README.md", encoding: .utf8)
        let block = try #require(readme.components(separatedBy: "```swift\n").dropFirst().first?.components(separatedBy: "```").first)
        let folderLine = "let folder = \"formats/vectors/networks/modular_addition\"\n"
        let afterFolder = try #require(block.components(separatedBy: folderLine).last, "the README's block has no `\(folderLine)`")
        #expect(try Self.exampleCode() == afterFolder.trimmingCharacters(in: .whitespacesAndNewlines))
        for line in block.split(separator: "\n") where line.hasPrefix("import ") {
            #expect(try ("\n" + Self.ownSource()).contains("\n\(line)\n"), "the README imports what this file does not: \(line)")
        }

        let folder = repositoryRoot + "/formats/vectors/networks/modular_addition"
        // README example begins
        // Weight files: any supported format; tensors are views into the memory map.
        let file = try WeightFiles.open("\(folder)/model.safetensors")
        for info in file.tensors.prefix(3) { print(info.name, info.dtype, info.shape) }
        let embedding = try FloatConversion.float32Values(of: try file.tensor(named: "embed.W_E"))  // bit-exact for every float dtype
        print("embed.W_E:", embedding.count, "values")
        try Converter.convertToSafetensors(
            file, inputPaths: ["\(folder)/model.safetensors"], output: "/tmp/modular_addition.bf16.safetensors", dtype: .bf16)

        // The network: a forward pass capturing a hook, with an intervention.
        let net = try NetworkLoader.load(file: file, description: try NetworkLoader.description("\(folder)/network.json"))
        let run = try net.run(
            .tokens(ids: [5, 7, 113], batch: 1, length: 3), capture: ["blocks.0.mlp.hook_post"],
            interventions: [Intervention(hook: "blocks.0.hook_resid_mid", positions: [2], kind: .zero)])
        print("logits", run.output.shape, "hook", run.activations["blocks.0.mlp.hook_post"]!.shape)

        // Distillation: probe the task's probe region and fit a program.
        let task = try TaskDescription.read("\(folder)/task.json")
        let probes = try ProbeSet.probe(net, task: task, region: try task.resolveRegions()["probe"]!)
        let program = try Distiller.fit(.program, probes: probes, task: task, features: try TaskFeatures(task: task))
        print(program.text(task: task))  // "(a + b) mod 113", its exceptions, its bits

        // Fidelity: agreement by region, error agreement, compression, verdict.
        let behaviour = try BehaviourReport.evaluate(network: net, task: task, surrogates: [program])
        let report = FidelityReport(
            model: "\(folder)/model.safetensors", network: "\(folder)/network.json", taskPath: "\(folder)/task.json",
            behaviour: behaviour)
        print(report.summary)  // what `retort fidelity` prints; `report.json` and `report.html` are the files' text
        // README example ends

        #expect(program.text(task: task).contains("(a + b) mod 113"))
        #expect(report.summary.contains("interpretation only"))
        #expect(run.output.shape == [1, 3, 113] && run.activations["blocks.0.mlp.hook_post"]?.shape == [1, 3, 512])
        #expect(try WeightFiles.open("/tmp/modular_addition.bf16.safetensors").tensors.allSatisfy { $0.dtype == .bf16 })
    }

    static func ownSource() throws -> String { try String(contentsOfFile: #filePath, encoding: .utf8) }

    /// The lines between the markers, with this file's indentation removed.
    static func exampleCode() throws -> String {
        let source = try ownSource()
        let begin = "// README example begins\n", end = "        // README example ends"
        let start = try #require(source.range(of: begin)).upperBound
        let stop = try #require(source.range(of: end, range: start..<source.endIndex)).lowerBound
        return source[start..<stop].split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : String($0) }
            .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

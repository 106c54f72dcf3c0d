import Distillation
import Foundation
import Network
import Testing

@testable import Fidelity

/// a + b over 10…39 as a prompt ("1+1=2\n" then "{a}+{b}="), the answer generated as digits.
private func generatingTask() throws -> TaskDescription {
    let json = """
        {"retort_task": 1, "name": "tiny prompt", "variables": [
          {"name": "a", "type": "integer", "min": 10, "max": 39},
          {"name": "b", "type": "integer", "min": 10, "max": 39}],
         "encoder": {"kind": "prompt", "template": "{a}+{b}=", "prefix": "1+1=2\\n"},
         "decoder": {"kind": "generate", "max_new_tokens": 3, "min": 0, "max": 99},
         "regions": {"probe": {"all": true}}}
        """
    return try TaskDescription.parse(Array(json.utf8))
}

/// Patched runs resumed from the clean states decode what whole patched runs decode, at every hook kind the
/// studies patch, at early and late blocks and positions (block-quantized weights: the same bits).
@Test func patchedRunsResumedFromTheCleanStatesDecodeWhatWholeRunsDecode() throws {
    let name = "llama_tiny_gguf/model.gguf"
    let task = try generatingTask()
    let network = LanguageModels.attaching(CharacterTokenizer(), to: try LanguageModels.load(referenceNetwork(name), threads: 2))
    let prompt = try PromptRunner(network: network, task: task)
    let region = try #require(try task.resolveRegions()["probe"])
    let inputs = (0..<20).map { region.input($0 * 37 % region.count) }
    let ids = try inputs.map { try prompt.promptIDs(for: $0) }
    let hooks = ["blocks.0.hook_resid_post", "blocks.1.hook_attn_out", "blocks.1.hook_mlp_out", "blocks.0.hook_mlp_out"]
    let runner = try PromptInterchangeRunner(prompt: prompt, inputs: inputs, ids: ids, sharedPrefix: 6, hooks: hooks)
    #expect(runner.states.count == inputs.count)
    var whole = runner
    whole.states = []
    var patches: [PromptInterchangeRunner.Patch] = []
    for (h, hook) in hooks.enumerated() {
        for position in runner.positions {
            for base in stride(from: h % 3, to: inputs.count, by: 3) {
                let source = (base * 7 + 5) % inputs.count
                patches.append(.init(base: base, hook: hook, position: position, values: Array(runner.features(hook, position, source))))
            }
        }
    }
    let resumed = try runner.outputs(patches)
    #expect(resumed == (try whole.outputs(patches)))
    #expect(zip(patches, resumed).contains { runner.outputs[$0.base] != $1 }, "some patch must change an output")
}

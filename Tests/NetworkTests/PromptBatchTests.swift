import Foundation
import Testing

@testable import Network

private func tiny(_ name: String) throws -> any LanguageModel {
    try LanguageModels.load("\(referenceNetworksDirectory)/\(name)", threads: 2)
}

private let prefix = [5, 17, 200, 3, 99]
private let prompts = [prefix + [42, 7, 8], prefix + [1, 2, 3], prefix + [250, 9, 4]]

@Test(arguments: tinyLanguageModels)
func aPromptBatchGeneratesWhatGenerateDoes(_ name: String) throws {
    let model = try tiny(name)
    let expected = try model.generate(prompts, maxNewTokens: 5, stop: [], interventions: [])
    let batch = try model.run(PromptBatch(prompts: prompts, sharedPrefix: prefix.count, maxNewTokens: 5))
    #expect(batch.generated == expected)
    let logits = try model.run(PromptBatch(prompts: prompts, sharedPrefix: prefix.count, maxNewTokens: 0))
    let reference = try model.nextTokenLogits(prompts, interventions: [])
    for (got, want) in zip(try #require(logits.logits), reference) {
        #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
    }
}

@Test func aPromptBatchCapturesThePositionsAfterThePrefix() throws {
    let model = try tiny("llama_tiny")
    let hook = "blocks.1.hook_resid_post"
    let batch = try model.run(PromptBatch(prompts: prompts, sharedPrefix: prefix.count, maxNewTokens: 2, capture: [hook]))
    let full = try model.run(.tokens(ids: prompts.flatMap { $0 }, batch: 3, length: 8), capture: [hook], interventions: [])
    let all = try #require(full.activations[hook])
    let d = all.shape[2]
    for b in prompts.indices {
        let got = try #require(batch.activations[b][hook])
        #expect(got.shape == [1, 3, d])
        let want = all.scalars[((b * 8 + prefix.count) * d)..<((b + 1) * 8 * d)]
        #expect(zip(got.scalars, want).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
    }
}

@Test(arguments: tinyLanguageModels)
func aPromptBatchAppliesEachPromptsOwnInterventions(_ name: String) throws {
    let model = try tiny(name)
    let hook = "blocks.1.hook_resid_pre"
    let d = try #require(
        model.run(.tokens(ids: [1], batch: 1, length: 1), capture: [hook], interventions: []).activations[hook]).shape.last!
    let lists: [[Intervention]] = [
        [Intervention(hook: hook, positions: [7], kind: .set([Float](repeating: 3, count: d)))],
        [],
        [Intervention(hook: "blocks.0.hook_mlp_out", positions: [5, 6], units: [0, 1], kind: .zero)],
    ]
    let batch = try model.run(
        PromptBatch(prompts: prompts, sharedPrefix: prefix.count, maxNewTokens: 4, interventions: lists))
    for b in prompts.indices {
        let alone = try model.generate([prompts[b]], maxNewTokens: 4, stop: [], interventions: lists[b])[0]
        #expect(batch.generated[b] == alone, "\(name): prompt \(b)")
    }
}

@Test func aPromptBatchRefusesInterventionsInsideTheSharedPrefix() throws {
    let model = try tiny("gpt2_tiny")
    let inside = Intervention(hook: "blocks.0.hook_resid_post", positions: [2], units: [0], kind: .zero)
    let unnamed = Intervention(hook: "blocks.0.hook_resid_post", positions: nil, units: [0], kind: .zero)
    for (list, words) in [(inside, "inside the shared prefix"), (unnamed, "must name their positions")] {
        do {
            _ = try model.run(
                PromptBatch(prompts: prompts, sharedPrefix: prefix.count, maxNewTokens: 1, interventions: [[list], [], []]))
            Issue.record("accepted \(words)")
        } catch {
            #expect("\(error)".contains(words))
        }
    }
}

@Test func aPromptBatchRefusesPromptsThatDoNotShareThePrefix() throws {
    let model = try tiny("gpt2_tiny")
    var other = prompts
    other[1][2] = 201
    do {
        _ = try model.run(PromptBatch(prompts: other, sharedPrefix: prefix.count, maxNewTokens: 1))
        Issue.record("accepted prompts that differ inside the prefix")
    } catch {
        #expect("\(error)".contains("prompt 1 differs from prompt 0 at position 2"))
    }
}

import Foundation
import Testing

@testable import Network

private func tiny(_ name: String) throws -> any LanguageModel {
    try LanguageModels.load("\(referenceNetworksDirectory)/\(name)", threads: 2)
}

/// The GGUF fixtures: block-quantized weights (Q4_0 … Q8_0), multiplied by the integer kernels.
private let quantizedLanguageModels = ["llama_tiny_gguf/model.gguf", "gpt2_tiny_gguf/model.gguf"]

private let prefix = [5, 17, 200, 3, 99]
private let prompts = [prefix + [42, 7, 8, 61], prefix + [1, 2, 3, 4], prefix + [250, 9, 4, 4]]

/// The clean states of `prompts` on `model`, generating `newTokens`.
private func cleanStates(_ model: any LanguageModel, newTokens: Int = 0) throws -> [PromptState] {
    let clean = try model.run(PromptBatch(prompts: prompts, sharedPrefix: prefix.count, maxNewTokens: newTokens, keepStates: true))
    try #require(clean.states.count == prompts.count)
    return clean.states
}

/// Every hook of every block (the attention scores and patterns only without generation), the embeddings and the
/// final norm, each at every position after the prefix in turn, on the prompts in turn; and one prompt patched at
/// two sites of different blocks and positions.
private func patches(_ model: any LanguageModel, generating: Bool) throws -> (prompts: [[Int]], lists: [[Intervention]]) {
    let core = try #require(DecoderTransformer.core(of: model))
    var batchPrompts: [[Int]] = []
    var lists: [[Intervention]] = []
    let positions = Array(prefix.count..<prompts[0].count)
    for (i, hook) in core.hookNames.enumerated() {
        let attention = hook.hasSuffix("hook_attn_scores") || hook.hasSuffix("hook_pattern")
        if attention, generating { continue }
        for (j, position) in positions.enumerated() {
            batchPrompts.append(prompts[(i + j) % prompts.count])
            // Zeroing units 0 and 1 changes every hook (scores and patterns: the first two keys).
            lists.append([Intervention(hook: hook, positions: [position], units: [0, 1], kind: .zero)])
        }
    }
    batchPrompts.append(prompts[1])
    lists.append([
        Intervention(hook: "blocks.1.hook_mlp_out", positions: [prefix.count + 2], units: [0, 1], kind: .zero),
        Intervention(hook: "blocks.0.attn.hook_v", positions: [prefix.count + 3], units: [1], kind: .zero),
    ])
    batchPrompts.append(prompts[2])
    lists.append([])
    return (batchPrompts, lists)
}

/// The resumed and the whole run's next-token logits, per patched prompt, and the patches.
private func resumedAndWholeLogits(_ name: String) throws -> (resumed: [[Float]], whole: [[Float]], lists: [[Intervention]]) {
    let model = try tiny(name)
    let states = try cleanStates(model)
    let (batchPrompts, lists) = try patches(model, generating: false)
    let resume = batchPrompts.map { p in states[prompts.firstIndex(of: p)!] }
    let whole = try model.run(
        PromptBatch(prompts: batchPrompts, sharedPrefix: prefix.count, maxNewTokens: 0, interventions: lists))
    let resumed = try model.run(
        PromptBatch(prompts: batchPrompts, sharedPrefix: prefix.count, maxNewTokens: 0, interventions: lists, resume: resume))
    // The patches change the logits, so the comparisons can fail.
    let clean = try model.run(PromptBatch(prompts: batchPrompts, sharedPrefix: prefix.count, maxNewTokens: 0))
    #expect(try zip(#require(clean.logits), #require(whole.logits)).contains { $0 != $1 })
    return (try #require(resumed.logits), try #require(whole.logits), lists)
}

/// Block-quantized weights multiply by integer kernels whose every output is the same bits however many rows
/// share the product, and attention runs per prompt: a resumed run is the whole run, bit for bit.
@Test(arguments: quantizedLanguageModels)
func aResumedPromptBatchGivesTheWholeRunsLogitsBitForBit(_ name: String) throws {
    let (got, want, lists) = try resumedAndWholeLogits(name)
    #expect(got.count == want.count)
    for (b, (g, w)) in zip(got, want).enumerated() {
        #expect(g.map(\.bitPattern) == w.map(\.bitPattern), "\(name): prompt \(b), \(lists[b].map(\.hook)) at \(lists[b].compactMap(\.positions))")
    }
}

/// Float32 weights go through `Matmul`, whose kernels for few rows sum a dot product in another order than
/// those for many: a resumed pass has fewer rows than the whole one, so its logits may differ in the last bits.
@Test(arguments: tinyLanguageModels)
func aResumedPromptBatchGivesTheWholeRunsLogitsToRounding(_ name: String) throws {
    let (got, want, lists) = try resumedAndWholeLogits(name)
    #expect(got.count == want.count)
    for (b, (g, w)) in zip(got, want).enumerated() {
        let worst = zip(g, w).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= 1e-5, "\(name): prompt \(b), \(lists[b].map(\.hook)) at \(lists[b].compactMap(\.positions)): \(worst)")
    }
}

@Test(arguments: tinyLanguageModels + quantizedLanguageModels)
func aResumedPromptBatchGeneratesWhatTheWholeRunGenerates(_ name: String) throws {
    let model = try tiny(name)
    let states = try cleanStates(model, newTokens: 6)
    let (batchPrompts, lists) = try patches(model, generating: true)
    let resume = batchPrompts.map { p in states[prompts.firstIndex(of: p)!] }
    let whole = try model.run(
        PromptBatch(prompts: batchPrompts, sharedPrefix: prefix.count, maxNewTokens: 6, interventions: lists))
    let resumed = try model.run(
        PromptBatch(prompts: batchPrompts, sharedPrefix: prefix.count, maxNewTokens: 6, interventions: lists, resume: resume))
    #expect(resumed.generated == whole.generated)
    let clean = try model.run(PromptBatch(prompts: batchPrompts, sharedPrefix: prefix.count, maxNewTokens: 6))
    #expect(clean.generated != whole.generated, "the patches must change some continuation for the test to mean anything")
    // Most patches leave the continuation as it was, so later steps resume from the clean run's generated positions.
    #expect(zip(clean.generated, whole.generated).filter { $0 == $1 }.count > batchPrompts.count / 2)
}

@Test func aKeptStateHoldsTheCleanResidualsAndKeysOfEveryLayer() throws {
    let model = try tiny("llama_tiny")
    let state = try cleanStates(model)[2]
    let layers = state.layers, span = state.rows
    let hooks = (0..<layers).flatMap { ["blocks.\($0).hook_resid_pre", "blocks.\($0).attn.hook_rot_k", "blocks.\($0).attn.hook_v"] }
    let run = try model.run(.tokens(ids: prompts[2], batch: 1, length: prompts[2].count), capture: Set(hooks), interventions: [])
    for layer in 0..<layers {
        for (hook, kept, width) in [
            ("blocks.\(layer).hook_resid_pre", state.residuals, state.dModel),
            ("blocks.\(layer).attn.hook_rot_k", state.keys, state.kvWidth), ("blocks.\(layer).attn.hook_v", state.values, state.kvWidth),
        ] {
            let all = try #require(run.activations[hook]).scalars
            let want = all[(prefix.count * width)..<(prompts[2].count * width)]
            let got = kept[(layer * span * width)..<((layer + 1) * span * width)]
            #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "\(hook)")
        }
    }
}

@Test func aResumedPromptBatchRefusesAStateOfAnotherPrompt() throws {
    let model = try tiny("gpt2_tiny")
    let states = try cleanStates(model)
    let list = [Intervention(hook: "blocks.0.hook_resid_post", positions: [6], units: [0], kind: .zero)]
    do {
        _ = try model.run(
            PromptBatch(prompts: [prompts[0]], sharedPrefix: prefix.count, maxNewTokens: 1, interventions: [list], resume: [states[1]]))
        Issue.record("accepted another prompt's state")
    } catch {
        #expect("\(error)".contains("prompt 0: the state to resume from is of another prompt"))
    }
}

@Test func aPromptBatchKeepsStatesOnlyWithoutInterventionsAndResumesWithoutCaptures() throws {
    let model = try tiny("gpt2_tiny")
    let states = try cleanStates(model)
    let list = [Intervention(hook: "blocks.0.hook_resid_post", positions: [6], units: [0], kind: .zero)]
    do {
        _ = try model.run(
            PromptBatch(prompts: [prompts[0]], sharedPrefix: prefix.count, maxNewTokens: 1, interventions: [list], keepStates: true))
        Issue.record("kept the states of a patched run")
    } catch {
        #expect("\(error)".contains("keeps states only without interventions"))
    }
    do {
        _ = try model.run(
            PromptBatch(
                prompts: [prompts[0]], sharedPrefix: prefix.count, maxNewTokens: 1, capture: ["blocks.0.hook_resid_post"],
                resume: [states[0]]))
        Issue.record("captured in a resumed run")
    } catch {
        #expect("\(error)".contains("captures nothing"))
    }
}

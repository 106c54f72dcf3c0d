import Distillation
import Foundation
import Network
import Testing

@testable import Fidelity

/// One token per ASCII character (id = code), so that a tiny model's 256 ids cover every prompt.
private struct CharacterTokenizer: Tokenizer {
    var vocabularySize: Int { 128 }
    var bosTokenID: Int? { nil }
    var eosTokenID: Int? { 127 }
    var addsBOS: Bool { false }
    func encode(_ text: String) -> [Int] { text.unicodeScalars.map { Int($0.value) & 127 } }
    func decode(_ ids: [Int]) -> String { String(ids.map { Character(UnicodeScalar(UInt8($0 & 127))) }) }
}

private func tinyModel(_ name: String = "llama_tiny") throws -> any NeuralNetwork {
    LanguageModels.attaching(CharacterTokenizer(), to: try LanguageModels.load(referenceNetwork(name), threads: 2))
}

/// A prompt task over a, b in `low…high`: prefix "1+1=2\n", template "{a}+{b}=", the answer's first digit by next-token logits.
private func promptTask(low: Int = 10, high: Int = 39, decoder: String? = nil) throws -> TaskDescription {
    let digits = (0..<10).map { "\"\($0)\"" }.joined(separator: ", ")
    let json = """
        {"retort_task": 1, "name": "tiny prompt", "variables": [
          {"name": "a", "type": "integer", "min": \(low), "max": \(high)},
          {"name": "b", "type": "integer", "min": \(low), "max": \(high)}],
         "encoder": {"kind": "prompt", "template": "{a}+{b}=", "prefix": "1+1=2\\n"},
         "decoder": \(decoder ?? "{\"kind\": \"next_token\", \"candidates\": [\(digits)], \"values\": [0,1,2,3,4,5,6,7,8,9]}"),
         "regions": {"probe": {"all": true}}}
        """
    return try TaskDescription.parse(Array(json.utf8))
}

private func program(_ expression: String, task: TaskDescription) throws -> FittedSurrogate {
    try SurrogateFile.parse(
        Array(#"{"retort_surrogate": 1, "family": "program", "body": {"expression": "\#(expression)"}}"#.utf8), task: task)
}

@Test(arguments: ["llama_tiny", "gpt2_tiny"])
func interchangingTheLastResidualAtTheLastPositionGivesTheSourcesOutput(_ name: String) throws {
    let task = try promptTask()
    let prompt = try PromptRunner(network: try tinyModel(name), task: task)
    let region = try #require(try task.resolveRegions()["probe"])
    let inputs = (0..<24).map { region.input($0 * 37 % region.count) }
    let ids = try inputs.map { try prompt.promptIDs(for: $0) }
    let hook = "blocks.1.hook_resid_post"
    let runner = try PromptInterchangeRunner(prompt: prompt, inputs: inputs, ids: ids, sharedPrefix: 6, hooks: [hook])
    #expect(runner.positions == [-6, -5, -4, -3, -2, -1])
    #expect(Set(runner.outputs).count > 1, "the clean outputs must differ for the test to mean anything")
    let pairs = inputs.indices.map { ($0, ($0 * 5 + 3) % inputs.count) }
    let patched = try runner.outputs(pairs.map { base, source in
        .init(base: base, hook: hook, position: -1, values: Array(runner.features(hook, -1, source)))
    })
    #expect(patched == pairs.map { runner.outputs[$0.1] })
    // The same site at the first query token changes nothing the last layer passes on: the base's output stays.
    let early = try runner.outputs(pairs.map { base, source in
        .init(base: base, hook: hook, position: -6, values: Array(runner.features(hook, -6, source)))
    })
    #expect(early == pairs.map { runner.outputs[$0.0] })
}

/// The surrogate `digit0(a + b)` agrees with the tiny model on a tenth of the inputs or so; on those the output
/// variable interchanged at the last residual of the last position is the source's answer, the surrogate's too.
@Test func aPromptStudyOnAgreeingInputsFindsTheOutputAtTheLastResidual() throws {
    let task = try promptTask()
    let network = try tinyModel()
    var options = RepresentationOptions()
    options.fittingPairs = 24
    options.heldOutPairs = 24
    options.localisationPairs = 24
    options.searchSites = 2
    options.subspaceDimensions = [1]
    options.maxPromptInputs = 40
    options.positions = [-3, -1]
    let result = try PromptRepresentationTests.run(
        network: network, surrogate: try program("digit0(a + b)", task: task), task: task,
        inputs: try #require(try task.resolveRegions()["probe"]), options: options)
    #expect(result.inputs.onlyAgreeing && result.inputs.used >= 2 && result.inputs.used == min(40, result.inputs.agreeing))
    #expect(result.inputs.sharedPrefix == 6 && result.inputs.tokenLength == 12)
    let output = try #require(result.variables.first { $0.variable.isOutput })
    let last = try #require(output.localisation.first { $0.site == AlignmentSite(hook: "blocks.1.hook_resid_post", position: -1) })
    #expect(last.accuracy.overall.proportion == 1)
    #expect(output.localisation.count == 2 * 3 * 2)  // layers × hook kinds × positions
    #expect(result.positions.map(\.label) == [#""a""#, "a[0]", "a[1]", #""+""#, "b[0]", "b[1]", #""=""#].suffix(6).map { $0 })
}

@Test func promptsOfAnotherTokenLengthAreLeftOutAndCounted() throws {
    // a or b = 8 or 9 give prompts one token shorter than both in 10…14, and two shorter when both are.
    let task = try promptTask(low: 8, high: 14)
    var options = RepresentationOptions()
    options.onlyAgreeingInputs = false
    options.maxPromptInputs = 100
    options.localisationPairs = 8
    options.fittingPairs = 8
    options.heldOutPairs = 8
    options.subspaceDimensions = []
    options.sites = [AlignmentSite(hook: "blocks.0.hook_resid_post", position: -1)]
    let result = try PromptRepresentationTests.run(
        network: try tinyModel(), surrogate: try program("a + b", task: task), task: task,
        inputs: try #require(try task.resolveRegions()["probe"]), options: options)
    #expect(result.inputs.given == 49)
    #expect(result.inputs.tokenLength == 12)
    #expect(result.inputs.sameLength == 25)  // a and b both two-digit: 10…14
    #expect(result.inputs.otherLengths.map(\.length) == [10, 11] && result.inputs.otherLengths.map(\.count) == [4, 20])
    #expect(result.inputs.used == 25)
}

@Test func aPromptSiteInsideThePrefixOrCountedFromTheStartIsRefusedByName() throws {
    let task = try promptTask(low: 10, high: 12)
    let region = try #require(try task.resolveRegions()["probe"])
    for (position, words) in [(-7, "inside the few-shot prefix"), (3, "counted from the prompt's end")] {
        var options = RepresentationOptions()
        options.onlyAgreeingInputs = false
        options.sites = [AlignmentSite(hook: "blocks.0.hook_resid_post", position: position)]
        do {
            _ = try PromptRepresentationTests.run(
                network: try tinyModel(), surrogate: try program("a + b", task: task), task: task, inputs: region, options: options)
            Issue.record("accepted position \(position)")
        } catch {
            #expect("\(error)".contains(words), "\(error)")
        }
    }
}

@Test func aPromptStudysJSONNamesItsMethodInputsPositionsAndSites() throws {
    let task = try promptTask(low: 10, high: 17)
    var options = RepresentationOptions()
    options.onlyAgreeingInputs = false
    options.localisationPairs = 16
    options.fittingPairs = 16
    options.heldOutPairs = 16
    options.searchSites = 1
    options.subspaceDimensions = [1, 2]
    options.sites = [
        AlignmentSite(hook: "blocks.0.hook_attn_out", position: -2), AlignmentSite(hook: "blocks.1.hook_mlp_out", position: -1),
    ]
    options.variables = ["digit0(a) + digit0(b)"]
    let result = try PromptRepresentationTests.run(
        network: try tinyModel(), surrogate: try program("10 * (digit1(a) + digit1(b)) + (digit0(a) + digit0(b))", task: task),
        task: task, inputs: try #require(try task.resolveRegions()["probe"]), options: options)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(result.json.utf8)) as? [String: Any])
    #expect(json["kind"] as? String == "prompt" && json["subspace_method"] as? String == "class_mean")
    let inputs = try #require(json["inputs"] as? [String: Any])
    #expect(inputs["shared_prefix"] as? Int == 6 && inputs["only_agreeing"] as? Bool == false)
    let variables = try #require(json["variables"] as? [[String: Any]])
    #expect(variables.count == 1)
    let top = try #require(variables[0]["top_sites"] as? [[String: Any]])
    #expect(top.count == 1)
    let subspaces = try #require(top[0]["subspaces"] as? [[String: Any]])
    #expect(subspaces.map { $0["dimension"] as? Int } == [1, 2])
    #expect(subspaces.allSatisfy { $0["random_iia"] != nil && $0["method"] as? String == "class_mean" })
    let map = try #require(variables[0]["localisation"] as? [[String: Any]])
    #expect(map.map { $0["position"] as? Int } == [-2, -1])
    #expect(result.untested == 7)  // the other 7 of its 8 variables
}

/// On the agreeing inputs the last residual of the last position holds the answer (its whole-site IIA is 1), which
/// takes 4 values there; a 3-dimensional subspace trained by DAS through the final norm and the output embedding
/// carries most of it, where a random 3-dimensional subspace of the 64 carries almost none.
@Test func dasAtThePromptsLastResidualCarriesTheAnswerWhereARandomSubspaceDoesNot() throws {
    let task = try promptTask()
    var options = RepresentationOptions()
    options.fittingPairs = 40
    options.heldOutPairs = 40
    options.localisationPairs = 40
    options.searchSites = 1
    options.subspaceDimensions = [3]
    options.subspaceSteps = 150
    options.maxPromptInputs = 40
    options.sites = [AlignmentSite(hook: "blocks.1.hook_resid_post", position: -1)]
    let result = try PromptRepresentationTests.run(
        network: try tinyModel(), surrogate: try program("digit0(a + b)", task: task), task: task,
        inputs: try #require(try task.resolveRegions()["probe"]), options: options)
    let output = try #require(result.variables.first { $0.variable.isOutput })
    let site = try #require(output.top.first)
    let das = try #require(site.das.first)
    let random = try #require(site.subspaces.first).randomAccuracy
    #expect(das.dimension == 3 && das.trainingPairs > 0 && das.steps <= 150)
    #expect(site.wholeSite.overall.proportion == 1)
    #expect(das.accuracy.changed.proportion >= 0.7, "DAS \(das.accuracy.changed.proportion)")
    #expect(das.accuracy.changed.proportion >= random.changed.proportion + 0.4, "DAS \(das.accuracy.changed.proportion), random \(random.changed.proportion)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(result.json.utf8)) as? [String: Any])
    let variables = try #require(json["variables"] as? [[String: Any]])
    let top = try #require(variables.first { ($0["top_sites"] as? [[String: Any]])?.first?["das"] != nil }?["top_sites"] as? [[String: Any]])
    let scores = try #require(top[0]["das"] as? [[String: Any]])
    #expect(scores.first?["method"] as? String == "das" && scores.first?["objective"] as? String == "first_answer_token")
}

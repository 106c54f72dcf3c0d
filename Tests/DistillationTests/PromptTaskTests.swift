import Foundation
import Network
import Testing
import WeightFiles

@testable import Distillation

/// A prompt task over a, b ∈ 0…`max` with `decoder` and `regions` (JSON members).
private func promptTaskJSON(
    max: Int = 9, template: String = "{a}+{b}=", prefix: String = "3+4=7\\n",
    decoder: String = #"{"kind": "generate", "max_new_tokens": 4}"#, regions: String = #"{"probe": {"all": true}}"#
) -> String {
    """
    {"retort_task": 1, "name": "prompted addition",
     "variables": [{"name": "a", "type": "integer", "min": 0, "max": \(max)}, {"name": "b", "type": "integer", "min": 0, "max": \(max)}],
     "encoder": {"kind": "prompt", "template": "\(template)", "prefix": "\(prefix)"},
     "decoder": \(decoder), "regions": \(regions)}
    """
}

private func task(_ json: String) throws -> TaskDescription { try TaskDescription.parse(Array(json.utf8)) }

/// The task error's JSON path and reason, or nil when the task parses.
private func invalidTask(_ json: String) -> (path: String, reason: String)? {
    do {
        _ = try task(json)
        return nil
    } catch let error as DistillationError {
        if case .invalidTask(let path, let reason) = error { return (path, reason) }
        return ("?", "\(error)")
    } catch {
        return ("?", "\(error)")
    }
}


// MARK: Parsing

@Test func promptEncoderKeepsPrefixAndTemplate() throws {
    let t = try task(promptTaskJSON())
    guard case .prompt(let template) = t.encoder else {
        Issue.record("expected a prompt encoder, got \(t.encoder)")
        return
    }
    #expect(template.prefix == "3+4=7\n" && template.template == "{a}+{b}=")
    #expect(template.render([12, 5]) == "3+4=7\n12+5=")
    #expect(t.isPromptTask)
}

@Test func generateDecoderDefaultsToEveryNumberOfItsDigitsAndMinusOneForNoAnswer() throws {
    let t = try task(promptTaskJSON(decoder: #"{"kind": "generate", "max_new_tokens": 3}"#))
    #expect(t.decoder == .generate(maxNewTokens: 3, min: 0, max: 999, noAnswer: -1))
    #expect(t.outputValues == [-1] + Array(0...999))
}

@Test func generateDecoderTakesADeclaredRangeAndNoAnswerValue() throws {
    let t = try task(
        promptTaskJSON(decoder: #"{"kind": "generate", "max_new_tokens": 4, "min": 0, "max": 198, "no_answer": 199}"#))
    #expect(t.decoder == .generate(maxNewTokens: 4, min: 0, max: 198, noAnswer: 199))
    #expect(t.outputValues.count == 200 && t.outputValues.last == 199)
}

@Test func noAnswerInsideTheRangeIsAnError() throws {
    let error = invalidTask(promptTaskJSON(decoder: #"{"kind": "generate", "max_new_tokens": 4, "no_answer": 5}"#))
    #expect(error?.path == "decoder.no_answer")
}

@Test func nextTokenDecoderMapsCandidatesToValues() throws {
    let t = try task(
        promptTaskJSON(decoder: #"{"kind": "next_token", "candidates": ["no", "yes"], "values": [0, 1]}"#))
    #expect(t.decoder == .nextToken(candidates: ["no", "yes"], values: [0, 1]))
    #expect(t.outputValues == [0, 1])
    let indexed = try task(promptTaskJSON(decoder: #"{"kind": "next_token", "candidates": ["0", "1", "2"]}"#))
    #expect(indexed.outputValues == [0, 1, 2])
}

@Test func duplicateCandidatesAreAnError() throws {
    let error = invalidTask(promptTaskJSON(decoder: #"{"kind": "next_token", "candidates": ["1", "1"]}"#))
    #expect(error?.path == "decoder.candidates[1]")
}

@Test func candidateValuesOfTheWrongCountAreAnError() throws {
    let error = invalidTask(promptTaskJSON(decoder: #"{"kind": "next_token", "candidates": ["a", "b"], "values": [1]}"#))
    #expect(error?.path == "decoder.values")
}

@Test func templateNamingAnUnknownVariableIsAnError() throws {
    let error = invalidTask(promptTaskJSON(template: "{a}+{c}="))
    #expect(error?.path == "encoder.template")
    #expect(error?.reason.contains("{c}") == true)
}

@Test func templateThatNeverShowsAVariableIsAnError() throws {
    let error = invalidTask(promptTaskJSON(template: "{a}+1="))
    #expect(error?.path == "encoder.template")
    #expect(error?.reason.contains("variable b") == true)
}

@Test func doubledBracesAreLiteralBraces() throws {
    let t = try task(promptTaskJSON(template: "{{{a}}}+{b}=", prefix: ""))
    guard case .prompt(let template) = t.encoder else { return }
    #expect(template.render([1, 2]) == "{1}+2=")
    #expect(invalidTask(promptTaskJSON(template: "{a+{b}=")) != nil)
}

@Test func aPromptEncoderNeedsALanguageModelDecoder() throws {
    let error = invalidTask(promptTaskJSON(decoder: #"{"kind": "argmax", "outputs": 19}"#))
    #expect(error?.path == "decoder.kind")
}

@Test func languageModelDecodersNeedAPromptEncoder() throws {
    let json = promptTaskJSON().replacingOccurrences(
        of: #"{"kind": "prompt", "template": "{a}+{b}=", "prefix": "3+4=7\n"}"#, with: #"{"kind": "raw"}"#)
    #expect(invalidTask(json)?.path == "encoder.kind")
}

// MARK: Reading generated text

@Test(
    arguments: [
        ("37", 37), (" 37", 37), ("  8 9", 8), ("37\n12", 37), ("12abc", 12), ("-5", -5), ("007", 7), ("37</s>", 37),
    ] as [(String, Int)])
func generatedTextStartingWithAnIntegerReadsAsThatInteger(_ text: String, _ value: Int) {
    #expect(GeneratedAnswer.leadingInteger(text) == value)
}

@Test(arguments: ["", "abc", "-", " - 5", "\n12", "=12", "99999999999999999999"])
func generatedTextStartingWithNoIntegerHasNoAnswer(_ text: String) {
    #expect(GeneratedAnswer.leadingInteger(text) == nil)
    #expect(GeneratedAnswer.output(of: text, min: 0, max: 198, noAnswer: -1) == -1)
}

@Test func anIntegerOutsideTheDecodersRangeIsNoAnswer() {
    #expect(GeneratedAnswer.output(of: "250", min: 0, max: 198, noAnswer: -1) == -1)
    #expect(GeneratedAnswer.output(of: "-3", min: 0, max: 198, noAnswer: -1) == -1)
    #expect(GeneratedAnswer.output(of: "198", min: 0, max: 198, noAnswer: -1) == 198)
}

// MARK: Running a language model

@Test func probingAPromptTaskGeneratesInBatchesAndReadsTheAnswers() throws {
    let t = try task(promptTaskJSON(max: 99, regions: #"{"probe": {"sample": 150, "seed": 3}}"#))
    let model = ArithmeticLanguageModel()
    let region = try #require(try t.resolveRegions()["probe"])
    var progress: [Int] = []
    let probes = try ProbeSet.probe(model, task: t, region: region) { done, _ in progress.append(done) }
    #expect(probes.outputs == (0..<region.count).map { region.input($0).reduce(0, +) })
    #expect(model.batches.map(\.count) == [64, 64, 22])
    #expect(progress == [64, 128, 150])
    // "1+2=" and "10+20=" differ in length within one batch.
    #expect(Set(model.batches[0].map(\.count)).count > 1)
}

@Test func promptsStartWithBOSWhenTheTokenizerAsksForIt() throws {
    let t = try task(promptTaskJSON())
    let runner = try PromptRunner(
        network: ArithmeticLanguageModel(tokenizer: CharacterTokenizer(addsBOS: true)), task: t)
    #expect(try runner.promptIDs(for: [1, 2]) == [2] + Array("3+4=7\n1+2=".utf8).map(Int.init))
}

@Test func generationIsReadUpToItsFirstNewlineEvenWhenTheModelGoesOn() throws {
    let t = try task(promptTaskJSON(decoder: #"{"kind": "generate", "max_new_tokens": 6}"#))
    let model = ArithmeticLanguageModel(honoursStop: false) { a, b in "\(a + b)\n99" }
    let region = t.region("x", indices: [t.index(of: [3, 4])])
    #expect(try ProbeSet.probe(model, task: t, region: region).outputs == [7])
}

@Test func aNonNumericAnswerIsTheNoAnswerValue() throws {
    let t = try task(promptTaskJSON())
    let model = ArithmeticLanguageModel { a, b in a + b >= 10 ? "ten\n" : "\(a + b)\n" }
    let region = t.region("x", indices: [t.index(of: [3, 4]), t.index(of: [6, 7])])
    #expect(try ProbeSet.probe(model, task: t, region: region).outputs == [7, -1])
}

@Test func nextTokenDecoderPicksTheCandidateWithTheLargestLogit() throws {
    let t = try task(
        promptTaskJSON(decoder: #"{"kind": "next_token", "candidates": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]}"#))
    let region = t.region("x", indices: [t.index(of: [3, 4]), t.index(of: [9, 9])])
    // The fake's first answer token is the sum's leading digit: 7, and 1 for 18.
    #expect(try ProbeSet.probe(ArithmeticLanguageModel(), task: t, region: region).outputs == [7, 1])
}

@Test func candidatesSharingAFirstTokenAreAnError() throws {
    let t = try task(promptTaskJSON(decoder: #"{"kind": "next_token", "candidates": ["10", "12"]}"#))
    let error = distillationError { _ = try PromptRunner(network: ArithmeticLanguageModel(), task: t) }
    guard case .encoderMismatch(let reason) = error else {
        Issue.record("expected encoderMismatch, got \(String(describing: error))")
        return
    }
    #expect(reason.contains("\"10\"") && reason.contains("\"12\""))
}

@Test func aPromptLongerThanTheContextIsAnErrorNamingThePrompt() throws {
    let t = try task(promptTaskJSON(max: 99))
    // "3+4=7\n" + "99+99=" is 12 tokens; with 4 to generate, 16 > 15.
    let model = ArithmeticLanguageModel(contextLength: 15)
    let region = t.region("x", indices: [t.index(of: [1, 1]), t.index(of: [99, 99])])
    let error = distillationError { _ = try ProbeSet.probe(model, task: t, region: region) }
    #expect(error == .promptTooLong(prompt: "3+4=7\n99+99=", tokens: 12, newTokens: 4, context: 15))
    #expect(error?.description.contains(#""3+4=7\n99+99=""#) == true)
    // The early check sees the domain's last prompt, the longest here.
    #expect(distillationError { try t.checkEncoder(for: model) } == error)
}

@Test func aPromptTaskNeedsTheModelsTokenizer() throws {
    let t = try task(promptTaskJSON())
    let error = distillationError { try t.checkEncoder(for: ArithmeticLanguageModel(tokenizer: nil)) }
    guard case .encoderMismatch(let reason) = error else {
        Issue.record("expected encoderMismatch, got \(String(describing: error))")
        return
    }
    #expect(reason.contains("tokenizer"))
}

@Test func aPromptTaskNeedsALanguageModel() throws {
    let t = try task(promptTaskJSON())
    let weights = [Float](repeating: 0.5, count: 40)
    let view = TensorView(
        info: TensorInfo(name: "0.weight", dtype: .f32, shape: [2, 20]), copying: weights.withUnsafeBytes { Array($0) })
    let file = try SafetensorsFile(storage: ByteStorage(copying: try SafetensorsWriter.serialize([view], metadata: nil)))
    let mlp = try MLPNetwork(file: file, description: MLPDescription())
    let error = distillationError { try t.checkEncoder(for: mlp) }
    guard case .encoderMismatch(let reason) = error else {
        Issue.record("expected encoderMismatch, got \(String(describing: error))")
        return
    }
    #expect(reason.contains("language model"))
}

@Test func aPromptTaskCapturesNoHooks() throws {
    let t = try task(promptTaskJSON())
    let region = t.region("x", indices: [0])
    let error = distillationError {
        _ = try ProbeSet.probe(ArithmeticLanguageModel(), task: t, region: region, hooks: ["blocks.0.hook_resid_post"])
    }
    guard case .encoderMismatch = error else {
        Issue.record("expected encoderMismatch, got \(String(describing: error))")
        return
    }
}

// MARK: End to end

@Test func distillingAPromptTaskFindsTheModelsAlgorithm() throws {
    let t = try task(
        promptTaskJSON(
            max: 99,
            regions:
                #"{"probe": {"sample": 300, "seed": 1}, "held_out": {"rest": true, "excluding": ["probe"], "limit": 200, "seed": 2}}"#
        ))
    let model = ArithmeticLanguageModel()
    let regions = try t.resolveRegions()
    let probes = try ProbeSet.probe(model, task: t, region: regions["probe"]!)
    let heldOut = try ProbeSet.probe(model, task: t, region: regions["held_out"]!)
    var options = Distiller.Options()
    options.programLimits = ProgramSearch.Limits(maxSize: 3, maxSeconds: 30)
    let features = try TaskFeatures(task: t, names: [])
    let program = try Distiller.fit(.program, probes: probes, task: t, features: features, options: options)
    #expect(program.exceptionCount == 0)
    #expect(program.text(task: t).contains("a + b"))
    #expect(try program.predict(heldOut, task: t) == heldOut.outputs)
    #expect(heldOut.outputs == (0..<heldOut.count).map { heldOut.region.input($0).reduce(0, +) })
}

import Distillation
import Foundation
import Network
import Testing
import WeightFiles

@testable import Fidelity

/// The boolean circuit's task and a surrogate file for it: the program `x3 div (x1 + x2)`, as distill writes it.
private func booleanProgramFile() throws -> (TaskDescription, String) {
    let task = try TaskDescription.read(referenceNetwork("boolean_circuit_handwired") + "/task.json")
    let program = ProgramSurrogate(
        variables: task.variables.map(\.name),
        expression: .binary(.divide, .variable(2), .binary(.add, .variable(0), .variable(1))), exceptions: [],
        domainSize: task.domainSize, outputCount: 2)
    let surrogate = FittedSurrogate(
        family: .program, model: .program(program), featureNames: [], modelBits: program.expressionBits,
        exceptionBits: program.exceptionBits, exceptionCount: 0, probeCount: 16)
    return (task, surrogate.json(task: task))
}

private func mismatch(_ text: String, _ task: TaskDescription) -> String? {
    do {
        _ = try SurrogateFile.parse(Array(text.utf8), task: task)
        return nil
    } catch {
        return "\(error)"
    }
}

@Test func aSurrogateFileWrittenByDistillReadsBackWithTheSameBits() throws {
    let (task, text) = try booleanProgramFile()
    let read = try SurrogateFile.parse(Array(text.utf8), task: task)
    #expect(read.json(task: task) == text)
}

@Test func statedModelBitsThatTheBodyDoesNotHaveAreRefused() throws {
    let (task, text) = try booleanProgramFile()
    let forged = text.replacingOccurrences(of: "\"bits\":{\"model\":", with: "\"bits\":{\"model\":1e300,\"was\":")
    let message = try #require(mismatch(forged, task))
    #expect(message.contains("bits.model") && message.contains("1e+300"))
}

@Test func statedOutputsOutsideTheAlphabetAreRefused() throws {
    let (task, text) = try booleanProgramFile()
    let forged = text.replacingOccurrences(
        of: "\"exceptions\": []", with: "\"exceptions\": [{\"input\": [0, 0, 0, 0], \"output\": 999}]")
    let message = try #require(mismatch(forged, task))
    #expect(message.contains("999") && message.contains("output alphabet"))
}

@Test func aProgramThatNamesFeaturesIsRefused() throws {
    let (task, text) = try booleanProgramFile()
    let forged = text.replacingOccurrences(of: "\"features\":[]", with: "\"features\":[\"x1\"]")
    #expect(try #require(mismatch(forged, task)).contains("features"))
}

@Test func aTaskMayNotNameARegionDomain() {
    let json = """
        {"retort_task": 1, "name": "t", "variables": [{"name": "a", "type": "bit"}], "encoder": {"kind": "raw"},
         "decoder": {"kind": "argmax", "outputs": 2}, "regions": {"domain": {"sample": 1, "seed": 1}}}
        """
    #expect(throws: DistillationError.self) { try TaskDescription.parse(Array(json.utf8)) }
}

@Test func regressionErrorsOfHugeComputedOutputsDoNotOverflow() throws {
    let (net, _, _) = try handBuiltMLP([(weight: [1, 1], bias: [0], inputs: 2, outputs: 1)])
    let task = try TaskDescription.parse(
        Array(
            """
            {"retort_task": 1, "name": "sum", "variables": [{"name": "a", "type": "integer", "min": 0, "max": 1},
             {"name": "b", "type": "integer", "min": 0, "max": 1}], "encoder": {"kind": "raw"},
             "decoder": {"kind": "regression", "unit": 0, "min": -2, "max": 2}, "regions": {"probe": {"all": true}}}
            """.utf8))
    let surrogate = FittedSurrogate(
        family: .program,
        model: .program(
            ProgramSurrogate(
                variables: ["a", "b"], expression: .binary(.subtract, .constant(0), .constant(Int.max)), exceptions: [],
                domainSize: 4, outputCount: 5)),
        featureNames: [], modelBits: 0, exceptionBits: 0, exceptionCount: 0, probeCount: 0)
    let report = try BehaviourReport.evaluate(network: net, task: task, surrogates: [surrogate])
    let mse = try #require(report.surrogates[0].fidelity("domain")?.meanSquaredError)
    #expect(mse > 1e36 && mse.isFinite)
}

@Test func aHandWrittenProgramNeedsNoTaskBitsOrFitBlock() throws {
    let task = try TaskDescription.read(referenceNetwork("boolean_circuit_handwired") + "/task.json")
    let typed = #"{"retort_surrogate": 1, "family": "program", "body": {"expression": "x3 div (x1 + x2)"}}"#
    let read = try SurrogateFile.parse(Array(typed.utf8), task: task)
    let (_, written) = try booleanProgramFile()
    let fitted = try SurrogateFile.parse(Array(written.utf8), task: task)
    #expect(read.modelBits == fitted.modelBits)
    #expect(read.exceptionCount == 0 && read.probeCount == 0)
    guard case .program(let program) = read.model else { Issue.record("not a program"); return }
    #expect(program.evaluate([1, 0, 1, 0]) == 1 && program.evaluate([1, 1, 1, 0]) == 0)
}

@Test func aHandWrittenProgramWithAStatedWrongBitCountIsStillRefused() throws {
    let task = try TaskDescription.read(referenceNetwork("boolean_circuit_handwired") + "/task.json")
    let typed = #"{"retort_surrogate": 1, "family": "program", "bits": {"model": 3}, "body": {"expression": "x3 div (x1 + x2)"}}"#
    #expect(try #require(mismatch(typed, task)).contains("bits.model"))
}

@Test func aHandWrittenExpressionThatDoesNotParseNamesTheCharacter() throws {
    let task = try TaskDescription.read(referenceNetwork("boolean_circuit_handwired") + "/task.json")
    let typed = #"{"retort_surrogate": 1, "family": "program", "body": {"expression": "x3 div (x1 + y)"}}"#
    let message = try #require(mismatch(typed, task))
    #expect(message.contains("expression") && message.contains("character"))
}

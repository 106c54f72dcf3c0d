import Distillation
import Fidelity
import Network
import Testing

@testable import Distillation

/// A program surrogate over the boolean circuit's variables x1…x4, built by hand.
private func program(_ expression: ProgramExpression) -> FittedSurrogate {
    let program = ProgramSurrogate(
        variables: ["x1", "x2", "x3", "x4"], expression: expression, exceptions: [], domainSize: 16, outputCount: 2)
    return FittedSurrogate(
        family: .program, model: .program(program), featureNames: [], modelBits: program.bits, exceptionBits: 0,
        exceptionCount: 0, probeCount: 16)
}

private let x1: ProgramExpression = .variable(0)
private let x2: ProgramExpression = .variable(1)
private let x3: ProgramExpression = .variable(2)
private let sum: ProgramExpression = .binary(.add, x1, x2)

@Test func xorOfTheBooleanCircuitAlignsWithItsXorUnitAndIsSupported() throws {
    let setup = try ReferenceSetup("boolean_circuit_handwired")
    let surrogate = program(.binary(.multiply, x3, .binary(.modulo, sum, .constant(2))))
    let result = try RepresentationTests.run(
        network: setup.network, control: try setup.control(), surrogate: surrogate, task: setup.task,
        inputs: try setup.probes(), options: quickOptions())
    let xor = try #require(result.network.variables.first { $0.variable.name == "(x1 + x2) mod 2" })
    #expect(xor.best.alignment.site.hook == "layers.1.hook_post")
    if case .neurons(let units) = xor.best.alignment.map { #expect(units == [0]) } else { Issue.record("not a neuron") }
    #expect(xor.best.heldOut.overall.proportion >= 0.95)
    #expect(result.verdict.variables.first { $0.name == "(x1 + x2) mod 2" }?.supported == true)
    #expect(result.verdict.supported)
}

@Test func theRandomInitControlOfTheBooleanCircuitStaysNearChance() throws {
    let setup = try ReferenceSetup("boolean_circuit_handwired")
    let surrogate = program(.binary(.multiply, x3, .binary(.modulo, sum, .constant(2))))
    let model = try SurrogateCausalModel(surrogate: surrogate, task: setup.task)
    let control = try RepresentationTests.search(
        network: try setup.control(), model: model, inputs: try setup.probes(), options: quickOptions())
    for variable in control.variables {
        // Chance: always answering the most frequent counterfactual output.
        #expect(variable.best.heldOut.overall.proportion <= variable.chance + 0.1, "\(variable.variable.name)")
    }
}

@Test func sumInTheDistilledDivisionProgramAlignsWithTheXorUnit() throws {
    let setup = try ReferenceSetup("boolean_circuit_handwired")
    let surrogate = program(.binary(.divide, x3, sum))
    let model = try SurrogateCausalModel(surrogate: surrogate, task: setup.task)
    #expect(model.variables.map(\.name) == ["x1 + x2", "x3 div (x1 + x2) (output)"])
    let result = try RepresentationTests.search(
        network: setup.network, model: model, inputs: try setup.probes(), options: quickOptions())
    let best = result.variables[0].best
    #expect(best.alignment.site.hook == "layers.1.hook_post")
    if case .neurons(let units) = best.alignment.map { #expect(units == [0]) } else { Issue.record("not a neuron") }
    #expect(best.heldOut.overall.proportion >= 0.95)
}

@Test func aRepeatedSubexpressionIsOneVariableSetEverywhereItOccurs() throws {
    let setup = try ReferenceSetup("boolean_circuit_handwired")
    // (x1 + x2) * x3 - (x1 + x2) * (x1 + x2): x1 + x2 occurs three times.
    let twice: ProgramExpression = .binary(.multiply, sum, sum)
    let surrogate = program(.binary(.subtract, .binary(.multiply, sum, x3), twice))
    let model = try SurrogateCausalModel(surrogate: surrogate, task: setup.task)
    let repeated = try #require(model.variables.first { $0.places.count > 1 })
    #expect(repeated.places.count == 3)
    #expect(repeated.name == "x1 + x2 (nodes \(repeated.places.map(String.init).joined(separator: ", ")))")
    #expect(model.variables.filter { $0.name.hasPrefix("x1 + x2") }.count == 1)
    #expect(repeated.isNamed(by: "x1 + x2") && repeated.isNamed(by: "node \(repeated.places[1])"))
    #expect(repeated.json.contains("\"places\":[\(repeated.places.map(String.init).joined(separator: ","))]"))
    // Setting it to 2 sets every occurrence: 2·x3 − 2·2.
    for x3 in 0...1 {
        #expect(model.output([0, 0, x3, 0], setting: repeated, to: 2) == 2 * x3 - 4)
    }
}

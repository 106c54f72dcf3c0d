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

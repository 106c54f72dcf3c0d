import Distillation
import Fidelity
import Foundation
import Network
import Testing

/// a, b, c ∈ 0…3 one-hot (12 inputs) → one hidden unit per input triple, relu(x_a + x_b + x_c − 2), 1 on its
/// triple only → the class a + b + c (weight 10). The sum is read from a table; no unit holds a + b.
private func lookupTableSum() throws -> (any NeuralNetwork, SurrogateCausalModel, Region, TaskDescription) {
    let (network, surrogate, region, task) = try lookupTableSumSurrogate()
    return (network, try SurrogateCausalModel(surrogate: surrogate, task: task), region, task)
}

private func lookupTableSumSurrogate() throws -> (any NeuralNetwork, FittedSurrogate, Region, TaskDescription) {
    var w0 = [Float](repeating: 0, count: 12 * 64), w1 = [Float](repeating: 0, count: 64 * 10)
    for a in 0..<4 {
        for b in 0..<4 {
            for c in 0..<4 {
                let u = 16 * a + 4 * b + c
                for i in [a, 4 + b, 8 + c] { w0[i * 64 + u] = 1 }
                w1[u * 10 + a + b + c] = 10
            }
        }
    }
    let network = try handBuiltMLP([
        (w0, [Float](repeating: -2, count: 64), 12, 64), (w1, [Float](repeating: 0, count: 10), 64, 10),
    ]).0
    let json = """
        {"retort_task": 1, "name": "sum of three", "variables": [
          {"name": "a", "type": "integer", "min": 0, "max": 3}, {"name": "b", "type": "integer", "min": 0, "max": 3},
          {"name": "c", "type": "integer", "min": 0, "max": 3}],
         "encoder": {"kind": "one_hot"}, "decoder": {"kind": "argmax", "outputs": 10}, "regions": {"probe": {"all": true}}}
        """
    let task = try TaskDescription.parse(Array(json.utf8))
    let expression = try ProgramExpression(text: "(a + b) + c", variables: ["a", "b", "c"], digitBase: 10)
    let p = ProgramSurrogate(variables: ["a", "b", "c"], expression: expression, exceptions: [], domainSize: 64, outputCount: 10)
    let surrogate = FittedSurrogate(
        family: .program, model: .program(p), featureNames: [], modelBits: p.expressionBits, exceptionBits: 0,
        exceptionCount: 0, probeCount: 64)
    return (network, surrogate, try task.resolveRegions()["probe"]!, task)
}

@Test func aNetworkThatSumsByLookupTableIsNotCreditedWithTheIntermediateSum() throws {
    let (network, model, region, _) = try lookupTableSum()
    let ab = try #require(model.variables.firstIndex { $0.name == "a + b" })
    let result = try RepresentationTests.search(network: network, model: model, inputs: region, options: quickOptions())
    let verdict = RepresentationVerdict(network: result, control: result, thresholds: .standard)
    // Judged where a + b changes the output: no alignment of the table's units makes the network follow it.
    #expect(!verdict.variables[ab].supported)
    #expect(verdict.variables[ab].changedPairs >= 10)
    #expect(!result.variables[ab].indistinguishableFromOutput)
}

@Test func theWholeExpressionIsIndistinguishableFromTheOutputAndAnInnerSubexpressionIsNot() throws {
    let (network, model, region, _) = try lookupTableSum()
    var options = quickOptions(pairs: 64)
    options.subspaceDimensions = []
    let result = try RepresentationTests.search(network: network, model: model, inputs: region, options: options)
    let flags = Dictionary(uniqueKeysWithValues: result.variables.map { ($0.variable.name, $0.indistinguishableFromOutput) })
    #expect(flags == ["a + b": false, "a + b + c (output)": true])
}

@Test func ignoringTheInterventionScoresTheShareOfPairsWhoseCounterfactualIsTheBaseOutput() throws {
    let (network, model, region, _) = try lookupTableSum()
    var options = quickOptions(pairs: 64)
    options.subspaceDimensions = []
    let result = try RepresentationTests.search(network: network, model: model, inputs: region, options: options)
    for v in result.variables {
        let heldOut = v.best.heldOut
        // Pairs not "changed" are exactly those a network ignoring the patch gets right.
        let unchanged = heldOut.overall.trials - heldOut.changed.trials
        #expect(abs(v.ignoringScore - Double(unchanged) / Double(heldOut.overall.trials)) < 1e-12)
    }
}

@Test func namedVariablesAreTheOnlyOnesTestedAndTheVerdictIsAboutThem() throws {
    let (network, model, region, _) = try lookupTableSum()
    var options = quickOptions(pairs: 64)
    options.subspaceDimensions = []
    options.variables = ["a + b + c"]
    let result = try RepresentationTests.search(network: network, model: model, inputs: region, options: options)
    #expect(result.variables.map(\.variable.name) == ["a + b + c (output)"])
    #expect(result.untested == 1 && result.named)
    let verdict = RepresentationVerdict(network: result, control: result, thresholds: .standard)
    #expect(verdict.scope == "for the 1 variable tested")
}

@Test func aVariableTheSurrogateDoesNotHaveIsRefusedWithItsVariablesListed() throws {
    let (network, model, region, _) = try lookupTableSum()
    var options = quickOptions(pairs: 16)
    options.variables = ["a * b"]
    #expect {
        _ = try RepresentationTests.search(network: network, model: model, inputs: region, options: options)
    } throws: { error in
        "\(error)".contains("no variable \"a * b\"") && "\(error)".contains("\"a + b\"")
    }
}

@Test func theSearchRunsOnlyAtTheBestSitesOfTheLocalisationMap() throws {
    let (network, model, region, _) = try lookupTableSum()
    var options = quickOptions(pairs: 64)
    options.subspaceDimensions = []
    options.searchSites = 1
    options.variables = ["a + b + c"]
    let result = try RepresentationTests.search(network: network, model: model, inputs: region, options: options)
    let v = try #require(result.variables.first)
    // Both hidden hooks are mapped; interchanging either whole hook gives the source's output.
    #expect(v.localisation.map(\.site.hook) == ["layers.0.hook_post", "layers.0.hook_pre"])
    #expect(v.localisation.allSatisfy { $0.accuracy.changed.proportion == 1 })
    // Ties go to the earlier site, the only one searched.
    #expect(v.localisation.map(\.searched) == [true, false])
    #expect(v.bestPerClass.allSatisfy { $0.alignment.site.hook == "layers.0.hook_post" })
}

@Test func theHTMLReportDrawsALocalisationMapPerVariableWithTheSearchedSitesOutlined() throws {
    let (network, surrogate, region, task) = try lookupTableSumSurrogate()
    var report = FidelityReport(
        model: "m", network: "n", taskPath: "t",
        behaviour: try BehaviourReport.evaluate(network: network, task: task, surrogates: [surrogate]))
    var options = quickOptions(pairs: 32)
    options.subspaceDimensions = []
    options.searchSites = 1
    report.runRepresentationTests(network: network, control: nil, inputs: region, options: options)
    let html = report.html
    #expect(html.contains("data-figure=\"localisation-program-0\"") && html.contains("data-figure=\"localisation-program-1\""))
    // Two sites per variable, one of them searched (outlined).
    #expect(html.components(separatedBy: ", searched</title>").count - 1 == 2)
}

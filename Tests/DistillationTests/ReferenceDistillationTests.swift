import Foundation
import Network
import Testing
import WeightFiles

@testable import Distillation

private let networks: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("formats/vectors/networks").path
}()

/// Probes a reference network over its task's probe region and fits `family`.
private func distil(_ name: String, _ family: SurrogateFamily, maxSize: Int = 5) throws -> (FittedSurrogate, TaskDescription) {
    let folder = "\(networks)/\(name)"
    let net = try NetworkLoader.load(
        file: try WeightFiles.open("\(folder)/model.safetensors"),
        description: try NetworkLoader.description("\(folder)/network.json"),
        threads: 2)
    let task = try TaskDescription.read("\(folder)/task.json")
    let regions = try task.resolveRegions()
    let probes = try ProbeSet.probe(net, task: task, region: try #require(regions["probe"]))
    var options = Distiller.Options()
    options.programLimits = ProgramSearch.Limits(maxSize: maxSize, maxSeconds: 60)
    let features = try TaskFeatures(task: task)
    return (try Distiller.fit(family, probes: probes, task: task, features: features, options: options), task)
}

@Test func additionNetworkIsAPlusBWithExceptions() throws {
    let (surrogate, _) = try distil("addition_mlp", .program)
    guard case .program(let program) = surrogate.model else {
        Issue.record("expected a program")
        return
    }
    #expect(program.expression.text(variables: ["a", "b"]) == "a + b")
    #expect(surrogate.exceptionCount > 0 && surrogate.exceptionCount == program.exceptions.count)
    #expect(surrogate.agreement > 0.95)
}

@Test func modularAdditionTransformerIsAPlusBMod113() throws {
    let (surrogate, _) = try distil("modular_addition", .program)
    guard case .program(let program) = surrogate.model else {
        Issue.record("expected a program")
        return
    }
    #expect(program.expression.text(variables: ["a", "b"]) == "(a + b) mod 113")
    #expect(surrogate.agreement > 0.99)
}

@Test func memoriserHasNoProgramShorterThanItsTable() throws {
    let (table, _) = try distil("memoriser", .table)
    let (program, _) = try distil("memoriser", .program)
    let (tree, _) = try distil("memoriser", .tree)
    #expect(table.totalBits < program.totalBits)
    #expect(table.totalBits < tree.totalBits)
}

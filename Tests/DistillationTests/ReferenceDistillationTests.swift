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

@Test func memoriserHasNoProgramOrTreeMuchShorterThanItsTable() throws {
    // Random labels: the best a program or a tree can do is a constant (or a few splits) and an exception table
    // naming most probes, a table by another name. It may undercut the table family's code (which lists the
    // probes that agree with its fallback too), but by a few percent, not by the factors an algorithm saves.
    let (table, _) = try distil("memoriser", .table)
    let (program, _) = try distil("memoriser", .program)
    let (tree, _) = try distil("memoriser", .tree)
    #expect(program.totalBits > 0.9 * table.totalBits)
    #expect(tree.totalBits > 0.9 * table.totalBits)
    #expect(program.exceptionCount > program.probeCount / 2)
}

@Test(arguments: ["boolean_circuit_handwired", "boolean_circuit_learned"], [SurrogateFamily.ruleList, .ruleSet])
func ruleFamiliesRecoverTheBooleanRuleExactly(_ name: String, _ family: SurrogateFamily) throws {
    let folder = "\(networks)/\(name)"
    let net = try NetworkLoader.load(
        file: try WeightFiles.open("\(folder)/model.safetensors"),
        description: try NetworkLoader.description("\(folder)/network.json"),
        threads: 1)
    let task = try TaskDescription.read("\(folder)/task.json")
    let probes = try ProbeSet.probe(net, task: task, region: try #require(try task.resolveRegions()["probe"]))
    let features = try TaskFeatures(task: task, names: ["x1", "x2", "x3", "x4"])
    let surrogate = try Distiller.fit(family, probes: probes, task: task, features: features)
    #expect(surrogate.exceptionCount == 0)
    let rules: [Rule]
    let defaultOutput: Int
    switch surrogate.model {
    case .ruleList(let list): (rules, defaultOutput) = (list.rules, list.defaultOutput)
    case .ruleSet(let set): (rules, defaultOutput) = (set.rules, set.defaultOutput)
    default:
        Issue.record("expected rules")
        return
    }
    // (x1 XOR x2) AND x3: exactly two rules for class 1, on x1, x2, x3 only, and default 0.
    #expect(defaultOutput == 0 && rules.count == 2)
    let text = surrogate.text(task: task)
    #expect(text.contains("x1 = 0 AND x2 = 1 AND x3 = 1 THEN 1") && text.contains("x1 = 1 AND x2 = 0 AND x3 = 1 THEN 1"))
    #expect(!text.contains("x4"))
}

/// The bundled addition example's task, its probes and its held-out inputs, as the network answers them.
private func additionExample() throws -> (task: TaskDescription, probes: ProbeSet, heldOut: ProbeSet) {
    let folder = "\(networks)/addition_mlp"
    let net = try NetworkLoader.load(
        file: try WeightFiles.open("\(folder)/model.safetensors"),
        description: try NetworkLoader.description("\(folder)/network.json"),
        threads: 2)
    let task = try TaskDescription.read("\(folder)/task.json")
    let regions = try task.resolveRegions()
    let probes = try ProbeSet.probe(net, task: task, region: try #require(regions["probe"]))
    let heldOut = try ProbeSet.probe(net, task: task, region: try #require(regions["held_out"]))
    return (task, probes, heldOut)
}

@Test(arguments: [SurrogateFamily.ruleList, .ruleSet])
func ruleFamiliesTakeNoMoreBitsThanTheTreeOnTheAdditionNetwork(_ family: SurrogateFamily) throws {
    let (task, probes, _) = try additionExample()
    var options = Distiller.Options()
    options.threads = 2
    let features = try TaskFeatures(task: task)
    let rules = try Distiller.fit(family, probes: probes, task: task, features: features, options: options)
    let tree = try Distiller.fit(.tree, probes: probes, task: task, features: features, options: options)
    #expect(rules.totalBits <= tree.totalBits)
}

@Test(arguments: [SurrogateFamily.ruleList, .ruleSet])
func ruleFamiliesReproduceTheAdditionNetworkOnHeldOutInputs(_ family: SurrogateFamily) throws {
    let (task, probes, heldOut) = try additionExample()
    var options = Distiller.Options()
    options.threads = 2
    let surrogate = try Distiller.fit(family, probes: probes, task: task, features: try TaskFeatures(task: task), options: options)
    let agreeing = zip(try surrogate.predict(heldOut, task: task), heldOut.outputs).filter { $0 == $1 }.count
    // 199 classes, about one rule each: at least 97% of the 5,000 held-out inputs, as the network answers them.
    #expect(Double(agreeing) >= 0.97 * Double(heldOut.count))
    #expect(surrogate.ruleCount >= 150)
}

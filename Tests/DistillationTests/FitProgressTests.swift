import Foundation
import Network
import Testing
import WeightFiles

@testable import Distillation

/// The bundled addition network's task, probes and features.
func additionProbes() throws -> (TaskDescription, ProbeSet, TaskFeatures) {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    let folder = url.appendingPathComponent("formats/vectors/networks/addition_mlp").path
    let net = try NetworkLoader.load(
        file: try WeightFiles.open("\(folder)/model.safetensors"),
        description: try NetworkLoader.description("\(folder)/network.json"), threads: 2)
    let task = try TaskDescription.read("\(folder)/task.json")
    let probes = try ProbeSet.probe(net, task: task, region: try #require(try task.resolveRegions()["probe"]))
    return (task, probes, try TaskFeatures(task: task))
}

/// Collects the progress reports of one fit (they may come from the rule search's threads, one at a time).
private final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [FitProgress] = []
    func add(_ p: FitProgress) {
        lock.lock()
        all.append(p)
        lock.unlock()
    }
    var list: [FitProgress] {
        lock.lock()
        defer { lock.unlock() }
        return all
    }
}

@Suite("Progress while fitting")
struct FitProgressTests {
    @Test("rule lists and rule sets report the probes covered, growing, up to both rankings' probes", arguments: [
        SurrogateFamily.ruleList, .ruleSet,
    ])
    func ruleSearchReportsCoverage(family: SurrogateFamily) throws {
        let (task, probes, features) = try additionProbes()
        let reports = Reports()
        var options = Distiller.Options()
        options.threads = 2
        _ = try Distiller.fit(family, probes: probes, task: task, features: features, options: options) { reports.add($0) }
        let list = reports.list
        #expect(list.count >= 10, "\(list.count) reports")
        #expect(list.allSatisfy { $0.family == family && $0.total == 2 * probes.count && $0.unit == "probes covered" })
        #expect(zip(list, list.dropFirst()).allSatisfy { $0.done <= $1.done })
        #expect(list.last?.done == 2 * probes.count)
    }

    @Test("the program search reports its sizes and, while a size runs, its time limit")
    func programSearchReportsSizes() throws {
        let (task, probes, features) = try additionProbes()
        let reports = Reports()
        var options = Distiller.Options()
        options.programLimits = ProgramSearch.Limits(maxSize: 5, maxSeconds: 60)
        _ = try Distiller.fit(.program, probes: probes, task: task, features: features, options: options) { reports.add($0) }
        let list = reports.list
        #expect(list.first?.done == 0 && list.first?.total == 5)
        #expect(list.allSatisfy { $0.unit == "sizes" && $0.done <= $0.total })
        #expect(list.contains { $0.note.contains("done") })
        #expect(list.allSatisfy { ($0.secondsLeftAtMost ?? 0) <= 60 })
    }

    @Test("trees report each leaf budget tried")
    func treeReportsLeafBudgets() throws {
        let (task, probes, features) = try additionProbes()
        let reports = Reports()
        _ = try Distiller.fit(.tree, probes: probes, task: task, features: features) { reports.add($0) }
        let list = reports.list
        #expect(!list.isEmpty)
        #expect(list.map(\.done) == Array(1...list.count))
        #expect(list.allSatisfy { $0.unit == "leaf budgets" && $0.done <= $0.total })
    }
}

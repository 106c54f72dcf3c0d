import Testing

@testable import Distillation

@Suite("Fitting options out of range")
struct DistillerOptionsTests {
    @Test("a rule family with ruleConditions outside 1...16 is refused with invalidOption, not a trap", arguments: [0, -1, 17])
    func ruleConditionsOutOfRangeIsAnError(conditions: Int) throws {
        let (task, probes, features) = try additionProbes()
        var options = Distiller.Options()
        options.ruleConditions = conditions
        let reason = "\(conditions); a rule has 1 to 16 conditions"
        let refusal = DistillationError.invalidOption(name: "ruleConditions", reason: reason)
        #expect(throws: refusal) {
            try Distiller.fit(.ruleList, probes: probes, task: task, features: features, options: options)
        }
    }

    @Test("a rule family with ruleBeamWidth outside 1...64 is refused with invalidOption, not a trap", arguments: [0, -1, 65])
    func ruleBeamWidthOutOfRangeIsAnError(width: Int) throws {
        let (task, probes, features) = try additionProbes()
        var options = Distiller.Options()
        options.ruleBeamWidth = width
        let refusal = DistillationError.invalidOption(name: "ruleBeamWidth", reason: "\(width); a beam keeps 1 to 64 conjunctions")
        #expect(throws: refusal) {
            try Distiller.fit(.ruleSet, probes: probes, task: task, features: features, options: options)
        }
    }

    @Test("fewer than one thread is refused with invalidOption for every family", arguments: SurrogateFamily.allCases)
    func noThreadsIsAnError(family: SurrogateFamily) throws {
        let (task, probes, features) = try additionProbes()
        var options = Distiller.Options()
        options.threads = 0
        #expect(throws: DistillationError.invalidOption(name: "threads", reason: "0; at least 1 thread is needed")) {
            try Distiller.fit(family, probes: probes, task: task, features: features, options: options)
        }
    }

    @Test("program limits changed after their init to a size of 0 are refused with invalidOption")
    func programSizeZeroIsAnError() throws {
        let (task, probes, features) = try additionProbes()
        var options = Distiller.Options()
        options.programLimits.maxSize = 0
        #expect(throws: DistillationError.invalidOption(name: "programLimits.maxSize", reason: "0; at least 1 node")) {
            try Distiller.fit(.program, probes: probes, task: task, features: features, options: options)
        }
    }

    @Test("the error names the option and its value")
    func theErrorNamesTheOption() {
        let error = DistillationError.invalidOption(name: "ruleConditions", reason: "0; a rule has 1 to 16 conditions")
        #expect(error.description == "invalid option ruleConditions: 0; a rule has 1 to 16 conditions")
    }
}

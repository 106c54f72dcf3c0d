import WeightFiles

/// The surrogate families (`formats/surrogate.md`).
public enum SurrogateFamily: String, CaseIterable, Sendable {
    case table, tree
    case ruleList = "rule_list"
    case ruleSet = "rule_set"
    case program
}

/// A fitted surrogate of any family, with its description length and agreement on the probes it was fitted on.
public struct FittedSurrogate: Sendable {
    public enum Model: Sendable {
        case table(LookupTable)
        case tree(DecisionTree)
        case ruleList(RuleList)
        case ruleSet(RuleSet)
        case program(ProgramSurrogate)
    }

    public var family: SurrogateFamily
    public var model: Model
    /// The features the model reads (empty for tables and programs, which read the variables).
    public var featureNames: [String]
    /// Bits of the model itself, and of the exception table of the probes it gets wrong.
    public var modelBits: Double
    public var exceptionBits: Double
    /// How many fitting probes it got wrong (its exceptions).
    public var exceptionCount: Int
    public var probeCount: Int

    public var totalBits: Double { modelBits + exceptionBits }

    public init(
        family: SurrogateFamily, model: Model, featureNames: [String], modelBits: Double, exceptionBits: Double,
        exceptionCount: Int, probeCount: Int
    ) {
        self.family = family
        self.model = model
        self.featureNames = featureNames
        self.modelBits = modelBits
        self.exceptionBits = exceptionBits
        self.exceptionCount = exceptionCount
        self.probeCount = probeCount
    }

    /// The number of rules (rule families), leaves (trees), entries (tables) or 1 (programs).
    public var ruleCount: Int {
        switch model {
        case .table(let t): t.entries.count
        case .tree(let t): t.leafCount
        case .ruleList(let r): r.rules.count
        case .ruleSet(let r): r.rules.count
        case .program: 1
        }
    }
    /// Agreement with the network on the fitting probes.
    public var agreement: Double { probeCount == 0 ? 0 : Double(probeCount - exceptionCount) / Double(probeCount) }

    /// The surrogate's outputs on `probes` (features computed as the surrogate needs them).
    /// - Complexity: O(probes × model size)
    public func predict(_ probes: ProbeSet, task: TaskDescription) throws(DistillationError) -> [Int] {
        switch model {
        case .table(let table):
            return (0..<probes.count).map { table.predict(probes.region.input($0)) }
        case .program(let program):
            return (0..<probes.count).map { program.predict(probes.region.input($0)) }
        case .tree(let tree):
            return tree.predict(try features(task, probes))
        case .ruleList(let list):
            return list.predict(try features(task, probes))
        case .ruleSet(let set):
            return set.predict(try features(task, probes))
        }
    }

    private func features(_ task: TaskDescription, _ probes: ProbeSet) throws(DistillationError) -> FeatureTable {
        try TaskFeatures(task: task, names: featureNames, activations: probes.activations).table(probes)
    }

    /// The family's JSON body.
    public var jsonBody: String {
        switch model {
        case .table(let t): t.jsonBody()
        case .tree(let t): t.jsonBody()
        case .ruleList(let r): r.jsonBody()
        case .ruleSet(let r): r.jsonBody()
        case .program(let p): p.jsonBody()
        }
    }

    /// The readable form.
    public func text(task: TaskDescription) -> String {
        let body: String
        switch model {
        case .table(let t): body = t.text(variables: task.variables.map(\.name))
        case .tree(let t): body = t.text(featureNames: featureNames)
        case .ruleList(let r): body = r.text(featureNames: featureNames)
        case .ruleSet(let r): body = r.text(featureNames: featureNames)
        case .program(let p): body = p.text()
        }
        let bits =
            "\(format(totalBits)) bits (model \(format(modelBits)), exceptions \(format(exceptionBits)) for \(exceptionCount) of \(probeCount) probes)"
        return "\(family.rawValue) — \(bits)\n\(body)\n"
    }

    /// The whole surrogate file (`formats/surrogate.md`).
    public func json(task: TaskDescription) -> String {
        var out: [UInt8] = []
        out += "{\"retort_surrogate\":1,\"family\":\"\(family.rawValue)\",\"task\":{\"name\":".utf8
        JSONWriter.appendString(task.name, to: &out)
        out += ",\"variables\":[".utf8
        for (i, v) in task.variables.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(v.name, to: &out)
        }
        out +=
            "],\"output_values\":[\(task.outputValues.map(String.init).joined(separator: ","))],\"domain_size\":\(task.domainSize)},\"features\":["
            .utf8
        for (i, name) in featureNames.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(name, to: &out)
        }
        out += "],\"bits\":{\"model\":\(modelBits),\"exceptions\":\(exceptionBits),\"total\":\(totalBits)}".utf8
        out += ",\"fit\":{\"probes\":\(probeCount),\"exceptions\":\(exceptionCount),\"agreement\":\(agreement)},\"body\":".utf8
        out += jsonBody.utf8
        out += "}\n".utf8
        return String(decoding: out, as: UTF8.self)
    }
}

func format(_ bits: Double) -> String {
    let scaled = (bits * 10).rounded() / 10
    return scaled == scaled.rounded() ? String(Int(scaled)) : String(scaled)
}

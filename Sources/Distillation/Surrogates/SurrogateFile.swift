import Foundation
import Network
import WeightFiles

/// Reads surrogate files (`formats/surrogate.md`) back, checked against the task they are used with.
public enum SurrogateFile {
    /// Reads the surrogate file at `path` for `task`.
    ///
    /// - Throws: `mismatch` naming the JSON member when it is not a surrogate file, was fitted for other variables,
    ///   states outputs outside the task's output alphabet, or states model bits its body does not have; the
    ///   body's own errors name their JSON path. Bits are recomputed from the body.
    /// - Complexity: O(file size)
    public static func read(_ path: String, task: TaskDescription) throws(DistillationError) -> FittedSurrogate {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .mismatch(path: path, reason: "cannot read the file")
        }
        return try parse([UInt8](data), task: task)
    }

    /// Parses a surrogate file's bytes for `task` (errors name the JSON path).
    public static func parse(_ bytes: [UInt8], task: TaskDescription) throws(DistillationError) -> FittedSurrogate {
        let root: JSONValue
        do { root = try JSONValue.parseDescription(bytes, what: "the surrogate file") } catch {
            if case .invalidDescription(_, let reason) = error { throw .mismatch(path: "surrogate", reason: reason) }
            throw .mismatch(path: "surrogate", reason: "\(error)")
        }
        guard case .object(let members) = root else {
            throw .mismatch(path: "surrogate", reason: "expected a JSON object (formats/surrogate.md)")
        }
        func member(_ name: String, in members: [JSONMember], at path: String) throws(DistillationError) -> JSONValue {
            guard let found = members.first(where: { $0.key == name }) else {
                throw .mismatch(path: path.isEmpty ? name : "\(path).\(name)", reason: "missing")
            }
            return found.value
        }
        func number(_ value: JSONValue, at path: String) throws(DistillationError) -> Double {
            guard case .number(let text) = value, let parsed = Double(text), parsed.isFinite else {
                throw .mismatch(path: path, reason: "expected a number, found \(value.kindDescription)")
            }
            return parsed
        }
        guard case .number("1") = try member("retort_surrogate", in: members, at: "") else {
            throw .mismatch(path: "retort_surrogate", reason: "not a version 1 Retort surrogate file")
        }
        guard case .string(let familyName) = try member("family", in: members, at: ""),
            let family = SurrogateFamily(rawValue: familyName)
        else {
            throw .mismatch(
                path: "family", reason: "expected one of \(SurrogateFamily.allCases.map(\.rawValue).joined(separator: ", "))")
        }

        // The task it was fitted for: same variables in the same order, and an output alphabet inside the task's.
        // A hand-written surrogate may leave `task` out: it is then read with the task's own variables.
        let variables: [String]
        if let taskValue = members.first(where: { $0.key == "task" })?.value {
            guard case .object(let taskMembers) = taskValue else {
                throw .mismatch(path: "task", reason: "expected an object")
            }
            guard case .array(let variableItems) = try member("variables", in: taskMembers, at: "task") else {
                throw .mismatch(path: "task.variables", reason: "expected an array of names")
            }
            variables = variableItems.map { item -> String in if case .string(let s) = item { s } else { "\(item)" } }
            try task.requireVariables(variables, subject: "the surrogate reads", path: "task.variables")
            guard case .array(let outputItems) = try member("output_values", in: taskMembers, at: "task") else {
                throw .mismatch(path: "task.output_values", reason: "expected an array of integers")
            }
            let outputs = outputItems.compactMap(\.integerValue)
            guard outputs.count == outputItems.count else {
                throw .mismatch(path: "task.output_values", reason: "expected integers")
            }
            try task.requireOutputs(outputs, subject: "the surrogate can output", path: "task.output_values")
        } else {
            variables = task.variables.map(\.name)
        }

        var featureNames: [String] = []
        if let featuresValue = members.first(where: { $0.key == "features" })?.value {
            guard case .array(let featureItems) = featuresValue else {
                throw .mismatch(path: "features", reason: "expected an array of names")
            }
            for (i, item) in featureItems.enumerated() {
                guard case .string(let name) = item else { throw .mismatch(path: "features[\(i)]", reason: "expected a string") }
                featureNames.append(name)
            }
        }
        // `bits` and `fit` are what `distill` writes; a hand-written surrogate may leave them out, and then
        // its bits are computed from its body and it counts as fitted on no probes.
        var modelBits: Double?
        if let bitsValue = members.first(where: { $0.key == "bits" })?.value {
            guard case .object(let bitMembers) = bitsValue else {
                throw .mismatch(path: "bits", reason: "expected an object")
            }
            modelBits = try number(try member("model", in: bitMembers, at: "bits"), at: "bits.model")
        }
        var probes = 0, exceptions = 0
        if let fitValue = members.first(where: { $0.key == "fit" })?.value {
            guard case .object(let fitMembers) = fitValue else {
                throw .mismatch(path: "fit", reason: "expected an object")
            }
            guard let fitted = try member("probes", in: fitMembers, at: "fit").integerValue, fitted >= 0,
                let wrong = try member("exceptions", in: fitMembers, at: "fit").integerValue, (0...fitted).contains(wrong)
            else { throw .mismatch(path: "fit", reason: "expected probes ≥ 0 and exceptions within 0…probes") }
            (probes, exceptions) = (fitted, wrong)
        }

        let body = try member("body", in: members, at: "")
        let model: FittedSurrogate.Model
        do throws(SurrogateFormatError) {
            switch family {
            case .table: model = .table(try tableBody(body, variableCount: variables.count))
            case .tree: model = .tree(try DecisionTree(jsonBody: body))
            case .ruleList: model = .ruleList(try RuleList(jsonBody: body))
            case .ruleSet: model = .ruleSet(try RuleSet(jsonBody: body))
            case .program: model = .program(try ProgramSurrogate(jsonBody: body, variables: variables))
            }
        } catch {
            throw .mismatch(path: "body", reason: "\(error)")
        }
        let featureCount: Int? =
            switch model {
            case .tree(let t): t.featureCount
            case .ruleList(let r): r.featureKinds.count
            case .ruleSet(let r): r.featureKinds.count
            default: nil
            }
        if let featureCount, featureCount != featureNames.count {
            throw .mismatch(
                path: "features", reason: "\(featureNames.count) feature names for a model over \(featureCount) features")
        }
        // Features the task computes are checked now; those reading hidden units when the network runs.
        do {
            _ = try TaskFeatures(task: task, names: featureNames.filter { TaskFeatures.hooks(in: [$0]).isEmpty })
        } catch {
            throw .mismatch(path: "features", reason: "\(error)")
        }
        if featureCount == nil, !featureNames.isEmpty {
            throw .mismatch(path: "features", reason: "a \(family.rawValue) reads the task's variables, not features")
        }

        // Every output the body states must be one the task can produce; computed outputs (a program's
        // expression) that fall outside simply disagree with the network.
        let stated: [(String, Int)]
        switch model {
        case .table(let t): stated = t.entries.values.map { ("body.entries", $0) } + [("body.fallback_value", t.fallbackValue)]
        case .tree(let t):
            stated =
                t.classes.map { ("body.classes", $0) }
                + t.nodes.compactMap { node in
                    if case .leaf(let label, _) = node { ("body.nodes (a leaf)", label) } else { nil }
                }
        case .ruleList(let r):
            stated =
                r.classes.map { ("body.classes", $0) } + r.rules.map { ("body.rules (an output)", $0.output) }
                + [("body.default", r.defaultOutput)]
        case .ruleSet(let r):
            stated =
                r.classes.map { ("body.classes", $0) } + r.rules.map { ("body.rules (an output)", $0.output) }
                + [("body.default", r.defaultOutput)]
        case .program(let p): stated = p.exceptions.map { ("body.exceptions (an output)", $0.output) }
        }
        let alphabet = Set(task.outputValues)
        if let (place, value) = stated.first(where: { !alphabet.contains($0.1) }) {
            throw .mismatch(
                path: place, reason: "output \(value) is not in the task's output alphabet (\(task.outputAlphabetDescription))")
        }

        // Bits are recomputed from the body (formats/surrogate.md), never taken on trust; a file whose stated
        // model bits disagree is refused, since every figure of a report would rest on them.
        let domain = task.domainSize, outputCount = task.outputValues.count
        let computed: Double
        var listedExceptions = exceptions
        switch model {
        case .table(let t): computed = t.descriptionLength(domainSize: domain, outputCount: outputCount)
        case .tree(let t): computed = t.descriptionLength(outputCount: outputCount)
        case .ruleList(let r): computed = r.descriptionLength(outputCount: outputCount)
        case .ruleSet(let r): computed = r.descriptionLength(outputCount: outputCount)
        case .program(let p):
            computed = p.expression.bits(variableCount: variables.count)
            listedExceptions = p.exceptions.count
        }
        if let modelBits, abs(computed - modelBits) > 1e-6 * max(1, computed) {
            throw .mismatch(
                path: "bits.model",
                reason: "the file says \(modelBits) bits, but its body is a model of \(computed) bits (formats/surrogate.md)")
        }
        return FittedSurrogate(
            family: family, model: model, featureNames: featureNames, modelBits: computed,
            exceptionBits: DescriptionLength.exceptions(listedExceptions, domainSize: domain, outputCount: outputCount),
            exceptionCount: family == .program ? listedExceptions : exceptions, probeCount: max(probes, listedExceptions))
    }

    /// The lookup table's body, its errors in the body reader's terms.
    private static func tableBody(_ body: JSONValue, variableCount: Int) throws(SurrogateFormatError) -> LookupTable {
        do { return try LookupTable(jsonBody: body, variableCount: variableCount) } catch {
            throw .unexpected(path: "body", expected: "a lookup table body", found: "\(error)")
        }
    }
}

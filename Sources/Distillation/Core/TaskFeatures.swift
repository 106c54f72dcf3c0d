import Network

/// The features surrogates are fitted on (`formats/task.md`, "Features"): raw variables, derived
/// features of the task (digits, pairwise sums), and thresholded hidden-unit activations.
public struct TaskFeatures: Sendable {
    /// One computable feature.
    public enum Feature: Sendable, Equatable {
        case variable(Int)
        case digit(Int, of: [Int])  // digit k of the sum of these variables
        case sum([Int])
        /// `hook[position, unit] > threshold` (position nil for MLP hooks), as 0/1.
        case hidden(hook: String, position: Int?, unit: Int, threshold: Float)
    }

    public let task: TaskDescription
    public let names: [String]
    public let features: [Feature]

    /// The default feature names: every variable, each variable's digits, every pairwise sum and its digits.
    public static func defaultNames(for task: TaskDescription) -> [String] {
        let vars = task.variables.map(\.name)
        var names = vars
        for v in task.variables where digitCount(v.max, base: task.digitBase) > 1 {
            for k in 0..<digitCount(v.max, base: task.digitBase) { names.append("digit\(k)(\(v.name))") }
        }
        if vars.count >= 2 && vars.count <= 6 {
            for i in 0..<vars.count {
                for j in (i + 1)..<vars.count {
                    names.append("\(vars[i])+\(vars[j])")
                    let maxSum = task.variables[i].max + task.variables[j].max
                    if digitCount(maxSum, base: task.digitBase) > 1 {
                        for k in 0..<digitCount(maxSum, base: task.digitBase) { names.append("digit\(k)(\(vars[i])+\(vars[j]))") }
                    }
                }
            }
        }
        return names
    }

    static func digitCount(_ value: Int, base: Int) -> Int {
        var count = 1, rest = abs(value) / base
        while rest > 0 {
            count += 1
            rest /= base
        }
        return count
    }

    /// Resolves `names` (the task's list, or the defaults when empty). A name `HOOK>T` with no unit
    /// index expands to every unit of the hook in `activations`.
    /// - Throws: `unknownFeature` for a name that is none of the forms above.
    public init(task: TaskDescription, names requested: [String]? = nil, activations: [String: FloatTensor] = [:])
        throws(DistillationError)
    {
        self.task = task
        let list =
            (requested?.isEmpty == false ? requested! : (task.features.isEmpty ? Self.defaultNames(for: task) : task.features))
        var names: [String] = [], features: [Feature] = []
        for name in list {
            for (n, f) in try Self.parse(name, task: task, activations: activations) {
                names.append(n)
                features.append(f)
            }
        }
        self.names = names
        self.features = features
    }

    /// The hooks whose activations `names` need.
    public static func hooks(in names: [String]) -> [String] {
        var hooks: [String] = []
        for name in names {
            guard let gt = name.lastIndex(of: ">") else { continue }
            var hook = String(name[..<gt])
            if let bracket = hook.firstIndex(of: "[") { hook = String(hook[..<bracket]) }
            if !hooks.contains(hook) { hooks.append(hook) }
        }
        return hooks
    }

    private static func parse(_ name: String, task: TaskDescription, activations: [String: FloatTensor]) throws(DistillationError)
        -> [(String, Feature)]
    {
        let vars = task.variables.map(\.name)
        func unknown() -> DistillationError {
            .unknownFeature(name: name, known: defaultNames(for: task) + ["HOOK[unit]>THRESHOLD"])
        }
        func sumOperands(_ text: Substring) -> [Int]? {
            let parts = text.split(separator: "+", omittingEmptySubsequences: false).map { String($0) }
            let indices = parts.compactMap { vars.firstIndex(of: $0) }
            return indices.count == parts.count ? indices : nil
        }
        if let gt = name.lastIndex(of: ">") {
            guard let threshold = Float(name[name.index(after: gt)...]) else { throw unknown() }
            var hook = String(name[..<gt])
            var index: [Int]?
            if let open = hook.firstIndex(of: "["), hook.hasSuffix("]") {
                let inner = hook[hook.index(after: open)..<hook.index(before: hook.endIndex)]
                let parts = inner.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !parts.contains(where: { $0 == nil }), (1...2).contains(parts.count) else { throw unknown() }
                index = parts.map { $0! }
                hook = String(hook[..<open])
            }
            guard let activation = activations[hook] else {
                throw .unknownFeature(name: name, known: activations.keys.sorted().map { "\($0)[unit]>THRESHOLD" })
            }
            let hasPositions = activation.shape.count == 3
            let units = activation.shape.last ?? 0
            if let index {
                let position = index.count == 2 ? index[0] : nil
                let unit = index.last!
                guard unit >= 0, unit < units, (position != nil) == hasPositions,
                    position.map({ $0 >= 0 && $0 < activation.shape[1] }) ?? true
                else {
                    throw .unknownFeature(name: name, known: ["\(hook)[0..<\(units)]>T"])
                }
                return [(name, .hidden(hook: hook, position: position, unit: unit, threshold: threshold))]
            }
            let position = hasPositions ? activation.shape[1] - 1 : nil
            return (0..<units).map { u in
                let label = position.map { "\(hook)[\($0),\(u)]>\(threshold)" } ?? "\(hook)[\(u)]>\(threshold)"
                return (label, .hidden(hook: hook, position: position, unit: u, threshold: threshold))
            }
        }
        if let v = vars.firstIndex(of: name) { return [(name, .variable(v))] }
        if name.hasPrefix("digit"), let open = name.firstIndex(of: "("), name.hasSuffix(")"),
            let k = Int(name["digit".endIndex..<open]), k >= 0, k < 19,
            let operands = sumOperands(name[name.index(after: open)..<name.index(before: name.endIndex)])
        {
            return [(name, .digit(k, of: operands))]
        }
        if name.contains("+"), let operands = sumOperands(name[...]) { return [(name, .sum(operands))] }
        throw unknown()
    }

    /// The feature table of `probes`, labelled with the network's decoded outputs.
    /// - Complexity: O(probes × features)
    public func table(_ probes: ProbeSet) throws(DistillationError) -> FeatureTable {
        let region = probes.region, vc = region.variableCount
        var columns: [[Double]] = []
        let base = task.digitBase
        for feature in features {
            var column = [Double](repeating: 0, count: probes.count)
            switch feature {
            case .variable(let v):
                for i in 0..<probes.count { column[i] = Double(region.values[i * vc + v]) }
            case .sum(let operands):
                for i in 0..<probes.count { column[i] = Double(operands.reduce(0) { $0 + region.values[i * vc + $1] }) }
            case .digit(let k, let operands):
                var power = 1
                for _ in 0..<k { power *= base }
                for i in 0..<probes.count {
                    let value = abs(operands.reduce(0) { $0 + region.values[i * vc + $1] })
                    column[i] = Double((value / power) % base)
                }
            case .hidden(let hook, let position, let unit, let threshold):
                guard let activation = probes.activations[hook] else {
                    throw .mismatch(path: "probes", reason: "no activations of \(hook) were probed")
                }
                let perExample = activation.count / max(activation.batchSize, 1)
                let units = activation.shape.last ?? 1
                let offset = (position ?? 0) * units + unit
                for i in 0..<probes.count { column[i] = activation.scalars[i * perExample + offset] > threshold ? 1 : 0 }
            }
            columns.append(column)
        }
        return FeatureTable(names: names, columns: columns, labels: probes.outputs)
    }
}

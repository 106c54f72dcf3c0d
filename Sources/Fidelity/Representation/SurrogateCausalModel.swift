import Distillation

/// A fitted surrogate as a high-level causal model over the task variables: its intermediate variables,
/// their values, and its output when one of them is set (interchange semantics of pyvene's `causal_model.py`).
///
/// Programs keep their exception table: an input listed there gives its listed output whatever a variable is
/// set to, so variables never matter on exceptions. Feature-based families (tree, rule list, rule set)
/// compute their features from the task variables; a surrogate with a feature that reads hidden units
/// (`HOOK[...]>T`) is rejected, since setting such a variable says nothing about the task.
public struct SurrogateCausalModel: Sendable {
    /// The surrogate.
    public let surrogate: FittedSurrogate
    /// The task its variables belong to.
    public let task: TaskDescription
    /// The intermediate variables, in the surrogate's order (pre-order for programs and trees).
    public let variables: [SurrogateVariable]
    private let features: [TaskFeatures.Feature]

    /// The causal model of `surrogate` for `task`.
    /// - Throws: `noVariables` for tables (and programs that are a bare variable or constant, rule families
    ///   or trees without intermediate variables), `unsupportedFeature` for features that read hidden units or that the task cannot compute.
    /// - Complexity: O(model size)
    public init(surrogate: FittedSurrogate, task: TaskDescription) throws(RepresentationError) {
        self.surrogate = surrogate
        self.task = task
        var features: [TaskFeatures.Feature] = []
        if surrogate.family != .program && surrogate.family != .table {
            for name in surrogate.featureNames where !TaskFeatures.hooks(in: [name]).isEmpty {
                throw .unsupportedFeature(
                    name: name, reason: "it reads hidden units, not the task variables; fit the surrogate on task features")
            }
            do {
                features = try TaskFeatures(task: task, names: surrogate.featureNames).features
            } catch {
                throw .unsupportedFeature(name: surrogate.featureNames.joined(separator: ", "), reason: "\(error)")
            }
            guard features.count == surrogate.featureNames.count else {
                throw .unsupportedFeature(
                    name: surrogate.featureNames.joined(separator: ", "), reason: "the names do not resolve one feature each")
            }
        }
        self.features = features
        var variables: [SurrogateVariable] = []
        var root: SurrogateVariable?
        let names = surrogate.featureNames
        switch surrogate.model {
        case .table:
            throw .noVariables(family: surrogate.family.rawValue)
        case .program(let program):
            // The whole expression is a variable too: interchanging it asks whether the aligned units carry the
            // program's answer (for `a + b`, whether a hidden layer holds the sum), the one question a
            // single-operation program can be asked. It comes last, so `maxVariables` keeps intermediates first.
            // A subexpression that occurs more than once is one variable (the same computation on the
            // same inputs): setting it sets every occurrence, and its name lists its places.
            var places: [String: [Int]] = [:]
            var order: [String] = []
            for (i, node) in program.subexpressions().enumerated() {
                switch node {
                case .variable, .constant: continue
                default:
                    let text = node.text(variables: program.variables)
                    if i == 0 {
                        root = SurrogateVariable(name: "\(text) (output)", kind: .subexpression(preorder: 0))
                        continue
                    }
                    if places[text] == nil { order.append(text) }
                    places[text, default: []].append(i)
                }
            }
            for text in order {
                let at = places[text]!
                let name = at.count == 1 ? text : "\(text) (nodes \(at.map(String.init).joined(separator: ", ")))"
                variables.append(SurrogateVariable(name: name, kind: .subexpression(preorder: at[0]), places: at))
            }
            if let root { variables.append(root) }
        case .ruleList(let list):
            variables = Self.ruleVariables(list.rules, names: names, kinds: list.featureKinds)
        case .ruleSet(let set):
            variables = Self.ruleVariables(set.rules, names: names, kinds: set.featureKinds)
        case .tree(let tree):
            for (i, node) in tree.nodes.enumerated() {
                guard case .split(let feature, let threshold, _, _) = node else { continue }
                let name = names.indices.contains(feature) ? names[feature] : "x\(feature)"
                let test = tree.featureKinds[feature].comparison(name, threshold: threshold, greater: false)
                variables.append(SurrogateVariable(name: "node \(i): \(test)", kind: .split(node: i)))
            }
        }
        guard !variables.isEmpty else { throw .noVariables(family: surrogate.family.rawValue) }
        self.variables = variables
    }

    private static func ruleVariables(_ rules: [Rule], names: [String], kinds: [FeatureKind]) -> [SurrogateVariable] {
        rules.enumerated().map { i, rule in
            let tests = rule.conditions.map { $0.text(featureNames: names, featureKinds: kinds) }
            return SurrogateVariable(
                name: "rule \(i + 1): \(tests.isEmpty ? "TRUE" : tests.joined(separator: " AND "))", kind: .rule(index: i))
        }
    }

    /// The feature row of `input` (feature-based families).
    private func row(_ input: [Int]) -> [Double] {
        features.map { feature in
            switch feature {
            case .variable(let v): return Double(input[v])
            case .sum(let operands): return Double(operands.reduce(0) { $0 + input[$1] })
            case .digit(let k, let operands):
                return Double(ProgramExpression.digit(operands.reduce(0) { $0 + input[$1] }, place: k, base: task.digitBase))
            case .hidden: return 0  // rejected in init
            }
        }
    }

    /// The surrogate's output on `input`.
    /// - Complexity: O(model size)
    public func output(_ input: [Int]) -> Int { evaluate(input, setting: nil) }

    /// The value of `variable` on `input`.
    /// - Complexity: O(model size)
    public func value(_ variable: SurrogateVariable, _ input: [Int]) -> Int {
        switch variable.kind {
        case .subexpression(let preorder):
            guard case .program(let program) = surrogate.model else { return 0 }
            var counter = 0
            var found = 0
            _ = Self.evaluate(program.expression, input, counter: &counter, override: nil, record: preorder, recorded: &found)
            return found
        case .rule(let index):
            let rules = ruleList
            let r = row(input)
            return rules.indices.contains(index) && rules[index].matches(r) ? 1 : 0
        case .split(let node):
            guard case .tree(let tree) = surrogate.model, case .split(let f, let t, _, _) = tree.nodes[node] else { return 0 }
            return row(input)[f] <= t ? 1 : 0
        }
    }

    /// The surrogate's output on `input` with `variable` set to `value`.
    /// - Complexity: O(model size)
    public func output(_ input: [Int], setting variable: SurrogateVariable, to value: Int) -> Int {
        evaluate(input, setting: (variable.kind, value))
    }

    /// The counterfactual output: the surrogate on `base` with `variable` taken from `source`.
    /// - Complexity: O(model size)
    public func counterfactual(_ variable: SurrogateVariable, base: [Int], source: [Int]) -> Int {
        output(base, setting: variable, to: value(variable, source))
    }

    /// Whether `variable` matters on `input`: some other value among `values` changes the output.
    /// - Complexity: O(values × model size)
    public func matters(_ variable: SurrogateVariable, _ input: [Int], values: [Int]) -> Bool {
        let own = value(variable, input)
        let clean = output(input)
        return values.contains { $0 != own && output(input, setting: variable, to: $0) != clean }
    }

    /// The distinct values `variable` takes on `inputs`, increasing.
    /// - Complexity: O(inputs × model size)
    public func values(of variable: SurrogateVariable, over inputs: [[Int]]) -> [Int] {
        Array(Set(inputs.map { value(variable, $0) })).sorted()
    }

    private var ruleList: [Rule] {
        switch surrogate.model {
        case .ruleList(let list): list.rules
        case .ruleSet(let set): set.rules
        default: []
        }
    }

    private func evaluate(_ input: [Int], setting: (SurrogateVariable.Kind, Int)?) -> Int {
        switch surrogate.model {
        case .table(let table):
            return table.predict(input)
        case .program(let program):
            let listed = program.predict(input)
            if listed != program.evaluate(input) { return listed }
            var counter = 0
            var unused = 0
            var override: (Set<Int>, Int)?
            if case .subexpression(let preorder)? = setting?.0 {
                override = (Set(variables.first { $0.kind == .subexpression(preorder: preorder) }?.places ?? [preorder]), setting!.1)
            }
            return Self.evaluate(program.expression, input, counter: &counter, override: override, record: -1, recorded: &unused)
        case .ruleList(let list):
            let r = row(input)
            // A rule variable is whether the rule's own conditions hold; where it fires, its exceptions are read
            // from the input as usual.
            for (i, rule) in list.rules.enumerated() where holds(i, rule, r, setting) { return rule.answer(r) }
            return list.defaultOutput
        case .ruleSet(let set):
            let r = row(input)
            var best: Rule?
            for (i, rule) in set.rules.enumerated() where holds(i, rule, r, setting) && rule.precision > (best?.precision ?? -1) {
                best = rule
            }
            return best?.output ?? set.defaultOutput
        case .tree(let tree):
            let r = row(input)
            var index = 0
            while true {
                switch tree.nodes[index] {
                case .split(let feature, let threshold, let left, let right):
                    var goesLeft = r[feature] <= threshold
                    if case .split(let node)? = setting?.0, node == index { goesLeft = setting!.1 != 0 }
                    index = goesLeft ? left : right
                case .leaf(let label, _):
                    return label
                }
            }
        }
    }

    private func holds(_ i: Int, _ rule: Rule, _ row: [Double], _ setting: (SurrogateVariable.Kind, Int)?) -> Bool {
        if case .rule(let index)? = setting?.0, index == i { return setting!.1 != 0 }
        return rule.matches(row)
    }

    /// Evaluates `expression` in pre-order, replacing the nodes numbered in `override.0` by `override.1` and
    /// storing the (clean or set) value of node `record` in `recorded`. Every node is visited, so
    /// pre-order numbers stay fixed whatever the conditionals choose.
    private static func evaluate(
        _ expression: ProgramExpression, _ input: [Int], counter: inout Int, override: (Set<Int>, Int)?,
        record: Int, recorded: inout Int
    ) -> Int {
        let own = counter
        counter += 1
        var value: Int
        switch expression {
        case .variable(let index): value = input.indices.contains(index) ? input[index] : 0
        case .constant(let c): value = c
        case .digit(let place, let base, let x):
            value = ProgramExpression.digit(
                evaluate(x, input, counter: &counter, override: override, record: record, recorded: &recorded), place: place,
                base: base)
        case .binary(let op, let x, let y):
            let a = evaluate(x, input, counter: &counter, override: override, record: record, recorded: &recorded)
            let b = evaluate(y, input, counter: &counter, override: override, record: record, recorded: &recorded)
            value = op.apply(a, b)
        case .conditional(let c, let x, let y):
            let condition = evaluate(c, input, counter: &counter, override: override, record: record, recorded: &recorded)
            let a = evaluate(x, input, counter: &counter, override: override, record: record, recorded: &recorded)
            let b = evaluate(y, input, counter: &counter, override: override, record: record, recorded: &recorded)
            value = condition != 0 ? a : b
        }
        if let override, override.0.contains(own) { value = override.1 }
        if record == own { recorded = value }
        return value
    }
}

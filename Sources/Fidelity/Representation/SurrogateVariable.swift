/// An intermediate variable of a surrogate, read as a high-level causal model: a program's non-leaf,
/// non-root subexpression, whether a rule's conjunction holds, or a tree's split test.
public struct SurrogateVariable: Sendable, Equatable {
    /// Where the variable sits in its surrogate.
    public enum Kind: Sendable, Equatable {
        /// The subexpression at this pre-order index of the program's expression.
        case subexpression(preorder: Int)
        /// Whether rule `index` (0-based) of a rule list or set holds: 1 or 0.
        case rule(index: Int)
        /// Whether the input goes left at split node `node` of a tree (`x ≤ t`): 1 or 0.
        case split(node: Int)
    }

    /// A readable name: `x1 + x2`, `rule 1: x1 = 0 AND x2 = 1 AND x3 = 1`, `node 3: a <= 41`.
    public var name: String
    /// Where it sits in the surrogate.
    public var kind: Kind

    /// Whether it is the program's whole expression (pre-order index 0): the output itself.
    public var isOutput: Bool { kind == .subexpression(preorder: 0) }

    /// A variable from its parts.
    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

extension SurrogateVariable {
    /// `{"name": …, "kind": "subexpression" | "rule" | "split", "index": pre-order index, rule index or node}`.
    public var json: String {
        var o = JSONText()
        o.add("name", name)
        switch kind {
        case .subexpression(let preorder):
            o.add("kind", "subexpression")
            o.add("index", preorder)
        case .rule(let index):
            o.add("kind", "rule")
            o.add("index", index)
        case .split(let node):
            o.add("kind", "split")
            o.add("index", node)
        }
        return o.text
    }
}

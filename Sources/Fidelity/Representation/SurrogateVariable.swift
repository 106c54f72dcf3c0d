import Foundation
import WeightFiles

/// An intermediate variable of a surrogate, read as a high-level causal model: a program's non-leaf,
/// non-root subexpression, whether a rule's conjunction holds, or a tree's split test.
public struct SurrogateVariable: Sendable, Equatable, Codable {
    /// Where the variable sits in its surrogate.
    public enum Kind: Sendable, Equatable, Codable {
        /// The subexpression at this pre-order index of the program's expression.
        case subexpression(preorder: Int)
        /// Whether rule `index` (0-based) of a rule list or set holds: 1 or 0.
        case rule(index: Int)
        /// Whether the input goes left at split node `node` of a tree (`x ≤ t`): 1 or 0.
        case split(node: Int)
    }

    /// A readable name: `x1 + x2`, `rule 1: x1 = 0 AND x2 = 1 AND x3 = 1`, `node 3: a <= 41`; a
    /// subexpression that occurs more than once adds its places: `a + b (nodes 2, 6)`.
    public var name: String
    /// Where it sits in the surrogate (for a repeated subexpression, its first place).
    public var kind: Kind
    /// Every pre-order index at which a program's subexpression occurs (one variable: setting it sets
    /// every occurrence); empty for rules and splits.
    public var places: [Int]

    /// Whether it is the program's whole expression (pre-order index 0): the output itself.
    public var isOutput: Bool { kind == .subexpression(preorder: 0) }

    /// A variable from its parts; a subexpression's places default to its one pre-order index.
    public init(name: String, kind: Kind, places: [Int]? = nil) {
        self.name = name
        self.kind = kind
        if let places {
            self.places = places
        } else if case .subexpression(let preorder) = kind {
            self.places = [preorder]
        } else {
            self.places = []
        }
    }

    /// Whether `selector` names this variable: its name, its expression or test without the
    /// decorations (`a + b` for `a + b (nodes 2, 6)` or `a + b (output)`), or its place — `node N`
    /// for one of a program's pre-order indices or a tree's split, `rule N` for a rule.
    public func isNamed(by selector: String) -> Bool {
        let wanted = selector.trimmingCharacters(in: .whitespaces)
        if name == wanted || name.hasPrefix(wanted + " (") { return true }
        switch kind {
        case .subexpression: return places.contains { "node \($0)" == wanted }
        case .rule(let index): return wanted == "rule \(index + 1)"
        case .split(let node): return wanted == "node \(node)"
        }
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
            o.add("places", places)
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

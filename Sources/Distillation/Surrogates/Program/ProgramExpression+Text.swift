extension ProgramExpression {
    /// Infix text with the fewest parentheses that keep the tree unambiguous: `(a + b) mod 113`,
    /// `digit1(a) * 10`, `min(a, b)`, `if a < b then a else b`. Variables beyond `variables` print as `x3`.
    /// - Complexity: O(size²) in the worst case (string concatenation).
    public func text(variables: [String]) -> String {
        switch self {
        case .variable(let index):
            return variables.indices.contains(index) ? variables[index] : "x\(index)"
        case .constant(let value):
            return String(value)
        case .digit(let place, _, let x):
            return "digit\(place)(\(x.text(variables: variables)))"
        case .binary(let op, let x, let y):
            if op == .minimum || op == .maximum {
                return "\(op.rawValue)(\(x.text(variables: variables)), \(y.text(variables: variables)))"
            }
            let own = op.precedence
            let left = x.text(variables: variables)
            let right = y.text(variables: variables)
            let leftNeedsParentheses = x.precedence < own || (x.precedence == own && own == 1)
            let rightNeedsParentheses =
                y.precedence < own || (y.precedence == own && !(op.isAssociative && y.binaryOperator == op))
            let symbol = op == .lessOrEqual ? "<=" : op.rawValue
            return "\(leftNeedsParentheses ? "(\(left))" : left) \(symbol) \(rightNeedsParentheses ? "(\(right))" : right)"
        case .conditional(let c, let x, let y):
            let parts = [c, x, y].map {
                $0.precedence == 0 ? "(\($0.text(variables: variables)))" : $0.text(variables: variables)
            }
            return "if \(parts[0]) then \(parts[1]) else \(parts[2])"
        }
    }

    /// 0 for `if`, 1 for comparisons, 2 for `+ -`, 3 for `* div mod`, 4 for leaves and calls.
    fileprivate var precedence: Int {
        switch self {
        case .variable(_), .digit: 4
        case .constant(let value): value < 0 ? 3 : 4
        case .binary(let op, _, _): op.precedence
        case .conditional: 0
        }
    }

    fileprivate var binaryOperator: BinaryOperator? {
        if case .binary(let op, _, _) = self { op } else { nil }
    }
}

extension BinaryOperator {
    /// Binding strength in the infix text (calls like `min(a, b)` bind tightest).
    fileprivate var precedence: Int {
        switch self {
        case .less, .lessOrEqual, .equal: 1
        case .add, .subtract: 2
        case .multiply, .divide, .modulo: 3
        case .minimum, .maximum: 4
        }
    }

    fileprivate var isAssociative: Bool { self == .add || self == .multiply }
}

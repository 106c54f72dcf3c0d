/// An expression of the program DSL: the "algorithm" half of a program surrogate.
///
/// The grammar has 14 node kinds:
/// - leaves: a variable (by index into the task's variables) and an integer constant;
/// - binary (`BinaryOperator`): `+ - * div mod`, the comparisons `< <= =` (1 or 0), `min`, `max`;
/// - unary: `digit_k(x) = (|x| div baseᵏ) mod base` for k = 0, 1, 2 (the base is the task's, default 10);
/// - ternary: `if c then x else y`, taking x when c ≠ 0.
///
/// Semantics are total: `div` and `mod` floor (like Python), `x div 0 = 0`, `x mod 0 = x`, and arithmetic
/// saturates at `Int.min` / `Int.max` rather than trapping or wrapping (`|Int.min|` is `Int.max`).
///
/// Description length, in pre-order: every node costs `choice(14)` (`log₂ 14` bits); a variable leaf adds
/// `choice(variableCount)`, a constant leaf `integer(value)`, a digit node `choice(3)` for its place.
public indirect enum ProgramExpression: Hashable, Sendable {
    /// The variable with this index.
    case variable(Int)
    /// An integer constant.
    case constant(Int)
    /// `digit_place(x)` in `base`: `(|x| div base^place) mod base`.
    case digit(place: Int, base: Int, ProgramExpression)
    /// `x op y`.
    case binary(BinaryOperator, ProgramExpression, ProgramExpression)
    /// `if condition ≠ 0 then x else y`.
    case conditional(ProgramExpression, ProgramExpression, ProgramExpression)

    /// The number of node kinds in the grammar (variable, constant, 10 binary operators, digit, if),
    /// which prices every node at `choice(kindCount)` bits.
    public static let kindCount = 14

    /// The digit places the grammar offers (`digit_0`, `digit_1`, `digit_2`).
    public static let digitPlaces = 3

    /// The number of nodes.
    /// - Complexity: O(size)
    public var size: Int {
        switch self {
        case .variable, .constant: 1
        case .digit(_, _, let x): 1 + x.size
        case .binary(_, let x, let y): 1 + x.size + y.size
        case .conditional(let c, let x, let y): 1 + c.size + x.size + y.size
        }
    }

    /// The value on one input (`variables[i]` is variable i's value); variables beyond the input read as 0.
    /// - Complexity: O(size)
    public func evaluate(_ variables: [Int]) -> Int {
        switch self {
        case .variable(let index):
            return variables.indices.contains(index) ? variables[index] : 0
        case .constant(let value):
            return value
        case .digit(let place, let base, let x):
            return Self.digit(x.evaluate(variables), place: place, base: base)
        case .binary(let op, let x, let y):
            return op.apply(x.evaluate(variables), y.evaluate(variables))
        case .conditional(let c, let x, let y):
            return c.evaluate(variables) != 0 ? x.evaluate(variables) : y.evaluate(variables)
        }
    }

    /// The values on examples given as columns (`columns[v][i]`: variable v of example i).
    /// - Precondition: the columns have equal lengths.
    /// - Complexity: O(size × examples)
    public func evaluate(columns: [[Int]]) -> [Int] {
        let count = columns.first?.count ?? 0
        precondition(columns.allSatisfy { $0.count == count }, "columns need equal lengths")
        var row = [Int](repeating: 0, count: columns.count)
        return (0..<count).map { i in
            for v in columns.indices { row[v] = columns[v][i] }
            return evaluate(row)
        }
    }

    /// Every subexpression in pre-order, starting with the expression itself; these are the program's
    /// intermediate variables, to be aligned with a network's units.
    /// - Complexity: O(size)
    public func subexpressions() -> [ProgramExpression] {
        var result: [ProgramExpression] = []
        appendSubexpressions(to: &result)
        return result
    }

    private func appendSubexpressions(to result: inout [ProgramExpression]) {
        result.append(self)
        switch self {
        case .variable, .constant: break
        case .digit(_, _, let x): x.appendSubexpressions(to: &result)
        case .binary(_, let x, let y):
            x.appendSubexpressions(to: &result)
            y.appendSubexpressions(to: &result)
        case .conditional(let c, let x, let y):
            c.appendSubexpressions(to: &result)
            x.appendSubexpressions(to: &result)
            y.appendSubexpressions(to: &result)
        }
    }

    /// The description length in bits, for a task with `variableCount` variables (see the type's summary).
    /// - Complexity: O(size)
    public func bits(variableCount: Int) -> Double {
        let node = DescriptionLength.choice(Self.kindCount)
        switch self {
        case .variable: return node + DescriptionLength.choice(variableCount)
        case .constant(let value): return node + DescriptionLength.integer(value)
        case .digit(_, _, let x): return node + DescriptionLength.choice(Self.digitPlaces) + x.bits(variableCount: variableCount)
        case .binary(_, let x, let y): return node + x.bits(variableCount: variableCount) + y.bits(variableCount: variableCount)
        case .conditional(let c, let x, let y):
            return node + c.bits(variableCount: variableCount) + x.bits(variableCount: variableCount)
                + y.bits(variableCount: variableCount)
        }
    }

    /// The base of the first digit node in pre-order, or nil when there is none.
    /// - Complexity: O(size)
    public var digitBase: Int? {
        switch self {
        case .variable, .constant: nil
        case .digit(_, let base, _): base
        case .binary(_, let x, let y): x.digitBase ?? y.digitBase
        case .conditional(let c, let x, let y): c.digitBase ?? x.digitBase ?? y.digitBase
        }
    }

    /// `(|x| div base^place) mod base`, saturating `|Int.min|` to `Int.max`; 0 when base^place exceeds `Int.max`.
    /// - Complexity: O(place)
    public static func digit(_ x: Int, place: Int, base: Int) -> Int {
        precondition(base >= 2 && place >= 0, "digits need a base of at least 2 and a place of at least 0")
        let magnitude = x == .min ? Int.max : abs(x)
        var power = 1
        for _ in 0..<place {
            let (next, overflow) = power.multipliedReportingOverflow(by: base)
            if overflow { return 0 }
            power = next
        }
        return (magnitude / power) % base
    }
}

/// The binary operators of the program DSL, in the order the search tries them.
///
/// Arithmetic saturates at `Int.min` / `Int.max` instead of trapping or wrapping, so every expression is
/// total; division and modulo floor like Python's `//` and `%`, with `x div 0 = 0` and `x mod 0 = x`.
/// Comparisons give 1 for true and 0 for false.
public enum BinaryOperator: String, CaseIterable, Sendable, Hashable {
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case divide = "div"
    case modulo = "mod"
    case less = "<"
    case lessOrEqual = "<="
    case equal = "="
    case minimum = "min"
    case maximum = "max"

    /// Whether `x op y == y op x` for all operands, so the search tries only one order.
    public var isCommutative: Bool {
        switch self {
        case .add, .multiply, .equal, .minimum, .maximum: true
        case .subtract, .divide, .modulo, .less, .lessOrEqual: false
        }
    }

    /// Whether `x op x` is the same for every x or is x itself, so the search never builds it.
    var isTrivialOnEqualOperands: Bool {
        switch self {
        case .subtract, .modulo, .less, .lessOrEqual, .equal, .minimum, .maximum: true
        case .add, .multiply, .divide: false
        }
    }

    /// `x op y` under the DSL's total, saturating semantics.
    /// - Complexity: O(1)
    public func apply(_ x: Int, _ y: Int) -> Int {
        switch self {
        case .add:
            let (sum, overflow) = x.addingReportingOverflow(y)
            return overflow ? (x < 0 ? .min : .max) : sum
        case .subtract:
            let (difference, overflow) = x.subtractingReportingOverflow(y)
            return overflow ? (x < 0 ? .min : .max) : difference
        case .multiply:
            let (product, overflow) = x.multipliedReportingOverflow(by: y)
            return overflow ? ((x < 0) != (y < 0) ? .min : .max) : product
        case .divide:
            return Self.floorDivide(x, y)
        case .modulo:
            return Self.floorModulo(x, y)
        case .less: return x < y ? 1 : 0
        case .lessOrEqual: return x <= y ? 1 : 0
        case .equal: return x == y ? 1 : 0
        case .minimum: return Swift.min(x, y)
        case .maximum: return Swift.max(x, y)
        }
    }

    /// ⌊x / y⌋; 0 when y = 0; `Int.max` for the one overflowing case, `Int.min div −1`.
    /// - Complexity: O(1)
    static func floorDivide(_ x: Int, _ y: Int) -> Int {
        if y == 0 { return 0 }
        if y == -1 { return x == .min ? .max : -x }
        let quotient = x / y
        return (x % y != 0 && (x < 0) != (y < 0)) ? quotient - 1 : quotient
    }

    /// x − y·⌊x / y⌋, which has the sign of y; x when y = 0.
    /// - Complexity: O(1)
    static func floorModulo(_ x: Int, _ y: Int) -> Int {
        if y == 0 { return x }
        if y == -1 { return 0 }
        let remainder = x % y
        return (remainder != 0 && (remainder < 0) != (y < 0)) ? remainder + y : remainder
    }
}

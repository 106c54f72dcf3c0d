/// One expression the search has built, stored flat: its node and the ids of its children in the
/// `CandidateBank` (so an expression shares its subexpressions with every other that uses them).
struct SearchCandidate {
    enum Kind: UInt8 {
        case variable, constant, binary, digit, conditional
    }

    var kind: Kind
    /// The variable index, the constant, the `BinaryOperator.allCases` index, or the digit place.
    var parameter: Int
    var first: Int32 = -1
    var second: Int32 = -1
    var third: Int32 = -1
    var size: Int
    /// Bits of the whole expression (`ProgramExpression.bits(variableCount:)`).
    var bits: Double
    /// Whether the values on the examples are all equal (a condition that never branches).
    var isConstant = false

    static let operators = BinaryOperator.allCases
}

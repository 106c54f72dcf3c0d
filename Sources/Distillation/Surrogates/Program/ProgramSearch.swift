/// Finds the program surrogate with the fewest bits: enumerative bottom-up search over DSL expressions
/// (`ProgramExpression`) with observational-equivalence pruning, each candidate scored with its exception table.
///
/// Sizes (node counts) are enumerated in order, 1, 2, 3, …: leaves (variables, then constants), then
/// `digit_k` of size s − 1, then every binary operator over pairs of kept expressions whose sizes sum to
/// s − 1 (one order only for commutative operators; never `x op x` when that is constant or x), then
/// `if c then x else y` over triples (never with a constant c or with x = y). Each candidate is evaluated on
/// every example at once, and of candidates with the same values on the examples only the first (smallest;
/// at equal size, fewest bits) is kept to build larger ones. Every candidate is scored as
///
///     bits(expression) + DescriptionLength.exceptions(E, domainSize: |D|, outputCount: |Y|)
///
/// with E the examples whose value differs from the target; the lowest score wins (ties: the smaller
/// expression, then the first found). The search stops at `Limits.maxSize`, when the clock runs out, or when
/// no larger expression could score lower. Candidates of the last size, and any past `Limits.maxKept`, are
/// scored without being kept, giving up as soon as their exceptions alone would lose.
///
/// Values are kept as Int32: a candidate whose values on the examples do not fit is scored exactly but not
/// used as a building block, and neither is a constant beyond the Int32 range.
public struct ProgramSearch: Sendable {
    /// The constants every search may use: {0, 1, 2, 10}.
    public static let defaultConstants = [0, 1, 2, 10]

    /// One name per variable.
    public let variables: [String]
    /// `columns[v][i]`: variable v in example i.
    public let columns: [[Int]]
    /// The output to reproduce for each example.
    public let targets: [Int]
    /// |D|, the number of possible inputs (may exceed the number of examples).
    public let domainSize: Int
    /// |Y|, the number of possible outputs.
    public let outputCount: Int
    /// The constant leaves: `defaultConstants`, then the caller's, without repeats.
    public let constants: [Int]
    /// The base of `digit_k`.
    public let digitBase: Int
    /// Size, time and memory limits.
    public var limits: Limits

    /// - Parameters:
    ///   - constants: constants beyond the defaults, such as a modulus or a variable's range size.
    /// - Precondition: one column per variable, each with one value per target; `digitBase` in 2...65536;
    ///   `domainSize` and `outputCount` at least 1.
    /// - Complexity: O(variables × examples) (the examples are copied).
    public init(
        variables: [String], columns: [[Int]], targets: [Int], domainSize: Int, outputCount: Int,
        constants: [Int] = [], digitBase: Int = 10, limits: Limits = Limits()
    ) {
        precondition(columns.count == variables.count, "one column per variable")
        precondition(columns.allSatisfy { $0.count == targets.count }, "one value per target in every column")
        precondition((2...65536).contains(digitBase), "the digit base must be in 2...65536")
        precondition(domainSize >= 1 && outputCount >= 1, "domain and output alphabet must be non-empty")
        self.variables = variables
        self.columns = columns
        self.targets = targets
        self.domainSize = domainSize
        self.outputCount = outputCount
        var seen = Set<Int>()
        self.constants = (Self.defaultConstants + constants).filter { seen.insert($0).inserted }
        self.digitBase = digitBase
        self.limits = limits
    }

    /// Runs the search; `progress(size, kept)` is called after each size with the candidates kept so far, and
    /// `during(size, evaluated, kept, seconds)` about four times a second while a size is enumerated.
    /// - Complexity: exponential in `limits.maxSize`; each candidate costs O(examples).
    public func run(
        progress: (_ size: Int, _ kept: Int) -> Void = { _, _ in },
        during: ((_ size: Int, _ evaluated: Int, _ kept: Int, _ seconds: Double) -> Void)? = nil
    ) -> Result {
        let enumerator = ProgramEnumerator(search: self)
        return enumerator.run(progress: progress, during: during)
    }
}

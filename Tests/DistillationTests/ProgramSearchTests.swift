import Foundation
import Testing
import WeightFiles

@testable import Distillation

// MARK: Fixtures

private let a = ProgramExpression.variable(0)
private let b = ProgramExpression.variable(1)

/// Two variables a, b over 0..<range: all pairs, or `sample` of them drawn without replacement.
private func grid(range: Int, sample: Int? = nil, seed: UInt64 = 7) -> [[Int]] {
    var inputs = Array(0..<(range * range))
    if let sample {
        var generator = SplitMix64(state: seed)
        inputs.shuffle(using: &generator)
        inputs = Array(inputs.prefix(sample))
    }
    return [inputs.map { $0 / range }, inputs.map { $0 % range }]
}

private func search(
    _ columns: [[Int]], _ targets: [Int], range: Int, outputs: Int, constants: [Int] = [], maxSize: Int = 5
) -> ProgramSearch.Result {
    ProgramSearch(
        variables: ["a", "b"], columns: columns, targets: targets, domainSize: range * range, outputCount: outputs,
        constants: constants, limits: .init(maxSize: maxSize, maxSeconds: 120)
    ).run()
}

/// Int32 operands: every pair of edge values, then small and full-range random values.
private func kernelOperands(count: Int) -> (x: [Int32], y: [Int32]) {
    let edges: [Int32] = [.min, .max, .min + 1, 0, 1, -1, 2, -2, 7, -7, 10, 113, -113, 99_999, -99_999]
    var generator = SplitMix64(state: 13)
    var x: [Int32] = []
    var y: [Int32] = []
    for p in edges { for q in edges { x.append(p); y.append(q) } }
    while x.count < count {
        let wide = x.count % 2 == 0
        x.append(wide ? Int32.random(in: .min ... .max, using: &generator) : Int32.random(in: -300...300, using: &generator))
        y.append(wide ? Int32.random(in: -1000...1000, using: &generator) : Int32.random(in: -30...30, using: &generator))
    }
    return (x, y)
}

/// Mismatches between a kernel's values and `expected`, through the storing sink.
private func kernelMismatches(
    _ expected: [Int], _ kernel: (inout StoringSink) -> Void
) -> Int {
    var output = [Int32](repeating: 0, count: expected.count)
    let targets = expected.map(Int64.init)
    return output.withUnsafeMutableBufferPointer { output in
        targets.withUnsafeBufferPointer { targets in
            var sink = StoringSink(count: expected.count, output: output.baseAddress!, targets: targets.baseAddress!)
            kernel(&sink)
            return sink.mismatches
        }
    }
}

private let sampleSurrogate = ProgramSurrogate(
    variables: ["a", "b"],
    expression: .binary(
        .modulo, .binary(.add, a, .conditional(.binary(.less, a, b), .digit(place: 1, base: 10, b), .constant(-3))),
        .constant(113)),
    exceptions: [.init(input: [3, 4], output: 8), .init(input: [-1, 0], output: 0)], domainSize: 12_769, outputCount: 113)

@Suite struct ProgramSearchTests {
    // MARK: Search

    @Test func findsTheSumExactlyOnTheWholeAdditionTable() {
        let columns = grid(range: 100)
        let result = search(columns, zip(columns[0], columns[1]).map(+), range: 100, outputs: 199)
        #expect(result.surrogate.expression == .binary(.add, a, b))
        #expect(result.surrogate.exceptions.isEmpty)
    }

    @Test func findsTheSumPlusExactlyTheCorruptedInputs() {
        let columns = grid(range: 100)
        var targets = zip(columns[0], columns[1]).map(+)
        var generator = SplitMix64(state: 11)
        var corrupted: [[Int]: Int] = [:]
        for i in Array(targets.indices).shuffled(using: &generator).prefix(20) {
            targets[i] = (targets[i] + Int.random(in: 1..<199, using: &generator)) % 199
            corrupted[[columns[0][i], columns[1][i]]] = targets[i]
        }
        let result = search(columns, targets, range: 100, outputs: 199)
        #expect(result.surrogate.expression == .binary(.add, a, b))
        #expect(Dictionary(uniqueKeysWithValues: result.surrogate.exceptions.map { ($0.input, $0.output) }) == corrupted)
    }

    @Test func findsTheModularSumWithTheModulusConstant() {
        let columns = grid(range: 113, sample: 1500)
        let targets = zip(columns[0], columns[1]).map { ($0 + $1) % 113 }
        let result = search(columns, targets, range: 113, outputs: 113, constants: [113])
        #expect(result.surrogate.expression == .binary(.modulo, .binary(.add, a, b), .constant(113)))
        #expect(result.surrogate.exceptions.isEmpty)
    }

    @Test func findsTheProductForAProductTarget() {
        let columns = grid(range: 20)
        let result = search(columns, zip(columns[0], columns[1]).map(*), range: 20, outputs: 362)
        #expect(result.surrogate.expression == .binary(.multiply, a, b))
    }

    @Test func findsTheMaximumForAMaximumTarget() {
        let columns = grid(range: 20)
        let result = search(columns, zip(columns[0], columns[1]).map(max), range: 20, outputs: 20)
        #expect(result.surrogate.expression == .binary(.maximum, a, b))
    }

    @Test func randomLabelsGetNoProgramShorterThanTheirTable() {
        let columns = grid(range: 30)
        var generator = SplitMix64(state: 3)
        let targets = columns[0].map { _ in Int.random(in: 0..<10, using: &generator) }
        let result = search(columns, targets, range: 30, outputs: 10, maxSize: 4)
        let table = DescriptionLength.table(entries: targets.count, domainSize: 900, outputCount: 10)
        #expect(result.bits >= table)
    }

    @Test func observationalEquivalencePrunesCandidates() {
        let columns = grid(range: 10)
        let result = search(columns, zip(columns[0], columns[1]).map(-), range: 10, outputs: 19, maxSize: 4)
        #expect(result.keptBySize[3] < result.generatedBySize[3])
    }

    @Test func vectorFloorDivisionAgreesWithTheScalarSemantics() {
        let values = Array(-12...12)
        let columns = [values.flatMap { x in values.map { _ in x } }, values.flatMap { _ in values }]
        let targets = zip(columns[0], columns[1]).map { BinaryOperator.divide.apply($0, $1) }
        let result = search(columns, targets, range: 25, outputs: 25, maxSize: 3)
        #expect(result.surrogate.expression == .binary(.divide, a, b))
        #expect(result.surrogate.exceptions.isEmpty)
    }

    @Test func vectorFloorModuloAgreesWithTheScalarSemantics() {
        let values = Array(-12...12)
        let columns = [values.flatMap { x in values.map { _ in x } }, values.flatMap { _ in values }]
        let targets = zip(columns[0], columns[1]).map { BinaryOperator.modulo.apply($0, $1) }
        let result = search(columns, targets, range: 25, outputs: 25, maxSize: 3)
        #expect(result.surrogate.expression == .binary(.modulo, a, b))
        #expect(result.surrogate.exceptions.isEmpty)
    }

    @Test func findsADigitOfAVariable() {
        let columns = grid(range: 100, sample: 500)
        let result = search(columns, columns[0].map { ($0 / 10) % 10 }, range: 100, outputs: 10, maxSize: 3)
        #expect(result.surrogate.expression == .digit(place: 1, base: 10, a))
    }

    @Test func findsAConditional() {
        let columns = grid(range: 12)
        let targets = zip(columns[0], columns[1]).map { $0 < $1 ? 10 : $1 }
        let result = search(columns, targets, range: 12, outputs: 12, maxSize: 6)
        #expect(result.surrogate.expression == .conditional(.binary(.less, a, b), .constant(10), b))
    }

    @Test func constantsBeyond32BitsAreScoredExactly() {
        let columns = grid(range: 5)
        let big = 5_000_000_000
        // An alphabet of 2⁴⁰ outputs: listing all 25 inputs as exceptions (40 bits of output each) must lose to the constant.
        let result = search(columns, columns[0].map { _ in big }, range: 5, outputs: 1 << 40, constants: [big], maxSize: 3)
        #expect(result.surrogate.expression == .constant(big))
        #expect(result.surrogate.exceptions.isEmpty)
    }

    @Test func stopsAtTheFirstSizeThatCannotBeShorter() {
        let columns = grid(range: 10)
        let result = search(columns, zip(columns[0], columns[1]).map(+), range: 10, outputs: 19, maxSize: 7)
        #expect(result.stopReason == .shortestFound)
        #expect(result.completedSize == 3)
    }

    @Test func aSpentClockReturnsTheBestSoFar() {
        let columns = grid(range: 30)
        let targets = zip(columns[0], columns[1]).map { ($0 * 7 + $1 * $1 * 3) % 11 }
        let search = ProgramSearch(
            variables: ["a", "b"], columns: columns, targets: targets, domainSize: 900, outputCount: 11,
            limits: .init(maxSize: 9, maxSeconds: 0))
        let result = search.run()
        #expect(result.stopReason == .timeLimit)
        #expect(result.completedSize < 9)
    }

    @Test func theSurrogateReproducesEveryExample() {
        let columns = grid(range: 30)
        let targets = zip(columns[0], columns[1]).map { ($0 * 7 + $1 * $1 * 3) % 11 }
        let result = search(columns, targets, range: 30, outputs: 11, maxSize: 4)
        #expect(columns[0].indices.allSatisfy { result.surrogate.predict([columns[0][$0], columns[1][$0]]) == targets[$0] })
    }

    @Test func reportsProgressAfterEverySize() {
        let columns = grid(range: 10)
        var sizes: [Int] = []
        let search = ProgramSearch(
            variables: ["a", "b"], columns: columns, targets: columns[0].map { $0 * $0 * $0 }, domainSize: 100,
            outputCount: 1000, limits: .init(maxSize: 4))
        _ = search.run { size, _ in sizes.append(size) }
        #expect(sizes == [1, 2, 3, 4])
    }

    @Test func theBitsFollowTheExpressionAndExceptionFormula() {
        let expression = ProgramExpression.binary(.modulo, .binary(.add, a, b), .constant(113))
        let expected = 5 * log2(14.0) + 2 * 1 + DescriptionLength.integer(113)
        #expect(abs(expression.bits(variableCount: 2) - expected) < 1e-9)
        let surrogate = ProgramSurrogate(
            variables: ["a", "b"], expression: expression, exceptions: [.init(input: [1, 2], output: 7)], domainSize: 12_769,
            outputCount: 113)
        #expect(abs(surrogate.exceptionBits - DescriptionLength.exceptions(1, domainSize: 12_769, outputCount: 113)) < 1e-12)
    }

    // MARK: Semantics

    @Test func divisionAndModuloByZeroAreTotal() {
        #expect(BinaryOperator.divide.apply(7, 0) == 0)
        #expect(BinaryOperator.modulo.apply(7, 0) == 7)
        #expect(BinaryOperator.modulo.apply(-7, 0) == -7)
    }

    @Test func divisionAndModuloFloorLikePython() {
        #expect(BinaryOperator.divide.apply(-7, 2) == -4)
        #expect(BinaryOperator.modulo.apply(-7, 2) == 1)
        #expect(BinaryOperator.divide.apply(7, -2) == -4)
        #expect(BinaryOperator.modulo.apply(7, -2) == -1)
    }

    @Test func arithmeticSaturatesInsteadOfOverflowing() {
        #expect(BinaryOperator.add.apply(.max, 1) == .max)
        #expect(BinaryOperator.subtract.apply(.min, 1) == .min)
        #expect(BinaryOperator.multiply.apply(.min, 2) == .min)
        #expect(BinaryOperator.multiply.apply(.min, -2) == .max)
        #expect(BinaryOperator.divide.apply(.min, -1) == .max)
        #expect(BinaryOperator.modulo.apply(.min, -1) == 0)
        #expect(ProgramExpression.digit(.min, place: 0, base: 10) == Int.max % 10)
    }

    @Test func digitsTakeTheMagnitude() {
        #expect(ProgramExpression.digit(-472, place: 0, base: 10) == 2)
        #expect(ProgramExpression.digit(-472, place: 1, base: 10) == 7)
        #expect(ProgramExpression.digit(472, place: 2, base: 10) == 4)
        #expect(ProgramExpression.digit(0xAB, place: 1, base: 16) == 0xA)
    }

    @Test func comparisonsGiveOneOrZero() {
        #expect(BinaryOperator.less.apply(1, 2) == 1)
        #expect(BinaryOperator.lessOrEqual.apply(2, 2) == 1)
        #expect(BinaryOperator.equal.apply(2, 3) == 0)
    }

    @Test(arguments: BinaryOperator.allCases)
    func vectorKernelsAgreeWithScalarOperators(_ op: BinaryOperator) {
        let (x, y) = kernelOperands(count: 4000)
        let expected = x.indices.map { op.apply(Int(x[$0]), Int(y[$0])) }
        let mismatches = kernelMismatches(expected) { sink in
            x.withUnsafeBufferPointer { x in
                y.withUnsafeBufferPointer { y in VectorKernels.binary(op, x.baseAddress!, y.baseAddress!, into: &sink) }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func vectorDigitsAndConditionalsAgreeWithTheScalarSemantics() {
        let (x, y) = kernelOperands(count: 4000)
        for base in [2, 10, 16, 1000] {
            var power = 1
            for place in 0..<3 {
                let expected = x.map { ProgramExpression.digit(Int($0), place: place, base: base) }
                let mismatches = kernelMismatches(expected) { sink in
                    x.withUnsafeBufferPointer {
                        VectorKernels.digit($0.baseAddress!, power: Int64(power), base: Int64(base), into: &sink)
                    }
                }
                #expect(mismatches == 0, "digit\(place) base \(base)")
                power *= base
            }
        }
        let expected = x.indices.map { y[$0] % 3 != 0 ? Int(x[$0]) : Int(y[$0]) }
        let condition = y.map { $0 % 3 }
        let mismatches = kernelMismatches(expected) { sink in
            condition.withUnsafeBufferPointer { c in
                x.withUnsafeBufferPointer { x in
                    y.withUnsafeBufferPointer { y in
                        VectorKernels.conditional(c.baseAddress!, x.baseAddress!, y.baseAddress!, into: &sink)
                    }
                }
            }
        }
        #expect(mismatches == 0)
    }

    // MARK: Surrogate

    @Test func predictionsPreferTheExceptionTable() {
        #expect(sampleSurrogate.predict([3, 4]) == 8)
        #expect(sampleSurrogate.predict([5, 40]) == (5 + 4) % 113)
        #expect(sampleSurrogate.predict([5, 1]) == 2)
    }

    @Test func subexpressionsListTheIntermediateValuesInPreorder() {
        let expression = ProgramExpression.binary(.modulo, .binary(.add, a, b), .constant(113))
        let parts = expression.subexpressions()
        #expect(parts == [expression, .binary(.add, a, b), a, b, .constant(113)])
        #expect(parts.map { $0.evaluate([100, 20]) } == [7, 120, 100, 20, 113])
    }

    @Test func theTextIsInfixWithTheExceptions() {
        #expect(
            sampleSurrogate.text()
                == "(a + (if a < b then digit1(b) else -3)) mod 113\nexcept: (3, 4) → 8, (-1, 0) → 0 (2 exceptions)")
        #expect(sampleSurrogate.text(limit: 1).hasSuffix("except: (3, 4) → 8, … (2 exceptions)"))
    }

    @Test func theJSONBodyRoundTrips() throws {
        let body = sampleSurrogate.jsonBody()
        let parsed = try Array(body.utf8).withUnsafeBytes { try JSONParser.parse($0) }
        #expect(try ProgramSurrogate(jsonBody: parsed, variables: ["a", "b"]) == sampleSurrogate)
    }

    @Test func theJSONExpressionIsPrefix() {
        let expression = ProgramExpression.binary(.modulo, .binary(.add, a, b), .constant(113))
        #expect(expression.json(variables: ["a", "b"]) == #"["mod", ["+", {"var": "a"}, {"var": "b"}], 113]"#)
    }

    @Test func randomExpressionsRoundTripThroughJSON() throws {
        var generator = SplitMix64(state: 5)
        func randomExpression(depth: Int) -> ProgramExpression {
            switch depth == 0 ? Int.random(in: 0..<2, using: &generator) : Int.random(in: 0..<5, using: &generator) {
            case 0: return .variable(Int.random(in: 0..<3, using: &generator))
            case 1: return .constant(Int.random(in: -1000...1000, using: &generator))
            case 2: return .digit(place: Int.random(in: 0..<3, using: &generator), base: 7, randomExpression(depth: depth - 1))
            case 3:
                return .binary(
                    BinaryOperator.allCases.randomElement(using: &generator)!, randomExpression(depth: depth - 1),
                    randomExpression(depth: depth - 1))
            default:
                return .conditional(
                    randomExpression(depth: depth - 1), randomExpression(depth: depth - 1), randomExpression(depth: depth - 1))
            }
        }
        let variables = ["x", "y\"quoted\"", "z"]
        for _ in 0..<200 {
            let expression = randomExpression(depth: 4)
            let json = expression.json(variables: variables)
            let parsed = try Array(json.utf8).withUnsafeBytes { try JSONParser.parse($0) }
            #expect(try ProgramExpression(json: parsed, variables: variables, digitBase: 7) == expression)
        }
    }

    @Test func anUnknownVariableInTheJSONIsATypedError() throws {
        let parsed = try Array(
            #"{"expression": ["+", {"var": "c"}, 1], "exceptions": [], "bits": {"expression": 1, "exceptions": 1}}"#.utf8
        )
        .withUnsafeBytes { try JSONParser.parse($0) }
        #expect(
            throws: SurrogateFormatError.unexpected(
                path: "expression[1].var", expected: "a variable of the task (a, b)", found: "\"c\"")
        ) {
            try ProgramSurrogate(jsonBody: parsed, variables: ["a", "b"])
        }
    }

    @Test func anExceptionWithTheWrongArityIsATypedError() throws {
        let parsed = try Array(
            #"{"expression": 1, "exceptions": [{"input": [1], "output": 2}], "bits": {"expression": 1, "exceptions": 1}}"#.utf8
        )
        .withUnsafeBytes { try JSONParser.parse($0) }
        #expect(
            throws: SurrogateFormatError.unexpected(
                path: "exceptions[0].input", expected: "2 values, one per variable", found: "1")
        ) {
            try ProgramSurrogate(jsonBody: parsed, variables: ["a", "b"])
        }
    }
}

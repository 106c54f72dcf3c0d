import WeightFiles

/// "An algorithm and some special cases", measured: a DSL expression (`ProgramExpression`) plus an exception table
/// of the inputs where the expression disagrees with the target.
///
/// Predictions look the input up in the exception table first and otherwise evaluate the expression.
/// Description length: `bits = expression.bits(variableCount:) + DescriptionLength.exceptions(E, domainSize: |D|,
/// outputCount: |Y|)` with E the number of exceptions.
public struct ProgramSurrogate: Sendable, Equatable {
    /// The task's variable names; the expression's variable i is `variables[i]`.
    public let variables: [String]
    /// The algorithm.
    public let expression: ProgramExpression
    /// The special cases, in the order of the examples they were found on.
    public let exceptions: [Exception]
    /// Bits of the expression.
    public let expressionBits: Double
    /// Bits of the exception table.
    public let exceptionBits: Double
    private let lookup: [[Int]: Int]

    /// Total description length in bits.
    public var bits: Double { expressionBits + exceptionBits }

    /// The base of the expression's digit nodes (10 when it has none).
    public var digitBase: Int { expression.digitBase ?? 10 }

    /// A surrogate with the given special cases, priced for a domain of `domainSize` inputs and `outputCount` outputs.
    /// - Precondition: every exception input has one value per variable; no input appears twice.
    /// - Complexity: O(size + E·variables)
    public init(variables: [String], expression: ProgramExpression, exceptions: [Exception], domainSize: Int, outputCount: Int) {
        self.init(
            variables: variables, expression: expression, exceptions: exceptions,
            expressionBits: expression.bits(variableCount: variables.count),
            exceptionBits: DescriptionLength.exceptions(exceptions.count, domainSize: domainSize, outputCount: outputCount))
    }

    /// Fits the exception table on examples: every example whose target differs from the expression's value
    /// becomes an exception (the first target wins when an input repeats).
    /// - Precondition: `columns` has one column per variable, each with one value per target.
    /// - Complexity: O(size × examples)
    public init(
        variables: [String], expression: ProgramExpression, columns: [[Int]], targets: [Int], domainSize: Int, outputCount: Int
    ) {
        precondition(columns.count == variables.count, "one column per variable")
        precondition(columns.allSatisfy { $0.count == targets.count }, "one value per target in every column")
        var exceptions: [Exception] = []
        var seen = Set<[Int]>()
        var row = [Int](repeating: 0, count: columns.count)
        for i in targets.indices {
            for v in columns.indices { row[v] = columns[v][i] }
            if expression.evaluate(row) != targets[i], seen.insert(row).inserted {
                exceptions.append(Exception(input: row, output: targets[i]))
            }
        }
        self.init(
            variables: variables, expression: expression, exceptions: exceptions, domainSize: domainSize,
            outputCount: outputCount)
    }

    private init(
        variables: [String], expression: ProgramExpression, exceptions: [Exception], expressionBits: Double, exceptionBits: Double
    ) {
        precondition(exceptions.allSatisfy { $0.input.count == variables.count }, "one input value per variable")
        var lookup: [[Int]: Int] = [:]
        for exception in exceptions {
            precondition(lookup.updateValue(exception.output, forKey: exception.input) == nil, "an input appears twice")
        }
        self.variables = variables
        self.expression = expression
        self.exceptions = exceptions
        self.expressionBits = expressionBits
        self.exceptionBits = exceptionBits
        self.lookup = lookup
    }

    /// The surrogate's output: the exception for `input` if there is one, else the expression's value.
    /// - Complexity: O(size + variables)
    public func predict(_ input: [Int]) -> Int {
        lookup[input] ?? expression.evaluate(input)
    }

    /// The expression's value, ignoring the exception table.
    /// - Complexity: O(size)
    public func evaluate(_ input: [Int]) -> Int { expression.evaluate(input) }

    /// The expression's subexpressions in pre-order (the program's intermediate variables).
    /// - Complexity: O(size)
    public func subexpressions() -> [ProgramExpression] { expression.subexpressions() }

    /// The JSON body (`formats/surrogate.md`): `{"expression": …, "digit_base": 10 (only with digit nodes),
    /// "exceptions": [{"input": [3, 4], "output": 8}, …], "bits": {"expression": x, "exceptions": y}}`.
    /// - Complexity: O(size + E·variables)
    public func jsonBody() -> String {
        var out = "{\"expression\": \(expression.json(variables: variables)), "
        if let base = expression.digitBase { out += "\"digit_base\": \(base), " }
        out += "\"exceptions\": ["
        out += exceptions.map { "{\"input\": [\($0.input.map(String.init).joined(separator: ", "))], \"output\": \($0.output)}" }
            .joined(separator: ", ")
        out += "], \"bits\": {\"expression\": \(expressionBits), \"exceptions\": \(exceptionBits)}}"
        return out
    }

    /// Reads the body `jsonBody()` writes, for a task with these variables.
    /// - Complexity: O(size + E·variables)
    public init(jsonBody: JSONValue, variables: [String]) throws(SurrogateFormatError) {
        guard case .object(let members) = jsonBody else {
            throw .unexpected(path: "body", expected: "an object", found: jsonBody.kindDescription)
        }
        func member(_ name: String, in members: [JSONMember], at path: String) throws(SurrogateFormatError) -> JSONValue {
            guard let found = members.first(where: { $0.key == name }) else { throw .missingMember(name: name, path: path) }
            return found.value
        }
        func integer(_ value: JSONValue, at path: String) throws(SurrogateFormatError) -> Int {
            guard case .number(let text) = value, let parsed = Int(text) else {
                throw .unexpected(path: path, expected: "an integer", found: value.kindDescription)
            }
            return parsed
        }
        func real(_ value: JSONValue, at path: String) throws(SurrogateFormatError) -> Double {
            guard case .number(let text) = value, let parsed = Double(text), parsed.isFinite, parsed >= 0 else {
                throw .unexpected(path: path, expected: "a non-negative number of bits", found: value.kindDescription)
            }
            return parsed
        }

        var base = 10
        if let found = members.first(where: { $0.key == "digit_base" }) {
            base = try integer(found.value, at: "digit_base")
            guard base >= 2 else { throw .unexpected(path: "digit_base", expected: "a base of at least 2", found: String(base)) }
        }
        // The expression as a JSON tree (what `distill` writes) or, typed by hand, as infix text.
        let expression: ProgramExpression
        let expressionValue = try member("expression", in: members, at: "")
        if case .string(let text) = expressionValue {
            do { expression = try ProgramExpression(text: text, variables: variables, digitBase: base) } catch {
                throw .unexpected(path: "expression", expected: "an expression over \(variables.joined(separator: ", "))", found: "\(JSONWriter.quoted(text)) (\(error))")
            }
        } else {
            expression = try ProgramExpression(json: expressionValue, variables: variables, digitBase: base)
        }

        // `exceptions` and `bits` may be left out of a hand-written program: none, and bits computed.
        let items: [JSONValue]
        switch members.first(where: { $0.key == "exceptions" })?.value {
        case nil: items = []
        case .array(let listed)?: items = listed
        default: throw .unexpected(path: "exceptions", expected: "an array", found: "another value")
        }
        var exceptions: [Exception] = []
        var seen = Set<[Int]>()
        for (i, item) in items.enumerated() {
            let path = "exceptions[\(i)]"
            guard case .object(let fields) = item else {
                throw .unexpected(path: path, expected: "an object", found: item.kindDescription)
            }
            guard case .array(let values) = try member("input", in: fields, at: path) else {
                throw .unexpected(path: path + ".input", expected: "an array", found: "another value")
            }
            guard values.count == variables.count else {
                throw .unexpected(
                    path: path + ".input", expected: "\(variables.count) values, one per variable", found: "\(values.count)")
            }
            var input: [Int] = []
            for (j, value) in values.enumerated() { input.append(try integer(value, at: "\(path).input[\(j)]")) }
            guard seen.insert(input).inserted else {
                throw .unexpected(path: path + ".input", expected: "an input not listed before", found: "a repeated input")
            }
            exceptions.append(
                Exception(input: input, output: try integer(try member("output", in: fields, at: path), at: path + ".output")))
        }

        guard let bitsValue = members.first(where: { $0.key == "bits" })?.value else {
            // The exception bits depend on the task's domain; a surrogate file's reader recomputes them.
            self.init(
                variables: variables, expression: expression, exceptions: exceptions,
                expressionBits: expression.bits(variableCount: variables.count), exceptionBits: 0)
            return
        }
        guard case .object(let bitFields) = bitsValue else {
            throw .unexpected(path: "bits", expected: "an object", found: "another value")
        }
        self.init(
            variables: variables, expression: expression, exceptions: exceptions,
            expressionBits: try real(try member("expression", in: bitFields, at: "bits"), at: "bits.expression"),
            exceptionBits: try real(try member("exceptions", in: bitFields, at: "bits"), at: "bits.exceptions"))
    }

    /// Readable text: the infix expression, then up to `limit` exceptions and their count:
    /// `(a + b) mod 113` / `except: (3, 4) → 8, (9, 9) → 17 (2 exceptions)`.
    /// - Complexity: O(size + limit·variables)
    public func text(limit: Int = 10) -> String {
        var out = expression.text(variables: variables)
        if let base = expression.digitBase, base != 10 { out += "  (digits in base \(base))" }
        guard !exceptions.isEmpty else { return out }
        let shown = exceptions.prefix(max(0, limit)).map {
            "(\($0.input.map(String.init).joined(separator: ", "))) → \($0.output)"
        }
        let more = exceptions.count > shown.count ? ", …" : ""
        let count = exceptions.count == 1 ? "1 exception" : "\(exceptions.count) exceptions"
        out += "\nexcept: " + shown.joined(separator: ", ") + more + " (\(count))"
        return out
    }
}

/// Why an expression's infix text could not be read: what was wrong, at which character.
public struct ProgramTextError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The offset of the offending character (in characters from the start of the text).
    public var position: Int
    public var reason: String

    public var description: String { "at character \(position + 1): \(reason)" }
}

extension ProgramExpression {
    /// Reads the infix text that `text(variables:)` prints, plus the predicate forms a region's `where` uses.
    ///
    /// Grammar, loosest first: `if C then X else Y`; `or`; `and`; `not`; one comparison (`<`, `<=`, `=`, and
    /// also `>`, `>=`, `==`, `!=`, `≤`, `≥`, `≠`; comparisons do not chain); `+ -`; `* div mod`; unary minus;
    /// then numbers, variables, `digitK(x)` (K = 0, 1, 2, in `digitBase`), `min(x, y)`, `max(x, y)` and
    /// parentheses. The forms the DSL lacks are rewritten into it, so every parsed expression is a plain
    /// `ProgramExpression` with its usual total semantics: `x > y` is `y < x`, `x >= y` is `y <= x`,
    /// `x != y` is `(x = y) = 0`, `not x` is `x = 0`, `x and y` is `if x then (if y then 1 else 0) else 0`,
    /// `x or y` is `if x then 1 else (if y then 1 else 0)`, `-x` is `0 - x` (a literal `-3` stays a constant).
    /// Expressions nest at most `maximumTextNesting` levels (parentheses, `if`, `not`, unary minus, function
    /// arguments) and have at most `maximumTextNodes` nodes after the rewrites, so that reading, evaluating and
    /// releasing one never recurses deeply enough to overflow the stack.
    /// - Throws: `ProgramTextError` naming the first character that does not fit, or an unknown name, or where
    ///   the expression grows past those limits.
    /// - Complexity: O(length of the text)
    public init(text: String, variables: [String], digitBase: Int) throws(ProgramTextError) {
        var parser = InfixParser(text: text, variables: variables, digitBase: max(digitBase, 2))
        let expression = try parser.parseExpression()
        guard parser.peek == nil else {
            throw ProgramTextError(position: parser.position, reason: "unexpected \(parser.peekDescription) after the expression")
        }
        self = expression
    }

    /// The deepest nesting the infix reader accepts.
    public static let maximumTextNesting = 64

    /// The most nodes an expression read from infix text may have.
    public static let maximumTextNodes = 2_000
}

/// A recursive-descent reader of the infix form.
private struct InfixParser {
    enum Token: Equatable {
        case number(String)
        case name(String)
        case symbol(String)
    }

    private var tokens: [(token: Token, position: Int)] = []
    private var next = 0
    private let variables: [String]
    private let digitBase: Int
    private let length: Int
    private var lexError: ProgramTextError?
    /// How deeply the reader has descended (parentheses, `if`, `not`, unary minus, function arguments).
    private var nesting = 0
    /// The nodes built so far, the rewrites' included.
    private var nodes = 0

    init(text: String, variables: [String], digitBase: Int) {
        self.variables = variables
        self.digitBase = digitBase
        let characters = Array(text)
        length = characters.count
        var i = 0
        let twoCharacter: Set<String> = ["<=", ">=", "==", "!="]
        while i < characters.count {
            let c = characters[i]
            if c.isWhitespace {
                i += 1
            } else if c.isASCII && c.isNumber {
                let start = i
                while i < characters.count, characters[i].isASCII, characters[i].isNumber { i += 1 }
                tokens.append((.number(String(characters[start..<i])), start))
            } else if c.isLetter || c == "_" {
                // A name, with an optional position suffix like `x[3]` (token-sequence variables).
                let start = i
                while i < characters.count,
                    characters[i].isLetter || characters[i] == "_" || (characters[i].isASCII && characters[i].isNumber)
                {
                    i += 1
                }
                if i < characters.count, characters[i] == "[" {
                    var j = i + 1
                    while j < characters.count, characters[j].isASCII, characters[j].isNumber { j += 1 }
                    if j > i + 1, j < characters.count, characters[j] == "]" { i = j + 1 }
                }
                tokens.append((.name(String(characters[start..<i])), start))
            } else if i + 1 < characters.count, twoCharacter.contains(String(characters[i...(i + 1)])) {
                tokens.append((.symbol(String(characters[i...(i + 1)])), i))
                i += 2
            } else if "+-*<>=(),≤≥≠".contains(c) {
                tokens.append((.symbol(String(c)), i))
                i += 1
            } else {
                lexError = ProgramTextError(position: i, reason: "unexpected character \"\(c)\"")
                break
            }
        }
    }

    var peek: Token? { next < tokens.count ? tokens[next].token : nil }
    var position: Int { next < tokens.count ? tokens[next].position : length }
    var peekDescription: String {
        switch peek {
        case .number(let text): "\(text)"
        case .name(let text): "\"\(text)\""
        case .symbol(let text): "\"\(text)\""
        case nil: "the end"
        }
    }

    private mutating func take(_ token: Token) -> Bool {
        guard peek == token else { return false }
        next += 1
        return true
    }

    private mutating func expect(_ token: Token, _ what: String) throws(ProgramTextError) {
        guard take(token) else {
            throw ProgramTextError(position: position, reason: "expected \(what), found \(peekDescription)")
        }
    }

    private static let keywords: Set<String> = ["if", "then", "else", "and", "or", "not", "div", "mod", "min", "max"]

    /// Counts `count` new nodes, refusing an expression that grows past `maximumTextNodes`.
    private mutating func grow(_ count: Int, at start: Int) throws(ProgramTextError) {
        nodes += count
        guard nodes <= ProgramExpression.maximumTextNodes else {
            throw ProgramTextError(
                position: start, reason: "the expression has more than \(ProgramExpression.maximumTextNodes) nodes")
        }
    }

    /// Enters one more level of nesting, refusing to go deeper than `maximumTextNesting`.
    private mutating func descend(at start: Int) throws(ProgramTextError) {
        nesting += 1
        guard nesting <= ProgramExpression.maximumTextNesting else {
            throw ProgramTextError(
                position: start, reason: "the expression nests deeper than \(ProgramExpression.maximumTextNesting) levels")
        }
    }

    mutating func parseExpression() throws(ProgramTextError) -> ProgramExpression {
        if let lexError { throw lexError }
        try descend(at: position)
        defer { nesting -= 1 }
        if take(.name("if")) {
            let condition = try parseExpression()
            try expect(.name("then"), "\"then\"")
            let yes = try parseExpression()
            try expect(.name("else"), "\"else\"")
            let no = try parseExpression()
            try grow(1, at: position)
            return .conditional(condition, yes, no)
        }
        return try parseOr()
    }

    private mutating func parseOr() throws(ProgramTextError) -> ProgramExpression {
        var left = try parseAnd()
        while take(.name("or")) {
            let right = try parseAnd()
            try grow(5, at: position)
            left = .conditional(left, .constant(1), .conditional(right, .constant(1), .constant(0)))
        }
        return left
    }

    private mutating func parseAnd() throws(ProgramTextError) -> ProgramExpression {
        var left = try parseNot()
        while take(.name("and")) {
            let right = try parseNot()
            try grow(5, at: position)
            left = .conditional(left, .conditional(right, .constant(1), .constant(0)), .constant(0))
        }
        return left
    }

    private mutating func parseNot() throws(ProgramTextError) -> ProgramExpression {
        let start = position
        if take(.name("not")) {
            try descend(at: start)
            defer { nesting -= 1 }
            let operand = try parseNot()
            try grow(2, at: start)
            return .binary(.equal, operand, .constant(0))
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(ProgramTextError) -> ProgramExpression {
        let left = try parseAdditive()
        guard case .symbol(let op) = peek, ["<", "<=", "≤", ">", ">=", "≥", "=", "==", "!=", "≠"].contains(op) else {
            return left
        }
        next += 1
        let right = try parseAdditive()
        try grow(op == "!=" || op == "≠" ? 3 : 1, at: position)
        if case .symbol(let again) = peek, ["<", "<=", "≤", ">", ">=", "≥", "=", "==", "!=", "≠"].contains(again) {
            throw ProgramTextError(position: position, reason: "comparisons do not chain: join them with \"and\"")
        }
        switch op {
        case "<": return .binary(.less, left, right)
        case "<=", "≤": return .binary(.lessOrEqual, left, right)
        case ">": return .binary(.less, right, left)
        case ">=", "≥": return .binary(.lessOrEqual, right, left)
        case "=", "==": return .binary(.equal, left, right)
        default: return .binary(.equal, .binary(.equal, left, right), .constant(0))
        }
    }

    private mutating func parseAdditive() throws(ProgramTextError) -> ProgramExpression {
        var left = try parseMultiplicative()
        while true {
            if take(.symbol("+")) {
                left = .binary(.add, left, try parseMultiplicative())
            } else if take(.symbol("-")) {
                left = .binary(.subtract, left, try parseMultiplicative())
            } else {
                return left
            }
            try grow(1, at: position)
        }
    }

    private mutating func parseMultiplicative() throws(ProgramTextError) -> ProgramExpression {
        var left = try parseUnary()
        while true {
            if take(.symbol("*")) {
                left = .binary(.multiply, left, try parseUnary())
            } else if take(.name("div")) {
                left = .binary(.divide, left, try parseUnary())
            } else if take(.name("mod")) {
                left = .binary(.modulo, left, try parseUnary())
            } else {
                return left
            }
            try grow(1, at: position)
        }
    }

    private mutating func parseUnary() throws(ProgramTextError) -> ProgramExpression {
        let start = position
        guard take(.symbol("-")) else { return try parsePrimary() }
        if case .number(let digits) = peek {
            next += 1
            guard let value = Int("-" + digits) else {
                throw ProgramTextError(position: start, reason: "-\(digits) does not fit a 64-bit integer")
            }
            try grow(1, at: start)
            return .constant(value)
        }
        try descend(at: start)
        defer { nesting -= 1 }
        let operand = try parseUnary()
        try grow(2, at: start)
        return .binary(.subtract, .constant(0), operand)
    }

    private mutating func parsePrimary() throws(ProgramTextError) -> ProgramExpression {
        let start = position
        switch peek {
        case .number(let digits):
            next += 1
            guard let value = Int(digits) else {
                throw ProgramTextError(position: start, reason: "\(digits) does not fit a 64-bit integer")
            }
            try grow(1, at: start)
            return .constant(value)
        case .symbol("("):
            next += 1
            let inner = try parseExpression()
            try expect(.symbol(")"), "\")\"")
            return inner
        case .name(let name):
            next += 1
            if peek == .symbol("(") {
                if name == "min" || name == "max" {
                    next += 1
                    let x = try parseExpression()
                    try expect(.symbol(","), "\",\" between \(name)'s two operands")
                    let y = try parseExpression()
                    try expect(.symbol(")"), "\")\"")
                    try grow(1, at: start)
                    return .binary(name == "min" ? .minimum : .maximum, x, y)
                }
                if name.hasPrefix("digit"), let place = Int(name.dropFirst(5)) {
                    guard (0..<ProgramExpression.digitPlaces).contains(place) else {
                        throw ProgramTextError(position: start, reason: "\(name): digit places are 0, 1 and 2")
                    }
                    next += 1
                    let x = try parseExpression()
                    try expect(.symbol(")"), "\")\"")
                    try grow(1, at: start)
                    return .digit(place: place, base: digitBase, x)
                }
            }
            if let index = variables.firstIndex(of: name) {
                try grow(1, at: start)
                return .variable(index)
            }
            if Self.keywords.contains(name) {
                throw ProgramTextError(position: start, reason: "unexpected \"\(name)\"")
            }
            throw ProgramTextError(
                position: start,
                reason: "unknown name \"\(name)\" (variables: \(variables.joined(separator: ", ")); "
                    + "functions: digit0, digit1, digit2, min, max)")
        case .symbol(let symbol):
            throw ProgramTextError(position: start, reason: "unexpected \"\(symbol)\"")
        case nil:
            throw ProgramTextError(position: start, reason: "the expression ends early")
        }
    }
}

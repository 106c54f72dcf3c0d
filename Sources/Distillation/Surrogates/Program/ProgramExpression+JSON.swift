import WeightFiles

extension ProgramExpression {
    /// The prefix JSON form: a variable is `{"var": "a"}`, a constant a bare number, every other node an array
    /// headed by its operator: `["mod", ["+", {"var": "a"}, {"var": "b"}], 113]`, `["digit", 1, x]`
    /// (the base is stored once, beside the expression), `["if", c, x, y]`.
    /// - Complexity: O(size)
    public func json(variables: [String]) -> String {
        switch self {
        case .variable(let index):
            let name = variables.indices.contains(index) ? variables[index] : "x\(index)"
            return "{\"var\": \(JSONWriter.quoted(name))}"
        case .constant(let value):
            return String(value)
        case .digit(let place, _, let x):
            return "[\"digit\", \(place), \(x.json(variables: variables))]"
        case .binary(let op, let x, let y):
            return "[\(JSONWriter.quoted(op.rawValue)), \(x.json(variables: variables)), \(y.json(variables: variables))]"
        case .conditional(let c, let x, let y):
            return "[\"if\", \(c.json(variables: variables)), \(x.json(variables: variables)), \(y.json(variables: variables))]"
        }
    }

    /// Every operator name the prefix form uses.
    static let operatorNames = BinaryOperator.allCases.map(\.rawValue) + ["digit", "if"]

    /// Reads the prefix JSON form; digit nodes get `digitBase`. `path` names `json` in errors.
    /// - Complexity: O(size)
    public init(json: JSONValue, variables: [String], digitBase: Int, path: String = "expression") throws(SurrogateFormatError) {
        switch json {
        case .number(let text):
            guard let value = Int(text) else {
                throw .unexpected(path: path, expected: "an integer constant", found: json.kindDescription)
            }
            self = .constant(value)
        case .object(let members):
            guard let member = members.first(where: { $0.key == "var" }) else {
                throw .missingMember(name: "var", path: path)
            }
            guard case .string(let name) = member.value else {
                throw .unexpected(path: path + ".var", expected: "a variable name", found: member.value.kindDescription)
            }
            guard let index = variables.firstIndex(of: name) else {
                throw .unexpected(
                    path: path + ".var", expected: "a variable of the task (\(variables.joined(separator: ", ")))",
                    found: JSONWriter.quoted(name))
            }
            self = .variable(index)
        case .array(let items):
            guard case .string(let name)? = items.first else {
                throw .unexpected(
                    path: path + "[0]", expected: "an operator name", found: items.first?.kindDescription ?? "nothing")
            }
            func operand(_ i: Int) throws(SurrogateFormatError) -> ProgramExpression {
                try ProgramExpression(json: items[i], variables: variables, digitBase: digitBase, path: "\(path)[\(i)]")
            }
            func requireCount(_ count: Int) throws(SurrogateFormatError) {
                guard items.count == count else {
                    throw .unexpected(
                        path: path, expected: "\(count - 1) operands after \"\(name)\"", found: "\(items.count - 1)")
                }
            }
            if let op = BinaryOperator(rawValue: name) {
                try requireCount(3)
                self = .binary(op, try operand(1), try operand(2))
            } else if name == "digit" {
                try requireCount(3)
                guard case .number(let text) = items[1], let place = Int(text), (0..<Self.digitPlaces).contains(place) else {
                    throw .unexpected(path: path + "[1]", expected: "a digit place 0, 1 or 2", found: items[1].kindDescription)
                }
                self = .digit(place: place, base: digitBase, try operand(2))
            } else if name == "if" {
                try requireCount(4)
                self = .conditional(try operand(1), try operand(2), try operand(3))
            } else {
                throw .unexpected(
                    path: path + "[0]", expected: "an operator (\(Self.operatorNames.joined(separator: " ")))",
                    found: JSONWriter.quoted(name))
            }
        default:
            throw .unexpected(path: path, expected: "a number, {\"var\": …} or an operator array", found: json.kindDescription)
        }
    }
}

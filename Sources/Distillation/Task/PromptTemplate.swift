/// The text a prompt task shows a language model: a fixed prefix (few-shot examples, say), then a template
/// whose `{name}` placeholders are replaced by the variables' values (`formats/task.md`, "Prompt tasks").
public struct PromptTemplate: Sendable, Equatable {
    /// A piece of the template: literal text or a variable's value.
    enum Piece: Sendable, Equatable {
        case text(String)
        case variable(Int)
    }

    /// The text before every prompt (may be empty).
    public var prefix: String
    /// The template as written, e.g. `{a}+{b}=`.
    public var template: String
    let pieces: [Piece]
    /// For each variable, its category names (category variables are rendered by name).
    let categories: [[String]?]

    /// Reads `template` against the task's variables: `{name}` is a variable's value, `{{` and `}}` are
    /// literal braces. Every variable must appear, so that no input is invisible to the model.
    /// - Throws: `reason` for an unknown or missing variable, or an unclosed or stray brace.
    /// - Complexity: O(template length × variables)
    public init(template: String, prefix: String, variables: [TaskVariable]) throws(PromptTemplateError) {
        var pieces: [Piece] = []
        var literal = ""
        var rest = Substring(template)
        while let c = rest.first {
            rest = rest.dropFirst()
            if c == "{" && rest.first == "{" || c == "}" && rest.first == "}" {
                literal.append(c)
                rest = rest.dropFirst()
            } else if c == "{" {
                guard let close = rest.firstIndex(of: "}") else {
                    throw PromptTemplateError(reason: "an unclosed \"{\" (write \"{{\" for a literal brace)")
                }
                let name = String(rest[..<close])
                guard let index = variables.firstIndex(where: { $0.name == name }) else {
                    throw PromptTemplateError(
                        reason: "{\(name)} names no variable (variables: \(variables.map(\.name).joined(separator: ", ")))")
                }
                if !literal.isEmpty { pieces.append(.text(literal)) }
                literal = ""
                pieces.append(.variable(index))
                rest = rest[rest.index(after: close)...]
            } else if c == "}" {
                throw PromptTemplateError(reason: "a stray \"}\" (write \"}}\" for a literal brace)")
            } else {
                literal.append(c)
            }
        }
        if !literal.isEmpty { pieces.append(.text(literal)) }
        for (i, v) in variables.enumerated() where !pieces.contains(.variable(i)) {
            throw PromptTemplateError(reason: "the template never shows variable \(v.name) (write {\(v.name)})")
        }
        self.prefix = prefix
        self.template = template
        self.pieces = pieces
        self.categories = variables.map(\.categories)
    }

    /// The prompt text of one input: the prefix, then the template with integers in decimal and categories by name.
    /// - Complexity: O(prompt length)
    public func render<Values: RandomAccessCollection<Int>>(_ values: Values) -> String where Values.Index == Int {
        var text = prefix
        for piece in pieces {
            switch piece {
            case .text(let literal):
                text += literal
            case .variable(let v):
                let value = values[values.startIndex + v]
                if let names = categories[v], names.indices.contains(value) {
                    text += names[value]
                } else {
                    text += String(value)
                }
            }
        }
        return text
    }
}

/// Why a prompt template could not be read.
public struct PromptTemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

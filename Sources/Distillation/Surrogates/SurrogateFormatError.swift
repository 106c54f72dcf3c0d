/// Why the JSON body of a decision tree, rule list, rule set or program could not be read; every case names
/// where, as a JSON path such as `nodes[3].left` or `rules[1].conditions[0].op`.
public enum SurrogateFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A required member is absent.
    case missingMember(name: String, path: String)
    /// A value has the wrong JSON kind or an impossible value (`found` describes it).
    case unexpected(path: String, expected: String, found: String)

    /// One line for the CLI.
    public var description: String {
        switch self {
        case .missingMember(let name, let path):
            "surrogate body: \(path.isEmpty ? "the body" : path) has no member \"\(name)\""
        case .unexpected(let path, let expected, let found):
            "surrogate body: \(path) should be \(expected), found \(found)"
        }
    }
}

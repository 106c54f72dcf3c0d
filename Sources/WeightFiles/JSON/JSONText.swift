/// A JSON object written member by member, keys in the order given (the result types' `json` renderings).
public struct JSONText {
    private var members: [String] = []

    public init() {}

    public mutating func add(_ key: String, raw: String) { members.append("\(JSONWriter.quoted(key)):\(raw)") }
    public mutating func add(_ key: String, _ value: String) { add(key, raw: JSONWriter.quoted(value)) }
    public mutating func add(_ key: String, _ value: Double?) { add(key, raw: Self.number(value)) }
    public mutating func add(_ key: String, _ value: Int) { add(key, raw: String(value)) }
    public mutating func add(_ key: String, _ value: Int?) { add(key, raw: value.map(String.init) ?? "null") }
    public mutating func add(_ key: String, _ value: Bool) { add(key, raw: value ? "true" : "false") }
    public mutating func add(_ key: String, _ values: [Int]) {
        add(key, raw: "[" + values.map(String.init).joined(separator: ",") + "]")
    }
    public mutating func add(_ key: String, strings: [String]) {
        add(key, raw: "[" + strings.map(JSONWriter.quoted).joined(separator: ",") + "]")
    }
    public mutating func add(_ key: String, objects: [String]) { add(key, raw: "[" + objects.joined(separator: ",") + "]") }

    public var text: String { "{" + members.joined(separator: ",") + "}" }

    /// A JSON number, or `null` for nil and non-finite values.
    public static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "null" }
        return "\(value)"
    }
}

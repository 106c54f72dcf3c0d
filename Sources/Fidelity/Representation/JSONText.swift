import WeightFiles

/// A JSON object written member by member, keys in the order given (the result types' `json` renderings).
struct JSONText {
    private var members: [String] = []

    mutating func add(_ key: String, raw: String) { members.append("\(JSONWriter.quoted(key)):\(raw)") }
    mutating func add(_ key: String, _ value: String) { add(key, raw: JSONWriter.quoted(value)) }
    mutating func add(_ key: String, _ value: Double?) { add(key, raw: Self.number(value)) }
    mutating func add(_ key: String, _ value: Int) { add(key, raw: String(value)) }
    mutating func add(_ key: String, _ value: Int?) { add(key, raw: value.map(String.init) ?? "null") }
    mutating func add(_ key: String, _ value: Bool) { add(key, raw: value ? "true" : "false") }
    mutating func add(_ key: String, _ values: [Int]) {
        add(key, raw: "[" + values.map(String.init).joined(separator: ",") + "]")
    }
    mutating func add(_ key: String, strings: [String]) {
        add(key, raw: "[" + strings.map(JSONWriter.quoted).joined(separator: ",") + "]")
    }
    mutating func add(_ key: String, objects: [String]) { add(key, raw: "[" + objects.joined(separator: ",") + "]") }

    var text: String { "{" + members.joined(separator: ",") + "}" }

    /// A JSON number, or `null` for nil and non-finite values.
    static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "null" }
        return "\(value)"
    }
}

extension WilsonInterval {
    /// `{"successes":…,"trials":…,"proportion":…,"lower":…,"upper":…}`.
    public var json: String {
        var o = JSONText()
        o.add("successes", successes)
        o.add("trials", trials)
        o.add("proportion", proportion)
        o.add("lower", lower)
        o.add("upper", upper)
        return o.text
    }
}

/// A parsed JSON value that keeps object members in document order and numbers as
/// their literal text, so that integers up to 2⁶⁴−1 survive exactly.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// The value as an unsigned integer, if it is a plain non-negative integer literal that fits in 64 bits.
    public var uint64: UInt64? {
        guard case .number(let text) = self, !text.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in text.utf8 {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }

    /// A word for error messages: "a string", "an array", …
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number(let text): text.hasPrefix("-") ? "a negative number" : "the number \(text)"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One `"key": value` member of a JSON object; `offset` is where its value starts.
public struct JSONMember: Sendable {
    public var key: String
    public var value: JSONValue
    public var offset: Int
}

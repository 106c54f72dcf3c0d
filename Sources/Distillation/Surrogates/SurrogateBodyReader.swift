import WeightFiles

/// Typed access to the members of a JSON body object, for the tree and rule families: each accessor
/// names the JSON path of what it could not read.
struct SurrogateBodyReader {
    let members: [JSONMember]
    /// This object's JSON path (empty for the body itself).
    let path: String

    /// - Throws: `unexpected` when `value` is not an object.
    init(_ value: JSONValue, path: String) throws(SurrogateFormatError) {
        guard case .object(let members) = value else {
            throw .unexpected(path: path.isEmpty ? "body" : path, expected: "an object", found: value.kindDescription)
        }
        self.members = members
        self.path = path
    }

    /// The path of member `name`.
    func subpath(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    /// Whether the object has member `name`.
    func has(_ name: String) -> Bool { members.contains { $0.key == name } }

    /// Member `name`'s value.
    func value(_ name: String) throws(SurrogateFormatError) -> JSONValue {
        guard let member = members.first(where: { $0.key == name }) else { throw .missingMember(name: name, path: path) }
        return member.value
    }

    /// Member `name` as an integer in `range`.
    func integer(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(SurrogateFormatError) -> Int {
        try Self.integer(try value(name), at: subpath(name), in: range)
    }

    /// Member `name` as a finite number.
    func real(_ name: String) throws(SurrogateFormatError) -> Double {
        try Self.real(try value(name), at: subpath(name))
    }

    /// Member `name` as an array.
    func array(_ name: String) throws(SurrogateFormatError) -> [JSONValue] {
        let found = try value(name)
        guard case .array(let items) = found else {
            throw .unexpected(path: subpath(name), expected: "an array", found: found.kindDescription)
        }
        return items
    }

    /// Member `name` as a string.
    func string(_ name: String) throws(SurrogateFormatError) -> String {
        let found = try value(name)
        guard case .string(let text) = found else {
            throw .unexpected(path: subpath(name), expected: "a string", found: found.kindDescription)
        }
        return text
    }

    /// `value` as an integer in `range`.
    static func integer(_ value: JSONValue, at path: String, in range: ClosedRange<Int> = Int.min...Int.max)
        throws(SurrogateFormatError) -> Int
    {
        guard case .number(let text) = value, let parsed = Int(text) else {
            throw .unexpected(path: path, expected: "an integer", found: value.kindDescription)
        }
        guard range.contains(parsed) else {
            throw .unexpected(path: path, expected: "an integer in \(range.lowerBound)...\(range.upperBound)", found: text)
        }
        return parsed
    }

    /// `value` as a finite number.
    static func real(_ value: JSONValue, at path: String) throws(SurrogateFormatError) -> Double {
        guard case .number(let text) = value, let parsed = Double(text), parsed.isFinite else {
            throw .unexpected(path: path, expected: "a finite number", found: value.kindDescription)
        }
        return parsed
    }

    /// The `feature_kinds` member: one of `binary`, `integer`, `real` per feature.
    func featureKinds() throws(SurrogateFormatError) -> [FeatureKind] {
        var kinds: [FeatureKind] = []
        for (i, item) in try array("feature_kinds").enumerated() {
            guard case .string(let name) = item, let kind = FeatureKind(rawValue: name) else {
                throw .unexpected(
                    path: "\(subpath("feature_kinds"))[\(i)]", expected: "\"binary\", \"integer\" or \"real\"",
                    found: item.kindDescription)
            }
            kinds.append(kind)
        }
        return kinds
    }

    /// The `classes` member: the distinct labels, strictly increasing.
    func classes() throws(SurrogateFormatError) -> [Int] {
        var classes: [Int] = []
        for (i, item) in try array("classes").enumerated() {
            let label = try Self.integer(item, at: "\(subpath("classes"))[\(i)]")
            if let last = classes.last, label <= last {
                throw .unexpected(path: "\(subpath("classes"))[\(i)]", expected: "a label above \(last)", found: String(label))
            }
            classes.append(label)
        }
        return classes
    }
}

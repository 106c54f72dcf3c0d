import WeightFiles

/// Typed access to one JSON object of a description, with the JSON path for errors.
package struct JSONObjectReader {
    package let members: [JSONMember]
    package let path: String

    package init(_ value: JSONValue, path: String) throws(NetworkError) {
        guard case .object(let members) = value else {
            throw .invalidDescription(path: path, reason: "expected an object, found \(value.kindDescription)")
        }
        var seen = Set<String>()
        for member in members where !seen.insert(member.key).inserted {
            throw .invalidDescription(path: Self.join(path, member.key), reason: "duplicate key")
        }
        self.members = members
        self.path = path
    }

    package static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    package func subpath(_ key: String) -> String { Self.join(path, key) }

    package func value(_ key: String) -> JSONValue? {
        guard let value = members.first(where: { $0.key == key })?.value else { return nil }
        if case .null = value { return nil }
        return value
    }

    package func has(_ key: String) -> Bool { members.contains { $0.key == key } }

    /// Refuses members outside `allowed`, so a misspelt key is an error rather than ignored.
    package func rejectUnknownKeys(allowed: Set<String>) throws(NetworkError) {
        for member in members where !allowed.contains(member.key) {
            throw .invalidDescription(
                path: subpath(member.key),
                reason: "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    package func string(_ key: String) throws(NetworkError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else {
            throw .invalidDescription(path: subpath(key), reason: "expected a string, found \(value.kindDescription)")
        }
        return text
    }

    package func requiredString(_ key: String) throws(NetworkError) -> String {
        guard let text = try string(key) else { throw .invalidDescription(path: subpath(key), reason: "missing") }
        return text
    }

    package func integer(_ key: String, minimum: Int = Int.min) throws(NetworkError) -> Int? {
        guard let value = value(key) else { return nil }
        guard case .number(let text) = value, let number = Int(text) else {
            throw .invalidDescription(path: subpath(key), reason: "expected an integer, found \(value.kindDescription)")
        }
        guard number >= minimum else {
            throw .invalidDescription(path: subpath(key), reason: "must be at least \(minimum), found \(number)")
        }
        return number
    }

    package func requiredInteger(_ key: String, minimum: Int = Int.min) throws(NetworkError) -> Int {
        guard let number = try integer(key, minimum: minimum) else {
            throw .invalidDescription(path: subpath(key), reason: "missing")
        }
        return number
    }

    package func double(_ key: String) throws(NetworkError) -> Double? {
        guard let value = value(key) else { return nil }
        guard case .number(let text) = value, let number = Double(text), number.isFinite else {
            throw .invalidDescription(path: subpath(key), reason: "expected a number, found \(value.kindDescription)")
        }
        return number
    }

    package func bool(_ key: String) throws(NetworkError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else {
            throw .invalidDescription(path: subpath(key), reason: "expected true or false, found \(value.kindDescription)")
        }
        return flag
    }

    package func array(_ key: String) throws(NetworkError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else {
            throw .invalidDescription(path: subpath(key), reason: "expected an array, found \(value.kindDescription)")
        }
        return elements
    }

    package func integers(_ key: String, minimum: Int = 0) throws(NetworkError) -> [Int]? {
        guard let elements = try array(key) else { return nil }
        var result: [Int] = []
        result.reserveCapacity(elements.count)
        for (i, element) in elements.enumerated() {
            guard case .number(let text) = element, let number = Int(text), number >= minimum else {
                throw .invalidDescription(
                    path: "\(subpath(key))[\(i)]", reason: "expected an integer ≥ \(minimum), found \(element.kindDescription)")
            }
            result.append(number)
        }
        return result
    }

    package func numbers(_ key: String) throws(NetworkError) -> [Float]? {
        guard let elements = try array(key) else { return nil }
        return try Self.floats(elements, path: subpath(key))
    }

    package static func floats(_ elements: [JSONValue], path: String) throws(NetworkError) -> [Float] {
        var result: [Float] = []
        result.reserveCapacity(elements.count)
        for (i, element) in elements.enumerated() {
            guard case .number(let text) = element, let number = Float(text), number.isFinite else {
                throw .invalidDescription(
                    path: "\(path)[\(i)]", reason: "expected a finite number, found \(element.kindDescription)")
            }
            result.append(number)
        }
        return result
    }
}

extension JSONValue {
    /// Parses a whole document, turning parser failures into description errors. `what` names the
    /// document in the reason ("the task description is not valid JSON"); an empty `what` leaves it
    /// to the caller's error, which names the file kind already ("not valid JSON").
    package static func parseDescription(_ bytes: [UInt8], what: String) throws(NetworkError) -> JSONValue {
        let subject = what.isEmpty ? "" : "\(what) is "
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw .invalidDescription(path: "", reason: "\(subject)not valid UTF-8")
        }
        let result: Result<JSONValue, JSONParser.Failure> = bytes.withUnsafeBytes { buffer in
            do throws(JSONParser.Failure) { return .success(try JSONParser.parse(buffer)) } catch { return .failure(error) }
        }
        switch result {
        case .success(let value): return value
        case .failure(let error):
            throw .invalidDescription(path: "", reason: "\(subject)not valid JSON: \(error.reason) at byte \(error.offset)")
        }
    }
}

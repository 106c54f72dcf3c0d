import WeightFiles

/// A lookup table from inputs to outputs over the probes, with a declared fallback for unseen inputs.
public struct LookupTable: Sendable {
    /// What an input missing from the table gets.
    public enum Fallback: Sendable, Equatable {
        /// The most common output of the probes (ties → smallest).
        case majority
        /// A fixed value.
        case value(Int)
    }

    /// Input tuple → output.
    public private(set) var entries: [[Int]: Int]
    /// The output for unseen inputs.
    public let fallbackValue: Int
    public let fallback: Fallback

    /// Memorises every probe.
    /// - Complexity: O(probes)
    public init(probes: ProbeSet, fallback: Fallback = .majority) {
        var entries: [[Int]: Int] = [:]
        entries.reserveCapacity(probes.count)
        for i in 0..<probes.count { entries[probes.region.input(i)] = probes.outputs[i] }
        self.entries = entries
        self.fallback = fallback
        switch fallback {
        case .value(let v): fallbackValue = v
        case .majority:
            var counts: [Int: Int] = [:]
            for y in probes.outputs { counts[y, default: 0] += 1 }
            fallbackValue = counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? 0
        }
    }

    init(entries: [[Int]: Int], fallback: Fallback, fallbackValue: Int) {
        self.entries = entries
        self.fallback = fallback
        self.fallbackValue = fallbackValue
    }

    /// The output for one input.
    /// - Complexity: O(variables) expected
    public func predict(_ input: [Int]) -> Int { entries[input] ?? fallbackValue }

    /// Bits: `DescriptionLength.table(entries:domainSize:outputCount:)`.
    public func descriptionLength(domainSize: Int, outputCount: Int) -> Double {
        DescriptionLength.table(entries: entries.count, domainSize: domainSize, outputCount: outputCount)
    }

    /// `{"entries": [[input…, output], …] (sorted), "fallback": "majority" | "value", "fallback_value": y}`.
    public func jsonBody() -> String {
        let rows = entries.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { input, output in
            "[" + (input + [output]).map(String.init).joined(separator: ",") + "]"
        }
        let kind = fallback == .majority ? "majority" : "value"
        return "{\"entries\":[\(rows.joined(separator: ","))],\"fallback\":\"\(kind)\",\"fallback_value\":\(fallbackValue)}"
    }

    /// Reads `jsonBody()` back; every entry must have `variableCount + 1` integers.
    public init(jsonBody: JSONValue, variableCount: Int) throws(DistillationError) {
        guard case .object(let members) = jsonBody,
            case .array(let rows)? = members.first(where: { $0.key == "entries" })?.value,
            let fallbackValue = members.first(where: { $0.key == "fallback_value" })?.value.integerValue
        else { throw .mismatch(path: "body", reason: "a lookup table needs entries and fallback_value") }
        var entries: [[Int]: Int] = [:]
        for (i, row) in rows.enumerated() {
            guard case .array(let cells) = row, cells.count == variableCount + 1 else {
                throw .mismatch(path: "body.entries[\(i)]", reason: "expected \(variableCount) inputs and an output")
            }
            let numbers = cells.compactMap(\.integerValue)
            guard numbers.count == cells.count else { throw .mismatch(path: "body.entries[\(i)]", reason: "expected integers") }
            entries[Array(numbers.dropLast())] = numbers.last!
        }
        var kind = Fallback.majority
        if case .string("value")? = members.first(where: { $0.key == "fallback" })?.value { kind = .value(fallbackValue) }
        self.init(entries: entries, fallback: kind, fallbackValue: fallbackValue)
    }

    /// A readable summary and the first `limit` entries.
    public func text(variables: [String], limit: Int = 20) -> String {
        var lines = [
            "lookup table: \(entries.count) entries; unseen inputs → \(fallbackValue) (\(fallback == .majority ? "majority" : "declared"))"
        ]
        for (input, output) in entries.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }).prefix(limit) {
            lines.append("  (" + zip(variables, input).map { "\($0)=\($1)" }.joined(separator: ", ") + ") → \(output)")
        }
        if entries.count > limit { lines.append("  … \(entries.count - limit) more") }
        return lines.joined(separator: "\n")
    }
}

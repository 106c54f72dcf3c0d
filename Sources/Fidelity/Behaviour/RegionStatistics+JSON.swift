import Distillation
import Network
import WeightFiles

extension RegionStatistics {
    /// Appends the statistics as the JSON object a fidelity shard's `retort_evaluation` metadata holds
    /// (`formats/task.md`, "Shard files").
    /// - Complexity: O(surrogates × listed disagreements)
    func appendJSON(to out: inout [UInt8]) {
        func number(_ value: Int?) -> String { value.map(String.init) ?? "null" }
        out += "{\"inputs\":\(count),\"network_right\":\(number(networkRight)),\"surrogates\":[".utf8
        for (k, s) in surrogates.enumerated() {
            if k > 0 { out += ",".utf8 }
            out += "{\"agreements\":\(s.agreements),\"squared_error\":".utf8
            // A decimal string: the exact 128-bit sum does not fit a JSON reader's 64-bit integers.
            out += (s.squaredError.map { "\"\($0)\"" } ?? "null").utf8
            out += ",\"same_mistake\":\(number(s.sameMistake)),\"surrogate_right\":\(number(s.surrogateRight))".utf8
            out += ",\"expression_wrong\":\(number(s.expressionWrong))".utf8
            out += ",\"disagreements_where_network_wrong\":\(number(s.disagreementsWhereNetworkWrong)),\"disagreements\":[".utf8
            for (i, d) in s.disagreements.enumerated() {
                if i > 0 { out += ",".utf8 }
                out += "{\"input\":[\(d.input.map(String.init).joined(separator: ","))],\"network\":\(d.network)".utf8
                out += ",\"surrogate\":\(d.surrogate),\"truth\":\(number(d.truth))}".utf8
            }
            out += "]}".utf8
        }
        out += "]}".utf8
    }

    /// Reads the statistics of a run's slice of `count` inputs and `surrogates` surrogates from a fidelity shard's
    /// metadata, checking that every count lies within what the slice can hold.
    /// - Throws: `invalidDescription` naming the member (under `path`) that is missing or out of range.
    init(json value: JSONValue, path: String, count: Int, surrogates: Int) throws(NetworkError) {
        let root = try JSONObjectReader(value, path: path)
        try root.rejectUnknownKeys(allowed: ["inputs", "network_right", "surrogates"])
        let inputs = try root.requiredInteger("inputs", minimum: 0)
        guard inputs == count else {
            throw .invalidDescription(path: root.subpath("inputs"), reason: "\(inputs), but the slice holds \(count) inputs")
        }
        func atMost(_ reader: JSONObjectReader, _ key: String, _ limit: Int) throws(NetworkError) -> Int? {
            guard let number = try reader.integer(key, minimum: 0) else { return nil }
            guard number <= limit else {
                throw .invalidDescription(path: reader.subpath(key), reason: "\(number), more than the \(limit) it can be")
            }
            return number
        }
        let right = try atMost(root, "network_right", count)
        let wrong = count - (right ?? 0)
        guard let items = try root.array("surrogates"), items.count == surrogates else {
            throw .invalidDescription(path: root.subpath("surrogates"), reason: "expected one object per surrogate (\(surrogates))")
        }
        var result: [SurrogateStatistics] = []
        for (k, item) in items.enumerated() {
            let s = try JSONObjectReader(item, path: "\(root.subpath("surrogates"))[\(k)]")
            try s.rejectUnknownKeys(allowed: [
                "agreements", "squared_error", "same_mistake", "surrogate_right", "expression_wrong",
                "disagreements_where_network_wrong", "disagreements",
            ])
            let agreements = try atMost(s, "agreements", count) ?? 0
            guard s.value("agreements") != nil else { throw .invalidDescription(path: s.subpath("agreements"), reason: "missing") }
            var squared: UInt128?
            if let text = try s.string("squared_error") {
                guard let number = UInt128(text) else {
                    throw .invalidDescription(path: s.subpath("squared_error"), reason: "not a non-negative integer: \(text)")
                }
                squared = number
            }
            let same = try atMost(s, "same_mistake", wrong)
            let corrected = try atMost(s, "surrogate_right", wrong - (same ?? 0))
            guard (right == nil) == (same == nil) && (same == nil) == (corrected == nil) else {
                throw .invalidDescription(
                    path: s.path, reason: "same_mistake and surrogate_right are given exactly when network_right is")
            }
            let expressionWrong = try atMost(s, "expression_wrong", count)
            let whereWrong = try atMost(s, "disagreements_where_network_wrong", count - agreements)
            guard (whereWrong == nil) == (right == nil) else {
                throw .invalidDescription(
                    path: s.subpath("disagreements_where_network_wrong"), reason: "given exactly when network_right is")
            }
            let listed = try s.array("disagreements") ?? []
            guard listed.count <= count - agreements else {
                throw .invalidDescription(
                    path: s.subpath("disagreements"), reason: "\(listed.count) listed, more than the \(count - agreements) disagreements")
            }
            var disagreements: [Disagreement] = []
            for (i, element) in listed.enumerated() {
                let d = try JSONObjectReader(element, path: "\(s.subpath("disagreements"))[\(i)]")
                try d.rejectUnknownKeys(allowed: ["input", "network", "surrogate", "truth"])
                disagreements.append(
                    Disagreement(
                        input: try d.integers("input", minimum: .min) ?? [], network: try d.requiredInteger("network"),
                        surrogate: try d.requiredInteger("surrogate"), truth: try d.integer("truth")))
            }
            result.append(
                SurrogateStatistics(
                    agreements: agreements, squaredError: squared, sameMistake: same, surrogateRight: corrected,
                    expressionWrong: expressionWrong, disagreementsWhereNetworkWrong: whereWrong, disagreements: disagreements))
        }
        self.init(count: count, networkRight: right, surrogates: result)
    }
}

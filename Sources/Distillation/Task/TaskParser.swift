import Network
import WeightFiles

/// Reads the JSON form of a task (`formats/task.md`).
struct TaskParser {
    let baseDirectory: String

    func parse(_ root: JSONValue) throws(NetworkError) -> TaskDescription {
        let object = try JSONObjectReader(root, path: "")
        try object.rejectUnknownKeys(allowed: [
            "retort_task", "name", "variables", "encoder", "decoder", "regions", "constants", "digit_base", "features",
            "truth",
        ])
        guard let version = try object.integer("retort_task") else {
            throw .invalidDescription(path: "retort_task", reason: "missing (expected 1)")
        }
        guard version == 1 else {
            throw .invalidDescription(path: "retort_task", reason: "unsupported version \(version) (this Retort reads version 1)")
        }
        let name = try object.string("name") ?? "task"
        guard let variableList = try object.array("variables"), !variableList.isEmpty else {
            throw .invalidDescription(path: "variables", reason: "missing or empty")
        }
        var variables: [TaskVariable] = []
        for (i, element) in variableList.enumerated() {
            let v = try JSONObjectReader(element, path: "variables[\(i)]")
            try v.rejectUnknownKeys(allowed: ["name", "type", "min", "max", "values", "length"])
            let variableName = try v.requiredString("name")
            guard !variables.contains(where: { $0.name == variableName || $0.name.hasPrefix(variableName + "[") }) else {
                throw .invalidDescription(path: v.subpath("name"), reason: "duplicate variable \"\(variableName)\"")
            }
            switch try v.requiredString("type") {
            case "tokens":
                // A token sequence is one integer variable per position: name[0], name[1], …
                let length = try v.requiredInteger("length", minimum: 1)
                let min = try v.integer("min") ?? 0, max = try v.requiredInteger("max")
                guard min <= max, min >= 0, max <= Self.valueLimit.upperBound else {
                    throw .invalidDescription(path: v.path, reason: "token ids need 0 <= min <= max <= 2^40")
                }
                guard length <= 64 else { throw .invalidDescription(path: v.subpath("length"), reason: "at most 64 positions") }
                for position in 0..<length {
                    variables.append(TaskVariable(name: "\(variableName)[\(position)]", min: min, max: max))
                }
            case "integer":
                let min = try v.requiredInteger("min"), max = try v.requiredInteger("max")
                guard min <= max else { throw .invalidDescription(path: v.path, reason: "min \(min) exceeds max \(max)") }
                guard Self.valueLimit.contains(min), Self.valueLimit.contains(max) else {
                    throw .invalidDescription(path: v.path, reason: "values must lie within ±2^40")
                }
                variables.append(TaskVariable(name: variableName, min: min, max: max))
            case "bit":
                variables.append(TaskVariable(name: variableName, min: 0, max: 1))
            case "category":
                guard let values = try v.array("values"), !values.isEmpty else {
                    throw .invalidDescription(path: v.subpath("values"), reason: "a category needs a non-empty list of values")
                }
                let names = values.map { value -> String in if case .string(let s) = value { s } else { "\(value)" } }
                variables.append(TaskVariable(name: variableName, min: 0, max: names.count - 1, categories: names))
            case let other:
                throw .invalidDescription(
                    path: v.subpath("type"), reason: "unknown type \"\(other)\" (known: integer, bit, category)")
            }
        }
        var domain = 1.0
        for v in variables { domain *= Double(v.count) }
        guard domain < 9e15 else { throw .invalidDescription(path: "variables", reason: "domain too large (\(domain) inputs)") }
        let encoder = try parseEncoder(
            try JSONObjectReader(object.value("encoder") ?? .null, path: "encoder"), variables: variables)
        let (decoder, outputs) = try parseDecoder(try JSONObjectReader(object.value("decoder") ?? .null, path: "decoder"))
        let promptEncoder: Bool = if case .prompt = encoder { true } else { false }
        if promptEncoder, !decoder.readsLanguageModel {
            throw .invalidDescription(
                path: "decoder.kind", reason: "a prompt encoder needs a language-model decoder (generate or next_token)")
        }
        if decoder.readsLanguageModel, !promptEncoder {
            throw .invalidDescription(
                path: "encoder.kind", reason: "the generate and next_token decoders need a prompt encoder")
        }
        let digitBase = try object.integer("digit_base", minimum: 2) ?? 10
        var regions: [String: RegionSpec] = [:]
        if let value = object.value("regions") {
            let regionObject = try JSONObjectReader(value, path: "regions")
            for member in regionObject.members {
                guard TaskDescription.isRegionName(member.key) else {
                    throw .invalidDescription(
                        path: regionObject.subpath(member.key),
                        reason: "a region name is a file name in a shard's folder: not empty, \".\" or \"..\", without \"/\" or NUL")
                }
                regions[member.key] = try parseRegion(
                    try JSONObjectReader(member.value, path: regionObject.subpath(member.key)), name: member.key,
                    variables: variables, digitBase: digitBase)
            }
        }
        if regions["domain"] != nil {
            throw .invalidDescription(
                path: "regions.domain", reason: "\"domain\" is reserved: reports name the whole domain so (use another name)")
        }
        if regions["probe"] == nil { regions["probe"] = domain <= 20_000 ? .all : .sample(count: 20_000, seed: 1, excluding: []) }
        let names = Set(regions.keys)
        for name in names.sorted() {
            if let meant = Self.misspeltRegionName(name) {
                throw .invalidDescription(
                    path: "regions.\(name)",
                    reason: "\"\(name)\" looks like a misspelling of \"\(meant)\" (names with a meaning: "
                        + "\(Self.meaningfulRegionNames.joined(separator: ", ")); spell it so, or choose a name of your own "
                        + "further from them)")
            }
        }
        for (name, spec) in regions.sorted(by: { $0.key < $1.key }) {
            for e in spec.excluded where !names.contains(e) || e == name {
                let others = names.subtracting([name]).sorted()
                throw .invalidDescription(
                    path: "regions.\(name)",
                    reason: "excludes \(e == name ? "itself" : "unknown region \"\(e)\"") (the task's other regions: "
                        + "\(others.isEmpty ? "none" : others.joined(separator: ", ")))")
            }
        }
        let features: [String]
        if let list = try object.array("features") {
            features = try list.enumerated().map { i, value throws(NetworkError) -> String in
                guard case .string(let text) = value else {
                    throw .invalidDescription(path: "features[\(i)]", reason: "expected a string")
                }
                return text
            }
        } else {
            features = []
        }
        var truth: ProgramExpression?
        if let value = object.value("truth") {
            let truthObject = try JSONObjectReader(value, path: "truth")
            try truthObject.rejectUnknownKeys(allowed: ["expression"])
            guard let expression = truthObject.value("expression") else {
                throw .invalidDescription(path: "truth", reason: "needs an \"expression\" (formats/surrogate.md's program form)")
            }
            do {
                truth = try ProgramExpression(
                    json: expression, variables: variables.map(\.name), digitBase: digitBase, path: "truth.expression")
            } catch {
                throw .invalidDescription(path: "truth", reason: "\(error)")
            }
        }
        var task = TaskDescription(
            name: name, variables: variables, encoder: encoder, decoder: decoder, outputValues: outputs, regions: regions,
            constants: try object.integers("constants", minimum: Int.min) ?? [], digitBase: digitBase, features: features,
            baseDirectory: baseDirectory)
        task.truth = truth
        return task
    }

    private func parseEncoder(_ e: JSONObjectReader, variables: [TaskVariable]) throws(NetworkError) -> TaskEncoder {
        switch try e.requiredString("kind") {
        case "one_hot_digits":
            try e.rejectUnknownKeys(allowed: ["kind", "base", "digits"])
            let base = try e.requiredInteger("base", minimum: 2), digits = try e.requiredInteger("digits", minimum: 1)
            guard base <= 65536, digits <= 64 else {
                throw .invalidDescription(path: e.path, reason: "base at most 65536 and at most 64 digits")
            }
            for v in variables
            where !TaskEncoder.oneHotDigits(base: base, digits: digits).canEncode(v.min, of: v)
                || !TaskEncoder.oneHotDigits(base: base, digits: digits).canEncode(v.max, of: v)
            {
                throw .invalidDescription(
                    path: e.path, reason: "variable \(v.name) (\(v.min)…\(v.max)) does not fit \(digits) digits in base \(base)")
            }
            return .oneHotDigits(base: base, digits: digits)
        case "one_hot":
            try e.rejectUnknownKeys(allowed: ["kind"])
            return .oneHot
        case "binary":
            try e.rejectUnknownKeys(allowed: ["kind", "bits"])
            let bits = try e.requiredInteger("bits", minimum: 1)
            guard bits <= 62 else { throw .invalidDescription(path: e.subpath("bits"), reason: "at most 62 bits") }
            for v in variables where v.min < 0 || (bits < 62 && v.max >= 1 << bits) {
                throw .invalidDescription(
                    path: e.path, reason: "variable \(v.name) (\(v.min)…\(v.max)) does not fit \(bits) bits")
            }
            return .binary(bits: bits)
        case "raw":
            try e.rejectUnknownKeys(allowed: ["kind"])
            return .raw
        case "tokens":
            try e.rejectUnknownKeys(allowed: ["kind", "prefix", "suffix"])
            return .tokens(prefix: try e.integers("prefix") ?? [], suffix: try e.integers("suffix") ?? [])
        case "prompt":
            try e.rejectUnknownKeys(allowed: ["kind", "template", "prefix"])
            let template = try e.requiredString("template"), prefix = try e.string("prefix") ?? ""
            guard !(prefix + template).isEmpty else {
                throw .invalidDescription(path: e.subpath("template"), reason: "a prompt needs some text")
            }
            do {
                return .prompt(try PromptTemplate(template: template, prefix: prefix, variables: variables))
            } catch {
                throw .invalidDescription(path: e.subpath("template"), reason: error.reason)
            }
        case let other:
            throw .invalidDescription(
                path: e.subpath("kind"),
                reason: "unknown encoder \"\(other)\" (known: one_hot_digits, one_hot, binary, raw, tokens, prompt)")
        }
    }

    private func parseDecoder(_ d: JSONObjectReader) throws(NetworkError) -> (TaskDecoder, [Int]) {
        switch try d.requiredString("kind") {
        case "argmax":
            try d.rejectUnknownKeys(allowed: ["kind", "classes", "position", "outputs"])
            let classes = try d.integers("classes", minimum: Int.min)
            let position = try d.integer("position") ?? -1
            if let classes {
                guard !classes.isEmpty else { throw .invalidDescription(path: d.subpath("classes"), reason: "empty") }
                return (.argmax(classes: classes, position: position), Array(Set(classes)).sorted())
            }
            guard let count = try d.integer("outputs", minimum: 1) else {
                throw .invalidDescription(
                    path: d.path, reason: "argmax needs \"classes\" (class → value) or \"outputs\" (the class count)")
            }
            guard count <= 1 << 24 else {
                throw .invalidDescription(path: d.subpath("outputs"), reason: "at most 2^24 classes, found \(count)")
            }
            return (.argmax(classes: nil, position: position), Array(0..<count))
        case "regression":
            try d.rejectUnknownKeys(allowed: ["kind", "unit", "min", "max"])
            let min = try d.requiredInteger("min"), max = try d.requiredInteger("max")
            guard min <= max, !max.subtractingReportingOverflow(min).overflow, max - min < 1 << 24 else {
                throw .invalidDescription(path: d.path, reason: "a regression output needs min <= max (at most 2^24 values)")
            }
            return (.regression(unit: try d.integer("unit", minimum: 0) ?? 0, min: min, max: max), Array(min...max))
        case "threshold":
            try d.rejectUnknownKeys(allowed: ["kind", "unit", "threshold"])
            return (
                .threshold(unit: try d.integer("unit", minimum: 0) ?? 0, threshold: Float(try d.double("threshold") ?? 0.5)),
                [0, 1]
            )
        case "generate":
            try d.rejectUnknownKeys(allowed: ["kind", "max_new_tokens", "min", "max", "no_answer"])
            let tokens = try d.requiredInteger("max_new_tokens", minimum: 1)
            guard tokens <= Self.maxNewTokens else {
                throw .invalidDescription(path: d.subpath("max_new_tokens"), reason: "at most \(Self.maxNewTokens)")
            }
            let min = try d.integer("min") ?? 0
            guard Self.valueLimit.contains(min) else {
                throw .invalidDescription(path: d.subpath("min"), reason: "\(min) is outside ±2^40")
            }
            // By default every number of up to `max_new_tokens` digits (one digit per token), within the alphabet's bound.
            var defaultMax = 1
            for _ in 0..<tokens where defaultMax <= 1 << 24 { defaultMax *= 10 }
            let max = try d.integer("max") ?? Swift.min(defaultMax - 1, min + (1 << 24) - 1)
            guard Self.valueLimit.contains(max), min <= max, max - min < 1 << 24 else {
                throw .invalidDescription(
                    path: d.path, reason: "a generate decoder needs min <= max (at most 2^24 values, within ±2^40)")
            }
            let noAnswer = try d.integer("no_answer") ?? -1
            guard !(min...max).contains(noAnswer) else {
                throw .invalidDescription(
                    path: d.subpath("no_answer"),
                    reason: "no_answer \(noAnswer) lies inside min…max (\(min)…\(max)); give one outside, e.g. \(min - 1)")
            }
            return (
                .generate(maxNewTokens: tokens, min: min, max: max, noAnswer: noAnswer),
                ([noAnswer] + Array(min...max)).sorted()
            )
        case "next_token":
            try d.rejectUnknownKeys(allowed: ["kind", "candidates", "values"])
            guard let list = try d.array("candidates"), !list.isEmpty else {
                throw .invalidDescription(path: d.subpath("candidates"), reason: "missing or empty")
            }
            var candidates: [String] = []
            for (i, value) in list.enumerated() {
                guard case .string(let text) = value, !text.isEmpty else {
                    throw .invalidDescription(path: d.subpath("candidates") + "[\(i)]", reason: "expected a non-empty string")
                }
                guard !candidates.contains(text) else {
                    throw .invalidDescription(path: d.subpath("candidates") + "[\(i)]", reason: "duplicate candidate \"\(text)\"")
                }
                candidates.append(text)
            }
            let values = try d.integers("values", minimum: Int.min) ?? Array(0..<candidates.count)
            guard values.count == candidates.count else {
                throw .invalidDescription(
                    path: d.subpath("values"), reason: "\(values.count) values for \(candidates.count) candidates")
            }
            return (.nextToken(candidates: candidates, values: values), Array(Set(values)).sorted())
        case let other:
            throw .invalidDescription(
                path: d.subpath("kind"),
                reason: "unknown decoder \"\(other)\" (known: argmax, threshold, regression, generate, next_token)")
        }
    }

    private func parseRegion(_ r: JSONObjectReader, name: String, variables: [TaskVariable], digitBase: Int)
        throws(NetworkError) -> RegionSpec
    {
        guard let text = try r.string("where") else { return try parseRegionForm(r, variables: variables, filtered: false) }
        let expression: ProgramExpression
        do {
            expression = try ProgramExpression(text: text, variables: variables.map(\.name), digitBase: digitBase)
        } catch {
            // A long condition is quoted by its start only, so the error stays a readable line.
            let shown = text.count > 120 ? String(text.prefix(120)) + "…" : text
            throw .invalidDescription(path: r.subpath("where"), reason: "\(error) in \"\(shown)\"")
        }
        let base = try parseRegionForm(r, variables: variables, filtered: true)
        return .filtered(base, RegionPredicate(text: text, expression: expression))
    }

    /// A region's form; with `filtered` (a `where` is present) a region of no other form is the whole domain.
    private func parseRegionForm(_ r: JSONObjectReader, variables: [TaskVariable], filtered: Bool) throws(NetworkError)
        -> RegionSpec
    {
        let extra: Set<String> = filtered ? ["where"] : []
        let seed = UInt64(try r.integer("seed", minimum: 0) ?? 0)
        let excluding: [String]
        if let list = try r.array("excluding") {
            excluding = list.compactMap { if case .string(let s) = $0 { s } else { nil } }
        } else {
            excluding = []
        }
        if try r.bool("all") == true {
            try r.rejectUnknownKeys(allowed: Set(["all"]).union(extra))
            return .all
        }
        if let file = try r.string("indices") {
            try r.rejectUnknownKeys(allowed: Set(["indices"]).union(extra))
            return .indexFile(path: file.hasPrefix("/") ? file : baseDirectory + "/" + file)
        }
        if try r.bool("rest") == true {
            try r.rejectUnknownKeys(allowed: Set(["rest", "excluding", "limit", "seed"]).union(extra))
            return .rest(excluding: excluding, limit: try sampleSize(r, "limit", required: false), seed: seed)
        }
        if let ranges = r.value("ranges") {
            try r.rejectUnknownKeys(allowed: Set(["ranges", "sample", "seed"]).union(extra))
            let object = try JSONObjectReader(ranges, path: r.subpath("ranges"))
            var parsed: [String: ClosedRange<Int>] = [:]
            for member in object.members {
                guard variables.contains(where: { $0.name == member.key }) else {
                    throw .invalidDescription(path: object.subpath(member.key), reason: "no variable named \"\(member.key)\"")
                }
                guard case .array(let pair) = member.value, pair.count == 2, let lo = pair[0].integerValue,
                    let hi = pair[1].integerValue, lo <= hi, Self.valueLimit.contains(lo), Self.valueLimit.contains(hi)
                else {
                    throw .invalidDescription(path: object.subpath(member.key), reason: "expected [min, max] within ±2^40")
                }
                parsed[member.key] = lo...hi
            }
            return .outOfRange(ranges: parsed, count: try sampleSize(r, "sample", required: true)!, seed: seed)
        }
        if r.has("sample") {
            try r.rejectUnknownKeys(allowed: Set(["sample", "seed", "excluding"]).union(extra))
            return .sample(count: try sampleSize(r, "sample", required: true)!, seed: seed, excluding: excluding)
        }
        if filtered {
            try r.rejectUnknownKeys(allowed: extra)
            return .all
        }
        throw .invalidDescription(
            path: r.path,
            reason:
                "a region is {\"all\": true}, {\"sample\": N}, {\"indices\": FILE}, {\"rest\": true}, {\"ranges\": …, \"sample\": N} or {\"where\": CONDITION}"
        )
    }
}

extension TaskParser {
    /// Variables' values, and out-of-range bounds, stay within ±2^40 so that range sizes and domain
    /// indices cannot overflow.
    static let valueLimit = -(1 << 40)...(1 << 40)

    /// The most tokens a `generate` decoder may ask for.
    static let maxNewTokens = 1024

    /// A region size: at least 1 and at most `TaskDescription.enumerationLimit`, so sampling memory is bounded.
    func sampleSize(_ r: JSONObjectReader, _ key: String, required: Bool) throws(NetworkError) -> Int? {
        guard let count = try r.integer(key) else {
            if required { throw .invalidDescription(path: r.subpath(key), reason: "missing") }
            return nil
        }
        guard count >= 1, count <= TaskDescription.enumerationLimit else {
            throw .invalidDescription(
                path: r.subpath(key), reason: "must be 1 to \(TaskDescription.enumerationLimit) inputs, found \(count)")
        }
        return count
    }
}

extension JSONValue {
    var integerValue: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }
}

extension TaskDescription {
    /// Whether `name` can name a region: a shard writes a region's probes to `NAME.safetensors` in its folder, so a
    /// name is a file name there — not empty, `.` or `..`, and without `/` or NUL.
    public static func isRegionName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }
}

extension TaskParser {
    /// The region names with a meaning elsewhere (`formats/task.md`, "Regions").
    static let meaningfulRegionNames = ["trained", "probe", "held_out", "out_of_range"]

    /// The meaningful region name that `name` is a near miss of (same letters up to case, `-`, `_` and spaces, or one
    /// edit away), or nil: a region meant as `held_out` but spelt `held-out` would otherwise be a region of the user's
    /// own that nothing reads, and the report would silently lack its held-out figures.
    static func misspeltRegionName(_ name: String) -> String? {
        guard !meaningfulRegionNames.contains(name) else { return nil }
        func normalized(_ text: String) -> [Character] {
            Array(text.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
        }
        let given = normalized(name)
        return meaningfulRegionNames.first { known in
            let target = normalized(known)
            return given == target || editDistance(given, target) == 1
        }
    }

    /// The Levenshtein distance between `a` and `b`.
    /// - Complexity: O(a × b)
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + [Int](repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

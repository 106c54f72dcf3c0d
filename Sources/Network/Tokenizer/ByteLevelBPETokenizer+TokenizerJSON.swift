import Foundation
import WeightFiles

extension ByteLevelBPETokenizer {
    /// The tokenizer of a Hugging Face `tokenizer.json`, with BOS and EOS from the `tokenizer_config.json`
    /// beside it when there is one.
    ///
    /// - Throws: `NetworkError.weightFile` when a file cannot be read; `NetworkError.unsupportedTokenizer`
    ///   naming the JSON path and value for anything else (see ``init(tokenizerJSON:config:)``).
    public init(tokenizerJSON path: String) throws(NetworkError) {
        func read(_ path: String) throws(NetworkError) -> [UInt8] {
            do throws(WeightFileError) {
                let storage = try ByteStorage.map(path: path)
                return Array(storage.bytes)
            } catch {
                throw .weightFile(error)
            }
        }
        let configPath = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(
            "tokenizer_config.json"
        ).path
        let config = FileManager.default.fileExists(atPath: configPath) ? try read(configPath) : nil
        try self.init(tokenizerJSON: try read(path), config: config)
    }

    /// The tokenizer of a `tokenizer.json` document and, optionally, its `tokenizer_config.json`.
    ///
    /// Read: `model` (`BPE`: `vocab`, `merges` as `"left right"` strings or `[left, right]` pairs,
    /// `unk_token`, `ignore_merges`), `added_tokens`, `pre_tokenizer` (`ByteLevel` with `use_regex`;
    /// `Sequence[Digits(individual_digits), ByteLevel]`; `Sequence[Split(Regex) isolated, ByteLevel(use_regex:
    /// false)]` with GPT-2's, Llama 3's or Qwen2's regex), `decoder` (`ByteLevel`), and from
    /// `post_processor` only whether a template puts a special token first (BOS). From the config:
    /// `bos_token`, `eos_token`, `add_bos_token`.
    ///
    /// - Throws: `NetworkError.unsupportedTokenizer` for a normalizer, a model other than BPE, BPE
    ///   options this package does not implement (dropout, byte fallback, subword prefixes), another
    ///   pre-tokenizer or decoder, `add_prefix_space`, `single_word` added tokens; and for broken files: a
    ///   merge naming an unknown token, duplicate tokens or ids, ids out of range.
    /// - Complexity: O(size of the document).
    public init(tokenizerJSON bytes: [UInt8], config: [UInt8]? = nil) throws(NetworkError) {
        let configReader: JSONObjectReader?
        do throws(NetworkError) {
            configReader = try config.map { bytes throws(NetworkError) in
                try JSONObjectReader(JSONValue.parseDescription(bytes, what: "tokenizer_config.json"), path: "")
            }
        } catch {
            throw Self.naming("tokenizer_config.json", error)
        }
        do throws(NetworkError) {
            let root = try JSONObjectReader(JSONValue.parseDescription(bytes, what: "tokenizer.json"), path: "")
            try self.init(root: root, config: configReader)
        } catch {
            throw Self.naming("tokenizer.json", error)
        }
    }

    /// A description error at a JSON path of `file` as an `unsupportedTokenizer` naming the file and path.
    private static func naming(_ file: String, _ error: NetworkError) -> NetworkError {
        if case .invalidDescription(let path, let reason) = error {
            return .unsupportedTokenizer(reason: path.isEmpty ? reason : "\(file) at \(path): \(reason)")
        }
        return error
    }

    private init(root: JSONObjectReader, config: JSONObjectReader?) throws(NetworkError) {
        func unsupported(_ path: String, _ reason: String) -> NetworkError {
            .unsupportedTokenizer(reason: "tokenizer.json at \(path): \(reason)")
        }
        if let normalizer = root.value("normalizer") {
            throw unsupported("normalizer", "\(Self.typeName(normalizer)) is not implemented (only null)")
        }

        // The BPE model.
        guard let modelValue = root.value("model") else { throw unsupported("model", "missing") }
        let model = try JSONObjectReader(modelValue, path: "model")
        let type = try model.string("type")
        guard type == "BPE" || (type == nil && model.has("merges")) else {
            throw unsupported("model.type", "\"\(type ?? "?")\" is not implemented (only BPE)")
        }
        if let dropout = try model.double("dropout"), dropout != 0 {
            throw unsupported("model.dropout", "\(dropout) is not implemented (only null)")
        }
        if try model.bool("byte_fallback") == true {
            throw unsupported("model.byte_fallback", "true is not implemented (a byte-level vocabulary needs none)")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = try model.string(key), !affix.isEmpty {
                throw unsupported("model.\(key)", "\(Self.quoted(affix)) is not implemented (only empty)")
            }
        }
        let ignoresMerges = try model.bool("ignore_merges") ?? false

        guard let vocabValue = model.value("vocab") else { throw unsupported("model.vocab", "missing") }
        guard case .object(let vocabMembers) = vocabValue else {
            throw unsupported("model.vocab", "expected an object, found \(vocabValue.kindDescription)")
        }
        var byID: [Int: String] = [:]
        byID.reserveCapacity(vocabMembers.count)
        func place(_ token: String, _ id: Int, _ path: String) throws(NetworkError) {
            guard (0..<Self.maximumVocabularySize).contains(id) else {
                throw unsupported(path, "id \(id) is outside 0…\(Self.maximumVocabularySize - 1)")
            }
            if let other = byID.updateValue(token, forKey: id), other != token {
                throw unsupported(path, "id \(id) is both \(Self.quoted(other)) and \(Self.quoted(token))")
            }
        }
        for member in vocabMembers {
            guard case .number(let text) = member.value, let id = Int(text) else {
                throw unsupported("model.vocab.\(member.key)", "expected an id, found \(member.value.kindDescription)")
            }
            try place(member.key, id, "model.vocab.\(member.key)")
        }

        // Added tokens may extend the vocabulary.
        var addedTokens: [AddedToken] = []
        for (i, value) in (try root.array("added_tokens") ?? []).enumerated() {
            let entry = try JSONObjectReader(value, path: "added_tokens[\(i)]")
            let id = try entry.requiredInteger("id", minimum: 0)
            let content = try entry.requiredString("content")
            if try entry.bool("single_word") == true {
                throw unsupported(entry.subpath("single_word"), "true is not implemented")
            }
            try place(content, id, entry.subpath("id"))
            addedTokens.append(
                AddedToken(
                    id: id, content: content, isSpecial: try entry.bool("special") ?? false,
                    isNormalized: try entry.bool("normalized") ?? true, stripsLeft: try entry.bool("lstrip") ?? false,
                    stripsRight: try entry.bool("rstrip") ?? false))
        }
        let count = (byID.keys.max() ?? -1) + 1
        var tokens: [String] = []
        // Not `count`: one id near the limit must not reserve room for 2^24 tokens before the gap is found.
        tokens.reserveCapacity(byID.count)
        for id in 0..<count {
            guard let token = byID[id] else { throw unsupported("model.vocab", "no token has id \(id)") }
            tokens.append(token)
        }

        var merges: [(String, String)] = []
        let mergeValues = try model.array("merges") ?? []
        merges.reserveCapacity(mergeValues.count)
        for (rank, value) in mergeValues.enumerated() {
            switch value {
            case .string(let line):
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw unsupported("model.merges[\(rank)]", "\(Self.quoted(line)) is not two tokens separated by a space")
                }
                merges.append((String(parts[0]), String(parts[1])))
            case .array(let pair):
                guard pair.count == 2, case .string(let left) = pair[0], case .string(let right) = pair[1] else {
                    throw unsupported("model.merges[\(rank)]", "expected two strings")
                }
                merges.append((left, right))
            default:
                throw unsupported("model.merges[\(rank)]", "expected a string or a pair, found \(value.kindDescription)")
            }
        }

        let preTokenizer = try Self.preTokenizer(root.value("pre_tokenizer"))
        try Self.checkDecoder(root.value("decoder"))

        // BOS: the config's, else the special token a post-processor template starts with.
        func tokenName(_ reader: JSONObjectReader, _ key: String) throws(NetworkError) -> String? {
            guard let value = reader.value(key) else { return nil }
            if case .string(let name) = value { return name }
            return try JSONObjectReader(value, path: reader.subpath(key)).string("content")
        }
        func id(of name: String?, _ path: String) throws(NetworkError) -> Int? {
            guard let name else { return nil }
            guard let id = byID.first(where: { $0.value == name })?.key else {
                throw .unsupportedTokenizer(reason: "\(path) names \(Self.quoted(name)), which is not a token")
            }
            return id
        }
        let templateBOS = Self.templateFirstToken(root.value("post_processor"))
        var bos = try id(of: templateBOS, "tokenizer.json post_processor")
        var eos: Int?
        var addsBOS = templateBOS != nil
        if let config {
            do throws(NetworkError) {
                if let name = try tokenName(config, "bos_token") { bos = try id(of: name, "tokenizer_config.json bos_token") }
                eos = try id(of: try tokenName(config, "eos_token"), "tokenizer_config.json eos_token")
                if let flag = try config.bool("add_bos_token") { addsBOS = flag }
            } catch {
                throw Self.naming("tokenizer_config.json", error)
            }
        }
        let unknown = try id(of: try model.string("unk_token"), "tokenizer.json model.unk_token")

        try self.init(
            tokens: tokens, merges: merges, addedTokens: addedTokens, preTokenizer: preTokenizer, bosTokenID: bos,
            eosTokenID: eos, addsBOS: addsBOS && bos != nil, unknownTokenID: unknown, ignoresMerges: ignoresMerges)
    }

    private static func typeName(_ value: JSONValue) -> String {
        if case .object(let members) = value, case .string(let name)? = members.first(where: { $0.key == "type" })?.value {
            return "\"\(name)\""
        }
        return value.kindDescription
    }

    /// The pre-tokenizer a `pre_tokenizer` entry describes, if it is one this package implements.
    private static func preTokenizer(_ value: JSONValue?) throws(NetworkError) -> PreTokenizer {
        func unsupported(_ reason: String) -> NetworkError {
            .unsupportedTokenizer(reason: "tokenizer.json at pre_tokenizer: \(reason)")
        }
        guard let value else { throw unsupported("missing (a byte-level BPE needs ByteLevel)") }
        let reader = try JSONObjectReader(value, path: "pre_tokenizer")
        /// A `ByteLevel` entry with `use_regex` as given; `add_prefix_space` must be false.
        func byteLevel(_ reader: JSONObjectReader, useRegex: Bool) throws(NetworkError) -> Bool {
            guard try reader.string("type") == "ByteLevel" else { return false }
            if try reader.bool("add_prefix_space") == true {
                throw unsupported("ByteLevel add_prefix_space true is not implemented")
            }
            return (try reader.bool("use_regex") ?? true) == useRegex
        }
        if try byteLevel(reader, useRegex: true) { return .gpt2 }
        if try reader.string("type") == "Sequence", let steps = try reader.array("pretokenizers"), steps.count == 2 {
            let first = try JSONObjectReader(steps[0], path: "pre_tokenizer.pretokenizers[0]")
            let second = try JSONObjectReader(steps[1], path: "pre_tokenizer.pretokenizers[1]")
            if try first.string("type") == "Digits", try first.bool("individual_digits") == true,
                try byteLevel(second, useRegex: true)
            {
                return .smollm
            }
            if try first.string("type") == "Split", try byteLevel(second, useRegex: false) {
                let pattern = first.value("pattern").flatMap { value -> String? in
                    guard case .object(let members) = value,
                        case .string(let regex)? = members.first(where: { $0.key == "Regex" })?.value
                    else { return nil }
                    return regex
                }
                let behavior = try first.string("behavior")
                let inverted = try first.bool("invert") ?? false
                if let pattern, behavior == "Isolated", !inverted,
                    let known = PreTokenizer.allCases.first(where: { $0 != .smollm && $0.pattern == pattern })
                {
                    return known
                }
                throw unsupported(
                    "Split with pattern \(pattern.map(Self.quoted) ?? "(not a Regex)"), behavior \(behavior ?? "?"), invert \(inverted) "
                        + "is not implemented (only GPT-2's, Llama 3's and Qwen2's regexes, Isolated)")
            }
        }
        throw unsupported(
            "\(typeName(value)) is not implemented (ByteLevel, Sequence[Digits, ByteLevel] or Sequence[Split, ByteLevel])")
    }

    /// Refuses decoders other than `ByteLevel` (alone or as the only step of a `Sequence`).
    private static func checkDecoder(_ value: JSONValue?) throws(NetworkError) {
        guard let value else {
            throw .unsupportedTokenizer(reason: "tokenizer.json at decoder: missing (a byte-level BPE needs ByteLevel)")
        }
        let reader = try JSONObjectReader(value, path: "decoder")
        if try reader.string("type") == "ByteLevel" { return }
        if try reader.string("type") == "Sequence", let steps = try reader.array("decoders"), steps.count == 1,
            try JSONObjectReader(steps[0], path: "decoder.decoders[0]").string("type") == "ByteLevel"
        {
            return
        }
        throw .unsupportedTokenizer(reason: "tokenizer.json at decoder: \(typeName(value)) is not implemented (only ByteLevel)")
    }

    /// The special token a `TemplateProcessing` post-processor (alone or in a `Sequence`) puts before
    /// the text of a single sequence, if any: the BOS a model expects.
    private static func templateFirstToken(_ value: JSONValue?) -> String? {
        guard case .object(let members)? = value else { return nil }
        func member(_ key: String) -> JSONValue? { members.first(where: { $0.key == key })?.value }
        guard case .string(let type)? = member("type") else { return nil }
        if type == "Sequence", case .array(let steps)? = member("processors") {
            return steps.lazy.compactMap { templateFirstToken($0) }.first
        }
        guard type == "TemplateProcessing", case .array(let single)? = member("single"),
            case .object(let first)? = single.first,
            case .object(let special)? = first.first(where: { $0.key == "SpecialToken" })?.value,
            case .string(let name)? = special.first(where: { $0.key == "id" })?.value
        else { return nil }
        return name
    }
}

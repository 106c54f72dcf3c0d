import WeightFiles

extension ByteLevelBPETokenizer {
    /// The tokenizer of a GGUF file, from its `tokenizer.ggml.*` metadata: `model` (must be `gpt2`),
    /// `pre`, `tokens`, `token_type` (3, control, and 4, user-defined, are matched as whole strings in
    /// the text), `merges` (`"left right"`), `bos_token_id`, `eos_token_id`, `add_bos_token`.
    ///
    /// - Parameter preTokenizer: overrides `tokenizer.ggml.pre` (and makes it optional).
    /// - Throws: `NetworkError.unsupportedTokenizer` naming the key and value: a SentencePiece (`llama`)
    ///   or other non-BPE model, a `pre` type this package does not implement, a missing or mistyped key,
    ///   a merge naming an unknown token, duplicate tokens, ids out of range.
    /// - Complexity: O(vocabulary + merges).
    public init(gguf: GGUFFile, preTokenizer: PreTokenizer? = nil) throws(NetworkError) {
        func string(_ key: String) throws(NetworkError) -> String? {
            guard let value = gguf.value(forKey: key) else { return nil }
            guard let text = value.stringValue else {
                throw .unsupportedTokenizer(reason: "\(key) is a \(value.type), expected a string")
            }
            return text
        }
        func array(_ key: String) throws(NetworkError) -> GGUFArray? {
            guard let value = gguf.value(forKey: key) else { return nil }
            guard let array = value.arrayValue else {
                throw .unsupportedTokenizer(reason: "\(key) is a \(value.type), expected an array")
            }
            return array
        }
        func strings(_ key: String) throws(NetworkError) -> [String] {
            guard let array = try array(key) else { throw .unsupportedTokenizer(reason: "\(key) is missing") }
            guard let strings = array.strings else {
                throw .unsupportedTokenizer(reason: "\(key) is an array of \(array.elementType), expected strings")
            }
            return strings
        }
        func integer(_ key: String) throws(NetworkError) -> Int? {
            guard let value = gguf.value(forKey: key) else { return nil }
            guard let number = value.intValue else {
                throw .unsupportedTokenizer(reason: "\(key) is a \(value.type), expected an integer")
            }
            return number
        }

        guard let model = try string("tokenizer.ggml.model") else {
            throw .unsupportedTokenizer(reason: "tokenizer.ggml.model is missing (the file has no tokenizer)")
        }
        guard model == "gpt2" else {
            let kind = model == "llama" ? " (SentencePiece)" : ""
            throw .unsupportedTokenizer(
                reason: "tokenizer.ggml.model is \"\(model)\"\(kind); only byte-level BPE (\"gpt2\") is implemented")
        }
        let pre: PreTokenizer
        if let preTokenizer {
            pre = preTokenizer
        } else {
            guard let name = try string("tokenizer.ggml.pre") else {
                throw .unsupportedTokenizer(
                    reason: "tokenizer.ggml.pre is missing, so the pre-tokenizer is unknown (llama.cpp's \"default\" "
                        + "degrades generation); pass one explicitly")
            }
            guard let known = PreTokenizer(ggufName: name) else {
                throw .unsupportedTokenizer(
                    reason: "tokenizer.ggml.pre is \"\(name)\" (implemented: \(PreTokenizer.ggufNames.joined(separator: ", ")))")
            }
            pre = known
        }

        let tokens = try strings("tokenizer.ggml.tokens")
        var addedTokens: [AddedToken] = []
        if let types = try array("tokenizer.ggml.token_type") {
            guard let kinds = types.ints else {
                throw .unsupportedTokenizer(
                    reason: "tokenizer.ggml.token_type is an array of \(types.elementType), expected integers")
            }
            guard kinds.count == tokens.count else {
                throw .unsupportedTokenizer(
                    reason: "tokenizer.ggml.token_type has \(kinds.count) entries for \(tokens.count) tokens")
            }
            for (id, kind) in kinds.enumerated() where kind == 3 || kind == 4 {
                addedTokens.append(AddedToken(id: id, content: tokens[id], isSpecial: kind == 3))
            }
        }

        let mergeLines = try strings("tokenizer.ggml.merges")
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergeLines.count)
        for (rank, line) in mergeLines.enumerated() {
            // The halves are split at the first space after the first character, as llama.cpp does.
            let utf8 = line.utf8
            guard let space = utf8.dropFirst().firstIndex(of: 0x20) else {
                throw .unsupportedTokenizer(
                    reason: "tokenizer.ggml.merges[\(rank)] is \(Self.quoted(line)), not two tokens separated by a space")
            }
            merges.append((String(line[..<space]), String(line[utf8.index(after: space)...])))
        }

        let addsBOS: Bool
        switch gguf.value(forKey: "tokenizer.ggml.add_bos_token") {
        case nil: addsBOS = pre == .llama3
        case .bool(let flag)?: addsBOS = flag
        case let other?: throw .unsupportedTokenizer(reason: "tokenizer.ggml.add_bos_token is a \(other.type), expected a bool")
        }
        // transformers' GGUF loader gives the BPE model no unknown token: a byte without a token is dropped.
        try self.init(
            tokens: tokens, merges: merges, addedTokens: addedTokens, preTokenizer: pre,
            bosTokenID: try integer("tokenizer.ggml.bos_token_id"), eosTokenID: try integer("tokenizer.ggml.eos_token_id"),
            addsBOS: addsBOS, unknownTokenID: nil, ignoresMerges: pre == .llama3)
    }
}

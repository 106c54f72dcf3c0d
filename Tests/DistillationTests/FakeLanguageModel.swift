import Network

/// A tokenizer with one token per ASCII character (id = code), EOS = 127 rendered "</s>", BOS = 2 when asked for.
struct CharacterTokenizer: Tokenizer {
    var addsBOS = false
    var vocabularySize: Int { 128 }
    var bosTokenID: Int? { 2 }
    var eosTokenID: Int? { 127 }

    func encode(_ text: String) -> [Int] { text.unicodeScalars.map { Int($0.value) & 127 } }

    func decode(_ ids: [Int]) -> String {
        ids.map { $0 == 127 ? "</s>" : String(UnicodeScalar(UInt8($0))) }.joined()
    }
}

/// A language model that reads the last line of its prompt as "A+B=" and answers `answer(A, B)`, one character
/// per token, then EOS. It records the prompt batches it was given.
final class ArithmeticLanguageModel: LanguageModel, @unchecked Sendable {
    let contextLength: Int
    let tokenizer: (any Tokenizer)?
    let answer: @Sendable (Int, Int) -> String
    /// When false the model ignores the stop set and always generates `maxNewTokens` tokens.
    let honoursStop: Bool
    private(set) var batches: [[[Int]]] = []

    init(
        contextLength: Int = 64, tokenizer: (any Tokenizer)? = CharacterTokenizer(), honoursStop: Bool = true,
        answer: @escaping @Sendable (Int, Int) -> String = { "\($0 + $1)\n" }
    ) {
        self.contextLength = contextLength
        self.tokenizer = tokenizer
        self.honoursStop = honoursStop
        self.answer = answer
    }

    var vocabularySize: Int { 128 }
    var hookNames: [String] { [] }

    func run(_ input: NetworkInput, capture: Set<String>, interventions: [Intervention]) throws(NetworkError) -> NetworkRun {
        throw .invalidInput(reason: "the fake model only generates")
    }

    /// The answer text for a prompt's last line, "A+B=".
    private func continuation(_ prompt: [Int]) -> [Int] {
        let text = CharacterTokenizer().decode(prompt)
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).last ?? ""
        let parts = line.dropLast().split(separator: "+").compactMap { Int($0) }
        guard parts.count == 2 else { return Array("?".utf8).map(Int.init) + [127] }
        return CharacterTokenizer().encode(answer(parts[0], parts[1])) + [127]
    }

    func generate(
        _ prompts: [[Int]], maxNewTokens: Int, stop: Set<Int>, interventions: [Intervention]
    ) throws(NetworkError) -> [[Int]] {
        batches.append(prompts)
        return try prompts.map { prompt throws(NetworkError) -> [Int] in
            guard !prompt.isEmpty, prompt.count + maxNewTokens <= contextLength else {
                throw .invalidInput(reason: "prompt of \(prompt.count) tokens")
            }
            var out: [Int] = []
            for id in continuation(prompt).prefix(maxNewTokens) {
                out.append(id)
                if honoursStop && stop.contains(id) { break }
            }
            return out
        }
    }

    func nextTokenLogits(_ prompts: [[Int]], interventions: [Intervention]) throws(NetworkError) -> [[Float]] {
        batches.append(prompts)
        return prompts.map { prompt in
            var logits = [Float](repeating: 0, count: 128)
            if let first = continuation(prompt).first { logits[first] = 5 }
            return logits
        }
    }
}

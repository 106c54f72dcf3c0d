import Foundation
import Network
import WeightFiles

/// One input variable of a task.
public struct TaskVariable: Sendable, Equatable {
    public var name: String
    /// Smallest and largest value (inclusive). Bits are 0…1; categories are indices into `categories`.
    public var min: Int
    public var max: Int
    /// Category names, for `category` variables.
    public var categories: [String]?

    public init(name: String, min: Int, max: Int, categories: [String]? = nil) {
        self.name = name
        self.min = min
        self.max = max
        self.categories = categories
    }

    /// The number of values.
    public var count: Int { max - min + 1 }
}

/// How a task's variables become the network's input (`formats/task.md`, "Encoder").
public enum TaskEncoder: Sendable, Equatable {
    /// Each variable as `digits` one-hot groups of `base` (most significant first).
    case oneHotDigits(base: Int, digits: Int)
    /// Each variable as one one-hot group over its range.
    case oneHot
    /// Each variable as `bits` binary inputs (most significant first).
    case binary(bits: Int)
    /// Each variable's value as one float.
    case raw
    /// Token ids: `prefix`, the variables' values, `suffix`.
    case tokens(prefix: [Int], suffix: [Int])
    /// Text for a language model: the template with the variables rendered, after a fixed prefix, tokenized
    /// with the model's tokenizer (`Tokenizer.promptIDs`); prompts may differ in length.
    case prompt(PromptTemplate)

    /// Whether `value` of a variable with `range` can be encoded.
    func canEncode(_ value: Int, of variable: TaskVariable) -> Bool {
        switch self {
        case .oneHotDigits(let base, let digits): value >= 0 && Double(value) < pow(Double(base), Double(digits))
        case .oneHot: value >= variable.min && value <= variable.max
        case .binary(let bits): value >= 0 && (bits >= 62 || value < (1 << bits))
        case .raw: true
        case .tokens: value >= 0
        case .prompt: true
        }
    }
}

/// How the network's output becomes the task's output (`formats/task.md`, "Decoder").
public enum TaskDecoder: Sendable, Equatable {
    /// The index of the largest output (at `position` for sequence outputs, −1 = last), mapped through `classes`.
    case argmax(classes: [Int]?, position: Int)
    /// 1 when output `unit` exceeds `threshold`, else 0.
    case threshold(unit: Int, threshold: Float)
    /// Output `unit` as a number, rounded to the nearest integer and clamped to `min…max`
    /// (surrogates predict integers; the unrounded value is kept in the probes' activations if hooked).
    case regression(unit: Int, min: Int, max: Int)
    /// A language model's greedy continuation of the prompt (up to `maxNewTokens` tokens, stopping at EOS and at
    /// a newline), read as an integer (`GeneratedAnswer`): the integer when it lies in `min…max`, else `noAnswer`.
    case generate(maxNewTokens: Int, min: Int, max: Int, noAnswer: Int)
    /// The candidate whose first token has the largest next-token logit (first on ties); the output is its value.
    case nextToken(candidates: [String], values: [Int])

    /// The decoder's `kind` in the task format.
    public var kindName: String {
        switch self {
        case .argmax: "argmax"
        case .threshold: "threshold"
        case .regression: "regression"
        case .generate: "generate"
        case .nextToken: "next_token"
        }
    }

    /// Whether the decoder reads a language model's continuation of a prompt rather than an output tensor.
    public var readsLanguageModel: Bool {
        switch self {
        case .generate, .nextToken: true
        case .argmax, .threshold, .regression: false
        }
    }
}

/// A region of the task's domain: how its inputs are chosen.
public enum RegionSpec: Sendable, Equatable {
    /// Every input of the domain.
    case all
    /// `count` inputs drawn without replacement with `seed`, from the domain minus the regions in `excluding`.
    case sample(count: Int, seed: UInt64, excluding: [String])
    /// Domain indices listed in a file (`.npy` of integers), relative to the task file.
    case indexFile(path: String)
    /// The domain minus the named regions (capped at `limit` inputs, sampled with `seed`).
    case rest(excluding: [String], limit: Int?, seed: UInt64)
    /// Inputs outside the domain: variables' ranges replaced, `count` sampled with `seed`, domain inputs removed.
    case outOfRange(ranges: [String: ClosedRange<Int>], count: Int, seed: UInt64)
    /// The inputs of `base` that satisfy `predicate`; a sample or rest draws from the satisfying inputs only.
    indirect case filtered(RegionSpec, RegionPredicate)

    /// The regions this one excludes, which must be resolved first.
    public var excluded: [String] {
        switch self {
        case .sample(_, _, let excluding), .rest(let excluding, _, _): excluding
        case .filtered(let base, _): base.excluded
        case .all, .indexFile, .outOfRange: []
        }
    }
}

/// A region's `where` condition: an expression of the program language, true where it is not 0.
public struct RegionPredicate: Sendable, Equatable {
    /// The text as written in the task.
    public var text: String
    public var expression: ProgramExpression

    public init(text: String, expression: ProgramExpression) {
        self.text = text
        self.expression = expression
    }

    /// Whether the input (the variables' values, in order) satisfies the condition.
    /// - Complexity: O(expression size)
    public func admits(_ values: [Int]) -> Bool { expression.evaluate(values) != 0 }
}

/// A task description (`formats/task.md`): what the inputs mean and how the network sees them.
public struct TaskDescription: Sendable {
    public var name: String
    public var variables: [TaskVariable]
    public var encoder: TaskEncoder
    public var decoder: TaskDecoder
    /// The output alphabet: every value the decoder can produce.
    public var outputValues: [Int]
    /// Region name → how it is chosen. Known names: `trained`, `probe`, `held_out`, `out_of_range`.
    public var regions: [String: RegionSpec]
    /// Constants offered to the program search, beyond its defaults.
    public var constants: [Int]
    /// The base of digit features and of the program search's digit operations.
    public var digitBase: Int
    /// Feature names to fit surrogates on; empty = the defaults (`TaskFeatures.defaultNames`).
    public var features: [String]
    /// The directory relative paths in the task resolve against.
    public var baseDirectory: String
    /// The right answer as a program over the variables, when the task knows it (for error agreement).
    public var truth: ProgramExpression? = nil

    /// Whether the task asks a language model through a prompt (`prompt` encoder, `generate` or `next_token` decoder).
    public var isPromptTask: Bool {
        if case .prompt = encoder { true } else { false }
    }

    /// The number of inputs in the domain (the product of the variables' ranges).
    public var domainSize: Int { variables.reduce(1) { $0 * $1.count } }

    /// The domain index of an input: mixed radix, the last variable fastest.
    /// - Complexity: O(variables)
    public func index(of values: [Int]) -> Int {
        var index = 0
        for (variable, value) in zip(variables, values) { index = index * variable.count + (value - variable.min) }
        return index
    }

    /// The input at a domain index.
    /// - Complexity: O(variables)
    public func values(at index: Int) -> [Int] {
        var values = [Int](repeating: 0, count: variables.count)
        values.withUnsafeMutableBufferPointer { writeValues(at: index, into: $0, offset: 0) }
        return values
    }

    /// Writes the input at a domain index into `buffer[offset..<offset + variables]`, allocating nothing.
    /// - Complexity: O(variables)
    public func writeValues(at index: Int, into buffer: UnsafeMutableBufferPointer<Int>, offset: Int) {
        var rest = index
        for v in stride(from: variables.count - 1, through: 0, by: -1) {
            buffer[offset + v] = variables[v].min + rest % variables[v].count
            rest /= variables[v].count
        }
    }

    /// The largest domain this Retort enumerates; bigger domains must be sampled.
    public static let enumerationLimit = 50_000_000

    /// Reads a task description file.
    public static func read(_ path: String) throws(DistillationError) -> TaskDescription {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidTask(path: "", reason: "cannot read \(path)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try parse([UInt8](data), baseDirectory: directory.isEmpty ? "." : directory)
    }

    /// Parses a task description document.
    public static func parse(_ bytes: [UInt8], baseDirectory: String = ".") throws(DistillationError) -> TaskDescription {
        try taskErrors { () throws(NetworkError) -> TaskDescription in
            try TaskParser(baseDirectory: baseDirectory).parse(JSONValue.parseDescription(bytes, what: "the task description"))
        }
    }
}

/// Runs `body`, turning the shared JSON reader's description errors into task errors.
func taskErrors<T>(_ body: () throws(NetworkError) -> T) throws(DistillationError) -> T {
    do {
        return try body()
    } catch {
        if case .invalidDescription(let path, let reason) = error { throw .invalidTask(path: path, reason: reason) }
        throw .network(error)
    }
}

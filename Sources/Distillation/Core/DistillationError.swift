import Foundation
import Network
import WeightFiles

/// Why a task could not be read, probed or fitted; every case names what and where.
public enum DistillationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The task description breaks a rule of `formats/task.md`; `path` is a JSON path like `regions.probe.sample`.
    case invalidTask(path: String, reason: String)
    /// The encoder produces inputs the network cannot take.
    case encoderMismatch(reason: String)
    /// A prompt (with the tokens to generate) does not fit the language model's context; `prompt` is its text.
    case promptTooLong(prompt: String, tokens: Int, newTokens: Int, context: Int)
    /// A region holds no inputs.
    case emptyRegion(name: String)
    /// Two regions that must be disjoint share inputs.
    case overlappingRegions(first: String, second: String, count: Int, example: [Int])
    /// A feature name the task cannot compute.
    case unknownFeature(name: String, known: [String])
    /// A probe or surrogate file that does not fit the task.
    case mismatch(path: String, reason: String)
    /// A shard of a sharded run is malformed (`Shard`), or the parts of one do not fit together (`ProbeShard.merge`).
    case invalidShard(reason: String)
    /// A fitting option (`Distiller.Options`) outside its range; `name` is the option's name.
    case invalidOption(name: String, reason: String)
    /// The network failed.
    case network(NetworkError)
    /// A file could not be read or written.
    case weightFile(WeightFileError)

    public var description: String {
        switch self {
        case .invalidTask(let path, let reason):
            path.isEmpty ? "invalid task: \(reason)" : "invalid task at \(path): \(reason)"
        case .encoderMismatch(let reason): "the task's encoder does not fit the network: \(reason)"
        case .promptTooLong(let prompt, let tokens, let newTokens, let context):
            "the prompt \(Self.quoted(prompt)) is \(tokens) tokens\(newTokens > 0 ? " (+\(newTokens) to generate)" : ""), "
                + "more than the model's context of \(context)"
        case .emptyRegion(let name): "region \"\(name)\" holds no inputs"
        case .overlappingRegions(let first, let second, let count, let example):
            "regions \"\(first)\" and \"\(second)\" share \(count) input\(count == 1 ? "" : "s"), e.g. \(example)"
        case .unknownFeature(let name, let known):
            "unknown feature \"\(name)\" (known: \(known.prefix(12).joined(separator: ", "))\(known.count > 12 ? ", …" : ""))"
        case .mismatch(let path, let reason): "\(path): \(reason)"
        case .invalidShard(let reason): reason
        case .invalidOption(let name, let reason): "invalid option \(name): \(reason)"
        case .network(let error): "\(error)"
        case .weightFile(let error): "\(error)"
        }
    }

    /// A prompt in quotes with newlines shown as \n, its start elided past 100 characters (its end tells prompts apart).
    static func quoted(_ prompt: String) -> String {
        let escaped = prompt.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\"", with: "\\\"")
        return "\"" + (escaped.count > 100 ? "…" + escaped.suffix(99) : escaped) + "\""
    }
}

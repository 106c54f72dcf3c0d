import Network
import WeightFiles

/// Why a task could not be read, probed or fitted; every case names what and where.
public enum DistillationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The task description breaks a rule of `formats/task.md`; `path` is a JSON path like `regions.probe.sample`.
    case invalidTask(path: String, reason: String)
    /// The encoder produces inputs the network cannot take.
    case encoderMismatch(reason: String)
    /// A region holds no inputs.
    case emptyRegion(name: String)
    /// Two regions that must be disjoint share inputs.
    case overlappingRegions(first: String, second: String, count: Int, example: [Int])
    /// A feature name the task cannot compute.
    case unknownFeature(name: String, known: [String])
    /// A probe or surrogate file that does not fit the task.
    case mismatch(path: String, reason: String)
    /// The network failed.
    case network(NetworkError)
    /// A file could not be read or written.
    case weightFile(WeightFileError)

    public var description: String {
        switch self {
        case .invalidTask(let path, let reason):
            path.isEmpty ? "invalid task: \(reason)" : "invalid task at \(path): \(reason)"
        case .encoderMismatch(let reason): "the task's encoder does not fit the network: \(reason)"
        case .emptyRegion(let name): "region \"\(name)\" holds no inputs"
        case .overlappingRegions(let first, let second, let count, let example):
            "regions \"\(first)\" and \"\(second)\" share \(count) input\(count == 1 ? "" : "s"), e.g. \(example)"
        case .unknownFeature(let name, let known):
            "unknown feature \"\(name)\" (known: \(known.prefix(12).joined(separator: ", "))\(known.count > 12 ? ", …" : ""))"
        case .mismatch(let path, let reason): "\(path): \(reason)"
        case .network(let error): "\(error)"
        case .weightFile(let error): "\(error)"
        }
    }
}

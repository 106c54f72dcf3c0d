import Distillation
import Network

/// Why a representation test could not run; every case names the offending surrogate, variable, hook or input.
public enum RepresentationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The surrogate family has no intermediate variables (lookup tables).
    case noVariables(family: String)
    /// A surrogate feature is not a function of the task variables (it reads hidden units), so intervening on
    /// the variable has no meaning at the level of the task.
    case unsupportedFeature(name: String, reason: String)
    /// A hook (and position) the network cannot align at.
    case invalidSite(hook: String, reason: String)
    /// The input set is unusable (empty, or wider than the task).
    case invalidInputs(reason: String)
    /// The options are inconsistent.
    case invalidOptions(reason: String)
    /// The network failed.
    case network(NetworkError)
    /// The task's encoder or decoder failed.
    case task(DistillationError)

    /// One line for the CLI.
    public var description: String {
        switch self {
        case .noVariables(let family): "a \(family) surrogate has no intermediate variables to align"
        case .unsupportedFeature(let name, let reason): "surrogate feature \"\(name)\" is unsupported: \(reason)"
        case .invalidSite(let hook, let reason): "cannot align at \(hook): \(reason)"
        case .invalidInputs(let reason): "invalid inputs: \(reason)"
        case .invalidOptions(let reason): "invalid options: \(reason)"
        case .network(let error): "\(error)"
        case .task(let error): "\(error)"
        }
    }
}

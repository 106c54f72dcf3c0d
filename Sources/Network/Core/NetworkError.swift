import WeightFiles

/// Why a network could not be described, loaded or run; every case names what and where.
public enum NetworkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The description is not valid JSON or breaks a rule of `formats/network.md`; `path` is a JSON path like `layers[2].weight`.
    case invalidDescription(path: String, reason: String)
    /// A JSON file other than a network description (`kind`: "intervention file") breaks its format; `path` is a
    /// JSON path like `[0].kind`.
    case invalidFile(kind: String, path: String, reason: String)
    /// An op name the description format does not define.
    case unknownOp(name: String, path: String)
    /// A tensor the description names is not in the weight file.
    case missingTensor(name: String, expectedShape: String)
    /// A tensor has a shape other than the one the description implies.
    case wrongShape(name: String, shape: [Int], expectedShape: String)
    /// A tensor is not a floating-point type.
    case notFloat(name: String, dtype: String)
    /// A tensor's values break a rule of the network (e.g. a RoPE frequency divisor of 0).
    case invalidTensorValue(name: String, reason: String)
    /// A layer's input width differs from the width flowing into it.
    case shapesDoNotChain(layer: String, expectedInput: Int, actualInput: Int)
    /// The weight file could not be read.
    case weightFile(WeightFileError)
    /// The inputs do not fit the network.
    case invalidInput(reason: String)
    /// A hook name the network does not have.
    case unknownHook(name: String, suggestions: [String])
    /// An intervention that cannot apply to its hook.
    case invalidIntervention(hook: String, reason: String)
    /// A tokenizer that cannot be read or is not a byte-level BPE this package implements; `reason` names the key and value.
    case unsupportedTokenizer(reason: String)

    /// One line for the CLI.
    public var description: String {
        switch self {
        case .invalidDescription(let path, let reason):
            path.isEmpty ? "invalid network description: \(reason)" : "invalid network description at \(path): \(reason)"
        case .invalidFile(let kind, let path, let reason):
            path.isEmpty ? "invalid \(kind): \(reason)" : "invalid \(kind) at \(path): \(reason)"
        case .unknownOp(let name, let path):
            "unknown op \"\(name)\" at \(path) (known: \(OpKind.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .missingTensor(let name, let expected):
            "tensor \"\(name)\" is missing from the weight file (expected shape \(expected))"
        case .wrongShape(let name, let shape, let expected):
            "tensor \"\(name)\" has shape \(shape), expected \(expected)"
        case .invalidTensorValue(let name, let reason):
            "tensor \"\(name)\": \(reason)"
        case .notFloat(let name, let dtype):
            "tensor \"\(name)\" has dtype \(dtype); network weights must be a float type"
        case .shapesDoNotChain(let layer, let expected, let actual):
            "\(layer) takes inputs of width \(actual) but receives width \(expected)"
        case .weightFile(let error):
            "\(error)"
        case .invalidInput(let reason):
            "invalid input: \(reason)"
        case .unknownHook(let name, let suggestions):
            suggestions.isEmpty
                ? "unknown hook \"\(name)\""
                : "unknown hook \"\(name)\" (did you mean \(suggestions.map { "\"\($0)\"" }.joined(separator: ", "))?)"
        case .invalidIntervention(let hook, let reason):
            "invalid intervention at \(hook): \(reason)"
        case .unsupportedTokenizer(let reason):
            "unsupported tokenizer: \(reason)"
        }
    }
}

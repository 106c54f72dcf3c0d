import Foundation
import WeightFiles

/// Builds runnable networks from weight files and descriptions.
public enum NetworkLoader {
    /// Loads `description` from `file`, converting its weights to Float32 once.
    /// - Parameters:
    ///   - threads: threads for the matrix multiplies (default: every core).
    ///   - path: where `file` was opened from; a Hugging Face language model reads `config.json` beside it.
    public static func load(
        file: any WeightFile, description: NetworkDescription, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
        path: String? = nil
    ) throws(NetworkError) -> any NeuralNetwork {
        switch description {
        case .mlp(let mlp):
            return try MLPNetwork(file: file, description: mlp, threads: threads)
        case .transformer(let source):
            return try TransformerNetwork(file: file, config: try config(source, file: file), threads: threads)
        case .languageModel(let lm):
            let config = try LanguageModels.config(for: file, at: path, inline: lm.config, architecture: lm.architecture)
            return try LanguageModels.load(file: file, config: config, threads: threads, arithmetic: lm.arithmetic)
        }
    }

    /// Opens the weights at `path` (a file or a Hugging Face folder) and loads `description`;
    /// language models read `config.json` beside the weights when the description has no configuration.
    public static func load(
        path: String, description: NetworkDescription, threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws(NetworkError) -> any NeuralNetwork {
        let file: any WeightFile
        do { file = try WeightFiles.open(path) } catch { throw .weightFile(error) }
        return try load(file: file, description: description, threads: threads, path: path)
    }

    /// The transformer configuration `source` names: inline, or from the file's metadata.
    public static func config(_ source: TransformerConfigSource, file: any WeightFile) throws(NetworkError) -> TransformerConfig {
        switch source {
        case .inline(let config):
            return config
        case .metadata:
            guard let (_, config) = try metadataConfig(in: file) else {
                throw .invalidDescription(
                    path: "config",
                    reason:
                        "the weight file's metadata has no \(NetworkDescription.metadataConfigKeys.map { "\"\($0)\"" }.joined(separator: " or ")) entry; give the configuration with --network CONFIG.json"
                )
            }
            return config
        }
    }

    /// The TransformerLens configuration in `file`'s metadata, with the key it was found under
    /// (`NetworkDescription.metadataConfigKeys`, first match); nil when the metadata has none of them.
    /// - Throws: `invalidDescription` at `__metadata__.KEY` when the entry is not a configuration Retort runs.
    public static func metadataConfig(in file: any WeightFile) throws(NetworkError) -> (key: String, config: TransformerConfig)? {
        for key in NetworkDescription.metadataConfigKeys {
            guard let text = file.metadata?[key] else { continue }
            return (key, try TransformerConfig.parse(text, source: "__metadata__.\(key)"))
        }
        return nil
    }

    /// Reads a description: a preset name (`mlp`, `transformer`, `llama`, `qwen2`, `gpt2`, `auto`) or a path to a JSON document.
    public static func description(
        _ argument: String, activation: OpKind = .relu, outputActivation: OpKind = .identity
    ) throws(NetworkError) -> NetworkDescription {
        if let preset = NetworkDescription.preset(named: argument, activation: activation, outputActivation: outputActivation) {
            return preset
        }
        guard let data = FileManager.default.contents(atPath: argument) else {
            throw .invalidDescription(path: "", reason: "cannot read \(argument) (not a file, nor a preset: mlp, transformer, llama, qwen2, gpt2, auto)")
        }
        return try NetworkDescription.parse([UInt8](data))
    }
}

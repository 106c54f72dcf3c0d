import Foundation
import WeightFiles

/// Opening language models by path, with the architecture detected from the file.
public enum LanguageModels {
    /// Opens the weights at `path` (a GGUF file, a Hugging Face folder, or a weight file with
    /// `config.json` beside it) and reads the configuration: from the GGUF metadata, else from
    /// `config.json` (its `model_type`, or the tensor names when it has none).
    /// - Parameter architecture: refuse a file of another architecture (nil: any).
    public static func open(
        _ path: String, architecture: LanguageModelConfig.Architecture? = nil
    ) throws(NetworkError) -> (file: any WeightFile, config: LanguageModelConfig) {
        let file: any WeightFile
        do { file = try WeightFiles.open(path) } catch { throw .weightFile(error) }
        let config = try self.config(for: file, at: path, inline: nil, architecture: architecture)
        return (file, config)
    }

    /// Loads the language model at `path` as a `LlamaNetwork` or `GPT2Network`, whichever it is, with the
    /// tokenizer stored with its weights attached when there is one and it can be read (`storedTokenizer`
    /// says why not); the model runs on token ids either way.
    /// - Throws: the loaders' errors.
    /// - Parameter arithmetic: how products by block-quantized GGUF weights (Q4_0 … Q8_0) are
    ///   computed; Float32, F16 and BF16 weights, and the K-quants (dequantized at load), are
    ///   multiplied in Float32 either way.
    public static func load(
        _ path: String, architecture: LanguageModelConfig.Architecture? = nil,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount, arithmetic: QuantizedArithmetic = .int16
    ) throws(NetworkError) -> any LanguageModel {
        let (file, config) = try open(path, architecture: architecture)
        let model = try load(file: file, config: config, threads: threads, arithmetic: arithmetic)
        guard let tokenizer = try? storedTokenizer(file: file, path: path) else { return model }
        return attaching(tokenizer, to: model)
    }

    /// The tokenizer stored with a model's weights: a GGUF file's `tokenizer.ggml.*` metadata, else a
    /// `tokenizer.json` beside `path` (in the model folder, or next to the weight file); nil when there is none.
    /// - Throws: `unsupportedTokenizer` (or a parse error) when the stored tokenizer cannot be read.
    public static func storedTokenizer(file: any WeightFile, path: String?) throws(NetworkError) -> ByteLevelBPETokenizer? {
        if let gguf = file as? GGUFFile { return try ByteLevelBPETokenizer(gguf: gguf) }
        guard let path else { return nil }
        var isDirectory: ObjCBool = false
        let folder =
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            ? path : (path as NSString).deletingLastPathComponent
        let beside = (folder.isEmpty ? "." : folder) + "/tokenizer.json"
        guard FileManager.default.fileExists(atPath: beside) else { return nil }
        return try ByteLevelBPETokenizer(tokenizerJSON: beside)
    }

    /// `model` with `tokenizer` attached, when it is a language model (other networks are returned as they are).
    public static func attaching(_ tokenizer: any Tokenizer, to model: any NeuralNetwork) -> any NeuralNetwork {
        if var llama = model as? LlamaNetwork {
            llama.tokenizer = tokenizer
            return llama
        }
        if var gpt2 = model as? GPT2Network {
            gpt2.tokenizer = tokenizer
            return gpt2
        }
        return model
    }

    /// `attaching(_:to:)` for a language model.
    public static func attaching(_ tokenizer: any Tokenizer, to model: any LanguageModel) -> any LanguageModel {
        attaching(tokenizer, to: model as any NeuralNetwork) as! any LanguageModel
    }

    /// A `LlamaNetwork` or `GPT2Network` for `config`'s architecture.
    public static func load(
        file: any WeightFile, config: LanguageModelConfig, threads: Int, arithmetic: QuantizedArithmetic = .int16
    ) throws(NetworkError) -> any LanguageModel {
        if config.architecture == .gpt2 {
            var model = try GPT2Network(file: file, config: config, threads: threads)
            model.arithmetic = arithmetic
            return model
        }
        var model = try LlamaNetwork(file: file, config: config, threads: threads)
        model.arithmetic = arithmetic
        return model
    }

    /// The architecture the tensor names suggest: GGUF `general.architecture`, `embed_tokens` (Llama), `wte` (GPT-2).
    public static func detectArchitecture(_ file: any WeightFile) -> LanguageModelConfig.Architecture? {
        if let gguf = file as? GGUFFile, let name = gguf.value(forKey: "general.architecture")?.stringValue {
            return LanguageModelConfig.Architecture(rawValue: name)
        }
        if file.tensors.contains(where: { $0.name.hasSuffix("embed_tokens.weight") }) {
            return file.tensors.contains(where: { $0.name.hasSuffix("q_proj.bias") }) ? .qwen2 : .llama
        }
        if file.tensors.contains(where: { $0.name == "wte.weight" || $0.name.hasSuffix(".wte.weight") }) { return .gpt2 }
        return nil
    }

    /// The configuration of `file` (opened from `path`, which may be nil for in-memory files):
    /// `inline` if given, else GGUF metadata, else `config.json` beside `path`.
    static func config(
        for file: any WeightFile, at path: String?, inline: LanguageModelConfig?,
        architecture: LanguageModelConfig.Architecture?
    ) throws(NetworkError) -> LanguageModelConfig {
        let config: LanguageModelConfig
        if let inline {
            config = inline
        } else if let gguf = file as? GGUFFile {
            config = try LanguageModelConfig(gguf: gguf)
        } else {
            guard let path else {
                throw .invalidDescription(
                    path: "config",
                    reason: "a Hugging Face language model needs its config.json: load it by path, or give the configuration")
            }
            var isDirectory: ObjCBool = false
            let folder =
                FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
                ? path : (path as NSString).deletingLastPathComponent
            let configPath = (folder.isEmpty ? "." : folder) + "/config.json"
            guard let data = FileManager.default.contents(atPath: configPath) else {
                throw .invalidDescription(
                    path: "config", reason: "no \(configPath): a Hugging Face language model needs the config.json beside its weights")
            }
            config = try LanguageModelConfig.parse(
                huggingFace: [UInt8](data), source: configPath, architecture: detectArchitecture(file))
        }
        if let architecture, architecture != config.architecture,
            !(architecture.isLlamaFamily && config.architecture.isLlamaFamily)
        {
            throw .invalidDescription(
                path: "preset", reason: "the file holds a \(config.architecture.rawValue) model, not \(architecture.rawValue)")
        }
        return config
    }
}

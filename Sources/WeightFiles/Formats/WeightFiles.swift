/// Opening any supported weight file by path.
public enum WeightFiles {
    /// Options for opening files.
    public struct Options: Sendable {
        /// The most bytes a compressed file or entry may decompress to.
        public var decompressionLimit: Int = Inflater.defaultLimit
        public init() {}
    }

    /// The files a Hugging Face model folder holds its weights in, in the order `open` looks for them.
    public static let folderWeightFiles = [
        "model.safetensors.index.json", "model.safetensors", "pytorch_model.bin.index.json", "pytorch_model.bin",
    ]

    /// Opens the weight file at `path`, detecting its format from its magic bytes.
    ///
    /// `path` may also be a directory (a Hugging Face model folder): the first of `folderWeightFiles`
    /// it holds is opened.
    /// - Throws: the reader's error, `unsupportedFormat` for recognised formats that
    ///   cannot be read (TorchScript archives), `unknownFormat` otherwise.
    public static func open(_ path: String, options: Options = Options()) throws(WeightFileError) -> any WeightFile {
        var path = path
        if isDirectory(path) {
            let folder = path.hasSuffix("/") ? path : path + "/"
            guard let name = folderWeightFiles.first(where: { fileExists(folder + $0) }) else {
                throw .unknownFormat(
                    reason: "\(path) is a directory without any of \(folderWeightFiles.joined(separator: ", "))")
            }
            path = folder + name
        }
        let prefix = try ByteStorage.readPrefix(path: path, limit: FormatDetector.prefixLength)
        let size = try fileSize(path)
        guard let format = FormatDetector.detect(prefix: prefix, fileSize: size, path: path) else {
            throw .unknownFormat(reason: "\(path): the first bytes match no supported format and the extension names none")
        }
        return try open(path, as: format, options: options)
    }

    /// Opens `path` as `format`, skipping detection.
    public static func open(_ path: String, as format: WeightFileFormat, options: Options = Options()) throws(WeightFileError)
        -> any WeightFile
    {
        switch format {
        case .safetensors:
            return try SafetensorsFile(path: path)
        case .shardedSafetensors:
            // `pytorch_model.bin.index.json` has the same layout with PyTorch shards.
            let name = path.lowercased()
            if name.hasSuffix(".bin.index.json") || name.hasSuffix(".pt.index.json") || name.hasSuffix(".pth.index.json") {
                return try open(path, as: .shardedPyTorch, options: options)
            }
            return try ShardedSafetensors(indexPath: path)
        case .shardedPyTorch:
            return try ShardedCheckpoint(indexPath: path, format: .shardedPyTorch) { (shard) throws(WeightFileError) in
                try PyTorchCheckpoint(path: shard, limit: options.decompressionLimit)
            }
        case .gzipSafetensors, .zlibSafetensors:
            // Read as a stream: opening inflates the header only (CompressedSafetensorsFile).
            return try CompressedSafetensorsFile(
                path: path, wrapper: format == .gzipSafetensors ? .gzip : .zlib, limit: options.decompressionLimit)
        case .npy:
            return try NPYFile(path: path)
        case .npz:
            // torch.save writes a zip too: a `.pkl` entry (`<root>/data.pkl`; TorchScript's
            // `constants.pkl`) gives it away.
            let storage = try ByteStorage.map(path: path)
            let archive = try ZipArchive(bytes: storage.bytes, limit: options.decompressionLimit)
            if archive.entries.contains(where: { $0.name.hasSuffix(".pkl") }) {
                return try PyTorchCheckpoint(storage: storage, limit: options.decompressionLimit)
            }
            return try NPZFile(storage: storage, limit: options.decompressionLimit)
        case .pytorchZip, .pickle:
            return try PyTorchCheckpoint(path: path, limit: options.decompressionLimit)
        case .gguf:
            return try GGUFFile(path: path)
        case .stz:
            return try STZFile(path: path)
        }
    }
}

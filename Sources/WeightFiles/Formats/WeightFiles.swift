/// Opening any supported weight file by path.
public enum WeightFiles {
    /// Options for opening files.
    public struct Options: Sendable {
        /// The most bytes a compressed file or entry may decompress to.
        public var decompressionLimit: Int = Inflater.defaultLimit
        public init() {}
    }

    /// Opens the weight file at `path`, detecting its format from its magic bytes.
    ///
    /// `path` may also be a directory holding `model.safetensors.index.json`.
    /// - Throws: the reader's error, `unsupportedFormat` for recognised formats that
    ///   cannot be read yet (PyTorch checkpoints, pickles, GGUF), `unknownFormat` otherwise.
    public static func open(_ path: String, options: Options = Options()) throws(WeightFileError) -> any WeightFile {
        var path = path
        if isDirectory(path) {
            let index = (path.hasSuffix("/") ? path : path + "/") + "model.safetensors.index.json"
            guard fileExists(index) else {
                throw .unknownFormat(reason: "\(path) is a directory without a model.safetensors.index.json")
            }
            path = index
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
            return try ShardedSafetensors(indexPath: path)
        case .gzipSafetensors, .zlibSafetensors:
            let compressed = try ByteStorage.map(path: path)
            let wrapper: Inflater.Wrapper = format == .gzipSafetensors ? .gzip : .zlib
            var hint = 0
            if wrapper == .gzip, compressed.count >= 18 {
                // ISIZE, the size modulo 2^32: only a first allocation size, never trusted.
                hint = Int(compressed.bytes.loadUnaligned(fromByteOffset: compressed.count - 4, as: UInt32.self).littleEndian)
            }
            let inflated = try Inflater.inflate(
                compressed.bytes, wrapper: wrapper, sizeHint: hint, limit: options.decompressionLimit, entry: path)
            return try SafetensorsFile(storage: inflated, format: format)
        case .npy:
            return try NPYFile(path: path)
        case .npz:
            // torch.save writes a zip too: `<root>/data.pkl` gives it away.
            let storage = try ByteStorage.map(path: path)
            let archive = try ZipArchive(bytes: storage.bytes, limit: options.decompressionLimit)
            if archive.entries.contains(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) {
                throw .unsupportedFormat(detected: "PyTorch checkpoint")
            }
            return try NPZFile(storage: storage, limit: options.decompressionLimit)
        case .pytorchZip:
            throw .unsupportedFormat(detected: "PyTorch checkpoint")
        case .pickle:
            throw .unsupportedFormat(detected: "pickle file (PyTorch legacy checkpoint?)")
        case .gguf:
            throw .unsupportedFormat(detected: "GGUF file")
        case .stz:
            return try STZFile(path: path)
        }
    }
}

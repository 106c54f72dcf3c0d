/// A checkpoint split into several files by a Hugging Face index
/// (`model.safetensors.index.json`, `pytorch_model.bin.index.json`:
/// `{"metadata": {...}, "weight_map": {tensor: file}}`), read as one logical file.
///
/// The shards may be any `WeightFile`, opened by the closure given. Opening checks the whole
/// index against the shards: every shard named exists and is valid, every tensor is in the shard
/// the index names, no tensor is in two shards, and every shard tensor is listed. Shard names must
/// be plain file names in the index's directory (no `/`, no `..`), so an index cannot reach
/// outside its folder.
public struct ShardedCheckpoint: WeightFile {
    public let format: WeightFileFormat
    /// The shards' file names, in first-use order of the weight map.
    public let shardNames: [String]
    /// The open shards, parallel to `shardNames`.
    public let shards: [any WeightFile]
    /// The index's `metadata.total_size`, when present.
    public let indexTotalSize: Int?
    public let tensors: [TensorInfo]
    private let location: [String: (shard: Int, info: TensorInfo)]

    /// The first shard's metadata (shards written together carry the same).
    public var metadata: Metadata? { shards.first?.metadata }

    /// Opens the index at `indexPath` and every shard it names with `open` (given the shard's path).
    /// - Parameter format: the format the checkpoint reports.
    /// - Throws: `invalidIndex`, `shardMissing` (a shard that cannot be opened for reading),
    ///   `inShard` (a shard's own error), `shardDuplicateTensor`, `shardTensorAbsent`.
    /// - Complexity: O(index + the shards' opening costs).
    public init(
        indexPath: String, format: WeightFileFormat = .shardedSafetensors,
        open: (String) throws(WeightFileError) -> any WeightFile
    ) throws(WeightFileError) {
        let storage = try ByteStorage.map(path: indexPath)
        if let bad = firstInvalidUTF8Offset(storage.bytes) { throw .invalidIndex(reason: "invalid UTF-8 at byte \(bad)") }
        let root: JSONValue
        do { root = try JSONParser.parse(storage.bytes) } catch {
            throw .invalidIndex(reason: "\(error.reason) at byte \(error.offset)")
        }
        guard case .object(let members) = root else {
            throw .invalidIndex(reason: "the index is \(root.kindDescription), not an object")
        }
        guard let mapMember = members.first(where: { $0.key == "weight_map" }), case .object(let entries) = mapMember.value else {
            throw .invalidIndex(reason: "no `weight_map` object")
        }
        var totalSize: Int?
        if let meta = members.first(where: { $0.key == "metadata" }), case .object(let fields) = meta.value,
            let size = fields.first(where: { $0.key == "total_size" })?.value.uint64
        {
            totalSize = Int(clamping: size)
        }
        let directory = indexPath.lastIndex(of: "/").map { String(indexPath[...$0]) } ?? ""

        var shardNames: [String] = []
        var shardIndex: [String: Int] = [:]
        var wanted: [(tensor: String, shard: Int)] = []
        var listed = Set<String>()
        for entry in entries {
            guard case .string(let file) = entry.value else {
                throw .invalidIndex(reason: "weight_map entry `\(entry.key)` is \(entry.value.kindDescription), not a file name")
            }
            guard !file.isEmpty, !file.contains("/"), file != ".", file != ".." else {
                throw .invalidIndex(reason: "weight_map entry `\(entry.key)` names `\(file)`, which is not a plain file name")
            }
            guard listed.insert(entry.key).inserted else { throw .invalidIndex(reason: "weight_map lists `\(entry.key)` twice") }
            let index: Int
            if let known = shardIndex[file] {
                index = known
            } else {
                index = shardNames.count
                shardIndex[file] = index
                shardNames.append(file)
            }
            wanted.append((entry.key, index))
        }

        var shards: [any WeightFile] = []
        for (i, name) in shardNames.enumerated() {
            let path = directory + name
            do {
                shards.append(try open(path))
            } catch {
                if case .io(_, "open", _) = error {
                    let tensor = wanted.first { $0.shard == i }!.tensor
                    throw .shardMissing(file: name, tensor: tensor)
                }
                throw .inShard(file: name, error: error)
            }
        }

        // Every tensor stored anywhere, to catch duplicates and unlisted tensors.
        var holders: [String: [Int]] = [:]
        for (i, shard) in shards.enumerated() {
            for tensor in shard.tensors { holders[tensor.name, default: []].append(i) }
        }
        for (name, where_) in holders.sorted(by: { $0.key < $1.key }) {
            if where_.count > 1 { throw .shardDuplicateTensor(tensor: name, files: where_.map { shardNames[$0] }) }
            if !listed.contains(name) {
                throw .invalidIndex(reason: "shard \(shardNames[where_[0]]) holds `\(name)`, which weight_map does not list")
            }
        }
        var location: [String: (Int, TensorInfo)] = [:]
        var tensors: [TensorInfo] = []
        for (i, shard) in shards.enumerated() {
            for var info in shard.tensors {
                info.file = shardNames[i]
                location[info.name] = (i, info)
            }
        }
        for (tensor, shard) in wanted {
            guard let found = location[tensor], found.0 == shard else {
                throw .shardTensorAbsent(tensor: tensor, file: shardNames[shard])
            }
        }
        for shard in shards {
            for info in shard.tensors { tensors.append(location[info.name]!.1) }
        }
        self.format = format
        self.shardNames = shardNames
        self.shards = shards
        self.indexTotalSize = totalSize
        self.tensors = tensors
        self.location = location
    }

    public func tensor(named name: String) throws(WeightFileError) -> TensorView {
        guard let (shard, info) = location[name] else { throw .tensorNotFound(name: name) }
        let view = try shards[shard].tensor(named: name)
        return TensorView(info: info, storage: view.storage, byteRange: view.byteRange)
    }

    public func info(named name: String) -> TensorInfo? { location[name]?.info }

    /// Paths of every file the checkpoint consists of (index first), for overwrite checks.
    public static func filePaths(indexPath: String, shardNames: [String]) -> [String] {
        let directory = indexPath.lastIndex(of: "/").map { String(indexPath[...$0]) } ?? ""
        return [indexPath] + shardNames.map { directory + $0 }
    }
}

/// A checkpoint split into several safetensors files by a `model.safetensors.index.json`
/// (`{"metadata": {...}, "weight_map": {tensor: file}}`), read as one logical file:
/// a `ShardedCheckpoint` whose shards are `SafetensorsFile`s, with all of its checks.
public struct ShardedSafetensors: WeightFile {
    public var format: WeightFileFormat { .shardedSafetensors }
    /// The general reader underneath.
    public let checkpoint: ShardedCheckpoint
    /// The shards' file names, in first-use order of the weight map.
    public var shardNames: [String] { checkpoint.shardNames }
    /// The open shards, parallel to `shardNames`.
    public let shards: [SafetensorsFile]
    /// The index's `metadata.total_size`, when present.
    public var indexTotalSize: Int? { checkpoint.indexTotalSize }
    public var tensors: [TensorInfo] { checkpoint.tensors }

    /// The first shard's `__metadata__` (shards written together carry the same).
    public var metadata: Metadata? { shards.first?.metadata }

    /// Opens the index at `indexPath` and every shard it names.
    public init(indexPath: String) throws(WeightFileError) {
        checkpoint = try ShardedCheckpoint(indexPath: indexPath, format: .shardedSafetensors) { (path) throws(WeightFileError) in
            try SafetensorsFile(path: path)
        }
        shards = checkpoint.shards.map { $0 as! SafetensorsFile }
    }

    public func tensor(named name: String) throws(WeightFileError) -> TensorView { try checkpoint.tensor(named: name) }

    public func info(named name: String) -> TensorInfo? { checkpoint.info(named: name) }

    /// Paths of every file the checkpoint consists of (index first), for overwrite checks.
    public static func filePaths(indexPath: String, shardNames: [String]) -> [String] {
        ShardedCheckpoint.filePaths(indexPath: indexPath, shardNames: shardNames)
    }
}

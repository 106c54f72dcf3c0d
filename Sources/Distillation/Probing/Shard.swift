import Foundation

/// One of N machines' share of a job: shard `index` of `count`, counted from 0.
///
/// Shard I of N takes the contiguous slice `[total·I/N, total·(I+1)/N)` of a list of `total` items, so the N
/// slices cover the list exactly once, in order, and differ in length by at most one.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    /// A shard; nil unless `0 <= index < count`.
    public init?(index: Int, count: Int) {
        guard count >= 1, index >= 0, index < count else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `I/N` (e.g. `2/4`, the third of four).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else { return nil }
        self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }

    /// The items of a list of `total` this shard takes.
    /// - Complexity: O(1)
    public func slice(of total: Int) -> Range<Int> {
        // In 128-bit arithmetic: total·index overflows 64 bits only for absurd totals, but costs nothing to avoid.
        let start = Int(Int128(total) * Int128(index) / Int128(count))
        let end = Int(Int128(total) * Int128(index + 1) / Int128(count))
        return start..<end
    }

    /// The shard a job array's environment names, and a sentence saying where it came from; nil when no
    /// job array variable is set.
    ///
    /// - Slurm (`sbatch --array`): I = (`SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN`) / `SLURM_ARRAY_TASK_STEP`
    ///   (a missing minimum counts as 0, a missing step as 1), N = `SLURM_ARRAY_TASK_COUNT`. So `--array=0-3`
    ///   and `--array=1-4` both give shards 0/4 … 3/4. Arrays with gaps (`--array=1,5,9`) are refused:
    ///   their task count does not fit the ids.
    /// - Kubernetes (an Indexed Job): I = `JOB_COMPLETION_INDEX`, N = `count`, else `RETORT_SHARD_COUNT`
    ///   (Kubernetes does not tell a pod how many completions the job has).
    /// - Throws: `invalidShard` naming the variable that is malformed or inconsistent.
    public static func fromEnvironment(_ environment: [String: String], count: Int? = nil) throws(DistillationError)
        -> (shard: Shard, source: String)?
    {
        func integer(_ name: String) throws(DistillationError) -> Int? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw .invalidShard(reason: "\(name)=\(text) is not an integer")
            }
            return value
        }
        if let id = try integer("SLURM_ARRAY_TASK_ID") {
            guard let total = try integer("SLURM_ARRAY_TASK_COUNT") else {
                throw .invalidShard(reason: "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")
            }
            let minimum = try integer("SLURM_ARRAY_TASK_MIN") ?? 0
            let step = try integer("SLURM_ARRAY_TASK_STEP") ?? 1
            if step >= 1, let maximum = try integer("SLURM_ARRAY_TASK_MAX"), (maximum - minimum) / step + 1 != total {
                throw .invalidShard(
                    reason: "the array's ids \(minimum)…\(maximum) (step \(step)) are not its \(total) tasks: "
                        + "submit a contiguous array such as --array=0-\(total - 1)")
            }
            guard step >= 1, id >= minimum, (id - minimum) % step == 0,
                let shard = Shard(index: (id - minimum) / step, count: total)
            else {
                throw .invalidShard(
                    reason: "SLURM_ARRAY_TASK_ID=\(id) is not task (ID − MIN)/STEP of SLURM_ARRAY_TASK_COUNT=\(total) "
                        + "(MIN \(minimum), STEP \(step)); submit a contiguous array such as --array=0-\(max(total, 1) - 1)")
            }
            return (shard, "SLURM_ARRAY_TASK_ID=\(id), SLURM_ARRAY_TASK_MIN=\(minimum), SLURM_ARRAY_TASK_COUNT=\(total)")
        }
        if let index = try integer("JOB_COMPLETION_INDEX") {
            var total = count
            if total == nil { total = try integer("RETORT_SHARD_COUNT") }
            guard let total else {
                throw .invalidShard(
                    reason: "JOB_COMPLETION_INDEX=\(index) is set but the shard count is not: "
                        + "give --shard-count N or set RETORT_SHARD_COUNT")
            }
            guard let shard = Shard(index: index, count: total) else {
                throw .invalidShard(reason: "JOB_COMPLETION_INDEX=\(index) is not a shard of \(total)")
            }
            return (shard, "JOB_COMPLETION_INDEX=\(index) of \(total)")
        }
        return nil
    }
}

import Foundation
import Network
import WeightFiles

/// What identifies one shard of a sharded run and the run it belongs to (`formats/task.md`, "Shard files"): the
/// `retort_shard` metadata of its files.
///
/// A `distill` shard is a folder, `shard-I-of-N`, holding one probe file per region (`probe.safetensors`,
/// `held_out.safetensors`); each file carries the same `retort_shard` metadata besides its `retort_probes`.
/// A `fidelity` shard's folder holds `evaluation.safetensors` (`EvaluationShard` in the Fidelity module).
public struct ProbeShard: Sendable {
    /// A file the run read, by the path it was given and the SHA-256 of its bytes (nil: a preset name, no file).
    public struct Source: Sendable, Equatable {
        public var path: String
        public var sha256: String?
        public init(path: String, sha256: String?) {
            self.path = path
            self.sha256 = sha256
        }
        /// The source of `path`: its digest when it names a file, else (a preset) none.
        public static func fingerprint(_ path: String) throws(DistillationError) -> Source {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else {
                return Source(path: path, sha256: nil)
            }
            return Source(path: path, sha256: try ProbeShard.sha256(ofFile: path))
        }
    }

    /// The command the shard ran: `distill` or `fidelity`.
    public var command: String
    /// Which shard of how many.
    public var shard: Shard
    /// Region name → (the slice of the region's inputs this shard probed, the region's whole input count).
    public var slices: [String: (range: Range<Int>, total: Int)]
    public var task: Source
    public var model: Source
    public var network: Source
    /// The surrogate files a `fidelity` shard evaluated, in order (none for `distill`).
    public var surrogates: [Source]
    /// The representation tests' seed of the run (`--seed`).
    public var seed: UInt64
    /// The arguments the run's command was given, less `--shard`, `--out` and `--threads`: what `merge` runs again.
    public var arguments: [String]
    /// The working directory the shard ran in (relative paths in `arguments` are relative to it).
    public var directory: String

    public init(
        command: String = "distill", shard: Shard, slices: [String: (range: Range<Int>, total: Int)], task: Source,
        model: Source, network: Source, surrogates: [Source] = [], seed: UInt64, arguments: [String], directory: String
    ) {
        self.command = command
        self.surrogates = surrogates
        self.shard = shard
        self.slices = slices
        self.task = task
        self.model = model
        self.network = network
        self.seed = seed
        self.arguments = arguments
        self.directory = directory
    }

    /// The folder name of shard I of N: `shard-I-of-N`.
    public static func folderName(_ shard: Shard) -> String { "shard-\(shard.index)-of-\(shard.count)" }

    /// The inputs of `region` this shard probes.
    /// - Complexity: O(slice × variables)
    public static func slice(_ region: Region, _ range: Range<Int>) -> Region { region.slice(range) }

    /// The `retort_shard` metadata text.
    public var json: String {
        var out: [UInt8] = []
        func source(_ s: Source) {
            out += "{\"path\":".utf8
            JSONWriter.appendString(s.path, to: &out)
            out += ",\"sha256\":".utf8
            if let digest = s.sha256 { JSONWriter.appendString(digest, to: &out) } else { out += "null".utf8 }
            out += "}".utf8
        }
        out += "{\"retort_shard\":1,\"command\":".utf8
        JSONWriter.appendString(command, to: &out)
        out += ",\"shard\":\(shard.index),\"shards\":\(shard.count),".utf8
        out += "\"slices\":{".utf8
        for (i, name) in slices.keys.sorted().enumerated() {
            let (range, total) = slices[name]!
            if i > 0 { out += ",".utf8 }
            JSONWriter.appendString(name, to: &out)
            out += ":{\"start\":\(range.lowerBound),\"end\":\(range.upperBound),\"total\":\(total)}".utf8
        }
        out += "},\"task\":".utf8
        source(task)
        out += ",\"model\":".utf8
        source(model)
        out += ",\"network\":".utf8
        source(network)
        if command != "distill" {
            out += ",\"surrogates\":[".utf8
            for (i, surrogate) in surrogates.enumerated() {
                if i > 0 { out += ",".utf8 }
                source(surrogate)
            }
            out += "]".utf8
        }
        out += ",\"seed\":\(seed),\"arguments\":[".utf8
        for (i, argument) in arguments.enumerated() {
            if i > 0 { out += ",".utf8 }
            JSONWriter.appendString(argument, to: &out)
        }
        out += "],\"directory\":".utf8
        JSONWriter.appendString(directory, to: &out)
        out += "}".utf8
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `retort_shard` metadata read from `path`.
    public init(json text: String, path: String) throws(DistillationError) {
        func invalid(_ reason: String) -> DistillationError { .mismatch(path: path, reason: "retort_shard: \(reason)") }
        do throws(NetworkError) {
            let root = try JSONObjectReader(JSONValue.parseDescription(Array(text.utf8), what: "shard metadata"), path: "")
            let version = try root.requiredInteger("retort_shard")
            guard version == 1 else {
                throw NetworkError.invalidDescription(path: "retort_shard", reason: "version \(version) unknown")
            }
            let command = try root.requiredString("command")
            guard command == "distill" || command == "fidelity" else {
                throw NetworkError.invalidDescription(
                    path: "command", reason: "a shard of \(command), not of distill or fidelity")
            }
            self.command = command
            guard let shard = Shard(index: try root.requiredInteger("shard"), count: try root.requiredInteger("shards")) else {
                throw NetworkError.invalidDescription(path: "shard", reason: "must lie in 0..<shards")
            }
            self.shard = shard
            guard case .object(let members)? = root.value("slices") else {
                throw NetworkError.invalidDescription(path: "slices", reason: "expected an object")
            }
            var slices: [String: (range: Range<Int>, total: Int)] = [:]
            for member in members {
                // Each name is a file in the shard folder (NAME.safetensors): never a path out of it.
                guard TaskDescription.isRegionName(member.key) else {
                    throw NetworkError.invalidDescription(
                        path: "slices", reason: "\"\(member.key)\" is not a region name (a file name in the shard folder)")
                }
                let entry = try JSONObjectReader(member.value, path: "slices.\(member.key)")
                let start = try entry.requiredInteger("start", minimum: 0)
                let end = try entry.requiredInteger("end", minimum: start)
                let total = try entry.requiredInteger("total", minimum: end)
                slices[member.key] = (start..<end, total)
            }
            self.slices = slices
            func source(_ key: String) throws(NetworkError) -> Source {
                guard let value = root.value(key) else { throw .invalidDescription(path: key, reason: "missing") }
                let object = try JSONObjectReader(value, path: key)
                return Source(path: try object.requiredString("path"), sha256: try object.string("sha256"))
            }
            task = try source("task")
            model = try source("model")
            network = try source("network")
            surrogates = try (root.array("surrogates") ?? []).enumerated().map { i, value throws(NetworkError) -> Source in
                let object = try JSONObjectReader(value, path: "surrogates[\(i)]")
                return Source(path: try object.requiredString("path"), sha256: try object.string("sha256"))
            }
            guard let seed = root.value("seed")?.uint64 else {
                throw NetworkError.invalidDescription(path: "seed", reason: "expected an unsigned integer")
            }
            self.seed = seed
            arguments = try (root.array("arguments") ?? []).map { value throws(NetworkError) -> String in
                guard case .string(let s) = value else {
                    throw .invalidDescription(path: "arguments", reason: "expected strings")
                }
                return s
            }
            directory = try root.requiredString("directory")
        } catch {
            throw invalid("\(error)")
        }
    }

    /// Writes `probes` (the probes of this shard's slice of `probes.region.name`) into `folder/REGION.safetensors`.
    public func write(_ probes: ProbeSet, into folder: String) throws(DistillationError) {
        try probes.write(
            to: folder + "/" + probes.region.name + ".safetensors", extraMetadata: [("retort_shard", json)])
    }

    /// One shard folder as read: its path, its metadata, and its probes by region.
    public struct Part: Sendable {
        public var path: String
        public var shard: ProbeShard
        public var probes: [String: ProbeSet]
    }

    /// Reads the shard folder `path`: every region its metadata names, each file's metadata the same.
    public static func read(folder path: String) throws(DistillationError) -> Part {
        var first: (file: String, shard: ProbeShard)?
        var probes: [String: ProbeSet] = [:]
        var names: [String] = []
        repeat {
            let region = first.map { _ in names.removeFirst() } ?? "probe"
            let file = path + "/" + region + ".safetensors"
            guard FileManager.default.fileExists(atPath: file) else {
                throw .mismatch(path: path, reason: "no \(region).safetensors: not a complete shard folder")
            }
            let opened: any WeightFile
            do { opened = try WeightFiles.open(file) } catch { throw .weightFile(error) }
            guard let text = opened.metadata?["retort_shard"] else {
                throw .mismatch(path: file, reason: "not a shard's probe file (no retort_shard metadata)")
            }
            let shard = try ProbeShard(json: text, path: file)
            if let first {
                guard shard.json == first.shard.json else {
                    throw .mismatch(path: file, reason: "its retort_shard metadata differs from \(first.file)'s")
                }
            } else {
                first = (file, shard)
                names = shard.slices.keys.sorted().filter { $0 != "probe" }
                guard shard.slices["probe"] != nil else {
                    throw .mismatch(path: file, reason: "retort_shard: slices name no probe region")
                }
            }
            let set = try ProbeSet.read(opened, path: file)
            guard set.region.name == region, set.count == shard.slices[region]!.range.count else {
                throw .mismatch(
                    path: file,
                    reason: "holds \(set.count) probes of region \(set.region.name); its metadata says "
                        + "\(shard.slices[region]!.range.count) of \(region)")
            }
            probes[region] = set
        } while !names.isEmpty
        return Part(path: path, shard: first!.shard, probes: probes)
    }

    /// Joins the parts of one sharded run into its probes by region, in the order one run would have made them.
    ///
    /// - Throws: `invalidShard` naming the part that does not belong (`ordered(_:)`).
    /// - Complexity: O(probes × (variables + activation width))
    public static func merge(_ parts: [Part]) throws(DistillationError) -> [String: ProbeSet] {
        let order = try ordered(parts.map { ($0.path, $0.shard) })
        var merged: [String: ProbeSet] = [:]
        for name in parts[0].shard.slices.keys {
            var sets: [ProbeSet] = []
            for position in order {
                guard let set = parts[position].probes[name] else {
                    throw .invalidShard(reason: "\(parts[position].path): no probes of region \(name)")
                }
                sets.append(set)
            }
            merged[name] = try concatenate(sets)
        }
        return merged
    }

    /// Checks that `shards` (each with the path it was read from) are the N shards of one run, and puts them in order.
    ///
    /// - Returns: positions in `shards`, shard 0's first.
    /// - Throws: `invalidShard` naming the part that does not belong: one of another command, task, model, network,
    ///   surrogates, seed, arguments or shard count than the first part, a shard given twice, a shard missing, or
    ///   slices that do not tile their region.
    /// - Complexity: O(shards × regions)
    public static func ordered(_ shards: [(path: String, shard: ProbeShard)]) throws(DistillationError) -> [Int] {
        guard let reference = shards.first else { throw .invalidShard(reason: "no parts to merge") }
        let r = reference.shard
        func differs(_ path: String, _ what: String, _ theirs: String, _ ours: String) -> DistillationError {
            .invalidShard(reason: "\(path): shard of another \(what) (\(theirs)) than \(reference.path) (\(ours))")
        }
        func digest(_ s: Source) -> String { s.sha256.map { "\(s.path), sha256 \($0.prefix(12))…" } ?? s.path }
        var byIndex: [Int: Int] = [:]
        for (position, (path, s)) in shards.enumerated() {
            if s.command != r.command { throw differs(path, "command", s.command, r.command) }
            if s.task.sha256 != r.task.sha256 { throw differs(path, "task", digest(s.task), digest(r.task)) }
            if s.model.sha256 != r.model.sha256 { throw differs(path, "model", digest(s.model), digest(r.model)) }
            let sameNetwork =
                s.network.sha256 == nil
                ? r.network.sha256 == nil && s.network.path == r.network.path
                : s.network.sha256 == r.network.sha256
            if !sameNetwork {
                throw differs(path, "network", digest(s.network), digest(r.network))
            }
            if s.surrogates.map(\.sha256) != r.surrogates.map(\.sha256) {
                throw differs(
                    path, "set of surrogates", s.surrogates.map(digest).joined(separator: "; "),
                    r.surrogates.map(digest).joined(separator: "; "))
            }
            if s.seed != r.seed { throw differs(path, "seed", "\(s.seed)", "\(r.seed)") }
            if s.shard.count != r.shard.count {
                throw differs(path, "shard count", "N = \(s.shard.count)", "N = \(r.shard.count)")
            }
            if s.arguments != r.arguments {
                throw differs(
                    path, "set of arguments", s.arguments.joined(separator: " "), r.arguments.joined(separator: " "))
            }
            if let twin = byIndex[s.shard.index] {
                throw .invalidShard(reason: "\(path): shard \(s.shard) given twice (also \(shards[twin].path))")
            }
            byIndex[s.shard.index] = position
        }
        let missing = (0..<r.shard.count).filter { byIndex[$0] == nil }
        if !missing.isEmpty {
            // The first ten name the gap; a list of thousands (one part of a large array given) would bury the error.
            let named = missing.prefix(10).map { "\($0)/\(r.shard.count)" }.joined(separator: ", ")
            let more = missing.count > 10 ? " and \(missing.count - 10) more" : ""
            throw .invalidShard(
                reason: "shard\(missing.count == 1 ? "" : "s") \(named)\(more) missing: \(shards.count) of \(r.shard.count) parts given")
        }
        let order = (0..<r.shard.count).map { byIndex[$0]! }
        for (name, (_, total)) in r.slices.sorted(by: { $0.key < $1.key }) {
            var end = 0
            for (index, position) in order.enumerated() {
                let (path, s) = shards[position]
                guard let slice = s.slices[name], slice.total == total, slice.range.lowerBound == end else {
                    throw .invalidShard(
                        reason: "\(path): its slice of region \(name) does not follow shard \(index - 1)'s "
                            + "(expected inputs from \(end) of \(total))")
                }
                end = slice.range.upperBound
            }
            guard end == total else {
                throw .invalidShard(reason: "the shards' slices of region \(name) end at \(end), not at its \(total) inputs")
            }
        }
        return order
    }

    /// The probes of consecutive slices of one region as one set.
    static func concatenate(_ sets: [ProbeSet]) throws(DistillationError) -> ProbeSet {
        var result = sets[0]
        result.region.values.reserveCapacity(sets.reduce(0) { $0 + $1.region.values.count })
        for set in sets.dropFirst() {
            result.region.values += set.region.values
            if result.region.indices != nil { result.region.indices! += set.region.indices ?? [] }
            result.outputs += set.outputs
            for (hook, tensor) in result.activations {
                guard let next = set.activations[hook], next.shape.dropFirst() == tensor.shape.dropFirst() else {
                    throw .invalidShard(reason: "the shards' activations of \(hook) differ in shape")
                }
            }
        }
        for (hook, tensor) in result.activations {
            var scalars = tensor.scalars
            for set in sets.dropFirst() { scalars += set.activations[hook]!.scalars }
            result.activations[hook] = FloatTensor(shape: [result.count] + tensor.shape.dropFirst(), scalars: scalars)
        }
        return result
    }

    /// The SHA-256 of the file at `path`, in lowercase hex, read in 4 MiB pieces.
    public static func sha256(ofFile path: String) throws(DistillationError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .mismatch(path: path, reason: "cannot be read to fingerprint it")
        }
        defer { try? handle.close() }
        var hash = SHA256()
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 22) } catch {
                throw .mismatch(path: path, reason: "cannot be read to fingerprint it: \(error.localizedDescription)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            chunk.withUnsafeBytes { hash.update($0) }
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

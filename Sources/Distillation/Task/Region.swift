import Foundation
import WeightFiles

/// The inputs of one region of a task: variable values, and their domain indices when inside the domain.
public struct Region: Sendable {
    public var name: String
    /// `values[i * variableCount + v]`: variable v of input i.
    public var values: [Int]
    /// The domain index of each input; `nil` for out-of-range regions.
    public var indices: [Int]?
    public var variableCount: Int

    /// The number of inputs.
    public var count: Int { variableCount == 0 ? 0 : values.count / variableCount }

    /// The variable values of input `i`.
    public func input(_ i: Int) -> [Int] { Array(values[(i * variableCount)..<((i + 1) * variableCount)]) }

    /// The inputs in `range` (positions in this region), in order.
    /// - Complexity: O(range × variables); O(1) for the whole region.
    public func slice(_ range: Range<Int>) -> Region {
        if range == 0..<count { return self }
        return Region(
            name: name, values: Array(values[(range.lowerBound * variableCount)..<(range.upperBound * variableCount)]),
            indices: indices.map { Array($0[range]) }, variableCount: variableCount)
    }
}

extension TaskDescription {
    /// Resolves every region of the task to its inputs, checking that none is empty and that the
    /// probe set and held-out inputs are disjoint.
    public func resolveRegions() throws(DistillationError) -> [String: Region] {
        try resolveRegions(skipping: [], membership: [:])
    }

    /// Resolves every region but those in `skipped`, which no other region excludes; `membership` says which domain
    /// inputs a skipped region holds (all of them for a nil predicate), for the probe and held-out overlap check.
    ///
    /// With `listValues` false, a region of domain inputs comes back unlisted: its `indices` only, `values` empty (a
    /// shard lists its slice of them alone).
    private func resolveRegions(
        skipping skipped: Set<String>, membership: [String: RegionPredicate?], listValues: Bool = true
    ) throws(DistillationError) -> [String: Region] {
        var resolved: [String: Region] = [:]
        var pending = regions.filter { !skipped.contains($0.key) }
        while !pending.isEmpty {
            var progressed = false
            for (name, spec) in pending.sorted(by: { $0.key < $1.key }) {
                let dependencies = spec.excluded
                guard dependencies.allSatisfy({ resolved[$0] != nil }) else { continue }
                let excluded = dependencies.compactMap { resolved[$0]?.indices }
                resolved[name] = try resolve(name, spec, excluding: excluded, listValues: listValues)
                pending[name] = nil
                progressed = true
            }
            if !progressed {
                throw .invalidTask(path: "regions", reason: "regions exclude each other in a cycle: \(pending.keys.sorted())")
            }
        }
        for (name, region) in resolved where (region.indices?.count ?? region.count) == 0 { throw .emptyRegion(name: name) }
        if let probe = resolved["probe"]?.indices, let held = resolved["held_out"]?.indices {
            let probeSet = Set(probe)
            let shared = held.filter { probeSet.contains($0) }
            if let first = shared.first {
                throw .overlappingRegions(first: "probe", second: "held_out", count: shared.count, example: values(at: first))
            }
        }
        // A skipped region holds the domain inputs its predicate admits: the overlap is found without its list.
        func holds(_ predicate: RegionPredicate?, _ index: Int) -> Bool { predicate?.admits(values(at: index)) ?? true }
        switch (membership["probe"], membership["held_out"]) {
        case (let probe?, let held?):
            var shared = 0
            var first: [Int]?
            forEachInput { _, input in
                if probe?.admits(input) ?? true, held?.admits(input) ?? true {
                    shared += 1
                    if first == nil { first = input }
                }
                return true
            }
            if let first {
                throw .overlappingRegions(first: "probe", second: "held_out", count: shared, example: first)
            }
        case (let probe?, nil):
            let shared = (resolved["held_out"]?.indices ?? []).filter { holds(probe, $0) }
            if let first = shared.first {
                throw .overlappingRegions(first: "probe", second: "held_out", count: shared.count, example: values(at: first))
            }
        case (nil, let held?):
            let shared = (resolved["probe"]?.indices ?? []).filter { holds(held, $0) }
            if let first = shared.first {
                throw .overlappingRegions(first: "probe", second: "held_out", count: shared.count, example: values(at: first))
            }
        case (nil, nil): break
        }
        return resolved
    }

    /// Resolves the regions of shard `shard` of a sharded run: each region in `sliced` comes back as the shard's
    /// slice of it (`Shard.slice(of:)` of its inputs in order), the others whole, with every region's whole count.
    ///
    /// A sliced `all` region, with or without a `where` condition, that no other region excludes is never
    /// enumerated whole: without a condition its slice is a range of domain indices; with one, a first pass over
    /// the domain counts the admitted inputs and a second keeps those of the slice. So it may exceed
    /// `enumerationLimit` as long as the slice does not. Other regions are resolved whole, as by
    /// `resolveRegions()`, and sliced; either way the slices are the ones of the one-machine run's lists.
    ///
    /// - Parameter limit: the largest slice enumerated (`enumerationLimit`; tests lower it).
    /// - Throws: what `resolveRegions()` throws; `invalidTask` when a slice exceeds `limit`.
    /// - Complexity: O(domain) predicate evaluations for a conditioned `all` region; memory O(slice) for it.
    public func resolveRegions(slicing sliced: [String], for shard: Shard, limit: Int = Self.enumerationLimit)
        throws(DistillationError) -> (regions: [String: Region], totals: [String: Int])
    {
        let (slices, totals) = try sliceRegions(sliced, for: shard)
        var result: [String: Region] = [:]
        for (name, slice) in slices {
            guard case .listed(let region) = slice else {
                let total = totals[name]!
                guard slice.count <= limit else {
                    let shards = (total + limit - 1) / limit
                    throw .invalidTask(
                        path: "regions.\(name)",
                        reason: "the region has \(total) inputs and shard \(shard)'s slice \(slice.count), too many to "
                            + "enumerate; sample it, or shard it with --shard I/N (N ≥ \(shards))")
                }
                result[name] = slice.materialized(task: self)
                continue
            }
            result[name] = region
        }
        return (result, totals)
    }

    /// The regions of shard `shard` of a sharded run as `RegionSlice`s: each region in `sliced` is the shard's
    /// slice of it, the others whole, with every region's whole count. A sliced `all` region (with or without
    /// `where`) that no other region excludes is described, not listed: a range of domain indices, or a range of
    /// ranks among the inputs its condition admits (counted here in one pass over the domain), enumerated chunk by
    /// chunk (`RegionSlice.forEachChunk`) by whoever runs it, so its slice may have any size.
    /// - Throws: what `resolveRegions()` throws.
    /// - Complexity: O(domain) predicate evaluations per conditioned `all` region; memory O(1) for it.
    public func sliceRegions(_ sliced: [String], for shard: Shard) throws(DistillationError)
        -> (slices: [String: RegionSlice], totals: [String: Int])
    {
        let excludedByOthers = Set(regions.values.flatMap(\.excluded))
        var streamed: [String: RegionPredicate?] = [:]
        for name in sliced where !excludedByOthers.contains(name) {
            switch regions[name] {
            case .all?: streamed[name] = .some(nil)
            case .filtered(.all, let predicate)?: streamed[name] = .some(predicate)
            default: break
            }
        }
        // Domain regions come back as indices alone: only the slice's values are listed (a sample of 2·10^7
        // inputs of 8 variables is 1.3 GB of values, its indices 160 MB).
        var whole = try resolveRegions(skipping: Set(streamed.keys), membership: streamed, listValues: false)
        var result: [String: RegionSlice] = [:]
        var totals: [String: Int] = [:]
        for (name, region) in whole {
            guard let indices = region.indices else {
                totals[name] = region.count
                result[name] = .listed(sliced.contains(name) ? region.slice(shard.slice(of: region.count)) : region)
                continue
            }
            totals[name] = indices.count
            let kept = sliced.contains(name) ? Array(indices[shard.slice(of: indices.count)]) : indices
            result[name] = .listed(self.region(name, indices: kept))
        }
        whole = [:]
        for (name, predicate) in streamed.sorted(by: { $0.key < $1.key }) {
            guard let predicate else {
                totals[name] = domainSize
                result[name] = .domainRange(name: name, shard.slice(of: domainSize))
                continue
            }
            var count = 0
            forEachInput { _, input in
                if predicate.admits(input) { count += 1 }
                return true
            }
            guard count > 0 else { throw .emptyRegion(name: name) }
            totals[name] = count
            result[name] = .admitted(name: name, predicate: predicate, ranks: shard.slice(of: count))
        }
        return (result, totals)
    }

    /// Calls `body` with every domain index and its input in index order until it returns false.
    /// - Complexity: O(domain); the input is one buffer stepped like an odometer, not an array per input.
    func forEachInput(_ body: (Int, [Int]) -> Bool) {
        guard domainSize > 0 else { return }
        var input = values(at: 0)
        for index in 0..<domainSize {
            if !body(index, input) { return }
            var v = variables.count - 1
            while v >= 0 {
                if input[v] < variables[v].max {
                    input[v] += 1
                    break
                }
                input[v] = variables[v].min
                v -= 1
            }
        }
    }

    /// The region of the inputs at these domain indices.
    /// - Complexity: O(indices × variables)
    public func region(_ name: String, indices: [Int]) -> Region {
        let width = variables.count
        var values = [Int](repeating: 0, count: indices.count * width)
        values.withUnsafeMutableBufferPointer { buffer in
            for (i, index) in indices.enumerated() { writeValues(at: index, into: buffer, offset: i * width) }
        }
        return Region(name: name, values: values, indices: indices, variableCount: width)
    }

    /// The inputs of `spec`; with `predicate`, only those that satisfy it (a sample draws among those only).
    /// With `listValues` false, a region of domain inputs has its `indices` only (`values` empty).
    private func resolve(
        _ name: String, _ spec: RegionSpec, excluding: [[Int]], predicate: RegionPredicate? = nil, listValues: Bool = true
    ) throws(DistillationError) -> Region {
        let size = domainSize
        func region(_ name: String, indices: [Int]) -> Region {
            listValues
                ? self.region(name, indices: indices)
                : Region(name: name, values: [], indices: indices, variableCount: variables.count)
        }
        switch spec {
        case .filtered(let base, let condition):
            return try resolve(name, base, excluding: excluding, predicate: condition, listValues: listValues)
        case .all:
            guard size <= Self.enumerationLimit else {
                // A sharded `distill` slices an `all` region no other region excludes without enumerating it whole.
                let excludedByOthers = regions.values.contains { $0.excluded.contains(name) }
                let shards = (size + Self.enumerationLimit - 1) / Self.enumerationLimit
                throw .invalidTask(
                    path: "regions.\(name)",
                    reason: "the domain has \(size) inputs, too many to enumerate; sample it"
                        + (excludedByOthers ? "" : ", or shard it with --shard I/N (N ≥ \(shards))"))
            }
            guard let predicate else { return region(name, indices: Array(0..<size)) }
            return region(name, indices: (0..<size).filter { predicate.admits(values(at: $0)) })
        case .indexFile(let path):
            let file: any WeightFile
            do { file = try WeightFiles.open(path) } catch { throw .weightFile(error) }
            guard let info = file.tensors.first, file.tensors.count == 1, info.shape.count == 1,
                [.i64, .i32, .u32, .u64].contains(info.dtype)
            else {
                throw .invalidTask(path: "regions.\(name).indices", reason: "\(path) must hold one 1-D integer array")
            }
            let view: TensorView
            do { view = try file.tensor(named: info.name) } catch { throw .weightFile(error) }
            let width = info.dtype.byteWidth!
            let indices: [Int] = view.withUnsafeBytes { raw in
                (0..<info.elementCount).map { i in
                    switch info.dtype {
                    case .i64: Int(raw.loadUnaligned(fromByteOffset: i * width, as: Int64.self))
                    case .i32: Int(raw.loadUnaligned(fromByteOffset: i * width, as: Int32.self))
                    case .u32: Int(raw.loadUnaligned(fromByteOffset: i * width, as: UInt32.self))
                    default: Int(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: i * width, as: UInt64.self))
                    }
                }
            }
            if let bad = indices.firstIndex(where: { $0 < 0 || $0 >= size }) {
                throw .invalidTask(
                    path: "regions.\(name).indices",
                    reason: "\(path): element \(bad) (\(indices[bad])) is outside the domain 0..<\(size)")
            }
            let unique = Array(Set(indices)).sorted()
            return region(name, indices: predicate.map { p in unique.filter { p.admits(values(at: $0)) } } ?? unique)
        case .sample(let count, let seed, _), .rest(_, .some(let count), let seed):
            return region(
                name, indices: try sample(count, seed: seed, excluding: excluding, predicate: predicate, name: name))
        case .rest:
            return region(name, indices: try sample(size, seed: 0, excluding: excluding, predicate: predicate, name: name))
        case .outOfRange(let ranges, let count, let seed):
            let drawn = try outOfRange(name, ranges: ranges, count: count, seed: seed)
            guard let predicate else { return drawn }
            let kept = (0..<drawn.count).filter { predicate.admits(drawn.input($0)) }
            return Region(
                name: name, values: kept.flatMap { drawn.input($0) }, indices: nil, variableCount: variables.count)
        }
    }

    /// Up to `count` domain indices not in `excluding`, drawn without replacement, sorted.
    private func sample(_ count: Int, seed: UInt64, excluding: [[Int]], predicate: RegionPredicate?, name: String)
        throws(DistillationError) -> [Int]
    {
        let size = domainSize
        var rng = SplitMix64(seed: seed)
        func admitted(_ index: Int) -> Bool { predicate?.admits(values(at: index)) ?? true }
        var attempts = 0
        if size <= Self.enumerationLimit {
            let excluded = Set(excluding.joined())
            var candidates = (0..<size).filter { !excluded.contains($0) && admitted($0) }
            if count >= candidates.count { return candidates }
            for i in 0..<count {
                let j = i + Int(rng.next() % UInt64(candidates.count - i))
                candidates.swapAt(i, j)
            }
            return candidates[0..<count].sorted()
        }
        // A bitmap of the domain when it is no bigger than the set of drawn indices would be (about 16 bytes each)
        // or 64 MiB: no hashing, and the indices come out sorted. The same draws keep the same inputs.
        if size / 8 <= Swift.max(1 << 26, 16 * count) {
            let words = (size + 63) / 64
            var excludedBits = [UInt64](repeating: 0, count: excluding.isEmpty ? 0 : words)
            for list in excluding {
                for index in list { excludedBits[index >> 6] |= 1 << UInt64(index & 63) }
            }
            var chosen = [UInt64](repeating: 0, count: words)
            var drawn = 0
            while drawn < count {
                attempts += 1
                if attempts > count * 100 {
                    throw .invalidTask(path: "regions.\(name)", reason: "could not draw \(count) distinct inputs")
                }
                let index = Int(rng.next() % UInt64(size))
                let word = index >> 6, bit = UInt64(1) << UInt64(index & 63)
                guard chosen[word] & bit == 0, excludedBits.isEmpty || excludedBits[word] & bit == 0, admitted(index) else {
                    continue
                }
                chosen[word] |= bit
                drawn += 1
            }
            var indices: [Int] = []
            indices.reserveCapacity(count)
            for (w, word) in chosen.enumerated() where word != 0 {
                var rest = word
                while rest != 0 {
                    indices.append(w << 6 + rest.trailingZeroBitCount)
                    rest &= rest - 1
                }
            }
            return indices
        }
        // Sized up front: growing a set of 10^7 indices rehashes it ~20 times, the bulk of the draw's time.
        var chosen = Set<Int>(minimumCapacity: count)
        let excluded = Set(excluding.joined())
        while chosen.count < count {
            attempts += 1
            if attempts > count * 100 {
                throw .invalidTask(path: "regions.\(name)", reason: "could not draw \(count) distinct inputs")
            }
            let index = Int(rng.next() % UInt64(size))
            if !excluded.contains(index) && admitted(index) { chosen.insert(index) }
        }
        return chosen.sorted()
    }

    private func outOfRange(_ name: String, ranges: [String: ClosedRange<Int>], count: Int, seed: UInt64)
        throws(DistillationError)
        -> Region
    {
        let spans = variables.map { v in ranges[v.name] ?? v.min...v.max }
        var total = 1.0
        for s in spans { total *= Double(s.count) }
        var rng = SplitMix64(seed: seed)
        var seen = Set<[Int]>()
        var values: [Int] = []
        var attempts = 0
        while seen.count < count, attempts < count * 200 {
            attempts += 1
            let input = spans.map { $0.lowerBound + Int(rng.next() % UInt64($0.count)) }
            let inside = zip(input, variables).allSatisfy { $0 >= $1.min && $0 <= $1.max }
            guard !inside, zip(input, variables).allSatisfy({ encoder.canEncode($0, of: $1) }) else { continue }
            if seen.insert(input).inserted { values += input }
        }
        guard !values.isEmpty else {
            throw .invalidTask(
                path: "regions.\(name)",
                reason: "no input in these ranges lies outside the domain and can be encoded (\(total) candidates)")
        }
        return Region(name: name, values: values, indices: nil, variableCount: variables.count)
    }
}

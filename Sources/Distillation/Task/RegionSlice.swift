/// One process's part of a region: the inputs listed, or a description of them that is enumerated chunk by chunk
/// (`TaskDescription.sliceRegions`), so a shard's slice of an `all` region of any size runs in bounded memory.
public enum RegionSlice: Sendable {
    /// The inputs, listed (a resolved region, or a slice of one).
    case listed(Region)
    /// The domain inputs at these indices, in order (a slice of an `all` region).
    case domainRange(name: String, Range<Int>)
    /// The inputs of the domain `predicate` admits whose rank among the admitted inputs, in domain index order,
    /// lies in `ranks` (a slice of an `all` region with a `where` condition).
    case admitted(name: String, predicate: RegionPredicate, ranks: Range<Int>)

    /// The region's name.
    public var name: String {
        switch self {
        case .listed(let region): region.name
        case .domainRange(let name, _), .admitted(let name, _, _): name
        }
    }

    /// The number of inputs.
    public var count: Int {
        switch self {
        case .listed(let region): region.count
        case .domainRange(_, let range): range.count
        case .admitted(_, _, let ranks): ranks.count
        }
    }

    /// The inputs as one region.
    /// - Complexity: O(inputs × variables); O(domain) predicate evaluations for `admitted`.
    public func materialized(task: TaskDescription) -> Region {
        if case .listed(let region) = self { return region }
        var parts: [Region] = []
        forEachChunk(of: Swift.max(1, count), task: task) { parts.append($0) }
        return parts.first ?? Region(name: name, values: [], indices: [], variableCount: task.variables.count)
    }

    /// Calls `body` with the inputs in order, `size` at a time (the last chunk may be shorter), stopping at the
    /// first error, which it rethrows.
    /// - Complexity: O(inputs × variables), memory O(size × variables); `admitted` evaluates the predicate on the
    ///   domain up to the slice's last input.
    public func forEachChunk<E: Error>(of size: Int, task: TaskDescription, _ body: (Region) throws(E) -> Void) throws(E) {
        precondition(size > 0, "a chunk holds at least one input")
        switch self {
        case .listed(let region):
            for start in stride(from: 0, to: region.count, by: size) {
                try body(region.slice(start..<Swift.min(start + size, region.count)))
            }
        case .domainRange(let name, let range):
            for start in stride(from: range.lowerBound, to: range.upperBound, by: size) {
                try body(task.region(name, indices: Array(start..<Swift.min(start + size, range.upperBound))))
            }
        case .admitted(let name, let predicate, let ranks):
            guard !ranks.isEmpty else { return }
            var chunk: [Int] = []
            chunk.reserveCapacity(Swift.min(size, ranks.count))
            var rank = 0
            var failure: E?
            task.forEachInput { index, input in
                guard predicate.admits(input) else { return true }
                if rank >= ranks.lowerBound {
                    chunk.append(index)
                    if chunk.count == size {
                        do throws(E) {
                            try body(task.region(name, indices: chunk))
                        } catch {
                            failure = error
                            return false
                        }
                        chunk.removeAll(keepingCapacity: true)
                    }
                }
                rank += 1
                return rank < ranks.upperBound
            }
            if let failure { throw failure }
            if !chunk.isEmpty { try body(task.region(name, indices: chunk)) }
        }
    }
}

/// The state of one `ProgramSearch.run`: the bank of kept candidates, the levels by size, the best score.
final class ProgramEnumerator {
    private let search: ProgramSearch
    private let count: Int
    private let targets: UnsafeMutablePointer<Int64>
    private let bank: CandidateBank
    private let operators = SearchCandidate.operators
    private let nodeBits = DescriptionLength.choice(ProgramExpression.kindCount)
    /// `exceptionCosts[e]`: bits of an exception table of e examples; `leastExceptionCost[e]`: the least of them
    /// for e or more (the subset code's cost falls again past half the domain), non-decreasing.
    private let exceptionCosts: [Double]
    private let leastExceptionCost: [Double]
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    private var levels: [Range<Int>] = [0..<0]
    private var generated: [Int]
    private var kept: [Int]
    private var evaluated = 0
    private var keptLimitReached = false
    private var stopped = false
    private var best: SearchCandidate?
    private var bestScore = Double.infinity
    private var bestMismatches = 0
    private var bestSeconds = 0.0
    /// The shortest candidate with no mismatch seen, and its bits.
    private var exact: SearchCandidate?
    private var exactBits = Double.infinity
    private var size = 0
    private var storing = false

    init(search: ProgramSearch) {
        self.search = search
        count = search.targets.count
        targets = .allocate(capacity: max(1, count))
        for (i, target) in search.targets.enumerated() { targets[i] = Int64(target) }
        bank = CandidateBank(exampleCount: count)
        let costs = (0...count).map {
            DescriptionLength.exceptions($0, domainSize: search.domainSize, outputCount: search.outputCount)
        }
        exceptionCosts = costs
        var least = costs
        for e in least.indices.reversed().dropFirst() { least[e] = min(least[e], least[e + 1]) }
        leastExceptionCost = least
        generated = [Int](repeating: 0, count: search.limits.maxSize + 1)
        kept = generated
        start = clock.now
    }

    deinit { targets.deallocate() }

    private var elapsed: Double {
        let components = start.duration(to: clock.now).components
        return Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }

    /// Called about four times a second while a size is enumerated: (size, candidates evaluated, kept, seconds).
    private var during: ((Int, Int, Int, Double) -> Void)?
    private var lastReport = 0.0

    func run(progress: (Int, Int) -> Void, during: ((Int, Int, Int, Double) -> Void)? = nil) -> ProgramSearch.Result {
        self.during = during
        defer { self.during = nil }
        var stopReason = ProgramSearch.StopReason.sizeLimit
        var completed = 0
        for size in 1...search.limits.maxSize {
            // Every node costs nodeBits and an exact program still pays natural(0) = 1 for its empty table.
            if bestScore <= Double(size) * nodeBits + 1 {
                stopReason = .shortestFound
                break
            }
            self.size = size
            storing = size < search.limits.maxSize
            let first = bank.count
            if size == 1 { enumerateLeaves() }
            if size >= 2 { enumerateDigits() }
            if size >= 3 { enumerateBinary() }
            if size >= 4 { enumerateConditionals() }
            levels.append(first..<bank.count)
            progress(size, bank.count)
            if stopped {
                stopReason = .timeLimit
                break
            }
            completed = size
        }
        return result(stopReason: stopReason, completed: completed)
    }

    // MARK: Enumeration

    private func enumerateLeaves() {
        var values = [Int64](repeating: 0, count: count)
        for (index, column) in search.columns.enumerated() {
            for i in 0..<count { values[i] = Int64(column[i]) }
            let bits = nodeBits + DescriptionLength.choice(search.variables.count)
            consider(SearchCandidate(kind: .variable, parameter: index, size: 1, bits: bits), leafValues: values)
        }
        for constant in search.constants {
            for i in 0..<count { values[i] = Int64(constant) }
            let bits = nodeBits + DescriptionLength.integer(constant)
            consider(SearchCandidate(kind: .constant, parameter: constant, size: 1, bits: bits), leafValues: values)
        }
    }

    private func enumerateDigits() {
        let base = Int64(search.digitBase)
        for child in levels[size - 1] {
            var power: Int64 = 1
            for place in 0..<ProgramExpression.digitPlaces {
                if stopped { return }
                let bits = nodeBits + DescriptionLength.choice(ProgramExpression.digitPlaces) + bank.nodes[child].bits
                let node = SearchCandidate(kind: .digit, parameter: place, first: Int32(child), size: size, bits: bits)
                let x = bank.values(child)
                if let sink = storingSink() {
                    var sink = sink
                    VectorKernels.digit(x, power: power, base: base, into: &sink)
                    finishStoring(node, sink)
                } else if var sink = countingSink(bits: bits) {
                    VectorKernels.digit(x, power: power, base: base, into: &sink)
                    finishCounting(node, sink)
                }
                power *= base
            }
        }
    }

    private func enumerateBinary() {
        for (operatorIndex, op) in operators.enumerated() {
            for leftSize in 1...(size - 2) {
                let rightSize = size - 1 - leftSize
                if op.isCommutative && leftSize > rightSize { continue }
                for left in levels[leftSize] {
                    let leftBits = nodeBits + bank.nodes[left].bits
                    let x = bank.values(left)
                    var rights = levels[rightSize]
                    if op.isCommutative && leftSize == rightSize { rights = left..<rights.upperBound }
                    for right in rights {
                        if stopped { return }
                        if left == right && op.isTrivialOnEqualOperands { continue }
                        let bits = leftBits + bank.nodes[right].bits
                        let node = SearchCandidate(
                            kind: .binary, parameter: operatorIndex, first: Int32(left), second: Int32(right), size: size,
                            bits: bits)
                        let y = bank.values(right)
                        if let sink = storingSink() {
                            var sink = sink
                            VectorKernels.binary(op, x, y, into: &sink)
                            finishStoring(node, sink)
                        } else if var sink = countingSink(bits: bits) {
                            VectorKernels.binary(op, x, y, into: &sink)
                            finishCounting(node, sink)
                        }
                    }
                }
            }
        }
    }

    private func enumerateConditionals() {
        for conditionSize in 1...(size - 3) {
            for thenSize in 1...(size - 2 - conditionSize) {
                let elseSize = size - 1 - conditionSize - thenSize
                for condition in levels[conditionSize] where !bank.nodes[condition].isConstant {
                    let c = bank.values(condition)
                    for then in levels[thenSize] {
                        let x = bank.values(then)
                        let partBits = nodeBits + bank.nodes[condition].bits + bank.nodes[then].bits
                        for otherwise in levels[elseSize] where otherwise != then {
                            if stopped { return }
                            let bits = partBits + bank.nodes[otherwise].bits
                            let node = SearchCandidate(
                                kind: .conditional, parameter: 0, first: Int32(condition), second: Int32(then),
                                third: Int32(otherwise), size: size, bits: bits)
                            let y = bank.values(otherwise)
                            if let sink = storingSink() {
                                var sink = sink
                                VectorKernels.conditional(c, x, y, into: &sink)
                                finishStoring(node, sink)
                            } else if var sink = countingSink(bits: bits) {
                                VectorKernels.conditional(c, x, y, into: &sink)
                                finishCounting(node, sink)
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Scoring

    /// Counts the candidate and checks the clock every 256 candidates.
    @inline(__always)
    private func tick() {
        generated[size] += 1
        if generated[size] & 255 == 0 {
            let seconds = elapsed
            if seconds > search.limits.maxSeconds { stopped = true }
            if let during, seconds - lastReport >= 0.25 {
                lastReport = seconds
                during(size, evaluated, bank.count, seconds)
            }
        }
    }

    /// A sink writing into the bank's scratch slot, when this candidate may be kept.
    @inline(__always)
    private func storingSink() -> StoringSink? {
        tick()
        guard storing && bank.count < search.limits.maxKept else {
            if storing { keptLimitReached = true }
            return nil
        }
        return StoringSink(count: count, output: bank.scratch, targets: UnsafePointer(targets))
    }

    /// A sink that only counts exceptions, or nil when a candidate of `bits` bits cannot beat the best.
    @inline(__always)
    private func countingSink(bits: Double) -> CountingSink? {
        guard let bound = exceptionBound(bits: bits) else { return nil }
        return CountingSink(count: count, targets: UnsafePointer(targets), bound: bound)
    }

    /// The most exceptions a candidate of `bits` bits may have and still beat the best, or nil if none: the largest
    /// e whose exception table costs less than the slack (found on the non-decreasing least costs from e on); 0
    /// when only an exact candidate shorter than the shortest exact one so far would count.
    private func exceptionBound(bits: Double) -> Int? {
        guard bestScore.isFinite else { return count }
        let slack = bestScore - bits
        guard leastExceptionCost[0] < slack else { return bits < exactBits ? 0 : nil }
        var low = 0, high = count  // leastExceptionCost[low] < slack throughout
        while low < high {
            let mid = (low + high + 1) / 2
            if leastExceptionCost[mid] < slack { low = mid } else { high = mid - 1 }
        }
        return low
    }

    private func consider(_ node: SearchCandidate, leafValues: [Int64]) {
        leafValues.withUnsafeBufferPointer { values in
            if let sink = storingSink() {
                var sink = sink
                sink.consume { values[$0] }
                finishStoring(node, sink)
            } else if var sink = countingSink(bits: node.bits) {
                sink.consume { values[$0] }
                finishCounting(node, sink)
            }
        }
    }

    private func finishStoring(_ node: SearchCandidate, _ sink: StoringSink) {
        evaluated += 1
        if sink.fits {
            let vector = bank.scratch
            let hash = CandidateBank.hash(vector, count)
            if let existing = bank.lookup(hash: hash) {
                // Same values as a kept candidate: only worth scoring if cheaper, and only worth keeping
                // instead of it at the same size (a kept candidate's size is its level).
                let old = bank.nodes[existing]
                guard node.bits < old.bits else { return }
                if old.size == node.size { bank.replace(existing, with: node) }
            } else {
                bank.commit(node, hash: hash)
                kept[size] += 1
            }
        }
        score(node, mismatches: sink.mismatches)
    }

    private func finishCounting(_ node: SearchCandidate, _ sink: CountingSink) {
        evaluated += 1
        if sink.mismatches <= sink.bound { score(node, mismatches: sink.mismatches) }
    }

    private func score(_ node: SearchCandidate, mismatches: Int) {
        let total = node.bits + exceptionCosts[mismatches]
        if mismatches == 0 && node.bits < exactBits { (exact, exactBits) = (node, node.bits) }
        if total < bestScore {
            bestScore = total
            best = node
            bestMismatches = mismatches
            bestSeconds = elapsed
        }
    }

    // MARK: Result

    private func expression(_ node: SearchCandidate) -> ProgramExpression {
        func child(_ id: Int32) -> ProgramExpression { expression(bank.nodes[Int(id)]) }
        switch node.kind {
        case .variable: return .variable(node.parameter)
        case .constant: return .constant(node.parameter)
        case .digit: return .digit(place: node.parameter, base: search.digitBase, child(node.first))
        case .binary: return .binary(operators[node.parameter], child(node.first), child(node.second))
        case .conditional: return .conditional(child(node.first), child(node.second), child(node.third))
        }
    }

    private func result(stopReason: ProgramSearch.StopReason, completed: Int) -> ProgramSearch.Result {
        // Leaves are always scored before the clock is first read, so there is a best candidate.
        let expression = expression(best!)
        let surrogate = ProgramSurrogate(
            variables: search.variables, expression: expression, columns: search.columns, targets: search.targets,
            domainSize: search.domainSize, outputCount: search.outputCount)
        let exactSurrogate = bestMismatches == 0 ? nil : exact.map { node in
            ProgramSurrogate(
                variables: search.variables, expression: self.expression(node), columns: search.columns, targets: search.targets,
                domainSize: search.domainSize, outputCount: search.outputCount)
        }
        return ProgramSearch.Result(
            surrogate: surrogate, mismatches: bestMismatches, exact: exactSurrogate, stopReason: stopReason, completedSize: completed,
            generatedBySize: generated, keptBySize: kept, evaluated: evaluated, keptLimitReached: keptLimitReached,
            secondsToBest: bestSeconds, seconds: elapsed)
    }
}

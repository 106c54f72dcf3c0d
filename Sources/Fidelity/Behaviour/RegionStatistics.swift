import Distillation

/// What a fidelity report needs of one evaluated region, counted over its inputs: sums that add over consecutive
/// slices, and the first disagreements in input order. A sharded evaluation writes one per run and shard
/// (`EvaluationShard`); `appending` joins them in shard order into what one machine counts over the whole region.
public struct RegionStatistics: Sendable, Equatable {
    /// The number of inputs.
    public var count: Int
    /// Inputs where the network's output equals the task's truth (tasks with a truth).
    public var networkRight: Int?
    /// One entry per surrogate, in the plan's order.
    public var surrogates: [SurrogateStatistics]

    public init(count: Int, networkRight: Int?, surrogates: [SurrogateStatistics]) {
        self.count = count
        self.networkRight = networkRight
        self.surrogates = surrogates
    }

    /// The statistics of `outputs`, the network's outputs and the surrogates' predictions on `region`.
    /// - Parameter disagreementLimit: how many disagreements each surrogate keeps (the first, in input order).
    /// - Precondition: `outputs` has one output per input of `region` and one row of predictions per surrogate.
    /// - Complexity: O(inputs × (surrogates + truth and program expression sizes)); one input buffer, reused.
    public init(_ outputs: RegionOutputs, region: Region, task: TaskDescription, surrogates: [FittedSurrogate], disagreementLimit: Int) {
        let n = region.count, width = region.variableCount
        let truth = task.truth
        let expressions: [ProgramExpression?] = surrogates.map {
            if case .program(let program) = $0.model { program.expression } else { nil }
        }
        let regression = if case .regression = task.decoder { true } else { false }
        var rightTally = 0
        var stats = surrogates.indices.map { k in
            SurrogateStatistics(
                agreements: 0, squaredError: regression ? 0 : nil, sameMistake: truth == nil ? nil : 0,
                surrogateRight: truth == nil ? nil : 0, expressionWrong: expressions[k] == nil ? nil : 0,
                disagreementsWhereNetworkWrong: truth == nil ? nil : 0, disagreements: [])
        }
        var input = [Int](repeating: 0, count: width)
        for i in 0..<n {
            for v in 0..<width { input[v] = region.values[i * width + v] }
            let network = outputs.network[i]
            let right = truth.map { $0.evaluate(input) }
            let networkWrong = right.map { $0 != network } ?? false
            if let right, right == network { rightTally += 1 }
            for k in stats.indices {
                let predicted = outputs.predictions[k][i]
                if predicted == network {
                    stats[k].agreements += 1
                } else {
                    if networkWrong { stats[k].disagreementsWhereNetworkWrong! += 1 }
                    if stats[k].disagreements.count < disagreementLimit {
                        stats[k].disagreements.append(
                            Disagreement(input: input, network: network, surrogate: predicted, truth: right))
                    }
                }
                if networkWrong {
                    if predicted == network {
                        stats[k].sameMistake! += 1
                    } else if predicted == right {
                        stats[k].surrogateRight! += 1
                    }
                }
                if regression { stats[k].addSquaredError(predicted, network) }
                if let expression = expressions[k], expression.evaluate(input) != network { stats[k].expressionWrong! += 1 }
            }
        }
        self.count = n
        self.networkRight = truth == nil ? nil : rightTally
        self.surrogates = stats
    }

    /// The statistics of no inputs, the start of a sum.
    public static func empty(task: TaskDescription, surrogates: [FittedSurrogate]) -> RegionStatistics {
        RegionStatistics(
            RegionOutputs(name: "", network: [], predictions: surrogates.map { _ in [] }),
            region: task.region("", indices: []), task: task,
            surrogates: surrogates, disagreementLimit: 0)
    }

    /// These statistics followed by those of the next consecutive inputs: counts add, and the disagreements listed
    /// are the first `disagreementLimit` of both lists in order.
    /// - Precondition: as many surrogates on both sides.
    /// - Complexity: O(surrogates × disagreementLimit)
    public func appending(_ next: RegionStatistics, disagreementLimit: Int) -> RegionStatistics {
        var result = self
        result.count += next.count
        if let right = next.networkRight { result.networkRight = (result.networkRight ?? 0) + right }
        for k in result.surrogates.indices { result.surrogates[k].append(next.surrogates[k], disagreementLimit: disagreementLimit) }
        return result
    }
}

/// One surrogate's counts on one region (`RegionStatistics`).
public struct SurrogateStatistics: Sendable, Equatable {
    /// Inputs where the surrogate's output equals the network's.
    public var agreements: Int
    /// The sum of squared differences between surrogate and network outputs, exact (regression decoders only);
    /// saturates at `UInt128.max`, which needs differences near 2^64.
    public var squaredError: UInt128?
    /// Of the inputs where the network differs from the truth, those where the surrogate gives the network's
    /// output, and those where it gives the truth (tasks with a truth).
    public var sameMistake: Int?
    public var surrogateRight: Int?
    /// Inputs where a program's bare expression (without its exception table) differs from the network (programs).
    public var expressionWrong: Int?
    /// Disagreements at inputs where the network differs from the truth (tasks with a truth).
    public var disagreementsWhereNetworkWrong: Int?
    /// The first disagreements, in input order.
    public var disagreements: [Disagreement]

    public init(
        agreements: Int, squaredError: UInt128?, sameMistake: Int?, surrogateRight: Int?, expressionWrong: Int?,
        disagreementsWhereNetworkWrong: Int?, disagreements: [Disagreement]
    ) {
        self.agreements = agreements
        self.squaredError = squaredError
        self.sameMistake = sameMistake
        self.surrogateRight = surrogateRight
        self.expressionWrong = expressionWrong
        self.disagreementsWhereNetworkWrong = disagreementsWhereNetworkWrong
        self.disagreements = disagreements
    }

    /// Adds (predicted − network)² to `squaredError`, in 128-bit integers: the sum is exact, so it does not depend
    /// on how the inputs were split into slices.
    mutating func addSquaredError(_ predicted: Int, _ network: Int) {
        let difference = (Int128(predicted) - Int128(network)).magnitude
        let (sum, overflow) = squaredError!.addingReportingOverflow(difference * difference)
        squaredError = overflow ? .max : sum
    }

    /// Adds the counts of the next consecutive inputs and lists their disagreements after these, up to the limit.
    mutating func append(_ next: SurrogateStatistics, disagreementLimit: Int) {
        agreements += next.agreements
        func add(_ a: Int?, _ b: Int?) -> Int? { a.flatMap { a in b.map { a + $0 } } }
        if let a = squaredError, let b = next.squaredError {
            let (sum, overflow) = a.addingReportingOverflow(b)
            squaredError = overflow ? .max : sum
        }
        sameMistake = add(sameMistake, next.sameMistake)
        surrogateRight = add(surrogateRight, next.surrogateRight)
        expressionWrong = add(expressionWrong, next.expressionWrong)
        disagreementsWhereNetworkWrong = add(disagreementsWhereNetworkWrong, next.disagreementsWhereNetworkWrong)
        disagreements += next.disagreements.prefix(Swift.max(0, disagreementLimit - disagreements.count))
    }
}

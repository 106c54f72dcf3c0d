import Distillation
import WeightFiles

/// `retort-bench program TARGET [EXAMPLES …] [--corrupt C] [--max-size S] [--seconds T] [--max-kept K] [--seed X]`:
/// runs `ProgramSearch` on a synthetic target and prints one JSON line per example count with the seconds to
/// the answer, the whole search's seconds and the answer's text.
///
/// Targets: `add100` (a + b, a and b in 0..<100, |Y| = 199, extra constant 100), `mod113` ((a + b) mod 113,
/// a and b in 0..<113, extra constant 113), `random` (uniform labels in 0..<199 over a and b in 0..<100).
/// `--corrupt C` replaces C targets with different random values, as a network's mistakes would.
/// Examples are drawn without replacement from the whole domain (all of it when EXAMPLES is absent or larger).
func programBenchmark(_ arguments: Arguments) {
    guard let target = arguments.positional.first else { fail("program takes TARGET [EXAMPLES …]") }
    let (range, outputCount, constants): (Int, Int, [Int])
    let rule: (Int, Int) -> Int
    switch target {
    case "add100": (range, outputCount, constants, rule) = (100, 199, [100], { $0 + $1 })
    case "mod113": (range, outputCount, constants, rule) = (113, 113, [113], { ($0 + $1) % 113 })
    case "random": (range, outputCount, constants, rule) = (100, 199, [100], { _, _ in 0 })
    default: fail("unknown program target \(target) (add100, mod113, random)")
    }
    let domainSize = range * range
    var sizes: [Int] = []
    for word in arguments.positional.dropFirst() {
        guard let size = Int(word), size >= 1 else { fail("bad example count \(word)") }
        sizes.append(min(size, domainSize))
    }
    if sizes.isEmpty { sizes = [domainSize] }
    let corrupt = arguments.int("corrupt", default: 0, minimum: 0)
    let limits = ProgramSearch.Limits(
        maxSize: arguments.int("max-size", default: 5),
        maxSeconds: Double(arguments.int("seconds", default: 60)),
        maxKept: arguments.int("max-kept", default: 20_000))
    let seed = UInt64(arguments.int("seed", default: 1))

    for exampleCount in sizes {
        var generator = SplitMix64(state: seed)
        var inputs = Array(0..<domainSize)
        for i in 0..<exampleCount {  // partial Fisher–Yates: the first exampleCount inputs are the sample
            inputs.swapAt(i, i + Int(generator.next() % UInt64(domainSize - i)))
        }
        inputs = Array(inputs.prefix(exampleCount))
        let a = inputs.map { $0 / range }
        let b = inputs.map { $0 % range }
        var targets = zip(a, b).map { target == "random" ? Int(generator.next() % UInt64(outputCount)) : rule($0, $1) }
        for _ in 0..<min(corrupt, exampleCount) {
            let i = Int(generator.next() % UInt64(exampleCount))
            targets[i] = (targets[i] + 1 + Int(generator.next() % UInt64(outputCount - 1))) % outputCount
        }
        let search = ProgramSearch(
            variables: ["a", "b"], columns: [a, b], targets: targets, domainSize: domainSize, outputCount: outputCount,
            constants: constants, limits: limits)
        let result = search.run()
        let table = DescriptionLength.table(entries: exampleCount, domainSize: domainSize, outputCount: outputCount)
        let surrogate = result.surrogate
        print(
            "{\"target\":\(JSONWriter.quoted(target)),\"examples\":\(exampleCount),\"corrupted\":\(min(corrupt, exampleCount)),"
                + "\"seconds_to_answer\":\(json(result.secondsToBest)),\"seconds\":\(json(result.seconds)),"
                + "\"answer\":\(JSONWriter.quoted(surrogate.expression.text(variables: surrogate.variables))),"
                + "\"exceptions\":\(surrogate.exceptions.count),\"bits\":\(json(surrogate.bits)),\"table_bits\":\(json(table)),"
                + "\"stop\":\"\(result.stopReason.rawValue)\",\"completed_size\":\(result.completedSize),"
                + "\"generated\":\(result.generatedBySize.reduce(0, +)),\"evaluated\":\(result.evaluated),"
                + "\"kept\":\(result.kept),\"kept_limit_reached\":\(result.keptLimitReached),"
                + "\"generated_by_size\":\(result.generatedBySize.dropFirst()),\"kept_by_size\":\(result.keptBySize.dropFirst())}"
        )
    }
}

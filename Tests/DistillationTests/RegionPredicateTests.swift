import Foundation
import Testing
import WeightFiles

@testable import Distillation

/// Two-digit addition (a, b ∈ 0…99, raw encoder) with `regions` (a JSON object's members).
private func additionTask(regions: String) throws -> TaskDescription {
    let json = """
        {"retort_task": 1, "variables": [{"name": "a", "type": "integer", "min": 0, "max": 99},
         {"name": "b", "type": "integer", "min": 0, "max": 99}],
         "encoder": {"kind": "raw"}, "decoder": {"kind": "regression", "min": 0, "max": 198},
         "regions": {\(regions)}}
        """
    return try TaskDescription.parse(Array(json.utf8))
}

/// The task error's JSON path and reason, or nil when the task parses.
private func invalidTask(regions: String) -> (path: String, reason: String)? {
    do {
        _ = try additionTask(regions: regions)
        return nil
    } catch let error as DistillationError {
        if case .invalidTask(let path, let reason) = error { return (path, reason) }
        return ("?", "\(error)")
    } catch {
        return ("?", "\(error)")
    }
}

private func parse(_ text: String, _ variables: [String] = ["a", "b"]) throws(ProgramTextError) -> ProgramExpression {
    try ProgramExpression(text: text, variables: variables, digitBase: 10)
}

// MARK: Regions

@Test func carryAndNoCarryRegionsMatchADirectCount() throws {
    let t = try additionTask(
        regions: #""carry": {"where": "digit0(a) + digit0(b) >= 10"}, "no_carry": {"where": "digit0(a) + digit0(b) < 10"}"#)
    let regions = try t.resolveRegions()
    var carry: [Int] = [], noCarry: [Int] = []
    for a in 0...99 {
        for b in 0...99 {
            if a % 10 + b % 10 >= 10 { carry.append(100 * a + b) } else { noCarry.append(100 * a + b) }
        }
    }
    #expect(regions["carry"]?.indices == carry)
    #expect(regions["no_carry"]?.indices == noCarry)
    #expect(carry.count == 4500 && noCarry.count == 5500)
}

@Test func whereWithSampleDrawsOnlySatisfyingInputs() throws {
    let t = try additionTask(regions: #""small": {"where": "a < 10 and b < 10", "sample": 30, "seed": 4}"#)
    let small = try #require(try t.resolveRegions()["small"])
    #expect(small.count == 30)
    #expect((0..<small.count).allSatisfy { small.input($0).allSatisfy { $0 < 10 } })
    #expect(try t.resolveRegions()["small"]?.indices == small.indices)
}

@Test func whereSampleLargerThanTheSatisfyingInputsTakesThemAll() throws {
    let t = try additionTask(regions: #""one_digit": {"where": "a < 10 and b < 10", "sample": 5000, "seed": 4}"#)
    #expect(try t.resolveRegions()["one_digit"]?.count == 100)
}

@Test func whereWithRestExcludesTheNamedRegions() throws {
    let t = try additionTask(
        regions:
            #""probe": {"sample": 2000, "seed": 1}, "held_out": {"rest": true, "excluding": ["probe"], "where": "a + b >= 100"}"#)
    let regions = try t.resolveRegions()
    let held = try #require(regions["held_out"]?.indices)
    #expect(Set(held).isDisjoint(with: regions["probe"]!.indices!))
    #expect(held.allSatisfy { $0 / 100 + $0 % 100 >= 100 })
    #expect(held.count + regions["probe"]!.indices!.filter { $0 / 100 + $0 % 100 >= 100 }.count == 4950)
}

@Test func whereFiltersAnOutOfRangeRegion() throws {
    let t = try additionTask(regions: #""big": {"ranges": {"a": [100, 199]}, "sample": 200, "seed": 5, "where": "a mod 2 = 0"}"#)
    let big = try #require(try t.resolveRegions()["big"])
    #expect(big.count > 0 && big.indices == nil)
    #expect((0..<big.count).allSatisfy { big.input($0)[0] % 2 == 0 && big.input($0)[0] >= 100 })
}

@Test func aWhereNoInputSatisfiesIsAnEmptyRegion() throws {
    let t = try additionTask(regions: #""none": {"where": "a + b > 198"}"#)
    #expect(throws: DistillationError.emptyRegion(name: "none")) { try t.resolveRegions() }
}

@Test func whereNamingAnUnknownVariableIsAnError() {
    let error = invalidTask(regions: #""x": {"where": "c < 10"}"#)
    #expect(error?.path == "regions.x.where")
    #expect(error?.reason.contains("unknown name \"c\"") == true)
}

@Test func whereThatDoesNotParseNamesTheCharacter() {
    let error = invalidTask(regions: #""x": {"where": "a < < 10"}"#)
    #expect(error?.path == "regions.x.where")
    #expect(error?.reason.contains("at character 5") == true)
}

@Test func whereBesideAnUnknownMemberIsRefused() {
    #expect(invalidTask(regions: #""x": {"where": "a < 10", "limit": 3}"#)?.path == "regions.x.limit")
}

@Test func whereMustBeAString() {
    #expect(invalidTask(regions: #""x": {"where": 1}"#) != nil)
}

// MARK: The expression text

@Test func comparisonsAndBooleanOperatorsEvaluateToOneOrZero() throws {
    let cases: [(String, [Int], Int)] = [
        ("a > b", [3, 2], 1), ("a >= b", [2, 2], 1), ("a != b", [2, 2], 0), ("a ≠ b", [1, 2], 1), ("a == b", [2, 2], 1),
        ("a ≤ b", [3, 2], 0), ("not a < b", [1, 2], 0), ("a < 5 and b < 5", [1, 7], 0), ("a < 5 or b < 5", [9, 2], 1),
        ("not (a = 1 or b = 1) and a < 9", [2, 2], 1), ("a and b", [3, 4], 1), ("a or b", [0, 0], 0),
    ]
    for (text, input, value) in cases {
        #expect(try parse(text).evaluate(input) == value, "\(text) on \(input)")
    }
}

@Test func arithmeticFollowsTheDSLsPrecedenceAndFloorSemantics() throws {
    #expect(try parse("a + b * 2").evaluate([1, 3]) == 7)
    #expect(try parse("(a + b) * 2").evaluate([1, 3]) == 8)
    #expect(try parse("a - b - 1").evaluate([10, 3]) == 6)
    #expect(try parse("-7 div 2").evaluate([0, 0]) == -4)
    #expect(try parse("-a mod 3").evaluate([1, 0]) == 2)
    #expect(try parse("digit1(a + b)").evaluate([57, 8]) == 6)
    #expect(try parse("max(a, min(b, 4))").evaluate([1, 9]) == 4)
    #expect(try parse("if a < b then b else a").evaluate([3, 8]) == 8)
    #expect(try parse("x[0] + x[1]", ["x[0]", "x[1]"]).evaluate([3, 8]) == 11)
}

@Test func chainedComparisonsAreAnError() {
    #expect(throws: ProgramTextError.self) { try parse("0 < a < 10") }
}

@Test(arguments: ["", "a +", "(a", "digit3(a)", "min(a)", "a $ b", "if a then b", "a b", "9223372036854775808"])
func malformedExpressionTextIsAnError(_ text: String) {
    #expect(throws: ProgramTextError.self) { try parse(text) }
}

@Test func theTextOfAnyExpressionReadsBackAsTheSameFunction() throws {
    var rng = SplitMix64(seed: 7)
    func random(_ depth: Int) -> ProgramExpression {
        let pick = Int(rng.next() % (depth == 0 ? 2 : 6))
        switch pick {
        case 0: return .variable(Int(rng.next() % 2))
        case 1: return .constant(Int(rng.next() % 21) - 10)
        case 2: return .digit(place: Int(rng.next() % 3), base: 10, random(depth - 1))
        case 3: return .conditional(random(depth - 1), random(depth - 1), random(depth - 1))
        default:
            let op = BinaryOperator.allCases[Int(rng.next() % UInt64(BinaryOperator.allCases.count))]
            return .binary(op, random(depth - 1), random(depth - 1))
        }
    }
    for _ in 0..<500 {
        let expression = random(4)
        let text = expression.text(variables: ["a", "b"])
        let back = try parse(text)
        for a in -3...12 {
            for b in [-5, 0, 7, 25] {
                #expect(back.evaluate([a, b]) == expression.evaluate([a, b]), "\(text) at a=\(a), b=\(b)")
            }
        }
    }
}

@Test func theBundledSmolLM2AdditionTaskSplitsTheDomainAsItsConditionsSay() throws {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    let t = try TaskDescription.read(url.appendingPathComponent("formats/vectors/tasks/smollm2_addition.json").path)
    let regions = try t.resolveRegions()
    let sizes = regions.mapValues(\.count)
    #expect(sizes["probe"] == 2000 && sizes["held_out"] == 2000 && sizes["out_of_range"] == 200)
    #expect(sizes["one_digit"] == 100 && sizes["two_digit"] == 8100 && sizes["mixed_digits"] == 1800)
    #expect(sizes["carry"] == 4500 && sizes["no_carry"] == 5500)
    // Pairs with a + b = s: s + 1 for s ≤ 99, 199 − s above.
    #expect(sizes["sum_below_10"] == 55 && sizes["sum_100_up"] == 4950 && sizes["sum_10_to_99"] == 10_000 - 55 - 4950)
    #expect(t.decoder == .generate(maxNewTokens: 4, min: 0, max: 9999, noAnswer: -1))
}

import Foundation
import Testing

@testable import Distillation

// Hostile prompt tasks and where-conditions: each gets a DistillationError naming where it is, never a trap
// (arithmetic overflow) or a stack overflow (deeply nested or very long conditions).

/// The `invalidTask` path and reason of a task JSON, or nil when it parses.
private func taskError(_ json: String) -> (path: String, reason: String)? {
    do {
        _ = try TaskDescription.parse(Array(json.utf8))
        return nil
    } catch let error as DistillationError {
        if case .invalidTask(let path, let reason) = error { return (path, reason) }
        return ("?", "\(error)")
    } catch {
        return ("?", "\(error)")
    }
}

/// A prompt task over a, b ∈ 0…9 with this decoder and these regions (JSON object members).
private func promptTask(decoder: String, regions: String = "") -> String {
    """
    {"retort_task": 1, "variables": [{"name": "a", "type": "integer", "min": 0, "max": 9},
     {"name": "b", "type": "integer", "min": 0, "max": 9}],
     "encoder": {"kind": "prompt", "template": "{a}+{b}="}, "decoder": \(decoder),
     "regions": {\(regions)}}
    """
}

private let generateDecoder = #"{"kind": "generate", "max_new_tokens": 2, "min": 0, "max": 99}"#

/// `text` as a JSON string literal.
private func quoted(_ text: String) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: [text]), as: UTF8.self).dropFirst().dropLast().description
}

@Test(arguments: [
    ("deep parentheses", String(repeating: "(", count: 100_000) + "a" + String(repeating: ")", count: 100_000) + " < 5"),
    ("deep not", String(repeating: "not ", count: 100_000) + "a"),
    ("deep unary minus", String(repeating: "- ", count: 100_000) + "a < 3"),
    ("deep if", String(repeating: "if a then ", count: 50_000) + "1" + String(repeating: " else 0", count: 50_000)),
    ("deep min", String(repeating: "min(a, ", count: 50_000) + "b" + String(repeating: ")", count: 50_000) + " < 3"),
    ("long sum", Array(repeating: "a", count: 300_000).joined(separator: " + ") + " < 5"),
    ("long and", Array(repeating: "a < 5", count: 100_000).joined(separator: " and ")),
    ("long or", Array(repeating: "a < 5", count: 100_000).joined(separator: " or ")),
])
func hugeWhereConditionsAreRefusedNotOverflowingTheStack(_ name: String, _ condition: String) throws {
    let error = taskError(promptTask(decoder: generateDecoder, regions: #""r": {"where": \#(quoted(condition))}"#))
    let (path, reason) = try #require(error, "\(name): accepted")
    #expect(path == "regions.r.where", "\(name): \(path)")
    #expect(reason.contains("nests deeper than") || reason.contains("more than 2000 nodes"), "\(name): \(reason.prefix(200))")
    #expect(reason.count < 300, "\(name): the error quotes \(reason.count) characters of the condition")
}

@Test func whereConditionsWithinTheLimitsStillParse() throws {
    let nested = String(repeating: "(", count: 40) + "a" + String(repeating: ")", count: 40) + " < 5"
    let sum = Array(repeating: "a", count: 200).joined(separator: " + ") + " < 500"
    let json = promptTask(
        decoder: generateDecoder, regions: #""n": {"where": \#(quoted(nested))}, "s": {"where": \#(quoted(sum))}"#)
    let regions = try TaskDescription.parse(Array(json.utf8)).resolveRegions()
    #expect(regions["n"]?.count == 50)
    #expect(regions["s"]?.count == 30)  // 200·a < 500: a ∈ {0, 1, 2}
}

@Test(arguments: [
    // min near Int.max used to overflow computing the default max.
    (#"{"kind": "generate", "max_new_tokens": 2, "min": 9223372036854775807}"#, "decoder.min"),
    // max - min used to overflow before the ±2^40 check.
    (#"{"kind": "generate", "max_new_tokens": 2, "min": -5, "max": 9223372036854775807}"#, "decoder"),
    (#"{"kind": "generate", "max_new_tokens": 2, "min": -1099511627776, "max": 9223372036854775807}"#, "decoder"),
])
func generateDecoderBoundsAreCheckedBeforeArithmetic(_ decoder: String, _ path: String) throws {
    let (found, reason) = try #require(taskError(promptTask(decoder: decoder)))
    #expect(found == path, "\(reason)")
    #expect(reason.contains("2^40"), "\(reason)")
}

@Test func regressionAndArgmaxDecodersRefuseHugeRanges() throws {
    let variables = #"[{"name": "a", "type": "integer", "min": 0, "max": 9}]"#
    let regression = taskError(
        #"{"retort_task": 1, "variables": \#(variables), "encoder": {"kind": "raw"}, "decoder": {"kind": "regression", "min": -9223372036854775808, "max": 9223372036854775807}}"#
    )
    #expect(regression?.reason.contains("at most 2^24 values") == true, "\(String(describing: regression))")
    let argmax = taskError(
        #"{"retort_task": 1, "variables": \#(variables), "encoder": {"kind": "raw"}, "decoder": {"kind": "argmax", "outputs": 1000000000000}}"#
    )
    #expect(argmax?.path == "decoder.outputs", "\(String(describing: argmax))")
}

@Test func tokenVariablesRefuseIDsBeyondTheValueLimit() throws {
    let error = taskError(
        #"{"retort_task": 1, "variables": [{"name": "t", "type": "tokens", "length": 2, "max": 9223372036854775807}], "encoder": {"kind": "prompt", "template": "{t[0]}{t[1]}"}, "decoder": {"kind": "generate", "max_new_tokens": 1}}"#
    )
    #expect(error?.path == "variables[0]", "\(String(describing: error))")
    #expect(error?.reason.contains("2^40") == true, "\(String(describing: error))")
}

import Foundation
import Network
import Testing

@testable import Distillation

private func task(outputs: Int = 19, bMax: Int = 9, names: (String, String) = ("a", "b")) throws -> TaskDescription {
    let json = """
        {"retort_task": 1, "name": "add", "variables": [{"name": "\(names.0)", "type": "integer", "min": 0, "max": 9},
         {"name": "\(names.1)", "type": "integer", "min": 0, "max": \(bMax)}],
         "encoder": {"kind": "one_hot_digits", "base": 10, "digits": 2}, "decoder": {"kind": "argmax", "outputs": \(outputs)}}
        """
    return try TaskDescription.parse(Array(json.utf8))
}

/// The reason of the `mismatch` that `body` throws, or nil.
private func mismatchReason(_ body: () throws -> Void) -> String? {
    guard case .mismatch(_, let reason) = distillationError(body) else { return nil }
    return reason
}

/// Probes of the inputs (7, 8) and (1, 2) of the 10 × 10 addition domain.
private func probes(recording task: TaskDescription?) -> ProbeSet {
    let region = Region(name: "probe", values: [7, 8, 1, 2], indices: [78, 12], variableCount: 2)
    return ProbeSet(
        variables: ["a", "b"], region: region, outputs: [15, 3], outputValues: task?.outputValues,
        variableRanges: task?.variables.map { $0.min...$0.max })
}

@Suite("Saved probes are checked against the task they are fitted as")
struct ProbeTaskCheckTests {
    @Test func probesOfTheSameTaskPass() throws {
        let t = try task()
        try probes(recording: t).check(against: t, path: "p")
        try probes(recording: nil).check(against: t, path: "p")
    }

    @Test func anotherOutputAlphabetIsRefusedNamingBoth() throws {
        let reason = try #require(mismatchReason { try probes(recording: task(outputs: 19)).check(against: try task(outputs: 20), path: "p") })
        #expect(reason.contains("output alphabet 19 values, 0…18") && reason.contains("20 values, 0…19"), "\(reason)")
    }

    @Test func anotherVariableRangeIsRefusedNamingTheVariable() throws {
        let reason = try #require(mismatchReason { try probes(recording: task(bMax: 9)).check(against: try task(bMax: 8), path: "p") })
        #expect(reason.contains("variable b ranges over 0…9") && reason.contains("0…8"), "\(reason)")
    }

    @Test func otherVariableNamesAreRefusedAsTheSurrogateFileCheckRefusesThem() throws {
        let reason = try #require(mismatchReason { try probes(recording: nil).check(against: try task(names: ("x", "y")), path: "p") })
        #expect(reason == "the probes read variables a, b; the task \"add\" has x, y")
    }

    @Test func anOutputOutsideTheAlphabetIsRefusedInAFileWithoutARecordedAlphabet() throws {
        let reason = try #require(mismatchReason { try probes(recording: nil).check(against: try task(outputs: 10), path: "p") })
        #expect(reason.contains("the probes hold the output 15, which is not in the task's output alphabet"), "\(reason)")
    }

    @Test func anInputAtAnotherDomainIndexIsRefusedInAFileWithoutRecordedRanges() throws {
        // b over 0…7: (7, 8) is outside; over 0…19 it would sit at index 7·20 + 8, not 78.
        let outside = try #require(mismatchReason { try probes(recording: nil).check(against: try task(bMax: 7), path: "p") })
        #expect(outside.contains("probe 0 has b = 8, outside the task's range 0…7"), "\(outside)")
        let shifted = try #require(mismatchReason { try probes(recording: nil).check(against: try task(bMax: 19), path: "p") })
        #expect(shifted.contains("has domain index 78") && shifted.contains("it is 148"), "\(shifted)")
    }

    @Test func theAlphabetAndRangesSurviveAWriteReadRoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retort-probes-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let t = try task()
        try probes(recording: t).write(to: directory + "/p.safetensors")
        let back = try ProbeSet.read(directory + "/p.safetensors")
        #expect(back.outputValues == Array(0...18) && back.variableRanges == [0...9, 0...9])
        #expect(mismatchReason { _ = try ProbeSet.read(directory + "/p.safetensors", for: try task(outputs: 12)) } != nil)
    }
}

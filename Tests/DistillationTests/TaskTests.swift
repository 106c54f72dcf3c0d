import Foundation
import Network
import Testing
import WeightFiles

@testable import Distillation

private func task(_ json: String) throws -> TaskDescription { try TaskDescription.parse(Array(json.utf8)) }

private let additionTask = #"""
    {"retort_task": 1, "name": "add", "variables": [{"name": "a", "type": "integer", "min": 0, "max": 9},
     {"name": "b", "type": "integer", "min": 0, "max": 9}],
     "encoder": {"kind": "one_hot_digits", "base": 10, "digits": 1}, "decoder": {"kind": "argmax", "outputs": 19},
     "regions": {"probe": {"sample": 60, "seed": 1}, "held_out": {"rest": true, "excluding": ["probe"]}}}
    """#

/// The thrown DistillationError, or nil (shared by the task test files).
func distillationError(_ body: () throws -> Void) -> DistillationError? {
    do {
        try body()
        return nil
    } catch let error as DistillationError {
        return error
    } catch {
        return .invalidTask(path: "untyped", reason: "\(error)")
    }
}

/// An MLP of input width `width` (one linear layer to `outputs`), in memory.
private func mlp(width: Int, outputs: Int) throws -> MLPNetwork {
    let weights = [Float](repeating: 0.5, count: width * outputs)
    let view = TensorView(
        info: TensorInfo(name: "0.weight", dtype: .f32, shape: [outputs, width]), copying: weights.withUnsafeBytes { Array($0) })
    let file = try SafetensorsFile(storage: ByteStorage(copying: try SafetensorsWriter.serialize([view], metadata: nil)))
    return try MLPNetwork(file: file, description: MLPDescription())
}

@Test func domainIndexIsMixedRadixWithTheLastVariableFastest() throws {
    let t = try task(additionTask)
    #expect(t.domainSize == 100)
    #expect(t.index(of: [3, 7]) == 37)
    #expect(t.values(at: 37) == [3, 7])
}

@Test func regionsAreDeterministicAndDisjoint() throws {
    let t = try task(additionTask)
    let first = try t.resolveRegions(), second = try t.resolveRegions()
    #expect(first["probe"]?.indices == second["probe"]?.indices)
    #expect(first["probe"]?.count == 60 && first["held_out"]?.count == 40)
    #expect(Set(first["probe"]!.indices!).isDisjoint(with: first["held_out"]!.indices!))
}

@Test func oneHotDigitsEncodeMostSignificantFirst() throws {
    var t = try task(additionTask)
    t.encoder = .oneHotDigits(base: 10, digits: 2)
    let region = Region(name: "x", values: [42, 7], indices: nil, variableCount: 2)
    guard case .features(let x) = t.encode(region, 0..<1) else {
        Issue.record("expected features")
        return
    }
    #expect(x.shape == [1, 40])
    let ones = x.scalars.indices.filter { x.scalars[$0] == 1 }
    #expect(ones == [4, 10 + 2, 20 + 0, 30 + 7])
}

@Test func encoderWidthThatDiffersFromTheNetworkIsAnError() throws {
    let t = try task(additionTask)
    let error = distillationError { try t.checkEncoder(for: try mlp(width: 40, outputs: 19)) }
    guard case .encoderMismatch(let reason) = error else {
        Issue.record("expected encoderMismatch, got \(String(describing: error))")
        return
    }
    #expect(reason.contains("20") && reason.contains("40"))
}

@Test func emptyRegionIsAnError() throws {
    let json = additionTask.replacingOccurrences(
        of: #""held_out": {"rest": true, "excluding": ["probe"]}"#,
        with: #""held_out": {"rest": true, "excluding": ["probe", "all"]}, "all": {"all": true}"#)
    let error = distillationError { _ = try task(json).resolveRegions() }
    #expect(error == .emptyRegion(name: "held_out"))
}

@Test func overlappingProbeAndHeldOutSetsAreAnError() throws {
    let json = additionTask.replacingOccurrences(
        of: #""held_out": {"rest": true, "excluding": ["probe"]}"#, with: #""held_out": {"sample": 60, "seed": 9}"#)
    let error = distillationError { _ = try task(json).resolveRegions() }
    guard case .overlappingRegions(let first, let second, let count, _) = error else {
        Issue.record("expected overlappingRegions, got \(String(describing: error))")
        return
    }
    #expect(first == "probe" && second == "held_out" && count > 0)
}

@Test func unknownFeatureIsAnErrorListingKnownNames() throws {
    let t = try task(additionTask)
    let error = distillationError { _ = try TaskFeatures(task: t, names: ["a", "carry(a,b)"]) }
    guard case .unknownFeature(let name, let known) = error else {
        Issue.record("expected unknownFeature, got \(String(describing: error))")
        return
    }
    #expect(name == "carry(a,b)" && known.contains("a+b"))
}

@Test func derivedFeaturesAreComputedFromTheProbes() throws {
    let t = try task(additionTask)
    let region = Region(name: "x", values: [7, 8, 1, 2], indices: [78, 12], variableCount: 2)
    let probes = ProbeSet(variables: ["a", "b"], region: region, outputs: [15, 3], activations: [:])
    let features = try TaskFeatures(task: t, names: ["a", "a+b", "digit0(a+b)", "digit1(a+b)"])
    let table = try features.table(probes)
    #expect(table.columns == [[7, 1], [15, 3], [5, 3], [1, 0]])
    #expect(table.labels == [15, 3])
}

@Test func unknownTaskVersionAndKeysAreRefused() throws {
    #expect(distillationError { _ = try task(#"{"retort_task": 2, "variables": []}"#) } != nil)
    let error = distillationError {
        _ = try task(additionTask.replacingOccurrences(of: #""name": "add""#, with: #""nmae": "add""#))
    }
    guard case .invalidTask(let path, _) = error else {
        Issue.record("expected invalidTask, got \(String(describing: error))")
        return
    }
    #expect(path == "nmae")
}

@Test func probesSurviveAWriteReadRoundTrip() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retort-probes-\(UUID())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let region = Region(name: "probe", values: [1, 2, 3, 4], indices: [12, 34], variableCount: 2)
    let probes = ProbeSet(
        variables: ["a", "b"], region: region, outputs: [3, 7],
        activations: ["layers.0.hook_post": FloatTensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])])
    try probes.write(to: directory + "/p.safetensors")
    let back = try ProbeSet.read(directory + "/p.safetensors")
    #expect(back.variables == ["a", "b"] && back.region.values == region.values && back.region.indices == [12, 34])
    #expect(back.outputs == [3, 7] && back.activations["layers.0.hook_post"]?.scalars == [1, 2, 3, 4, 5, 6])
}

@Test func lookupTableAnswersSeenInputsAndFallsBackOnUnseen() throws {
    let region = Region(name: "probe", values: [1, 2, 3, 4, 5, 6], indices: nil, variableCount: 2)
    let probes = ProbeSet(variables: ["a", "b"], region: region, outputs: [3, 7, 7], activations: [:])
    let table = LookupTable(probes: probes)
    #expect(table.predict([1, 2]) == 3 && table.predict([9, 9]) == 7)
    let json = table.jsonBody()
    let parsed = try Array(json.utf8).withUnsafeBytes { try JSONParser.parse($0) }
    let back = try LookupTable(jsonBody: parsed, variableCount: 2)
    #expect(back.predict([3, 4]) == 7 && back.fallbackValue == 7 && back.entries.count == 3)
}

@Test func tokenSequenceVariablesExpandToOneVariablePerPosition() throws {
    let t = try task(
        #"{"retort_task": 1, "variables": [{"name": "s", "type": "tokens", "length": 3, "max": 4}], "encoder": {"kind": "tokens"}, "decoder": {"kind": "argmax", "outputs": 5}}"#
    )
    #expect(t.variables.map(\.name) == ["s[0]", "s[1]", "s[2]"])
    #expect(t.domainSize == 125)
}

@Test func regressionDecoderRoundsAndClamps() throws {
    let t = try task(
        #"{"retort_task": 1, "variables": [{"name": "a", "type": "integer", "min": 0, "max": 9}], "encoder": {"kind": "raw"}, "decoder": {"kind": "regression", "unit": 0, "min": 0, "max": 18}}"#
    )
    #expect(t.outputValues.count == 19)
    let decoded = try t.decode(FloatTensor(shape: [4, 1], scalars: [3.4, 3.6, -2, 1e30]))
    #expect(decoded == [3, 4, 0, 18])
}

@Test func hiddenUnitFeaturesThresholdTheProbedActivations() throws {
    let t = try task(additionTask)
    let region = Region(name: "probe", values: [1, 2, 3, 4], indices: [12, 34], variableCount: 2)
    let activation = FloatTensor(shape: [2, 3], scalars: [0.9, -1, 0.2, 0.1, 2, 0.7])
    let probes = ProbeSet(
        variables: ["a", "b"], region: region, outputs: [3, 7], activations: ["layers.0.hook_post": activation])
    #expect(TaskFeatures.hooks(in: ["a", "layers.0.hook_post[1]>0.5"]) == ["layers.0.hook_post"])
    let one = try TaskFeatures(task: t, names: ["layers.0.hook_post[1]>0.5"], activations: probes.activations)
    #expect(try one.table(probes).columns == [[0, 1]])
    let all = try TaskFeatures(task: t, names: ["layers.0.hook_post>0.5"], activations: probes.activations)
    #expect(all.names == ["layers.0.hook_post[0]>0.5", "layers.0.hook_post[1]>0.5", "layers.0.hook_post[2]>0.5"])
    #expect(try all.table(probes).columns == [[1, 0], [0, 1], [0, 1]])
}

@Test(arguments: [
    #""variables": [{"name": "a", "type": "integer", "min": -9223372036854775808, "max": 9223372036854775807}]"#,
    #""regions": {"probe": {"sample": 9223372036854775807}}"#,
    #""regions": {"x": {"ranges": {"a": [0, 9223372036854775807]}, "sample": 5}}"#,
    #""encoder": {"kind": "one_hot_digits", "base": 4294967296, "digits": 4294967296}"#,
    #""encoder": {"kind": "binary", "bits": 1000}"#,
])
func hostileSizesInATaskAreRefusedWithoutTrapping(_ member: String) throws {
    var json = additionTask
    let key = String(member.prefix { $0 != ":" })
    // Replace the member of the same name in the valid task.
    let start = try #require(json.range(of: key + ":"))
    var depth = 0, end = start.upperBound
    for index in json[start.upperBound...].indices {
        let c = json[index]
        if c == "{" || c == "[" { depth += 1 }
        if c == "}" || c == "]" { depth -= 1 }
        if depth == 0 && (c == "}" || c == "]") { end = json.index(after: index); break }
    }
    json.replaceSubrange(start.lowerBound..<end, with: member)
    guard case .invalidTask = distillationError({ _ = try task(json).resolveRegions() }) else {
        Issue.record("expected invalidTask for \(member)")
        return
    }
}

@Test func aMisspeltRegionNameSaysSoAndListsTheNamesWithAMeaning() throws {
    for name in ["held-out", "heldout", "Held_Out", "probes", "out_of_rang"] {
        let json = additionTask.replacingOccurrences(of: #""held_out": {"rest""#, with: "\"\(name)\": {\"rest\"")
        let error = distillationError { _ = try task(json) }
        guard case .invalidTask(let path, let reason) = error else {
            Issue.record("\(name): expected invalidTask, got \(String(describing: error))")
            continue
        }
        #expect(path == "regions.\(name)")
        #expect(reason.contains("looks like a misspelling of") && reason.contains("trained, probe, held_out, out_of_range"), "\(reason)")
    }
    // A name of the user's own, far from those, is fine.
    _ = try task(additionTask.replacingOccurrences(of: #""held_out": {"rest""#, with: #""carry": {"rest""#))
}

@Test func aRegionNameThatIsNoFileNameIsRefused() {
    // A distill shard writes a region's probes to NAME.safetensors in its folder.
    for name in ["a/b", "..", ".", "", "../x"] {
        let json = additionTask.replacingOccurrences(of: #""held_out": {"rest""#, with: "\"\(name)\": {\"rest\"")
        let error = distillationError { _ = try task(json) }
        guard case .invalidTask(let path, let reason) = error else {
            Issue.record("\(name): expected invalidTask, got \(String(describing: error))")
            continue
        }
        #expect(path.hasPrefix("regions"), "\(path)")
        #expect(reason.contains("a region name is a file name"), "\(reason)")
    }
}

@Test func excludingAnUnknownRegionListsTheTasksRegions() throws {
    let json = additionTask.replacingOccurrences(of: #""excluding": ["probe"]"#, with: #""excluding": ["prob"]"#)
    let error = distillationError { _ = try task(json) }
    guard case .invalidTask(_, let reason) = error else {
        Issue.record("expected invalidTask, got \(String(describing: error))")
        return
    }
    #expect(reason == "excludes unknown region \"prob\" (the task's other regions: probe)")
}

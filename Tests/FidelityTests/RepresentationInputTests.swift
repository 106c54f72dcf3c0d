import Distillation
import Testing

@testable import Fidelity

@Test func representationInputsBeyondTheLimitAreASeededSampleOfDistinctInputs() throws {
    let task = try bitTask(["x1", "x2", "x3", "x4"])
    let all = try #require(try task.resolveRegions()["probe"])
    var options = RepresentationOptions()
    options.maxInputs = 5
    let sample = RepresentationTests.subset(all, options: options)
    #expect(sample.count == 5)
    let indices = try #require(sample.indices)
    #expect(Set(indices).count == 5)
    // Each sampled input is the one its domain index names.
    #expect((0..<5).allSatisfy { sample.input($0) == task.values(at: indices[$0]) })
    #expect(RepresentationTests.subset(all, options: options).values == sample.values)
    options.maxInputs = 16
    #expect(RepresentationTests.subset(all, options: options).values == all.values)
}

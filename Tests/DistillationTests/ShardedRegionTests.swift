import Foundation
import Testing
import WeightFiles

@testable import Distillation

/// A task over two variables, a ∈ 0…`size`−1 and b ∈ 0…`size`−1 (raw encoder), with `regions` (JSON members).
private func task(size: Int = 100, regions: String) throws -> TaskDescription {
    let json = """
        {"retort_task": 1, "variables": [{"name": "a", "type": "integer", "min": 0, "max": \(size - 1)},
         {"name": "b", "type": "integer", "min": 0, "max": \(size - 1)}],
         "encoder": {"kind": "raw"}, "decoder": {"kind": "regression", "min": 0, "max": \(2 * size - 2)},
         "regions": {\(regions)}}
        """
    return try TaskDescription.parse(Array(json.utf8))
}

/// The reason of an `invalidTask` error thrown by `body`, or nil.
private func invalidTaskReason(_ body: () throws -> Void) -> String? {
    do { try body() } catch let error as DistillationError {
        if case .invalidTask(_, let reason) = error { return reason }
    } catch {}
    return nil
}

@Test(arguments: [1, 2, 3, 7])
func shardSlicesOfAWhereFilteredAllRegionAreTheSlicesOfTheWholeRegion(shards: Int) throws {
    let t = try task(
        regions: #""probe": {"where": "(a + b) mod 3 != 0"}, "held_out": {"where": "(a + b) mod 3 == 0 and a < 50"}"#)
    let whole = try t.resolveRegions()
    for name in ["probe", "held_out"] {
        let region = try #require(whole[name])
        var joined: [Int] = []
        for index in 0..<shards {
            let shard = try #require(Shard(index: index, count: shards))
            let (regions, totals) = try t.resolveRegions(slicing: ["probe", "held_out"], for: shard)
            let slice = try #require(regions[name])
            let expected = region.slice(shard.slice(of: region.count))
            #expect(totals[name] == region.count)
            #expect(slice.indices == expected.indices)
            #expect(slice.values == expected.values)
            joined += slice.indices ?? []
        }
        #expect(joined == region.indices)
    }
}

@Test func shardSlicesOfAnAllRegionOverTheLimitJoinIntoTheOneMachineRegion() throws {
    // 10^4 inputs; with the limit lowered to 4,000, three shards' slices (3,333 or 3,334) fit, two shards' do not.
    let t = try task(regions: #""probe": {"all": true}, "out_of_range": {"ranges": {"a": [100, 199]}, "sample": 5, "seed": 2}"#)
    let one = try #require(try t.resolveRegions()["probe"])
    var joined: [Int] = [], values: [Int] = []
    for index in 0..<3 {
        let (regions, totals) = try t.resolveRegions(slicing: ["probe"], for: Shard(index: index, count: 3)!, limit: 4000)
        #expect(totals["probe"] == 10_000)
        joined += try #require(regions["probe"]?.indices)
        values += try #require(regions["probe"]?.values)
    }
    #expect(joined == one.indices)
    #expect(values == one.values)
    let reason = invalidTaskReason { _ = try t.resolveRegions(slicing: ["probe"], for: Shard(index: 0, count: 2)!, limit: 4000) }
    #expect(reason?.contains("--shard I/N (N ≥ 3)") == true)
}

@Test func anAllRegionOfTenToTheEightInputsIsRefusedInOneRunAndSlicedWhenSharded() throws {
    let t = try task(size: 10_000, regions: #""probe": {"all": true}"#)
    let reason = invalidTaskReason { _ = try t.resolveRegions() }
    #expect(reason == "the domain has 100000000 inputs, too many to enumerate; sample it, or shard it with --shard I/N (N ≥ 2)")
    let (regions, totals) = try t.resolveRegions(slicing: ["probe"], for: Shard(index: 9_999, count: 10_000)!)
    #expect(totals["probe"] == 100_000_000)
    #expect(regions["probe"]?.indices == Array(99_990_000..<100_000_000))
    #expect(regions["probe"]?.input(0) == [9_999, 0])
}

@Test func anAllRegionOtherRegionsExcludeIsResolvedWholeAndKeepsTheLimit() throws {
    let t = try task(size: 10_000, regions: #""probe": {"all": true}, "held_out": {"rest": true, "excluding": ["probe"]}"#)
    let reason = invalidTaskReason { _ = try t.resolveRegions(slicing: ["probe"], for: Shard(index: 0, count: 4)!) }
    #expect(reason == "the domain has 100000000 inputs, too many to enumerate; sample it")
}

@Test func aShardedAllRegionOverlappingTheHeldOutRegionIsRefused() throws {
    let t = try task(regions: #""probe": {"where": "a < 60"}, "held_out": {"where": "a >= 50"}"#)
    #expect(throws: DistillationError.self) {
        _ = try t.resolveRegions(slicing: ["probe", "held_out"], for: Shard(index: 0, count: 2)!)
    }
    #expect(throws: DistillationError.self) { _ = try t.resolveRegions() }
}

/// The indices the rejection draw keeps on a domain too large to enumerate: the first `count` distinct draws of
/// SplitMix64(seed) modulo the domain that are not excluded, sorted (the scheme before the bitmap, written out).
private func referenceDraw(_ count: Int, seed: UInt64, size: Int, excluding: Set<Int> = []) -> [Int] {
    var rng = SplitMix64(seed: seed)
    var chosen = Set<Int>()
    while chosen.count < count {
        let index = Int(rng.next() % UInt64(size))
        if !excluding.contains(index) { chosen.insert(index) }
    }
    return chosen.sorted()
}

@Test func aSampleOfADomainTooLargeToEnumerateIsTheRejectionDrawsFirstDistinctInputs() throws {
    let t = try task(
        size: 10_000,
        regions: #""probe": {"sample": 3000, "seed": 7}, "held_out": {"sample": 2000, "seed": 8, "excluding": ["probe"]}"#)
    let regions = try t.resolveRegions()
    let probe = referenceDraw(3000, seed: 7, size: 100_000_000)
    #expect(regions["probe"]?.indices == probe)
    #expect(regions["held_out"]?.indices == referenceDraw(2000, seed: 8, size: 100_000_000, excluding: Set(probe)))
    #expect(regions["probe"]?.input(0) == t.values(at: probe[0]))
}

@Test func shardSlicesOfSampledRegionsJoinIntoTheOneMachineRegions() throws {
    let t = try task(
        size: 10_000,
        regions: #""probe": {"sample": 3000, "seed": 7}, "held_out": {"sample": 2000, "seed": 8, "excluding": ["probe"]}"#)
    let whole = try t.resolveRegions()
    for name in ["probe", "held_out"] {
        var indices: [Int] = [], values: [Int] = []
        for index in 0..<3 {
            let (regions, totals) = try t.resolveRegions(slicing: ["probe", "held_out"], for: Shard(index: index, count: 3)!)
            #expect(totals[name] == whole[name]?.count)
            indices += try #require(regions[name]?.indices)
            values += try #require(regions[name]?.values)
        }
        #expect(indices == whole[name]?.indices)
        #expect(values == whole[name]?.values)
    }
}

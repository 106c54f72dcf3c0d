import Testing

@testable import Distillation

/// Ranks with many ties (so the order falls back on the index), from a fixed linear congruential sequence.
private func tiedRanks(_ count: Int, seed: UInt64) -> [Double] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double((state >> 33) % 7)
    }
}

@Test func rankOrderTakesTheCandidatesInSortedOrderBeforeAndAfterItsScanLimit() {
    for (count, scanLimit) in [(0, 8), (1, 8), (5, 8), (40, 3), (200, 8), (200, 0)] {
        let ranks = tiedRanks(count, seed: UInt64(count * 31 + scanLimit))
        let precedes = { (a: Int, b: Int) in ranks[a] > ranks[b] || (ranks[a] == ranks[b] && a < b) }
        let candidates = Array(ranks.indices.reversed())
        var order = RankOrder(candidates, scanLimit: scanLimit, by: precedes)
        var taken: [Int] = []
        while let c = order.next() { taken.append(c) }
        #expect(taken == candidates.sorted(by: precedes), "\(count) candidates, scan limit \(scanLimit)")
    }
}

import Foundation
import Synchronization
import Testing

@testable import Distillation

@Suite("parallelMap")
struct ParallelMapTests {
    @Test("the results are in the items' order and each item is transformed once, whatever the threads", arguments: [1, 2, 3, 8])
    func resultsKeepTheItemsOrder(threads: Int) {
        let calls = Atomic<Int>(0)
        let items = Array(0..<200)
        let results = parallelMap(items, threads: threads) { i -> Int in
            calls.add(1, ordering: .relaxed)
            // Uneven work: a few long items among short ones.
            var x = i
            for _ in 0..<(i % 17 == 0 ? 20_000 : 10) { x = (x &* 31 &+ 7) % 1_000_003 }
            return i * 2 + (x < 0 ? 1 : 0)
        }
        #expect(results == items.map { $0 * 2 })
        #expect(calls.load(ordering: .relaxed) == items.count)
    }

    @Test(
        "a long first item leaves the rest to the other threads",
        .enabled(if: ProcessInfo.processInfo.activeProcessorCount >= 2, "needs two cores"))
    func aLongItemDoesNotHoldBackTheOthers() {
        // Item 0 waits (up to 20 s) until every other item is done; with items dealt out in turn (worker w taking
        // w, w + 2, …) the thread holding item 0 would also hold items 2 and 4, and the wait would run out.
        let done = Atomic<Int>(0)
        let count = 5
        let results = parallelMap(Array(0..<count), threads: 2) { i -> Bool in
            guard i == 0 else {
                done.add(1, ordering: .releasing)
                return true
            }
            let deadline = Date().addingTimeInterval(20)
            while done.load(ordering: .acquiring) < count - 1 {
                if Date() > deadline { return false }
                sched_yield()
            }
            return true
        }
        #expect(results == [Bool](repeating: true, count: count))
    }
}

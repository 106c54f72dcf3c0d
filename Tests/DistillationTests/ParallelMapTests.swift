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

    @Test("a long first item leaves the rest to a thread that takes part")
    func aLongItemDoesNotHoldBackTheOthers() {
        // Item 0 waits (up to 20 s) until every other item is done. Dealt out in turn (worker w taking w, w + 2, …),
        // items 2 and 4 would sit behind item 0 on its thread while the other thread takes 1 and 3, and the wait
        // would run out. The threads of `concurrentPerform` may not all be granted (other tests busy the pool): the
        // expectation holds where another thread took an item early enough to finish the rest in time.
        let done = Atomic<Int>(0)
        let count = 5
        let started = Date()
        let seen = Mutex<[(thread: pthread_t, seconds: Double)?]>(Array(repeating: nil, count: count))
        let results = parallelMap(Array(0..<count), threads: 2) { i -> Bool in
            seen.withLock { $0[i] = (pthread_self(), Date().timeIntervalSince(started)) }
            guard i == 0 else {
                done.add(1, ordering: .releasing)
                return true
            }
            let deadline = started.addingTimeInterval(20)
            while done.load(ordering: .acquiring) < count - 1 {
                if Date() > deadline { return false }
                sched_yield()
            }
            return true
        }
        let threads = seen.withLock { $0.map { $0! } }
        let helped = (1..<count).contains { threads[$0].thread != threads[0].thread && threads[$0].seconds < 15 }
        if helped { #expect(results[0], "the items after the long one waited behind it") }
    }
}

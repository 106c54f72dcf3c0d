// Parallel loops for the kernels: a Swift face on CRetortKernels/pool.c.
import CRetortKernels

/// Runs the many short parallel loops of a forward pass on a pool of worker threads that spin
/// briefly between loops, so that a loop of a few microseconds per thread is worth splitting
/// (`DispatchQueue.concurrentPerform` wakes sleeping threads on every call, tens of
/// microseconds under a hypervisor).
package enum Parallel {
    /// Calls `body(0)`, …, `body(iterations - 1)` on up to `threads` threads and returns when all
    /// have returned. `body` must be safe to call concurrently for different indices. A loop started
    /// while another runs (from another thread, or from inside `body`) runs on the calling thread.
    package static func forEach(_ iterations: Int, threads: Int, _ body: (Int) -> Void) {
        guard iterations > 0 else { return }
        if threads <= 1 || iterations == 1 {
            for i in 0..<iterations { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var closure = body
            withUnsafeMutablePointer(to: &closure) { pointer in
                retort_parallel_for(iterations, threads, { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, pointer)
            }
        }
    }
}

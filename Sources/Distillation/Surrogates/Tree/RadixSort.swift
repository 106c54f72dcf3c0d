/// Least-significant-digit radix sort of 64-bit keys by their high 32 bits (the low bits ride along).
enum RadixSort {
    /// Sorts `keys[0..<count]` by `key >> 32`, where no high word exceeds `maxHighWord`; small inputs use
    /// the standard library sort. Returns the buffer holding the result (`keys` or `temporary`).
    /// - Complexity: O(count · ⌈bits/11⌉) with bits = the bit width of `maxHighWord`.
    static func sortByHighWord(
        _ keys: UnsafeMutablePointer<UInt64>, count: Int, temporary: UnsafeMutablePointer<UInt64>, maxHighWord: Int
    ) -> UnsafeMutablePointer<UInt64> {
        if count <= 256 {
            var buffer = UnsafeMutableBufferPointer(start: keys, count: count)
            buffer.sort()
            return keys
        }
        let bits = max(1, Int.bitWidth - max(maxHighWord, 1).leadingZeroBitCount)
        let digitBits = 11
        let passes = (bits + digitBits - 1) / digitBits
        var source = keys
        var target = temporary
        var histogram = [Int](repeating: 0, count: 1 << digitBits)
        for pass in 0..<passes {
            let shift = UInt64(32 + pass * digitBits)
            let mask: UInt64 = (1 << UInt64(digitBits)) - 1
            histogram.withUnsafeMutableBufferPointer { histogram in
                histogram.update(repeating: 0)
                for j in 0..<count { histogram[Int((source[j] >> shift) & mask)] += 1 }
                var sum = 0
                for d in 0..<histogram.count {
                    let k = histogram[d]
                    histogram[d] = sum
                    sum += k
                }
                for j in 0..<count {
                    let key = source[j]
                    let d = Int((key >> shift) & mask)
                    target[histogram[d]] = key
                    histogram[d] += 1
                }
            }
            swap(&source, &target)
        }
        return source
    }
}

extension RadixSort {
    /// Sorts `keys` in place (least-significant byte first, skipping bytes that are equal in every key) and
    /// returns the permutation applied: `result[j]` is the original index of `keys[j]`; stable.
    /// - Complexity: O(n · passes), at most 8 passes.
    static func argsort(_ keys: inout [UInt64]) -> [UInt32] {
        let n = keys.count
        var order = (0..<UInt32(truncatingIfNeeded: n)).map { $0 }
        var keysOut = [UInt64](repeating: 0, count: n)
        var orderOut = [UInt32](repeating: 0, count: n)
        var histogram = [Int](repeating: 0, count: 256)
        for pass in 0..<8 {
            let shift = UInt64(pass * 8)
            var skip = false
            keys.withUnsafeBufferPointer { keys in
                histogram.withUnsafeMutableBufferPointer { histogram in
                    histogram.update(repeating: 0)
                    for key in keys { histogram[Int((key >> shift) & 0xFF)] += 1 }
                    skip = histogram.contains(n)
                    var sum = 0
                    for d in 0..<256 {
                        let k = histogram[d]
                        histogram[d] = sum
                        sum += k
                    }
                }
            }
            if skip { continue }
            keys.withUnsafeBufferPointer { keysIn in
                order.withUnsafeBufferPointer { orderIn in
                    keysOut.withUnsafeMutableBufferPointer { keysOut in
                        orderOut.withUnsafeMutableBufferPointer { orderOut in
                            histogram.withUnsafeMutableBufferPointer { histogram in
                                for j in 0..<n {
                                    let key = keysIn[j]
                                    let d = Int((key >> shift) & 0xFF)
                                    let target = histogram[d]
                                    keysOut[target] = key
                                    orderOut[target] = orderIn[j]
                                    histogram[d] = target + 1
                                }
                            }
                        }
                    }
                }
            }
            swap(&keys, &keysOut)
            swap(&order, &orderOut)
        }
        return order
    }
}

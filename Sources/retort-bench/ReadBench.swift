import WeightFiles

/// `read FILE`: opens a weight file of any readable format and reads every tensor's values (block-quantized
/// GGUF tensors are dequantized to F32), as a reference library's load does; prints the best and median
/// seconds of the reads after one warm-up pass (page cache warm, so the disk is not what is timed).
func readBenchmark(_ arguments: Arguments) {
    guard arguments.positional.count == 1 else { fail("read takes one weight file") }
    let path = arguments.positional[0]
    let repeats = arguments.int("repeat", default: 5)
    do {
        var times: [Double] = []
        var bytes = 0
        var checksum: UInt8 = 0
        for run in 0...repeats {
            let start = monotonicSeconds()
            let file = try WeightFiles.open(path)
            bytes = 0
            for position in file.tensors.indices {
                let view = try file.tensor(at: position)
                bytes += view.byteRange.count
                // One byte per page, so a view into a map counts its page-ins as a load would.
                view.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        checksum &+= raw[offset]
                        offset += 4096
                    }
                }
            }
            let elapsed = monotonicSeconds() - start
            if run > 0 { times.append(elapsed) }
        }
        times.sort()
        print(
            "{\"file\":\"\(path)\",\"bytes\":\(bytes),\"repeat\":\(repeats),\"best_s\":\(json(times[0])),"
                + "\"median_s\":\(json(times[times.count / 2])),\"checksum\":\(checksum)}")
    } catch {
        fail("\(path): \(error)")
    }
}

import FuzzSupport
import WeightFiles

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): libFuzzer drives the reader. A version 2
// file's header CRC-32 would stop almost every mutation of the header at open, so the input is read
// twice: as it is (the checksum check itself), and with the footer's CRC recomputed for the header
// the footer points at (what the JSON and chunk-table checks behind it see), then restored in memory.
runFuzzer { data, count in
    guard let data else { return 0 }
    _ = exercise(data, count) { (storage) throws(WeightFileError) in try STZFile(storage: storage) }
    var bytes = Array(UnsafeBufferPointer(start: data, count: count))
    guard count >= 16 + 28, bytes[8] == 2 else { return 0 }
    func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
    let footer = count - 28
    let offset = u64(footer)
    let length = u64(footer + 8)
    guard offset <= UInt64(footer), length <= UInt64(footer) - offset else { return 0 }
    let crc = bytes[Int(offset)..<Int(offset + length)].withUnsafeBytes { Inflater.crc32($0) }
    for k in 0..<4 { bytes[footer + 16 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
    _ = bytes.withUnsafeBufferPointer { buffer in
        exercise(buffer.baseAddress!, count) { (storage) throws(WeightFileError) in try STZFile(storage: storage) }
    }
    // Small files only: ASan makes every large allocation cost its size in shadow memory.
    guard let file = try? STZFile(storage: ByteStorage(copying: bytes)), file.source.fileSize <= 1 << 20 else { return 0 }
    let output = UnsafeMutableRawBufferPointer.allocate(byteCount: max(file.source.fileSize, 1), alignment: 64)
    defer { output.deallocate() }
    try? file.restore(into: UnsafeMutableRawBufferPointer(rebasing: output[0..<file.source.fileSize]), checkDigest: true)
    return 0
}

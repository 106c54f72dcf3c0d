#if canImport(Glibc)
    import Glibc
#endif

/// A progress bar on stderr, drawn only when stderr is a terminal and redrawn at
/// most ten times a second.
final class ProgressBar {
    private let label: String
    private let enabled: Bool
    private let unit: String
    private var lastDraw: UInt64 = 0
    private var drawn = false

    /// - Parameter unit: "bytes" shows sizes; anything else shows counts with that word.
    init(label: String, minimumBytes: Int = 64 << 20, totalBytes: Int, unit: String = "bytes") {
        self.label = label
        self.unit = unit
        self.enabled = isatty(2) != 0 && totalBytes >= minimumBytes
    }

    func update(_ done: Int, _ total: Int) {
        guard enabled else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let ms = UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
        guard done == total || ms - lastDraw >= 100 else { return }
        lastDraw = ms
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let amount = unit == "bytes" ? "\(formatBytes(done))/\(formatBytes(total))" : "\(done)/\(total) \(unit)"
        let line = "\r\(label) [\(bar)] \(Int(fraction * 100))% \(amount)"
        writeStandardError(line)
        drawn = true
    }

    func finish() {
        if drawn { writeStandardError("\n") }
    }
}

/// `bytes` in B, kB, MB or GB (powers of 1000).
func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format1(value)) + " " + units[unit]
}

func format1(_ value: Double) -> String {
    let scaled = (value * 10).rounded() / 10
    return String(scaled)
}

/// `value` with three decimals.
func format3(_ value: Double) -> String {
    let scaled = (value * 1000).rounded() / 1000
    return String(scaled)
}

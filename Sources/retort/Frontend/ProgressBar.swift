#if canImport(Glibc)
    import Glibc
#endif

/// A progress bar on stderr with an estimate of the time left, redrawn at most ten times a second when
/// stderr is a terminal; otherwise one plain line every five seconds (so long batch runs are not silent).
final class ProgressBar {
    private let label: String
    private let enabled: Bool
    private let terminal: Bool
    private let unit: String
    private var lastDraw: UInt64 = 0
    private var drawn = false
    private let started = ProgressBar.milliseconds()

    /// - Parameter unit: "bytes" shows sizes; anything else shows counts with that word.
    init(label: String, minimumBytes: Int = 64 << 20, totalBytes: Int, unit: String = "bytes") {
        self.label = label
        self.unit = unit
        self.terminal = isatty(2) != 0
        self.enabled = totalBytes >= minimumBytes
        lastDraw = started
    }

    private static func milliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }

    func update(_ done: Int, _ total: Int) { update(done, total, detail: "") }

    /// `update` with a short note of what is being done after the counts.
    func update(_ done: Int, _ total: Int, detail: String) {
        guard enabled else { return }
        let ms = Self.milliseconds()
        guard ms - lastDraw >= (terminal ? 100 : 5000) || (terminal && done == total) else { return }
        lastDraw = ms
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let amount = unit == "bytes" ? "\(formatBytes(done))/\(formatBytes(total))" : "\(done)/\(total) \(unit)"
        let elapsed = Double(ms - started) / 1000
        let eta = done > 0 && done < total ? ", \(Int((elapsed / fraction - elapsed).rounded())) s left" : ""
        let suffix = detail.isEmpty ? "" : " — \(detail)"
        if terminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            writeStandardError("\r\(label) [\(bar)] \(Int(fraction * 100))% \(amount)\(eta)\(suffix)\u{1B}[K")
            drawn = true
        } else {
            writeStandardError("\(label): \(Int(fraction * 100))% \(amount), \(Int(elapsed)) s\(eta)\(suffix)\n")
        }
    }

    func finish() {
        if drawn { writeStandardError("\n") }
        drawn = false
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

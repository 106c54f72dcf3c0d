import Distillation
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A progress bar on stderr with an estimate of the time left, redrawn at most ten times a second when
/// stderr is a terminal; otherwise one plain line every five seconds (so long batch runs are not silent).
/// Between reports a heartbeat redraws the last one (every second on a terminal, every five seconds
/// otherwise), so a long step that reports rarely still shows the time passing.
/// Thread-safe: reports may come from worker threads.
final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let enabled: Bool
    private let terminal: Bool
    private let unit: String
    private let lock = NSLock()
    private var lastDraw: UInt64 = 0
    private var drawn = false
    private var finished = false
    /// The last report, redrawn by the heartbeat.
    private var last: (done: Int, total: Int, detail: String, unit: String?, bound: Double?, at: UInt64)?
    private var heartbeat: DispatchSourceTimer?
    private let started = ProgressBar.milliseconds()

    /// - Parameter unit: "bytes" shows sizes; anything else shows counts with that word.
    init(label: String, minimumBytes: Int = 64 << 20, totalBytes: Int, unit: String = "bytes") {
        self.label = label
        self.unit = unit
        self.terminal = isatty(2) != 0
        self.enabled = totalBytes >= minimumBytes
        lastDraw = started
        guard enabled else { return }
        let interval = terminal ? 1000 : 5000
        let timer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        timer.schedule(deadline: .now() + .milliseconds(interval), repeating: .milliseconds(interval))
        timer.setEventHandler { [weak self] in self?.beat(interval: UInt64(interval)) }
        timer.resume()
        heartbeat = timer
    }

    deinit { heartbeat?.cancel() }

    private static func milliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }

    func update(_ done: Int, _ total: Int) { update(done, total, detail: "") }

    /// A surrogate fit's progress, in its own unit, with its note and, for a time-limited search, that bound.
    func update(_ progress: FitProgress) {
        update(
            progress.done, progress.total, detail: progress.note, unit: progress.unit,
            secondsLeftAtMost: progress.secondsLeftAtMost)
    }

    /// `update` with a short note of what is being done after the counts; `unit` replaces the bar's own, and
    /// `secondsLeftAtMost` (a time limit's bound) replaces the estimate from the fraction done.
    func update(_ done: Int, _ total: Int, detail: String, unit: String? = nil, secondsLeftAtMost: Double? = nil) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let ms = Self.milliseconds()
        last = (done, total, detail, unit, secondsLeftAtMost, ms)
        guard ms - lastDraw >= (terminal ? 100 : 5000) || (terminal && done == total) else { return }
        draw(done, total, detail: detail, unit: unit, secondsLeftAtMost: secondsLeftAtMost, at: ms)
    }

    /// Redraws the last report when nothing was drawn for `interval` ms; a time bound counts down meanwhile.
    private func beat(interval: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        let ms = Self.milliseconds()
        guard !finished, let last, ms - lastDraw >= interval - 50 else { return }
        let bound = last.bound.map { max(0, $0 - Double(ms - last.at) / 1000) }
        draw(last.done, last.total, detail: last.detail, unit: last.unit, secondsLeftAtMost: bound, at: ms)
    }

    /// Writes one bar (terminal) or line; called with the lock held.
    private func draw(_ done: Int, _ total: Int, detail: String, unit: String?, secondsLeftAtMost: Double?, at ms: UInt64) {
        lastDraw = ms
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let unit = unit ?? self.unit
        let amount = unit == "bytes" ? "\(formatBytes(done))/\(formatBytes(total))" : "\(done)/\(total) \(unit)"
        let elapsed = Double(ms - started) / 1000
        var eta = done > 0 && done < total ? ", about \(seconds(elapsed / fraction - elapsed)) left" : ""
        if let bound = secondsLeftAtMost { eta = ", at most \(seconds(bound)) left" }
        let times = done >= total ? " (\(seconds(elapsed)))" : " (\(seconds(elapsed)) so far\(eta))"
        let suffix = detail.isEmpty ? "" : " — \(detail)"
        if terminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            writeStandardError("\r\(label) [\(bar)] \(Int(fraction * 100))% \(amount)\(times)\(suffix)\u{1B}[K")
            drawn = true
        } else {
            writeStandardError("\(label): \(Int(fraction * 100))% \(amount)\(times)\(suffix)\n")
        }
    }

    /// Seconds for a progress line: one decimal under ten, whole seconds above.
    private func seconds(_ value: Double) -> String {
        let v = max(0, value)
        return v < 10 ? "\(format1(v)) s" : "\(Int(v.rounded())) s"
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        finished = true
        heartbeat?.cancel()
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

import ArgumentParser
import WeightFiles

/// The accepted values of `--threads`: 1 to `STZLayout.maxThreads` (1,024).
///
/// Zero, a negative count or an absurd one is a usage error (exit 64) rather than a silent
/// clamp: a typo such as `--threads 80000` should not start 80,000 workers or quietly run on 1,024.
func validateThreads(_ threads: Int?) throws {
    guard let threads else { return }
    guard (1...STZLayout.maxThreads).contains(threads) else {
        throw ValidationError("--threads must be between 1 and \(STZLayout.maxThreads), got \(threads)")
    }
}

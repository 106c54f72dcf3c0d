// retort-bench: in-process benchmark harness driven by the peer benchmarks in scripts/.
// Each subcommand prints one JSON line per measurement to stdout; errors go to stderr.
//
//   retort-bench gemm M N K [--repeat R] [--threads T] [--bt] [--isa portable|avx2|avx512]
//   retort-bench forward MODEL NETWORK INPUTS [--repeat R] [--threads T]
//
// To add a subcommand, add a case to the switch at the bottom and a line to `usage`.

import CRetortKernels
import Network

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

let usage = """
    usage: retort-bench gemm M N K [--repeat R] [--threads T] [--bt] [--isa portable|avx2|avx512]
           retort-bench forward MODEL NETWORK INPUTS [--repeat R] [--threads T]
           retort-bench lm MODEL PROMPTS [--new-tokens N] [--threads T] [--repeat R] [--arithmetic A] [--only prefill]
           retort-bench stz compress IN.safetensors [--threads T] [--level L] [--repeat R] [--output OUT.stz]
           retort-bench stz decompress FILE.stz [--threads T] [--repeat R] [--digest]
           retort-bench cart DATA.npz [--max-depth D] [--criterion gini|entropy] [--repeat R] [--threads T]
           retort-bench read FILE [--repeat R]
           retort-bench tail MODEL [--layers 10,20,28] [--prompts P] [--pairs N] [--steps S] [--threads T] [--all-prompts]
           retort-bench program add100|mod113|random [EXAMPLES …] [--corrupt C] [--max-size S] [--seconds T] [--max-kept K] [--seed X]
    """

/// Prints `message` and the usage to stderr, and exits with status 2.
func fail(_ message: String) -> Never {
    var text = message + "\n" + usage + "\n"
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    exit(2)
}

/// Command-line words after the subcommand: positional values and `--name value` options.
struct Arguments {
    var positional: [String] = []
    var options: [String: String] = [:]
    var flags: Set<String> = []

    /// Splits `words`; names in `flagNames` take no value.
    init(_ words: ArraySlice<String>, flagNames: Set<String> = []) {
        var iterator = words.makeIterator()
        while let word = iterator.next() {
            if word.hasPrefix("--") {
                let name = String(word.dropFirst(2))
                if flagNames.contains(name) {
                    flags.insert(name)
                } else if let value = iterator.next() {
                    options[name] = value
                } else {
                    fail("missing value for \(word)")
                }
            } else {
                positional.append(word)
            }
        }
    }

    /// The integer option `name`, or `default`; fails on a malformed or out-of-range value.
    func int(_ name: String, default value: Int, minimum: Int = 1) -> Int {
        guard let text = options[name] else { return value }
        guard let parsed = Int(text), parsed >= minimum else { fail("bad --\(name): \(text)") }
        return parsed
    }
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Deterministic pseudo-random floats in [-1, 1) (xorshift64*).
func pseudoRandomFloats(count: Int, seed: UInt64) -> [Float] {
    var state = seed | 1
    return (0..<count).map { _ in
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        let bits = (state &* 0x2545_F491_4F6C_DD1D) >> 40  // 24 bits
        return Float(bits) / Float(1 << 23) - 1
    }
}

/// Formats a Double for JSON: `null` when it is not finite.
func json(_ value: Double) -> String {
    value.isFinite ? "\(value)" : "null"
}

/// `gemm M N K`: times `Matmul.multiply` and prints best and median seconds and GFLOP/s.
func runGemm(_ words: ArraySlice<String>) {
    let args = Arguments(words, flagNames: ["bt"])
    guard args.positional.count == 3,
        let m = Int(args.positional[0]), let n = Int(args.positional[1]), let k = Int(args.positional[2]),
        m > 0, n > 0, k > 0
    else { fail("gemm needs three positive sizes M N K") }
    for (rows, columns) in [(m, k), (k, n), (m, n)] {
        let (elements, overflow) = rows.multipliedReportingOverflow(by: columns)
        if overflow || elements > Int.max / MemoryLayout<Float>.stride { fail("gemm sizes too large: \(m) \(n) \(k)") }
    }
    let repeats = args.int("repeat", default: 10)
    let threads = args.int("threads", default: 1)
    let transposed = args.flags.contains("bt")
    var isa = Matmul.instructionSet
    if let name = args.options["isa"] {
        guard let chosen = [Matmul.InstructionSet.portable, .avx2, .avx512].first(where: { "\($0)" == name }),
            chosen.rawValue <= isa.rawValue
        else { fail("unknown or unsupported --isa \(name) (this CPU: \(isa))") }
        isa = chosen
    }

    let a = pseudoRandomFloats(count: m * k, seed: 0x9E37_79B9_7F4A_7C15)
    let b = pseudoRandomFloats(count: k * n, seed: 0xD1B5_4A32_D192_ED03)
    var c = [Float](repeating: 0, count: m * n)
    var times: [Double] = []
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer { c in
                let (aBase, bBase, cBase) = (a.baseAddress!, b.baseAddress!, c.baseAddress!)
                let run = {
                    Matmul.multiply(
                        aBase, bBase, into: cBase, m: m, n: n, k: k,
                        bTransposed: transposed, threads: threads, instructionSet: isa)
                }
                // Warm up: at least two runs and at least ~0.1 s, so clocks and caches settle.
                let warmStart = monotonicSeconds()
                var warmRuns = 0
                while warmRuns < 2 || (monotonicSeconds() - warmStart < 0.1 && warmRuns < 1000) {
                    run()
                    warmRuns += 1
                }
                for _ in 0..<repeats {
                    let start = monotonicSeconds()
                    run()
                    times.append(monotonicSeconds() - start)
                }
            }
        }
    }
    times.sort()
    let best = times[0]
    let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
    let gflops = 2.0 * Double(m) * Double(n) * Double(k) / best / 1e9
    print(
        "{\"m\":\(m),\"n\":\(n),\"k\":\(k),\"threads\":\(threads),\"bt\":\(transposed),\"isa\":\"\(isa)\","
            + "\"repeat\":\(repeats),\"best_s\":\(json(best)),\"median_s\":\(json(median)),\"gflops\":\(json(gflops))}")
}

// As the retort executable does (Sources/retort/Frontend/Allocator.swift): keep freed activation
// buffers for reuse instead of unmapping them after every layer.
retort_keep_freed_memory()

let words = CommandLine.arguments.dropFirst()
switch words.first {
case "gemm":
    runGemm(words.dropFirst())
case "cart":
    cartBenchmark(Arguments(words.dropFirst()))
case "program":
    programBenchmark(Arguments(words.dropFirst()))
case "stz":
    stzBenchmark(Arguments(words.dropFirst(), flagNames: ["digest"]))
case "read":
    readBenchmark(Arguments(words.dropFirst()))
case "lm":
    languageModelBenchmark(Arguments(words.dropFirst()))
case "forward":
    forwardBenchmark(Arguments(words.dropFirst()))
case "tail":
    tailBenchmark(Arguments(words.dropFirst(), flagNames: ["all-prompts"]))
case "-h", "--help", "help":
    print(usage)
default:
    fail(words.first.map { "unknown subcommand \($0)" } ?? "missing subcommand")
}

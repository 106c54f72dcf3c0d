/// The search's inner loops: one DSL node applied to its children's value vectors, example by example.
///
/// Children hold Int32 values (the bank stores nothing wider), so every result is computed exactly in
/// Int64 with no overflow possible, which is the DSL's saturating semantics restricted to these operands.
/// Floor division goes through Double: for |x| < 2⁵³ the correctly rounded quotient never crosses an
/// integer, so truncating it and stepping down when it was negative gives ⌊x / y⌋ exactly.
enum VectorKernels {
    /// ⌊x / y⌋ for Int32-range operands; 0 when y = 0.
    @inline(__always)
    static func floorDivide(_ x: Int64, _ y: Int64) -> Int64 {
        let quotient = Double(x) / Double(y == 0 ? 1 : y)
        var truncated = Int64(quotient)
        truncated &-= Double(truncated) > quotient ? 1 : 0
        return y == 0 ? 0 : truncated
    }

    /// Applies `op` to two vectors.
    @inline(__always)
    static func binary<Sink: ValueSink>(
        _ op: BinaryOperator, _ x: UnsafePointer<Int32>, _ y: UnsafePointer<Int32>, into sink: inout Sink
    ) {
        switch op {
        case .add: sink.consume { Int64(x[$0]) &+ Int64(y[$0]) }
        case .subtract: sink.consume { Int64(x[$0]) &- Int64(y[$0]) }
        case .multiply: sink.consume { Int64(x[$0]) &* Int64(y[$0]) }
        case .divide: sink.consume { floorDivide(Int64(x[$0]), Int64(y[$0])) }
        case .modulo:
            sink.consume {
                let (a, b) = (Int64(x[$0]), Int64(y[$0]))
                return b == 0 ? a : a &- b &* floorDivide(a, b)
            }
        case .less: sink.consume { x[$0] < y[$0] ? 1 : 0 }
        case .lessOrEqual: sink.consume { x[$0] <= y[$0] ? 1 : 0 }
        case .equal: sink.consume { x[$0] == y[$0] ? 1 : 0 }
        case .minimum: sink.consume { Int64(min(x[$0], y[$0])) }
        case .maximum: sink.consume { Int64(max(x[$0], y[$0])) }
        }
    }

    /// `(|x| div power) mod base` for every element (power = base^place).
    @inline(__always)
    static func digit<Sink: ValueSink>(_ x: UnsafePointer<Int32>, power: Int64, base: Int64, into sink: inout Sink) {
        let (powerValue, baseValue) = (Double(power), Double(base))
        sink.consume {
            let magnitude = Int64(x[$0]).magnitude
            let shifted = Int64(Double(magnitude) / powerValue)
            return shifted &- base &* Int64(Double(shifted) / baseValue)
        }
    }

    /// `if c ≠ 0 then x else y` for every element.
    @inline(__always)
    static func conditional<Sink: ValueSink>(
        _ c: UnsafePointer<Int32>, _ x: UnsafePointer<Int32>, _ y: UnsafePointer<Int32>, into sink: inout Sink
    ) {
        sink.consume { Int64(c[$0] != 0 ? x[$0] : y[$0]) }
    }
}

/// Where a kernel's values go: `consume` is called once with example i's value as `value(i)`.
protocol ValueSink {
    mutating func consume(_ value: (Int) -> Int64)
}

/// Writes the values (narrowed to Int32) to a bank slot, noting whether they all fit, and counts the
/// examples whose value differs from the target.
struct StoringSink: ValueSink {
    let count: Int
    let output: UnsafeMutablePointer<Int32>
    let targets: UnsafePointer<Int64>
    private(set) var fits = true
    private(set) var mismatches = 0

    init(count: Int, output: UnsafeMutablePointer<Int32>, targets: UnsafePointer<Int64>) {
        self.count = count
        self.output = output
        self.targets = targets
    }

    @inline(__always)
    mutating func consume(_ value: (Int) -> Int64) {
        var spill: Int64 = 0
        var wrong = 0
        for i in 0..<count {
            let exact = value(i)
            let narrow = Int32(truncatingIfNeeded: exact)
            output[i] = narrow
            spill |= exact ^ Int64(narrow)
            wrong &+= exact == targets[i] ? 0 : 1
        }
        fits = spill == 0
        mismatches = wrong
    }
}

/// Counts the examples whose value differs from the target, giving up (in blocks of 64 examples) once the
/// count exceeds `bound`; used for candidates that are scored but not kept.
struct CountingSink: ValueSink {
    let count: Int
    let targets: UnsafePointer<Int64>
    let bound: Int
    private(set) var mismatches = 0

    init(count: Int, targets: UnsafePointer<Int64>, bound: Int) {
        self.count = count
        self.targets = targets
        self.bound = bound
    }

    @inline(__always)
    mutating func consume(_ value: (Int) -> Int64) {
        var wrong = 0
        var start = 0
        while start < count {
            let end = min(start + 64, count)
            for i in start..<end { wrong &+= value(i) == targets[i] ? 0 : 1 }
            if wrong > bound { break }
            start = end
        }
        mismatches = wrong
    }
}

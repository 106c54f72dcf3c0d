extension GGUFValue {
    /// The value as `WeightFile.metadata` shows it: a string as itself, an integer in decimal, a
    /// float as its shortest round-trip decimal (`0.1`, `1e-05`, `inf`, `nan`), a bool as
    /// `true`/`false`, an array as a JSON array (non-finite floats inside it as `null`).
    /// - Complexity: O(n) in the value's size.
    public var text: String {
        switch self {
        case .uint8(let v): String(v)
        case .int8(let v): String(v)
        case .uint16(let v): String(v)
        case .int16(let v): String(v)
        case .uint32(let v): String(v)
        case .int32(let v): String(v)
        case .uint64(let v): String(v)
        case .int64(let v): String(v)
        case .float32(let v): v.description
        case .float64(let v): v.description
        case .bool(let v): v ? "true" : "false"
        case .string(let s): s
        case .array(let a): a.json
        }
    }
}

extension GGUFArray {
    /// The array as compact JSON (`[1,2,3]`, `["a","b"]`, `[[1],[true]]`); floats in their shortest
    /// round-trip form, non-finite floats as `null` (JSON has no NaN or infinity).
    /// - Complexity: O(n) in the array's size.
    public var json: String {
        var out: [UInt8] = []
        appendJSON(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func appendJSON(to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        switch self {
        case .uint8(let a): appendNumbers(a, to: &out)
        case .int8(let a): appendNumbers(a, to: &out)
        case .uint16(let a): appendNumbers(a, to: &out)
        case .int16(let a): appendNumbers(a, to: &out)
        case .uint32(let a): appendNumbers(a, to: &out)
        case .int32(let a): appendNumbers(a, to: &out)
        case .uint64(let a): appendNumbers(a, to: &out)
        case .int64(let a): appendNumbers(a, to: &out)
        case .float32(let a): appendFloats(a, to: &out)
        case .float64(let a): appendFloats(a, to: &out)
        case .bool(let a):
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: v ? "true".utf8 : "false".utf8)
            }
        case .string(let a):
            for (i, s) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.appendString(s, to: &out)
            }
        case .array(let a):
            for (i, inner) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                inner.appendJSON(to: &out)
            }
        }
        out.append(UInt8(ascii: "]"))
    }

    private func appendNumbers<T: BinaryInteger>(_ values: [T], to out: inout [UInt8]) {
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: String(v).utf8)
        }
    }

    private func appendFloats<T: BinaryFloatingPoint & CustomStringConvertible>(_ values: [T], to out: inout [UInt8]) {
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: v.isFinite ? v.description.utf8 : "null".utf8)
        }
    }
}

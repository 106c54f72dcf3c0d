/// A validated NPY preamble: magic, version, header length and the header dictionary
/// `{'descr': …, 'fortran_order': …, 'shape': …}` (numpy `lib/_format_impl.py`).
///
/// The dictionary is parsed by a small tokenizer for the Python literal subset numpy
/// writes (quoted strings, `True`/`False`/`None`, integers, tuples, lists, dicts),
/// never evaluated. Exactly the three keys must be present, each once.
public struct NPYHeader: Sendable, Hashable {
    /// The six magic bytes `\x93NUMPY`.
    public static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    /// The most header-dictionary bytes accepted. numpy itself stops at 10,000
    /// characters (`_MAX_HEADER_SIZE`); a plain array's header is under 2 KB even
    /// with 64 dimensions, so this is generous but keeps parsing bounded.
    public static let maxHeaderLength = 1 << 20
    /// The deepest nesting of brackets the tokenizer follows (structured descrs nest).
    static let maxNesting = 32

    /// The format version, `(1, 0)`, `(2, 0)` or `(3, 0)`.
    public var version: (major: UInt8, minor: UInt8) { (major, minor) }
    let major: UInt8
    let minor: UInt8
    /// The `descr` string as written, e.g. `"<f4"`.
    public var descr: String
    /// The element type.
    public var dtype: DType
    /// True when the data is big-endian (`>`) and wider than one byte per component.
    public var isBigEndian: Bool
    /// True when the data is stored column-major (`fortran_order: True`).
    public var fortranOrder: Bool
    /// The dimensions, outermost first; `[]` is a scalar (one element).
    public var shape: [Int]
    /// Where the data starts, counted from the start of the NPY bytes.
    public var dataOffset: Int
    /// The number of data bytes the shape and dtype need.
    public var dataByteCount: Int

    /// True when the data is already little-endian and row-major, so it can be viewed in place.
    public var isNativeLayout: Bool {
        !isBigEndian && (!fortranOrder || shape.filter { $0 > 1 }.count <= 1)
    }

    /// The length of the preamble (magic, version, length field and header dictionary),
    /// read from the first 10 or 12 bytes, i.e. where the data starts.
    ///
    /// Returns `nil` when `prefix` is too short to tell.
    /// - Throws: `npyBadMagic`, `npyUnsupportedVersion`, `npyBadHeader` (length over the cap).
    /// - Complexity: O(1)
    public static func dataOffset(prefix: UnsafeRawBufferPointer) throws(WeightFileError) -> Int? {
        let n = min(prefix.count, magic.count)
        for i in 0..<n where prefix[i] != magic[i] { throw .npyBadMagic }
        guard prefix.count >= 8 else { return nil }
        let major = prefix[6]
        let minor = prefix[7]
        let lengthBytes: Int
        switch (major, minor) {
        case (1, 0): lengthBytes = 2
        case (2, 0), (3, 0): lengthBytes = 4
        default: throw .npyUnsupportedVersion(major: major, minor: minor)
        }
        guard prefix.count >= 8 + lengthBytes else { return nil }
        var length = 0
        for i in 0..<lengthBytes { length |= Int(prefix[8 + i]) << (8 * i) }
        guard length <= maxHeaderLength else {
            throw .npyBadHeader(reason: "header length \(length) exceeds the \(maxHeaderLength)-byte cap")
        }
        return 8 + lengthBytes + length
    }

    /// Parses and validates the preamble at the start of `bytes` (which may hold more,
    /// e.g. the whole file). Does not look at the data.
    /// - Throws: `npyBadMagic`, `npyUnsupportedVersion`, `npyBadHeader`, `npyObjectDType`,
    ///   `npyStructuredDType`, `npyUnsupportedDType`, `npyShapeOverflow`.
    /// - Complexity: O(h) for a header of h bytes.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(WeightFileError) -> NPYHeader {
        guard bytes.count >= magic.count else {
            _ = try dataOffset(prefix: bytes)
            throw .npyBadMagic
        }
        guard let dataOffset = try dataOffset(prefix: bytes) else {
            throw .npyBadHeader(reason: "the file ends inside the preamble (\(bytes.count) bytes)")
        }
        let start = bytes[6] == 1 ? 10 : 12
        guard dataOffset <= bytes.count else {
            throw .npyBadHeader(
                reason: "the header claims \(dataOffset - start) bytes but the file ends after \(bytes.count - start)")
        }
        let text = UnsafeRawBufferPointer(rebasing: bytes[start..<dataOffset])
        let utf8 = bytes[6] == 3
        if utf8, let bad = firstInvalidUTF8Offset(text) {
            throw .npyBadHeader(reason: "invalid UTF-8 at header byte \(start + bad)")
        }
        var parser = PythonLiteralParser(text: text, base: start, utf8: utf8)
        let dictionary = try parser.parseHeader()

        var descrValue: PythonLiteral?
        var descrText = ""
        var fortranValue: PythonLiteral?
        var shapeValue: PythonLiteral?
        var shapeText = ""
        for (key, value, source) in dictionary {
            guard case .string(let name) = key else {
                throw .npyBadHeader(reason: "a key is \(key.kindDescription), not a string")
            }
            switch name {
            case "descr":
                guard descrValue == nil else { throw .npyBadHeader(reason: "key 'descr' appears twice") }
                descrValue = value
                descrText = source
            case "fortran_order":
                guard fortranValue == nil else { throw .npyBadHeader(reason: "key 'fortran_order' appears twice") }
                fortranValue = value
            case "shape":
                guard shapeValue == nil else { throw .npyBadHeader(reason: "key 'shape' appears twice") }
                shapeValue = value
                shapeText = source
            default:
                throw .npyBadHeader(reason: "unexpected key '\(name)'")
            }
        }
        guard let descrValue else { throw .npyBadHeader(reason: "missing key 'descr'") }
        guard let fortranValue else { throw .npyBadHeader(reason: "missing key 'fortran_order'") }
        guard let shapeValue else { throw .npyBadHeader(reason: "missing key 'shape'") }

        guard case .tuple(let dims) = shapeValue else {
            throw .npyBadHeader(reason: "shape is \(shapeValue.kindDescription), not a tuple: \(shapeText)")
        }
        var shape: [Int] = []
        var overflow = false
        for dim in dims {
            switch dim {
            case .integer(let value):
                guard let value else { overflow = true; shape.append(0); continue }
                guard value >= 0 else { throw .npyBadHeader(reason: "negative dimension in shape \(shapeText)") }
                shape.append(value)
            default:
                throw .npyBadHeader(reason: "shape holds \(dim.kindDescription), not an integer: \(shapeText)")
            }
        }
        guard case .bool(let fortranOrder) = fortranValue else {
            throw .npyBadHeader(reason: "fortran_order is \(fortranValue.kindDescription), not True or False")
        }

        let dtype: DType
        let isBigEndian: Bool
        switch descrValue {
        case .string(let descr):
            (dtype, isBigEndian) = try mapDescr(descr)
            descrText = descr
        case .list(let fields):
            // A structured dtype holding an object field is still, first of all, a pickle.
            if fields.contains(where: \.containsObjectDescr) { throw .npyObjectDType(descr: descrText) }
            throw .npyStructuredDType(descr: descrText)
        case .tuple:
            // `(base, shape)`: a sub-array dtype, which has no counterpart in a flat tensor.
            if descrValue.containsObjectDescr { throw .npyObjectDType(descr: descrText) }
            throw .npyUnsupportedDType(descr: descrText)
        default:
            throw .npyBadHeader(reason: "descr is \(descrValue.kindDescription), not a string: \(descrText)")
        }

        var count = 1
        for dim in shape where !overflow {
            let (product, o) = count.multipliedReportingOverflow(by: dim)
            count = product
            overflow = o
        }
        let (byteCount, o) = count.multipliedReportingOverflow(by: dtype.byteWidth ?? 1)
        if overflow || o || dataOffset.addingReportingOverflow(byteCount).overflow {
            throw .npyShapeOverflow(shape: shapeText, descr: descrText)
        }
        return NPYHeader(
            major: bytes[6], minor: bytes[7], descr: descrText, dtype: dtype, isBigEndian: isBigEndian,
            fortranOrder: fortranOrder, shape: shape, dataOffset: dataOffset, dataByteCount: byteCount)
    }

    /// Maps a numpy type string (`<f4`, `|u1`, `>i8`, …) to a dtype and its byte order.
    static func mapDescr(_ descr: String) throws(WeightFileError) -> (DType, bigEndian: Bool) {
        let scalars = Array(descr.unicodeScalars)
        guard let order = scalars.first, "<>|=".unicodeScalars.contains(order), scalars.count >= 2 else {
            if descr.unicodeScalars.first == "O" { throw .npyObjectDType(descr: descr) }
            throw .npyUnsupportedDType(descr: descr)
        }
        if scalars[1] == "O" { throw .npyObjectDType(descr: descr) }
        let dtype: DType
        switch String(String.UnicodeScalarView(scalars[1...])) {
        case "b1": dtype = .bool
        case "u1": dtype = .u8
        case "i1": dtype = .i8
        case "i2": dtype = .i16
        case "u2": dtype = .u16
        case "i4": dtype = .i32
        case "u4": dtype = .u32
        case "i8": dtype = .i64
        case "u8": dtype = .u64
        case "f2": dtype = .f16
        case "f4": dtype = .f32
        case "f8": dtype = .f64
        case "c8": dtype = .c64
        default: throw .npyUnsupportedDType(descr: descr)
        }
        if dtype.byteWidth == 1 {
            // numpy writes `|` for single bytes but also reads `<u1` and `>u1`; `=` is native order.
            return (dtype, false)
        }
        // `|` (no order) and `=` (the writer's native order) do not say how the bytes are laid out.
        switch order {
        case "<": return (dtype, false)
        case ">": return (dtype, true)
        default: throw .npyUnsupportedDType(descr: descr)
        }
    }
}

/// A value of the Python literal subset found in NPY headers.
indirect enum PythonLiteral: Sendable {
    case string(String)
    /// `nil` when the integer does not fit in `Int`.
    case integer(Int?)
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([(PythonLiteral, PythonLiteral)])

    var kindDescription: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .bool: "a boolean"
        case .none: "None"
        case .tuple: "a tuple"
        case .list: "a list"
        case .dict: "a dict"
        }
    }

    /// True when this is, or contains, a descr string of Python objects (`O`, `|O`, `<O`, …).
    var containsObjectDescr: Bool {
        switch self {
        case .string(let s):
            s.unicodeScalars.drop { "<>|=".unicodeScalars.contains($0) }.first == "O"
        case .tuple(let items), .list(let items): items.contains(where: \.containsObjectDescr)
        case .dict(let pairs): pairs.contains { $0.1.containsObjectDescr }
        default: false
        }
    }
}

/// A recursive-descent parser for the NPY header dictionary (a Python literal).
struct PythonLiteralParser {
    let text: UnsafeRawBufferPointer
    /// The offset of `text` in the NPY bytes, for error messages.
    let base: Int
    /// Version 3.0 headers are UTF-8; earlier ones are Latin-1.
    let utf8: Bool
    var position = 0

    init(text: UnsafeRawBufferPointer, base: Int, utf8: Bool) {
        self.text = text
        self.base = base
        self.utf8 = utf8
    }

    private func fail(_ what: String) -> WeightFileError {
        .npyBadHeader(reason: "\(what) at byte \(base + position)")
    }

    private mutating func skipWhitespace() {
        while position < text.count, [0x20, 0x09, 0x0A, 0x0D, 0x0C].contains(text[position]) { position += 1 }
    }

    private var current: UInt8? { position < text.count ? text[position] : nil }

    /// Parses the whole header: one dict literal, surrounded only by whitespace.
    /// Returns the key, the value and the value's source text for each entry.
    mutating func parseHeader() throws(WeightFileError) -> [(PythonLiteral, PythonLiteral, String)] {
        skipWhitespace()
        guard current == UInt8(ascii: "{") else { throw fail("the header is not a dict literal: expected '{'") }
        position += 1
        var entries: [(PythonLiteral, PythonLiteral, String)] = []
        while true {
            skipWhitespace()
            if current == UInt8(ascii: "}") { position += 1; break }
            let key = try parseValue(depth: 1)
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw fail("expected ':' after a dict key") }
            position += 1
            skipWhitespace()
            let start = position
            let value = try parseValue(depth: 1)
            let source = String(decoding: UnsafeRawBufferPointer(rebasing: text[start..<position]), as: UTF8.self)
            entries.append((key, value, source))
            skipWhitespace()
            if current == UInt8(ascii: ",") { position += 1; continue }
            guard current == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in the dict") }
            position += 1
            break
        }
        skipWhitespace()
        guard position == text.count else { throw fail("unexpected text after the dict") }
        return entries
    }

    private mutating func parseValue(depth: Int) throws(WeightFileError) -> PythonLiteral {
        guard depth <= NPYHeader.maxNesting else { throw fail("nesting deeper than \(NPYHeader.maxNesting)") }
        skipWhitespace()
        guard let c = current else { throw fail("the header ends where a value was expected") }
        switch c {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return .string(try parseString(quote: c))
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"):
            return .integer(try parseInteger())
        case UInt8(ascii: "("):
            position += 1
            let (items, sawComma) = try parseSequence(closing: UInt8(ascii: ")"), depth: depth)
            // `(3)` is a parenthesised integer, `(3,)` a tuple.
            if items.count == 1 && !sawComma { return items[0] }
            return .tuple(items)
        case UInt8(ascii: "["):
            position += 1
            return .list(try parseSequence(closing: UInt8(ascii: "]"), depth: depth).items)
        case UInt8(ascii: "{"):
            position += 1
            var pairs: [(PythonLiteral, PythonLiteral)] = []
            while true {
                skipWhitespace()
                if current == UInt8(ascii: "}") { position += 1; return .dict(pairs) }
                let key = try parseValue(depth: depth + 1)
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw fail("expected ':' after a dict key") }
                position += 1
                pairs.append((key, try parseValue(depth: depth + 1)))
                skipWhitespace()
                if current == UInt8(ascii: ",") { position += 1; continue }
                guard current == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in a dict") }
                position += 1
                return .dict(pairs)
            }
        default:
            var end = position
            while end < text.count, isIdentifierByte(text[end]) { end += 1 }
            let word = String(decoding: UnsafeRawBufferPointer(rebasing: text[position..<end]), as: UTF8.self)
            switch word {
            case "True": position = end; return .bool(true)
            case "False": position = end; return .bool(false)
            case "None": position = end; return .none
            case "": throw fail("unexpected character 0x\(String(c, radix: 16))")
            default: throw fail("unsupported token '\(word)'")
            }
        }
    }

    private func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F
    }

    /// Items up to the closing bracket; a trailing comma is allowed.
    private mutating func parseSequence(closing: UInt8, depth: Int) throws(WeightFileError)
        -> (items: [PythonLiteral], sawComma: Bool)
    {
        var items: [PythonLiteral] = []
        var sawComma = false
        while true {
            skipWhitespace()
            if current == closing { position += 1; return (items, sawComma) }
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            if current == UInt8(ascii: ",") { position += 1; sawComma = true; continue }
            guard current == closing else {
                throw fail("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
            }
            position += 1
            return (items, sawComma)
        }
    }

    /// A decimal integer, optionally signed; Python 2's `L` suffix is accepted in
    /// version 1.0 and 2.0 headers, as numpy's `_filter_header` accepts it.
    private mutating func parseInteger() throws(WeightFileError) -> Int? {
        var negative = false
        if current == UInt8(ascii: "-") || current == UInt8(ascii: "+") {
            negative = current == UInt8(ascii: "-")
            position += 1
            skipWhitespace()
        }
        let start = position
        var value: Int? = 0
        while let c = current, c >= 0x30 && c <= 0x39 {
            if let v = value {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int(c - 0x30))
                value = o1 || o2 ? nil : s
            }
            position += 1
        }
        guard position > start else { throw fail("expected digits") }
        if position - start > 1 && text[start] == UInt8(ascii: "0") { throw fail("an integer with a leading zero") }
        if !utf8, current == UInt8(ascii: "L") { position += 1 }
        if let c = current, isIdentifierByte(c) { throw fail("unexpected character after an integer") }
        if negative, let v = value { value = -v }
        return value
    }

    /// A quoted string; only the escapes `\\`, `\'` and `\"` are accepted.
    private mutating func parseString(quote: UInt8) throws(WeightFileError) -> String {
        position += 1
        var bytes: [UInt8] = []
        while true {
            guard let c = current else { throw fail("unterminated string") }
            position += 1
            if c == quote { break }
            if c == 0x0A || c == 0x0D { throw fail("a line break inside a string") }
            if c == UInt8(ascii: "\\") {
                guard let e = current, e == UInt8(ascii: "\\") || e == UInt8(ascii: "'") || e == UInt8(ascii: "\"")
                else { throw fail("unsupported escape in a string") }
                bytes.append(e)
                position += 1
                continue
            }
            bytes.append(c)
        }
        if utf8 { return String(decoding: bytes, as: UTF8.self) }
        // Latin-1: each byte is the code point of the same value.
        var s = ""
        s.unicodeScalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
        return s
    }
}

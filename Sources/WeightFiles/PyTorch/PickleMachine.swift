/// What a pickle stream builds: its root value and the objects values refer to.
public struct PickleResult: Sendable {
    /// The value STOP returned.
    public let root: PickleValue
    /// The arena `PickleValue.object(i)` indexes.
    public let objects: [PickleObject]
    /// The PROTO byte (0 when absent).
    public let protocolVersion: Int
    /// The offset just past the STOP opcode.
    public let end: Int
}

/// An interpreter for the pickle opcodes `torch.save` emits (protocols 0–5), which builds values
/// and never executes anything.
///
/// GLOBAL and STACK_GLOBAL only look a name up in `PickleGlobal`'s allowlist — any other name is
/// `pickleForbiddenGlobal` at that opcode, before another byte is read. REDUCE, NEWOBJ and BUILD
/// apply allowlisted names symbolically (a tensor rebuild function yields a
/// `TorchTensorReference`); nothing is imported or called. Opcodes that import or call by
/// themselves (INST, OBJ, EXT1/2/4) and out-of-band buffers are refused.
///
/// Bounds: every length is checked against the remaining bytes before anything is allocated;
/// the stack holds at most `maxStack` values; containers nest at most `maxNesting` deep; memo
/// indices are looked up in a dictionary, so a huge PUT index allocates nothing. Each opcode adds
/// at most a few values, so memory is linear in the pickle's length. The interpreter is a loop:
/// no input can recurse.
public struct PickleMachine {
    /// The most values the stack (all mark frames together) may hold.
    public static let maxStack = 1 << 20
    /// The deepest nesting of containers accepted (Python's own pickler stops near 1,000).
    public static let maxNesting = 512

    private let bytes: UnsafeRawBufferPointer
    private let entry: String
    private var position = 0
    private var opcodeOffset = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var objects: [PickleObject] = []
    private var protocolVersion = 0

    private init(bytes: UnsafeRawBufferPointer, entry: String) {
        self.bytes = bytes
        self.entry = entry
    }

    /// Interprets the pickle that starts at `start` in `bytes` (named `entry` in errors; offsets
    /// count from the start of `bytes`) up to its STOP opcode; bytes after STOP are ignored, as
    /// Python ignores them.
    /// - Throws: `pickleInvalid` (malformed stream, refused opcode, stack/memo misuse, with the
    ///   opcode's offset), `pickleForbiddenGlobal`, `pytorchInvalid` (a rebuild call with bad arguments).
    /// - Complexity: O(n) in the pickle's length (dict and set inserts are hashed).
    public static func run(_ bytes: UnsafeRawBufferPointer, entry: String, from start: Int = 0) throws(WeightFileError)
        -> PickleResult
    {
        var machine = PickleMachine(bytes: bytes, entry: entry)
        machine.position = min(max(start, 0), bytes.count)
        let root = try machine.execute()
        return PickleResult(
            root: root, objects: machine.objects, protocolVersion: machine.protocolVersion, end: machine.position)
    }

    // MARK: Errors and reading

    private func invalid(_ reason: String) -> WeightFileError {
        .pickleInvalid(entry: entry, reason: reason, offset: opcodeOffset)
    }

    private mutating func read(_ count: Int) throws(WeightFileError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - position else {
            throw invalid("needs \(count) bytes but \(bytes.count - position) remain")
        }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    private mutating func byte() throws(WeightFileError) -> UInt8 { try read(1)[0] }

    private mutating func uint(_ size: Int) throws(WeightFileError) -> UInt64 {
        let raw = try read(size)
        var value: UInt64 = 0
        for i in (0..<size).reversed() { value = value << 8 | UInt64(raw[i]) }
        return value
    }

    /// A length field, checked against the bytes that remain before anything is allocated.
    private mutating func length(_ size: Int) throws(WeightFileError) -> Int {
        let value = try uint(size)
        guard value <= UInt64(bytes.count - position) else {
            throw invalid("a length of \(value) bytes runs past the end of the pickle (\(bytes.count - position) remain)")
        }
        return Int(value)
    }

    /// The bytes up to the next newline (protocol 0 arguments), without it.
    private mutating func line() throws(WeightFileError) -> UnsafeRawBufferPointer {
        var end = position
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        guard end < bytes.count else { throw invalid("a line argument has no terminating newline") }
        defer { position = end + 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<end])
    }

    private func utf8(_ raw: UnsafeRawBufferPointer) throws(WeightFileError) -> String {
        if let bad = firstInvalidUTF8Offset(raw) { throw invalid("string is not UTF-8 (byte \(bad) of it)") }
        return String(decoding: raw, as: UTF8.self)
    }

    private func ascii(_ raw: UnsafeRawBufferPointer) -> String { String(decoding: raw, as: UTF8.self) }

    // MARK: Stack

    private var frameStart: Int { marks.last ?? 0 }

    private mutating func push(_ value: PickleValue) throws(WeightFileError) {
        guard stack.count < PickleMachine.maxStack else {
            throw invalid("the stack holds more than \(PickleMachine.maxStack) values")
        }
        stack.append(value)
    }

    private mutating func pop() throws(WeightFileError) -> PickleValue {
        guard stack.count > frameStart else { throw invalid("stack underflow") }
        return stack.removeLast()
    }

    private func top() throws(WeightFileError) -> PickleValue {
        guard stack.count > frameStart else { throw invalid("stack underflow") }
        return stack[stack.count - 1]
    }

    private mutating func popMark() throws(WeightFileError) -> [PickleValue] {
        guard let mark = marks.popLast() else { throw invalid("no MARK to pop to") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    // MARK: Objects

    private func depth(_ value: PickleValue) -> Int {
        if case .object(let i) = value { return objects[i].depth }
        return 0
    }

    private func checkDepth(_ depth: Int) throws(WeightFileError) {
        guard depth <= PickleMachine.maxNesting else {
            throw invalid("containers nest more than \(PickleMachine.maxNesting) deep")
        }
    }

    private mutating func make(_ kind: PickleObject.Kind, items: [PickleValue] = []) throws(WeightFileError) -> PickleValue {
        var object = PickleObject(kind: kind)
        var deepest = 0
        for item in items { deepest = max(deepest, depth(item)) }
        object.depth = 1 + deepest
        try checkDepth(object.depth)
        if kind == .set || kind == .frozenSet {
            for item in items {
                let key = try hashKey(item)
                if object.index[key] == nil {
                    object.index[key] = object.items.count
                    object.items.append(item)
                }
            }
        } else {
            object.items = items
        }
        objects.append(object)
        return .object(objects.count - 1)
    }

    private func objectIndex(_ value: PickleValue) -> Int? {
        if case .object(let i) = value { return i }
        return nil
    }

    private func kind(_ value: PickleValue) -> PickleObject.Kind? { objectIndex(value).map { objects[$0].kind } }

    /// The items of a tuple (or list) argument.
    private func sequence(_ value: PickleValue, _ what: String) throws(WeightFileError) -> [PickleValue] {
        guard let i = objectIndex(value), objects[i].kind == .tuple || objects[i].kind == .list else {
            throw invalid("\(what) must be a tuple, got \(describe(value))")
        }
        return objects[i].items
    }

    /// A short description of a value for messages.
    private func describe(_ value: PickleValue) -> String {
        switch value {
        case .none: "None"
        case .bool: "a bool"
        case .int(let v): "the integer \(v)"
        case .bigInt: "an integer beyond 64 bits"
        case .float: "a float"
        case .string(let s): "the string '\(s.prefix(40))'"
        case .bytes: "bytes"
        case .global(let g): "`\(g)`"
        case .object(let i):
            switch objects[i].kind {
            case .list: "a list"
            case .tuple: "a tuple"
            case .dict, .orderedDict: "a dict"
            case .set, .frozenSet: "a set"
            case .storage: "a storage"
            case .tensor: "a tensor"
            case .instance(let g): "a `\(g)`"
            }
        }
    }

    private func hashKey(_ value: PickleValue) throws(WeightFileError) -> PickleKey {
        switch value {
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let v): return .int(v)
        case .bigInt(let b): return .bigInt(b)
        case .float(let f): return .float(f)
        case .string(let s): return .string(s)
        case .bytes(let b): return .bytes(b)
        case .global(let g): return .global(g.description)
        case .object(let i):
            switch objects[i].kind {
            case .tuple:
                var keys: [PickleKey] = []
                for item in objects[i].items { keys.append(try hashKey(item)) }
                return .tuple(keys)
            case .list, .dict, .orderedDict, .set: throw invalid("unhashable \(describe(value)) used as a key")
            default: return .identity(i)
            }
        }
    }

    private mutating func setItem(_ target: Int, key: PickleValue, value: PickleValue) throws(WeightFileError) {
        let hashed = try hashKey(key)
        let newDepth = max(objects[target].depth, max(depth(key), depth(value)) + 1)
        try checkDepth(newDepth)
        objects[target].depth = newDepth
        if let existing = objects[target].index[hashed] {
            objects[target].values[existing] = value
        } else {
            objects[target].index[hashed] = objects[target].items.count
            objects[target].items.append(key)
            objects[target].values.append(value)
        }
    }

    private mutating func append(_ target: Int, _ item: PickleValue) throws(WeightFileError) {
        let newDepth = max(objects[target].depth, depth(item) + 1)
        try checkDepth(newDepth)
        objects[target].depth = newDepth
        if objects[target].kind == .set {
            let key = try hashKey(item)
            guard objects[target].index[key] == nil else { return }
            objects[target].index[key] = objects[target].items.count
        }
        objects[target].items.append(item)
    }

    /// The dict on top of the stack, for SETITEM(S) (torch allows dict, OrderedDict, Counter).
    private func dictOnTop(_ opcode: String) throws(WeightFileError) -> Int {
        let target = try top()
        guard let i = objectIndex(target), objects[i].isDict else {
            throw invalid("\(opcode) on \(describe(target)), not a dict")
        }
        return i
    }

    // MARK: The loop

    private mutating func execute() throws(WeightFileError) -> PickleValue {
        while true {
            opcodeOffset = position
            guard position < bytes.count else { throw invalid("the pickle ends without a STOP opcode") }
            let opcode = bytes[position]
            position += 1
            switch opcode {
            case 0x80:  // PROTO
                let version = try byte()
                guard version <= 5 else { throw invalid("unknown pickle protocol \(version)") }
                protocolVersion = Int(version)
            case 0x95:  // FRAME: a length prefix for buffering; the opcodes inside are read as usual.
                _ = try length(8)
            case 0x2E:  // STOP
                return try pop()
            case 0x28:  // MARK
                marks.append(stack.count)
            case 0x30:  // POP: with an empty frame, Python discards the mark.
                if stack.count > frameStart { stack.removeLast() } else { _ = try popMark() }
            case 0x31:  // POP_MARK
                _ = try popMark()
            case 0x32:  // DUP
                try push(try top())
            case 0x4E: try push(.none)  // NONE
            case 0x88: try push(.bool(true))  // NEWTRUE
            case 0x89: try push(.bool(false))  // NEWFALSE
            case 0x4A:  // BININT
                try push(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))
            case 0x4B:  // BININT1
                try push(.int(Int(try byte())))
            case 0x4D:  // BININT2
                try push(.int(Int(try uint(2))))
            case 0x8A:  // LONG1
                try push(long(try read(Int(try byte()))))
            case 0x8B:  // LONG4
                let count = Int32(truncatingIfNeeded: try uint(4))
                guard count >= 0 else { throw invalid("LONG4 with a negative length") }
                try push(long(try read(Int(count))))
            case 0x49:  // INT (protocol 0): decimal, or 01/00 for True/False
                let text = ascii(try line())
                if text == "01" { try push(.bool(true)) } else if text == "00" { try push(.bool(false)) } else {
                    guard let v = Int(text) else { throw invalid("INT argument '\(text.prefix(40))' is not an integer") }
                    try push(.int(v))
                }
            case 0x4C:  // LONG (protocol 0): decimal with an optional L suffix
                var text = ascii(try line())
                if text.hasSuffix("L") { text.removeLast() }
                guard let v = Int(text) else { throw invalid("LONG argument '\(text.prefix(40))' is not a 64-bit integer") }
                try push(.int(v))
            case 0x47:  // BINFLOAT: big-endian IEEE double
                try push(.float(Double(bitPattern: UInt64(bigEndian: try readBigEndianRaw()))))
            case 0x46:  // FLOAT (protocol 0)
                let text = ascii(try line())
                guard let v = Double(text) else { throw invalid("FLOAT argument '\(text.prefix(40))' is not a number") }
                try push(.float(v))
            case 0x58:  // BINUNICODE
                try push(.string(try utf8(try read(try length(4)))))
            case 0x8C:  // SHORT_BINUNICODE
                try push(.string(try utf8(try read(Int(try byte())))))
            case 0x8D:  // BINUNICODE8
                try push(.string(try utf8(try read(try length(8)))))
            case 0x56:  // UNICODE (protocol 0, raw-unicode-escape)
                try push(.string(try rawUnicodeEscape(try line())))
            case 0x42:  // BINBYTES
                try push(.bytes(Array(try read(try length(4)))))
            case 0x43:  // SHORT_BINBYTES
                try push(.bytes(Array(try read(Int(try byte())))))
            case 0x8E, 0x96:  // BINBYTES8, BYTEARRAY8
                try push(.bytes(Array(try read(try length(8)))))
            case 0x54:  // BINSTRING: Python 2 str, read as torch does (bytes); ASCII keys become strings.
                let count = Int32(truncatingIfNeeded: try uint(4))
                guard count >= 0 else { throw invalid("BINSTRING with a negative length") }
                try push(python2String(try read(Int(count))))
            case 0x55:  // SHORT_BINSTRING
                try push(python2String(try read(Int(try byte()))))
            case 0x29: try push(try make(.tuple))  // EMPTY_TUPLE
            case 0x74: try push(try make(.tuple, items: try popMark()))  // TUPLE
            case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
                let count = Int(opcode - 0x84)
                guard stack.count - frameStart >= count else { throw invalid("stack underflow") }
                let items = Array(stack[(stack.count - count)...])
                stack.removeLast(count)
                try push(try make(.tuple, items: items))
            case 0x5D: try push(try make(.list))  // EMPTY_LIST
            case 0x6C: try push(try make(.list, items: try popMark()))  // LIST
            case 0x61:  // APPEND
                let item = try pop()
                try append(try listOnTop("APPEND"), item)
            case 0x65:  // APPENDS
                let items = try popMark()
                let target = try listOnTop("APPENDS")
                for item in items { try append(target, item) }
            case 0x7D: try push(try make(.dict))  // EMPTY_DICT
            case 0x64:  // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw invalid("DICT with an odd number of items") }
                let dict = try make(.dict)
                try push(dict)
                for k in stride(from: 0, to: items.count, by: 2) {
                    try setItem(objectIndex(dict)!, key: items[k], value: items[k + 1])
                }
            case 0x73:  // SETITEM
                let value = try pop()
                let key = try pop()
                try setItem(try dictOnTop("SETITEM"), key: key, value: value)
            case 0x75:  // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw invalid("SETITEMS with an odd number of items") }
                let target = try dictOnTop("SETITEMS")
                for k in stride(from: 0, to: items.count, by: 2) {
                    try setItem(target, key: items[k], value: items[k + 1])
                }
            case 0x8F: try push(try make(.set))  // EMPTY_SET
            case 0x90:  // ADDITEMS
                let items = try popMark()
                let target = try top()
                guard let i = objectIndex(target), objects[i].kind == .set else {
                    throw invalid("ADDITEMS on \(describe(target)), not a set")
                }
                for item in items { try append(i, item) }
            case 0x91: try push(try make(.frozenSet, items: try popMark()))  // FROZENSET
            case 0x63:  // GLOBAL
                let module = try utf8(try line())
                let name = try utf8(try line())
                try push(.global(try global(module: module, name: name)))
            case 0x93:  // STACK_GLOBAL
                let name = try pop()
                let module = try pop()
                guard case .string(let m) = module, case .string(let n) = name else {
                    throw invalid("STACK_GLOBAL needs two strings, got \(describe(module)) and \(describe(name))")
                }
                try push(.global(try global(module: m, name: n)))
            case 0x52:  // REDUCE
                let arguments = try sequence(try pop(), "REDUCE's arguments")
                let callable = try pop()
                try push(try apply(callable, arguments, opcode: "REDUCE"))
            case 0x81:  // NEWOBJ
                let arguments = try sequence(try pop(), "NEWOBJ's arguments")
                let type = try pop()
                try push(try apply(type, arguments, opcode: "NEWOBJ"))
            case 0x92:  // NEWOBJ_EX
                let keywords = try pop()
                let arguments = try sequence(try pop(), "NEWOBJ_EX's arguments")
                let type = try pop()
                guard let k = objectIndex(keywords), objects[k].isDict, objects[k].items.isEmpty else {
                    throw invalid("NEWOBJ_EX with keyword arguments is not supported")
                }
                try push(try apply(type, arguments, opcode: "NEWOBJ_EX"))
            case 0x62:  // BUILD
                let state = try pop()
                try build(try top(), state: state)
            case 0x51:  // BINPERSID
                try push(try persistentLoad(try pop()))
            case 0x50:  // PERSID
                try push(try persistentLoad(.string(try utf8(try line()))))
            case 0x71:  // BINPUT
                memo[Int(try byte())] = try top()
            case 0x72:  // LONG_BINPUT
                memo[Int(try uint(4))] = try top()
            case 0x70:  // PUT
                let text = ascii(try line())
                guard let index = Int(text), index >= 0 else { throw invalid("PUT index '\(text.prefix(40))' is not valid") }
                memo[index] = try top()
            case 0x94:  // MEMOIZE
                memo[memo.count] = try top()
            case 0x68:  // BINGET
                try push(try recall(Int(try byte())))
            case 0x6A:  // LONG_BINGET
                try push(try recall(Int(try uint(4))))
            case 0x67:  // GET
                let text = ascii(try line())
                guard let index = Int(text) else { throw invalid("GET index '\(text.prefix(40))' is not valid") }
                try push(try recall(index))
            case 0x69: throw invalid("opcode INST (0x69) imports and calls a class; refused")
            case 0x6F: throw invalid("opcode OBJ (0x6f) calls a class; refused")
            case 0x82, 0x83, 0x84: throw invalid("opcode EXT\(1 << (opcode - 0x82)) (the copyreg extension registry) is refused")
            case 0x97, 0x98: throw invalid("out-of-band buffers (opcode 0x\(String(opcode, radix: 16))) are refused")
            case 0x53: throw invalid("opcode STRING (0x53, protocol 0 quoted str) is not supported")
            default:
                throw invalid("unknown opcode 0x\(String(opcode, radix: 16))")
            }
        }
    }

    private mutating func readBigEndianRaw() throws(WeightFileError) -> UInt64 {
        let raw = try read(8)
        return raw.loadUnaligned(as: UInt64.self)
    }

    private func recall(_ index: Int) throws(WeightFileError) -> PickleValue {
        guard let value = memo[index] else { throw invalid("memo key \(index) is read before it is set") }
        return value
    }

    private func listOnTop(_ opcode: String) throws(WeightFileError) -> Int {
        let target = try top()
        guard let i = objectIndex(target), objects[i].kind == .list else {
            throw invalid("\(opcode) on \(describe(target)), not a list")
        }
        return i
    }

    /// LONG1/LONG4: little-endian two's complement; beyond 64 bits it is kept as bytes.
    private func long(_ raw: UnsafeRawBufferPointer) -> PickleValue {
        guard !raw.isEmpty else { return .int(0) }
        let negative = raw[raw.count - 1] & 0x80 != 0
        var significant = raw.count
        // Drop sign-extension bytes that carry no value.
        while significant > 1, raw[significant - 1] == (negative ? 0xFF : 0x00),
            (raw[significant - 2] & 0x80 != 0) == negative
        {
            significant -= 1
        }
        guard significant <= 8 else { return .bigInt(Array(raw)) }
        var value: UInt64 = negative ? ~0 : 0
        for i in (0..<significant).reversed() { value = value << 8 | UInt64(raw[i]) }
        if significant < 8 {
            let shift = UInt64(significant * 8)
            value = negative ? (value | (~0 << shift)) : (value & ((1 << shift) - 1))
        }
        return .int(Int(Int64(bitPattern: value)))
    }

    /// A Python 2 `str`: a string when it is UTF-8 (torch decodes ASCII keys), bytes otherwise.
    private func python2String(_ raw: UnsafeRawBufferPointer) -> PickleValue {
        firstInvalidUTF8Offset(raw) == nil ? .string(String(decoding: raw, as: UTF8.self)) : .bytes(Array(raw))
    }

    /// Protocol 0's raw-unicode-escape: Latin-1 bytes with `\uXXXX` and `\UXXXXXXXX` escapes.
    private func rawUnicodeEscape(_ raw: UnsafeRawBufferPointer) throws(WeightFileError) -> String {
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < raw.count {
            if raw[i] == 0x5C, i + 1 < raw.count, raw[i + 1] == 0x75 || raw[i + 1] == 0x55 {
                let digits = raw[i + 1] == 0x75 ? 4 : 8
                guard i + 2 + digits <= raw.count,
                    let code = UInt32(String(decoding: raw[(i + 2)..<(i + 2 + digits)], as: UTF8.self), radix: 16),
                    let scalar = Unicode.Scalar(code)
                else { throw invalid("bad escape in a UNICODE argument") }
                scalars.append(scalar)
                i += 2 + digits
            } else {
                scalars.append(Unicode.Scalar(raw[i]))
                i += 1
            }
        }
        return String(scalars)
    }

    private func global(module: String, name: String) throws(WeightFileError) -> PickleGlobal {
        guard let found = PickleGlobal.lookup(module: module, name: name) else {
            throw .pickleForbiddenGlobal(
                entry: entry, global: PickleGlobal.mappedName(module: module, name: name), offset: opcodeOffset)
        }
        return found
    }

    // MARK: Symbolic application

    private func unsupported(_ what: String) -> WeightFileError {
        .pytorchInvalid(reason: "\(entry) at byte \(opcodeOffset): \(what) is not supported")
    }

    private func int(_ value: PickleValue, _ what: String) throws(WeightFileError) -> Int {
        switch value {
        case .int(let v): return v
        case .bool(let b): return b ? 1 : 0
        case .bigInt: throw invalid("\(what) does not fit in 64 bits")
        default: throw invalid("\(what) must be an integer, got \(describe(value))")
        }
    }

    private func ints(_ value: PickleValue, _ what: String) throws(WeightFileError) -> [Int] {
        guard let i = objectIndex(value) else { throw invalid("\(what) must be a tuple, got \(describe(value))") }
        switch objects[i].kind {
        case .tuple, .list, .instance(PickleGlobal(module: "torch", name: "Size", kind: .size)): break
        default: throw invalid("\(what) must be a tuple, got \(describe(value))")
        }
        var result: [Int] = []
        for item in objects[i].items { result.append(try int(item, what)) }
        return result
    }

    /// Applies the allowlisted `callable` to `arguments`: REDUCE, NEWOBJ and NEWOBJ_EX, symbolically.
    private mutating func apply(_ callable: PickleValue, _ arguments: [PickleValue], opcode: String)
        throws(WeightFileError) -> PickleValue
    {
        guard case .global(let g) = callable else { throw invalid("\(opcode) applies \(describe(callable)), not an allowlisted global") }
        switch g.kind {
        case .orderedDict, .counter:
            let dict = try make(.orderedDict)
            if let source = arguments.first {
                guard let s = objectIndex(source) else { throw invalid("`\(g)` of \(describe(source))") }
                if objects[s].isDict {
                    for (k, v) in zip(objects[s].items, objects[s].values) { try setItem(objectIndex(dict)!, key: k, value: v) }
                } else {
                    for pair in try sequence(source, "`\(g)`'s items") {
                        let kv = try sequence(pair, "an item of `\(g)`")
                        guard kv.count == 2 else { throw invalid("an item of `\(g)` is not a (key, value) pair") }
                        try setItem(objectIndex(dict)!, key: kv[0], value: kv[1])
                    }
                }
            }
            return dict
        case .set:
            var items: [PickleValue] = []
            if let source = arguments.first {
                guard let s = objectIndex(source), [.list, .tuple, .set, .frozenSet].contains(objects[s].kind) else {
                    throw invalid("`builtins.set` of \(describe(source))")
                }
                items = objects[s].items
            }
            return try make(.set, items: items)
        case .codecsEncode:
            // Protocol 2's bytes: _codecs.encode('<latin-1 text>', 'latin1').
            guard arguments.count == 2, case .string(let text) = arguments[0], case .string(let codec) = arguments[1],
                ["latin1", "latin-1", "iso-8859-1"].contains(codec.lowercased())
            else { throw invalid("`_codecs.encode` is only read with a string and the latin1 codec") }
            var result: [UInt8] = []
            for scalar in text.unicodeScalars {
                guard scalar.value < 256 else { throw invalid("`_codecs.encode`: a character above U+00FF") }
                result.append(UInt8(scalar.value))
            }
            return .bytes(result)
        case .bytearray:
            if arguments.isEmpty { return .bytes([]) }
            if case .bytes(let b) = arguments[0], arguments.count == 1 { return .bytes(b) }
            if case .string = arguments[0], arguments.count == 2 {
                return try apply(.global(PickleGlobal(module: "_codecs", name: "encode", kind: .codecsEncode)), arguments, opcode: opcode)
            }
            throw invalid("`builtins.bytearray` of \(arguments.count) arguments")
        case .complex, .size, .device, .layoutGetter:
            for argument in arguments {
                switch argument {
                case .object(let i) where ![.tuple, .list].contains(objects[i].kind): throw invalid("`\(g)` of \(describe(argument))")
                default: continue
                }
            }
            if g.kind == .size, let first = arguments.first {
                return try make(.instance(g), items: try ints(first, "torch.Size's dimensions").map { .int($0) })
            }
            return try make(.instance(g), items: arguments)
        case .parameterClass, .tensorClass:
            // Parameter(data, requires_grad) / Tensor(data): the data tensor itself.
            guard let data = arguments.first, kind(data) == .tensor else {
                throw unsupported("`\(g)` built from \(arguments.first.map(describe) ?? "nothing")")
            }
            return data
        case .rebuildTensor, .rebuildTensorV2, .rebuildTensorV3:
            return try rebuildTensor(g, arguments)
        case .rebuildParameter, .rebuildParameterWithState:
            guard arguments.count == (g.kind == .rebuildParameter ? 3 : 4), kind(arguments[0]) == .tensor else {
                throw invalid("`\(g)` takes (tensor, requires_grad, hooks\(g.kind == .rebuildParameter ? "" : ", state")), got \(arguments.count) arguments")
            }
            return arguments[0]
        case .rebuildFromTypeV2:
            // (func, new_type, args, state): only Tensor and Parameter, rebuilt by an allowlisted function.
            guard arguments.count == 4, case .global(let function) = arguments[0], case .global(let type) = arguments[1] else {
                throw invalid("`\(g)` takes (function, type, args, state)")
            }
            guard type.kind == .tensorClass || type.kind == .parameterClass else { throw unsupported("the tensor subclass `\(type)`") }
            let result = try apply(.global(function), try sequence(arguments[2], "`\(g)`'s args"), opcode: opcode)
            guard kind(result) == .tensor else { throw invalid("`\(g)` rebuilt \(describe(result)), not a tensor") }
            return result
        case .dtype, .storageClass, .typedStorageClass, .unsupported:
            throw unsupported("`\(g)`")
        }
    }

    /// `_rebuild_tensor(storage, offset, size, stride)`, `_v2(…, requires_grad, hooks[, metadata])`,
    /// `_v3(…, requires_grad, hooks, dtype[, metadata])`.
    private mutating func rebuildTensor(_ g: PickleGlobal, _ arguments: [PickleValue]) throws(WeightFileError) -> PickleValue {
        let counts: ClosedRange<Int> =
            switch g.kind {
            case .rebuildTensor: 4...4
            case .rebuildTensorV2: 6...7
            default: 7...8
            }
        guard counts.contains(arguments.count) else {
            throw invalid("`\(g)` takes \(counts.lowerBound)–\(counts.upperBound) arguments, got \(arguments.count)")
        }
        guard let s = objectIndex(arguments[0]), let storage = objects[s].storage else {
            throw invalid("`\(g)`'s first argument is \(describe(arguments[0])), not a storage")
        }
        var type = storage.type
        if g.kind == .rebuildTensorV3 {
            guard case .global(let dtype) = arguments[6], case .dtype(let t) = dtype.kind else {
                throw invalid("`\(g)`'s dtype is \(describe(arguments[6]))")
            }
            type = t
        }
        let metadataIndex = g.kind == .rebuildTensorV2 ? 6 : 7
        if arguments.count > metadataIndex, let m = objectIndex(arguments[metadataIndex]), objects[m].isDict {
            // torch records the conjugate and negative bits here; the stored values would need them applied.
            for (key, value) in zip(objects[m].items, objects[m].values) where value != .bool(false) {
                throw unsupported("a tensor with metadata \(describe(key)) (conjugate or negative view)")
            }
        }
        let tensor = TorchTensorReference(
            storage: storage, type: type, storageOffset: try int(arguments[1], "the storage offset"),
            shape: try ints(arguments[2], "the size"), strides: try ints(arguments[3], "the stride"))
        guard tensor.shape.count == tensor.strides.count else {
            throw invalid("`\(g)`: size has \(tensor.shape.count) dimensions but stride has \(tensor.strides.count)")
        }
        var object = PickleObject(kind: .tensor)
        object.tensor = tensor
        objects.append(object)
        return .object(objects.count - 1)
    }

    /// BUILD: torch allows it on OrderedDict (attributes such as `_metadata`), nothing else Retort builds.
    private mutating func build(_ target: PickleValue, state: PickleValue) throws(WeightFileError) {
        guard let i = objectIndex(target), objects[i].kind == .orderedDict else {
            throw invalid("BUILD on \(describe(target)) (only OrderedDict attributes are read)")
        }
        var attributes = state
        // (dict, slotstate) as pickle's load_build accepts it.
        if let s = objectIndex(state), objects[s].kind == .tuple, objects[s].items.count == 2 {
            attributes = objects[s].items[0]
        }
        if attributes == .none { return }
        guard let a = objectIndex(attributes), objects[a].isDict else {
            throw invalid("BUILD state is \(describe(attributes)), not a dict")
        }
        if let existing = objects[i].attributes {
            for (k, v) in zip(objects[a].items, objects[a].values) { try setItem(existing, key: k, value: v) }
        } else {
            objects[i].attributes = a
        }
        let newDepth = max(objects[i].depth, objects[a].depth + 1)
        try checkDepth(newDepth)
        objects[i].depth = newDepth
    }

    /// BINPERSID: `('storage', StorageType, key, location, numel[, view_metadata])`; torch allows nothing else.
    private mutating func persistentLoad(_ id: PickleValue) throws(WeightFileError) -> PickleValue {
        guard let t = objectIndex(id), objects[t].kind == .tuple else {
            throw invalid("persistent id \(describe(id)) is not a tuple ('storage', …)")
        }
        let fields = objects[t].items
        guard fields.count == 5 || fields.count == 6, text(fields[0]) == "storage" else {
            throw invalid("persistent id is not a ('storage', type, key, location, numel) tuple")
        }
        guard case .global(let type) = fields[1], case .storageClass(let storageType) = type.kind else {
            if case .global(let other) = fields[1] { throw unsupported("storage type `\(other)`") }
            throw invalid("persistent id's storage type is \(describe(fields[1]))")
        }
        guard let key = text(fields[2]) else { throw invalid("persistent id's key is \(describe(fields[2]))") }
        guard let location = text(fields[3]) else { throw invalid("persistent id's location is \(describe(fields[3]))") }
        let count = try int(fields[4], "the storage's element count")
        guard count >= 0 else { throw invalid("storage \(key) has \(count) elements") }
        var reference = TorchStorageReference(key: key, type: storageType, location: location, elementCount: count)
        if fields.count == 6, fields[5] != .none {
            let view = try sequence(fields[5], "a storage view")
            guard view.count == 3, let viewKey = text(view[0]) else { throw invalid("a storage view is not (key, offset, size)") }
            reference.view = (viewKey, try int(view[1], "a view offset"), try int(view[2], "a view size"))
        }
        var object = PickleObject(kind: .storage)
        object.storage = reference
        objects.append(object)
        return .object(objects.count - 1)
    }

    /// A string, or ASCII bytes read as one (Python 2 pickles).
    private func text(_ value: PickleValue) -> String? {
        switch value {
        case .string(let s): s
        case .bytes(let b) where b.allSatisfy({ $0 < 0x80 }): String(decoding: b, as: UTF8.self)
        default: nil
        }
    }
}

/// Turns the object a checkpoint's pickle builds into named tensors and metadata.
///
/// Naming rule: the path from the root, components joined by `.`: a dict key as its string
/// (integers in decimal, other keys as their Python rendering), a list, tuple or set position as
/// its index. A value that holds no tensor at any depth is one metadata entry at its path,
/// rendered as a Python literal (`3`, `'adam'`, `[{'lr': 0.001, …}]`, `torch.float32`); a
/// container that holds a tensor is walked into. Attributes set on an `OrderedDict` (a module
/// state dict's `_metadata`) are entries under the dict's path, named by the attribute. A bare
/// storage counts as a one-dimensional tensor. A root that is itself a tensor is named `tensor`;
/// a root that holds no tensor is the metadata entry `value`.
struct CheckpointTree {
    /// Tensors in pickle order: name and the tensor's object index.
    var tensors: [(name: String, object: Int)] = []
    var metadata = Metadata()

    /// The most characters one metadata value is rendered to before it is cut with ` …`.
    static let maxRendering = 65_536
    /// Containers nested deeper than this inside a metadata value are rendered as `...`.
    static let maxRenderDepth = 64

    /// Walks `result` iteratively; `entry` names the pickle in errors.
    /// - Throws: `duplicateTensor` when two paths give one name, `pytorchInvalid` when the structure
    ///   nests deeper than the pickle limit or expands (through shared containers) past the visit budget.
    /// - Complexity: O(v) for v values visited, at most max(2^20, 8 × objects).
    init(_ result: PickleResult, entry: String) throws(WeightFileError) {
        let objects = result.objects
        let holds = CheckpointTree.tensorHolders(objects)
        let budget = max(1 << 20, 8 * objects.count)
        var visits = 0
        var names = Set<String>()
        var metadataNames = Set<String>()
        var work: [(value: PickleValue, path: String, depth: Int)] = [(result.root, "", 0)]
        while let (value, path, depth) = work.popLast() {
            visits += 1
            guard visits <= budget else {
                throw .pytorchInvalid(reason: "\(entry): the pickle's shared containers expand to more than \(budget) entries")
            }
            guard depth <= PickleMachine.maxNesting else {
                throw .pytorchInvalid(reason: "\(entry): the checkpoint nests more than \(PickleMachine.maxNesting) deep (or refers to itself)")
            }
            guard case .object(let i) = value, holds[i] else {
                let key = path.isEmpty ? "value" : path
                guard metadataNames.insert(key).inserted else {
                    throw .pytorchInvalid(reason: "\(entry): two metadata entries are both named `\(key)`")
                }
                metadata[key] = CheckpointTree.render(value, objects)
                continue
            }
            let object = objects[i]
            func join(_ component: String) -> String { path.isEmpty ? component : path + "." + component }
            var children: [(PickleValue, String)] = []
            switch object.kind {
            case .tensor, .storage:
                let name = path.isEmpty ? "tensor" : path
                guard names.insert(name).inserted else { throw .duplicateTensor(name: name) }
                tensors.append((name, i))
                continue
            case .dict, .orderedDict:
                for (key, child) in zip(object.items, object.values) {
                    children.append((child, join(CheckpointTree.component(key, objects))))
                }
                if let attributes = object.attributes {
                    let a = objects[attributes]
                    for (key, child) in zip(a.items, a.values) {
                        children.append((child, join(CheckpointTree.component(key, objects))))
                    }
                }
            case .list, .tuple, .set, .frozenSet, .instance:
                for (position, child) in object.items.enumerated() { children.append((child, join(String(position)))) }
            }
            for (child, childPath) in children.reversed() { work.append((child, childPath, depth + 1)) }
        }
    }

    /// For each object, whether a tensor or storage is reachable from it (cycles included).
    /// - Complexity: O(objects + references)
    static func tensorHolders(_ objects: [PickleObject]) -> [Bool] {
        var parents = [[Int]](repeating: [], count: objects.count)
        var holds = [Bool](repeating: false, count: objects.count)
        var queue: [Int] = []
        for (i, object) in objects.enumerated() {
            if object.kind == .tensor || object.kind == .storage {
                holds[i] = true
                queue.append(i)
            }
            for child in object.items + object.values {
                if case .object(let c) = child { parents[c].append(i) }
            }
            if let a = object.attributes { parents[a].append(i) }
        }
        while let next = queue.popLast() {
            for parent in parents[next] where !holds[parent] {
                holds[parent] = true
                queue.append(parent)
            }
        }
        return holds
    }

    /// A dict key as a name component: strings as they are, everything else rendered.
    static func component(_ key: PickleValue, _ objects: [PickleObject]) -> String {
        if case .string(let s) = key { return s }
        return render(key, objects)
    }

    /// A Python-literal rendering of `value`, cut at `maxRendering` characters.
    static func render(_ value: PickleValue, _ objects: [PickleObject]) -> String {
        var out = ""
        render(value, objects, into: &out, depth: 0)
        if out.utf8.count > maxRendering {
            out = String(out.prefix(maxRendering)) + " …"
        }
        return out
    }

    private static func render(_ value: PickleValue, _ objects: [PickleObject], into out: inout String, depth: Int) {
        guard out.utf8.count <= maxRendering else { return }
        switch value {
        case .none: out += "None"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let v): out += String(v)
        case .bigInt(let bytes):
            // Little-endian two's complement, shown as a hexadecimal literal.
            let negative = bytes.last.map { $0 & 0x80 != 0 } ?? false
            let magnitude = negative ? twosComplementNegated(bytes) : bytes
            var hex = magnitude.reversed().map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
            while hex.hasPrefix("0") && hex.count > 1 { hex.removeFirst() }
            out += (negative ? "-0x" : "0x") + hex
        case .float(let f):
            out += f.isNaN ? "nan" : f.isInfinite ? (f < 0 ? "-inf" : "inf") : "\(f)"
        case .string(let s): out += quoted(s)
        case .bytes(let b):
            out += "b'"
            for byte in b {
                switch byte {
                case 0x5C: out += "\\\\"
                case 0x27: out += "\\'"
                case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
                default: out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
                }
            }
            out += "'"
        case .global(let g): out += g.description
        case .object(let i):
            let object = objects[i]
            guard depth < maxRenderDepth else {
                out += "..."
                return
            }
            func list(_ items: [PickleValue], _ open: String, _ close: String, trailingComma: Bool = false) {
                out += open
                for (k, item) in items.enumerated() {
                    if k > 0 { out += ", " }
                    render(item, objects, into: &out, depth: depth + 1)
                    if out.utf8.count > maxRendering { return }
                }
                if trailingComma && items.count == 1 { out += "," }
                out += close
            }
            switch object.kind {
            case .list: list(object.items, "[", "]")
            case .tuple: list(object.items, "(", ")", trailingComma: true)
            case .set: object.items.isEmpty ? (out += "set()") : list(object.items, "{", "}")
            case .frozenSet: list(object.items, "frozenset({", "})")
            case .dict, .orderedDict:
                out += "{"
                for (k, (key, item)) in zip(object.items, object.values).enumerated() {
                    if k > 0 { out += ", " }
                    render(key, objects, into: &out, depth: depth + 1)
                    out += ": "
                    render(item, objects, into: &out, depth: depth + 1)
                    if out.utf8.count > maxRendering { return }
                }
                out += "}"
            case .instance(let g):
                if g.kind == .size {
                    out += "torch.Size("
                    list(object.items, "[", "]")
                    out += ")"
                } else {
                    list(object.items, g.description + "(", ")")
                }
            case .storage, .tensor:
                out += "<tensor>"  // unreachable: holders are walked, not rendered
            }
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "'"
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "'"
    }

    private static func twosComplementNegated(_ bytes: [UInt8]) -> [UInt8] {
        var result = bytes.map { ~$0 }
        for k in result.indices {
            let (sum, overflow) = result[k].addingReportingOverflow(1)
            result[k] = sum
            if !overflow { break }
        }
        return result
    }
}

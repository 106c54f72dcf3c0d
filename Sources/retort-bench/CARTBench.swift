import Distillation
import WeightFiles

/// `retort-bench cart DATA.npz [--max-depth D] [--max-leaf-nodes L] [--criterion gini|entropy]
/// [--random-state S] [--repeat R] [--threads T]`: reads features `X` (rows × features; any float or
/// integer dtype) and labels `y` (integers), then times `DecisionTree.fit` (best and median of R; reading
/// and coding the file is not timed) and prints one JSON line. `--random-state S` breaks ties as
/// scikit-learn's `DecisionTreeClassifier(random_state=S)`; without it the lowest feature wins.
func cartBenchmark(_ arguments: Arguments) {
    guard arguments.positional.count == 1 else { fail("cart takes DATA.npz") }
    let repeats = arguments.int("repeat", default: 3)
    let threads = arguments.int("threads", default: 1)
    let maxDepth = arguments.options["max-depth"].map { _ in arguments.int("max-depth", default: 0, minimum: 0) }
    let maxLeafNodes = arguments.options["max-leaf-nodes"].map { _ in arguments.int("max-leaf-nodes", default: 0, minimum: 2) }
    let criterion: DecisionTree.Parameters.Criterion
    switch arguments.options["criterion"] ?? "gini" {
    case "gini": criterion = .gini
    case "entropy": criterion = .entropy
    case let other: fail("unknown --criterion \(other) (gini or entropy)")
    }
    var tieBreak = DecisionTree.Parameters.TieBreak.lowestFeature
    if let text = arguments.options["random-state"] {
        guard let state = UInt32(text) else { fail("bad --random-state: \(text)") }
        tieBreak = .scikitLearn(randomState: state)
    }

    let table: FeatureTable
    do {
        let file = try WeightFiles.open(arguments.positional[0])
        let x = try file.tensor(named: "X")
        let y = try file.tensor(named: "y")
        guard x.shape.count == 2, y.info.elementCount == x.shape[0] else {
            fail("X must be rows × features and y one label per row (X \(x.shape), y \(y.shape))")
        }
        let (rows, columns) = (x.shape[0], x.shape[1])
        let values = try benchDoubles(x)
        let labels = try benchIntegers(y)
        var featureColumns = [[Double]](repeating: [], count: columns)
        for f in 0..<columns {
            featureColumns[f] = [Double](unsafeUninitializedCapacity: rows) { buffer, count in
                for i in 0..<rows { buffer[i] = values[i * columns + f] }
                count = rows
            }
        }
        table = FeatureTable(names: (0..<columns).map { "x\($0)" }, columns: featureColumns, labels: labels)
    } catch {
        fail("\(error)")
    }

    let parameters = DecisionTree.Parameters(
        criterion: criterion, maxDepth: maxDepth, maxLeafNodes: maxLeafNodes, tieBreak: tieBreak, threads: threads)
    var times: [Double] = []
    var tree: DecisionTree?
    for _ in 0..<repeats {
        let start = monotonicSeconds()
        tree = DecisionTree.fit(table, parameters: parameters)
        times.append(monotonicSeconds() - start)
    }
    guard let tree else { fail("no fit") }
    times.sort()
    let predictions = tree.predict(table)
    let correct = zip(predictions, table.labels).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
    print(
        "{\"rows\":\(table.rowCount),\"features\":\(table.featureCount),\"threads\":\(threads),\"repeat\":\(repeats),"
            + "\"best_s\":\(json(times[0])),\"median_s\":\(json(times[times.count / 2])),\"nodes\":\(tree.nodes.count),"
            + "\"leaves\":\(tree.leafCount),\"depth\":\(tree.depth),"
            + "\"train_accuracy\":\(json(Double(correct) / Double(table.rowCount)))}")
}

/// A tensor's elements as Doubles: F64 and integer types exactly, other float types through Float.
private func benchDoubles(_ view: TensorView) throws(WeightFileError) -> [Double] {
    let count = view.info.elementCount
    let bytes = view.bytes
    switch view.dtype {
    case .f64: return (0..<count).map { bytes.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self) }
    case .f32: return (0..<count).map { Double(bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self)) }
    case let dtype where dtype.isFloatingPoint: return try FloatConversion.float32Values(of: view).map(Double.init)
    default: return try benchIntegers(view).map(Double.init)
    }
}

/// A tensor's elements as Ints (signed and unsigned integer types and BOOL, little-endian).
private func benchIntegers(_ view: TensorView) throws(WeightFileError) -> [Int] {
    let count = view.info.elementCount
    let bytes = view.bytes
    switch view.dtype {
    case .i64: return (0..<count).map { Int(bytes.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
    case .u64: return (0..<count).map { Int(truncatingIfNeeded: bytes.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)) }
    case .i32: return (0..<count).map { Int(bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
    case .u32: return (0..<count).map { Int(bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
    case .i16: return (0..<count).map { Int(bytes.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self)) }
    case .u16: return (0..<count).map { Int(bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }
    case .i8: return (0..<count).map { Int(Int8(bitPattern: bytes[$0])) }
    case .u8, .bool: return (0..<count).map { Int(bytes[$0]) }
    default: throw .unsupportedCast(tensor: view.name, from: view.dtype, to: .i64)
    }
}

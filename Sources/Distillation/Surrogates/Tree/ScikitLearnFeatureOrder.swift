/// The order in which scikit-learn's best splitter (`sklearn/tree/_splitter.pyx`, `node_split_best`)
/// visits a node's features, replayed so that equally good splits are broken as scikit-learn breaks them.
///
/// The splitter keeps one `features` permutation and one `constant_features` list for the whole fit and
/// draws a Fisher–Yates permutation per node from `rand_r`; features known to be constant from an ancestor
/// are skipped, newly found constants are moved aside for the node's descendants. Replaying it needs only
/// which features are constant in the node, so every feature can be evaluated first (in parallel) and the
/// winner chosen afterwards in this order.
struct ScikitLearnFeatureOrder {
    private var features: [Int]
    private var constantFeatures: [Int]
    private var state: UInt32

    /// The splitter's `rand_r` state for `DecisionTreeClassifier(random_state=randomState)`:
    /// `numpy.random.RandomState(randomState).randint(0, 2**31 - 1)` (MT19937, masked rejection).
    /// - Complexity: O(624)
    static func seed(randomState: UInt32) -> UInt32 {
        var mt = [UInt32](repeating: 0, count: 624)
        mt[0] = randomState
        for i in 1..<624 { mt[i] = 1_812_433_253 &* (mt[i - 1] ^ (mt[i - 1] >> 30)) &+ UInt32(i) }
        var index = 624
        func next() -> UInt32 {
            if index >= 624 {
                for k in 0..<624 {
                    let y = (mt[k] & 0x8000_0000) | (mt[(k + 1) % 624] & 0x7FFF_FFFF)
                    mt[k] = mt[(k + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_B0DF)
                }
                index = 0
            }
            var y = mt[index]
            index += 1
            y ^= y >> 11
            y ^= (y << 7) & 0x9D2C_5680
            y ^= (y << 15) & 0xEFC6_0000
            y ^= y >> 18
            return y
        }
        // randint(0, 2³¹ − 1): range 2³¹ − 2, mask 2³¹ − 1, redraw while above the range.
        while true {
            let value = next() & 0x7FFF_FFFF
            if value <= 0x7FFF_FFFE { return value }
        }
    }

    init(featureCount: Int, randomState: UInt32) {
        features = Array(0..<featureCount)
        constantFeatures = [Int](repeating: 0, count: featureCount)
        state = Self.seed(randomState: randomState)
    }

    /// `our_rand_r` (`sklearn/utils/_random.pxd`): xorshift32, 0 replaced by 1, result mod 2³¹.
    private mutating func random() -> UInt32 {
        if state == 0 { state = 1 }
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return state & 0x7FFF_FFFF
    }

    /// `rand_int(low, high)`: `low + rand_r() % (high − low)`.
    private mutating func draw(_ low: Int, _ high: Int) -> Int {
        low + Int(random() % UInt32(high - low))
    }

    /// The features a node visits, in order, skipping constants; and the number of constant features its
    /// children inherit. `knownConstants` is the node's `n_constant_features` (0 for best-first growth).
    /// - Complexity: O(features)
    mutating func visit(knownConstants: Int, isConstant: (Int) -> Bool) -> (order: [Int], constants: Int) {
        let featureCount = features.count
        var fI = featureCount
        var visited = 0
        var found = 0
        var drawn = 0
        var total = knownConstants
        var order: [Int] = []
        while fI > total && (visited < featureCount || visited <= found + drawn) {
            visited += 1
            var fJ = draw(drawn, fI - found)
            if fJ < knownConstants {
                features.swapAt(drawn, fJ)
                drawn += 1
                continue
            }
            fJ += found
            let feature = features[fJ]
            if isConstant(feature) {
                features.swapAt(fJ, total)
                found += 1
                total += 1
                continue
            }
            fI -= 1
            features.swapAt(fI, fJ)
            order.append(feature)
        }
        for i in 0..<knownConstants { features[i] = constantFeatures[i] }
        for i in knownConstants..<(knownConstants + found) { constantFeatures[i] = features[i] }
        return (order, total)
    }
}

/// A change to one hook's activation during a forward pass (pyvene's vocabulary).
public struct Intervention: Sendable {
    /// What to do to the selected units.
    public enum Kind: Sendable {
        /// Set to zero.
        case zero
        /// Set to these values, one per selected unit.
        case set([Float])
        /// Add these values, one per selected unit.
        case add([Float])
        /// Set to the mean activation over a clean run on these inputs (per position and unit).
        case mean(over: NetworkInput)
        /// Set to the mean given as a whole hook activation for one example (`[1, …]` or the hook's shape without the batch).
        case meanActivation(FloatTensor)
        /// Take the values from a clean run on `source`: example b takes source example `sourceIndex[b]`.
        case interchange(source: NetworkInput, sourceIndex: [Int])
        /// Interchange from an already captured source activation at this hook (`[sources, …]`).
        case interchangeActivation(FloatTensor, sourceIndex: [Int])
        /// Project onto the row space of `basis` (`[k, selected units]`).
        case projectOnto(basis: FloatTensor)
        /// Remove the projection onto the row space of `basis`.
        case projectOff(basis: FloatTensor)
    }

    /// The hook point's name.
    public var hook: String
    /// The positions to change (hooks with a position axis; attention patterns: query positions); `nil` = all.
    public var positions: [Int]?
    /// Indices into the features at one position; `nil` = all.
    public var units: [Int]?
    public var kind: Kind

    public init(hook: String, positions: [Int]? = nil, units: [Int]? = nil, kind: Kind) {
        self.hook = hook
        self.positions = positions
        self.units = units
        self.kind = kind
    }
}

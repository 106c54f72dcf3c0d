/// A dense row-major Float32 array with a shape: the values flowing through a network.
public struct FloatTensor: Sendable, Equatable {
    /// The extent of each axis, outermost first.
    public var shape: [Int]
    /// The elements, row-major; `scalars.count == shape.reduce(1, *)`.
    public var scalars: [Float]

    /// A tensor of `shape` holding `scalars`.
    /// - Precondition: `scalars.count` equals the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(scalars.count == shape.reduce(1, *), "\(scalars.count) scalars for shape \(shape)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` filled with `value`.
    /// - Complexity: O(n)
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// The number of elements.
    public var count: Int { scalars.count }

    /// The first axis's extent (the batch, for activations).
    public var batchSize: Int { shape.first ?? 1 }

    /// The element at a full multi-index.
    public subscript(_ index: Int...) -> Float {
        var offset = 0
        for (axis, i) in index.enumerated() { offset = offset * shape[axis] + i }
        return scalars[offset]
    }
}

import Foundation

/// A weight file held in memory: tensors built by code (test networks, random-init controls) that the
/// network loaders read like any file. It reports the safetensors format, whose layout it mirrors
/// (little-endian, row-major bytes per tensor).
public struct InMemoryWeightFile: WeightFile {
    public let format: WeightFileFormat = .safetensors
    /// The metadata given (or copied from the source file).
    public let metadata: Metadata?
    /// Every tensor, in the order given.
    public let tensors: [TensorInfo]
    private let views: [String: TensorView]

    /// A file of `views`, in the given order.
    /// - Throws: `duplicateTensor` when two views share a name.
    /// - Complexity: O(tensors)
    public init(views: [TensorView], metadata: Metadata? = nil) throws(WeightFileError) {
        var byName: [String: TensorView] = [:]
        for view in views {
            guard byName.updateValue(view, forKey: view.name) == nil else { throw .duplicateTensor(name: view.name) }
        }
        self.views = byName
        self.tensors = views.map(\.info)
        self.metadata = metadata
    }

    /// A file of Float32 tensors given as (name, shape, values).
    /// - Precondition: every value count equals its shape's product.
    /// - Throws: `duplicateTensor` when two tensors share a name.
    /// - Complexity: O(total elements)
    public init(float32 tensors: [(name: String, shape: [Int], values: [Float])], metadata: Metadata? = nil)
        throws(WeightFileError)
    {
        try self.init(
            views: tensors.map { Self.float32View(name: $0.name, shape: $0.shape, values: $0.values) }, metadata: metadata)
    }

    /// A Float32 tensor view over a copy of `values`.
    /// - Precondition: `values.count` equals the product of `shape`.
    /// - Complexity: O(n)
    public static func float32View(name: String, shape: [Int], values: [Float]) -> TensorView {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        return TensorView(info: TensorInfo(name: name, dtype: .f32, shape: shape), copying: bytes)
    }

    /// A randomly initialised copy of `file` (the control for representation tests): every floating-point
    /// tensor becomes seeded Gaussian noise with that tensor's own mean and standard deviation, stored as
    /// Float32; tensors whose values are all equal (zero biases, unit LayerNorm gains) stay constant, as a
    /// fresh initialisation leaves them; other dtypes and the metadata are copied unchanged.
    ///
    /// Matching each tensor's mean and spread keeps the activations on the trained network's scale, so a
    /// result that survives on this copy is explained by architecture and scale, not by learned structure.
    /// - Complexity: O(total elements)
    public static func randomised(from file: any WeightFile, seed: UInt64) throws(WeightFileError) -> InMemoryWeightFile {
        var generator = SplitMix64(seed: seed)
        var views: [TensorView] = []
        for (position, info) in file.tensors.enumerated() {
            let view = try file.tensor(at: position)
            guard info.dtype.isFloatingPoint else {
                views.append(view)
                continue
            }
            let values = try FloatConversion.float32Values(of: view)
            let n = Double(max(values.count, 1))
            let mean = values.reduce(0.0) { $0 + Double($1) } / n
            let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
            let deviation = variance.squareRoot()
            let noise: [Float] =
                deviation > 0 && deviation.isFinite
                ? values.map { _ in Float(mean + deviation * generator.gaussian()) } : values
            views.append(float32View(name: info.name, shape: info.shape, values: noise))
        }
        return try InMemoryWeightFile(views: views, metadata: file.metadata)
    }

    /// The tensor named `name`, or `tensorNotFound`.
    public func tensor(named name: String) throws(WeightFileError) -> TensorView {
        guard let view = views[name] else { throw .tensorNotFound(name: name) }
        return view
    }
}

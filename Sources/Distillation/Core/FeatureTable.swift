/// Examples for fitting a surrogate: feature columns and one integer label per row.
///
/// Columns are Float64 so that integer features (variables, digits, sums) are exact; `isInteger`
/// says which columns hold only integers, which the description length codes more cheaply.
public struct FeatureTable: Sendable {
    /// One name per column, for the text and JSON forms (`a`, `digit0(b)`, `blocks.0.mlp.hook_post[17] > 0.5`).
    public var names: [String]
    /// `columns[f][i]`: feature f of example i.
    public var columns: [[Double]]
    /// Whether column f holds only integers.
    public var isInteger: [Bool]
    /// The label of each example (a decoded network output, or its class index).
    public var labels: [Int]

    /// - Precondition: every column has `labels.count` entries; names, columns and isInteger have equal counts.
    public init(names: [String], columns: [[Double]], isInteger: [Bool]? = nil, labels: [Int]) {
        precondition(names.count == columns.count, "one name per column")
        precondition(columns.allSatisfy { $0.count == labels.count }, "every column needs one value per label")
        self.names = names
        self.columns = columns
        self.isInteger = isInteger ?? columns.map { $0.allSatisfy { $0 == $0.rounded() && abs($0) < 9e15 } }
        self.labels = labels
    }

    /// The number of examples.
    public var rowCount: Int { labels.count }
    /// The number of features.
    public var featureCount: Int { columns.count }

    /// Feature values of example `i`.
    /// - Complexity: O(features)
    public func row(_ i: Int) -> [Double] { columns.map { $0[i] } }
}

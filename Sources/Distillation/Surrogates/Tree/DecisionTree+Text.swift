extension DecisionTree {
    /// The tree as indented text, two spaces a level:
    /// ```
    /// if a <= 49
    ///   if b = 1
    ///     7
    ///   else
    ///     8
    /// else
    ///   3
    /// ```
    /// Integer features print `⌊t⌋`, binary ones `= 0` / `= 1`; features without a name print as `x3`.
    /// - Complexity: O(nodes)
    public func text(featureNames: [String]) -> String {
        var lines: [String] = []
        func emit(_ index: Int, _ indent: String) {
            switch nodes[index] {
            case .leaf(let label, _):
                lines.append(indent + String(label))
            case .split(let feature, let threshold, let left, let right):
                let name = featureNames.indices.contains(feature) ? featureNames[feature] : "x\(feature)"
                lines.append(indent + "if " + featureKinds[feature].comparison(name, threshold: threshold, greater: false))
                emit(left, indent + "  ")
                lines.append(indent + "else")
                emit(right, indent + "  ")
            }
        }
        emit(0, "")
        return lines.joined(separator: "\n")
    }
}

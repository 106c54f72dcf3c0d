import WeightFiles

extension DecisionTree {
    /// The JSON body: `{"feature_kinds": ["integer", …], "classes": [0, 1, …], "nodes": [{"feature": i,
    /// "threshold": t, "left": n, "right": m} or {"leaf": label, "samples": n}, …]}`, nodes in pre-order.
    /// - Complexity: O(nodes + features)
    public func jsonBody() -> String {
        let nodeTexts = nodes.map { node -> String in
            switch node {
            case .split(let feature, let threshold, let left, let right):
                "{\"feature\":\(feature),\"threshold\":\(SurrogateBodyWriter.number(threshold)),\"left\":\(left),\"right\":\(right)}"
            case .leaf(let label, let samples):
                "{\"leaf\":\(label),\"samples\":\(samples)}"
            }
        }
        return "{" + SurrogateBodyWriter.header(featureKinds: featureKinds, classes: classes) + ",\"nodes\":["
            + nodeTexts.joined(separator: ",") + "]}"
    }

    /// Reads the body `jsonBody()` writes.
    /// - Throws: `SurrogateFormatError` naming the member at fault, including nodes that are not a pre-order tree.
    /// - Complexity: O(nodes + features)
    public init(jsonBody: JSONValue) throws(SurrogateFormatError) {
        let body = try SurrogateBodyReader(jsonBody, path: "")
        let kinds = try body.featureKinds()
        let classes = try body.classes()
        var nodes: [Node] = []
        let items = try body.array("nodes")
        for (i, item) in items.enumerated() {
            let node = try SurrogateBodyReader(item, path: "nodes[\(i)]")
            if node.has("leaf") {
                nodes.append(.leaf(label: try node.integer("leaf"), samples: try node.integer("samples", in: 0...Int.max)))
            } else {
                nodes.append(
                    .split(
                        feature: try node.integer("feature", in: 0...Int.max), threshold: try node.real("threshold"),
                        left: try node.integer("left", in: 0...Int.max), right: try node.integer("right", in: 0...Int.max)))
            }
        }
        if let (index, reason) = Self.structureProblem(nodes, featureCount: kinds.count) {
            throw .unexpected(path: "nodes[\(index)]", expected: "a node of a pre-order tree", found: reason)
        }
        self.init(nodes: nodes, featureKinds: kinds, classes: classes)
    }
}

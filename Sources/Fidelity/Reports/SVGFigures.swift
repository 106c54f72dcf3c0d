import Distillation
import Foundation

/// The report's figures as inline SVG, each tagged `data-figure` so tests can find them.
enum SVGFigures {
    static let regionColours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"]

    /// The colours of the input-grid maps and what each means, in the order the key lists them.
    static let mapColours: [(String, String)] = [
        ("#e6f0e6", "agree"), ("#444", "the network is wrong (its own map)"),
        ("#d62728", "the surrogate differs where the network is right"),
        ("#ff7f0e", "the surrogate differs where the network is wrong"),
        ("#1f77b4", "an exception the program lists (it agrees there)"),
    ]

    /// Agreement with the network per region, one row per surrogate: a dot at the agreement and a whisker over
    /// its 95% Wilson interval.
    static func fidelityByRegion(_ report: FidelityReport) -> String {
        let b = report.behaviour
        let regions = b.regionSizes.map(\.name)
        let order = report.byBits
        let left = 110.0, right = 20.0, top = 30.0, rowHeight = 34.0, width = 720.0
        let height = top + rowHeight * Double(order.count) + 66
        let plotWidth = width - left - right
        // The axis starts at the tenth below the lowest whisker and the threshold, so that agreements crowded
        // near 100% are told apart; it says so when it does not start at 0%.
        let lowest = order.flatMap { i in regions.compactMap { b.surrogates[i].fidelity($0)?.agreement.lower } }.min() ?? 0
        let low = max(0, ((min(lowest, BehaviourThresholds.agreement) - 0.01) * 10).rounded(.down) / 10)
        let step = [0.01, 0.02, 0.05, 0.1].first { (1 - low) / $0 <= 10.0001 } ?? 0.1
        func x(_ v: Double) -> Double { left + (v - low) / (1 - low) * plotWidth }
        var svg = open(figure: "fidelity-by-region", width: width, height: height, title: "Agreement with the network by region")
        for k in 0...Int(((1 - low) / step).rounded()) {
            let tick = low + Double(k) * step
            svg += line(x(tick), top - 8, x(tick), top + rowHeight * Double(order.count), stroke: "#ddd")
            svg += text(
                x(tick), top + rowHeight * Double(order.count) + 16, "\(Int((tick * 100).rounded()))%", anchor: "middle")
        }
        let axisTitle = "agreement with the network (dot) and its 95% interval (whisker)"
            + (low > 0 ? "; the axis starts at \(Int((low * 100).rounded()))%" : "")
        svg += text(left + plotWidth / 2, top + rowHeight * Double(order.count) + 34, axisTitle, anchor: "middle")
        svg += line(
            x(BehaviourThresholds.agreement), top - 8, x(BehaviourThresholds.agreement), top + rowHeight * Double(order.count),
            stroke: "#999", dash: true)
        for (row, i) in order.enumerated() {
            let e = b.surrogates[i]
            let y = top + rowHeight * Double(row) + rowHeight / 2
            svg += text(left - 8, y + 4, e.surrogate.family.rawValue, anchor: "end")
            for (r, name) in regions.enumerated() {
                guard let f = e.fidelity(name) else { continue }
                let colour = regionColours[r % regionColours.count]
                let dy = (Double(r) - Double(regions.count - 1) / 2) * 4
                svg += line(x(f.agreement.lower), y + dy, x(f.agreement.upper), y + dy, stroke: colour)
                svg +=
                    "<circle cx=\"\(fmt(x(f.agreement.proportion)))\" cy=\"\(fmt(y + dy))\" r=\"3.5\" fill=\"\(colour)\">"
                    + "<title>\(escape(e.surrogate.family.rawValue)) on \(escape(name)): \(percent(f.agreement.proportion)) "
                    + "[\(percent(f.agreement.lower)), \(percent(f.agreement.upper))] of \(f.agreement.trials)</title></circle>"
            }
        }
        var lx = left
        let ly = height - 8
        for (r, name) in regions.enumerated() {
            lx = legendItem(&svg, x: lx, y: ly, colour: regionColours[r % regionColours.count], mark: .dot, label: name)
        }
        _ = legendItem(
            &svg, x: lx, y: ly, colour: "#999", mark: .dashed,
            label: "behaviour threshold (\(Int((BehaviourThresholds.agreement * 100).rounded()))%)")
        return svg + "</svg>"
    }

    /// Fidelity (the verdict's measure) against total bits (model + exceptions) on a log scale, with the Pareto
    /// front drawn through.
    static func paretoFront(_ report: FidelityReport) -> String {
        let b = report.behaviour
        let width = 720.0, height = 380.0, left = 60.0, right = 30.0, top = 20.0, bottom = 70.0
        let bits = b.surrogates.map { log2(max(1, $0.totalBits)) }
        let maxBits = max(1, (bits.max() ?? 1).rounded(.up))
        let minFidelity = min(0.9, (b.surrogates.map(\.verdictValue).min() ?? 0) - 0.05)
        let low = max(0, (minFidelity * 10).rounded(.down) / 10)
        func x(_ v: Double) -> Double { left + v / maxBits * (width - left - right) }
        func y(_ v: Double) -> Double { top + (1 - (v - low) / (1 - low)) * (height - top - bottom) }
        var svg = open(figure: "pareto-front", width: width, height: height, title: "Fidelity against description length")
        let step = max(1, (maxBits / 8).rounded(.up))
        for tick in stride(from: 0.0, through: maxBits, by: step) {
            svg += line(x(tick), top, x(tick), height - bottom, stroke: "#eee")
            svg += text(x(tick), height - bottom + 16, bitsLabel(Int(tick)), anchor: "middle")
        }
        let fidelityStep = [0.01, 0.02, 0.05, 0.1, 0.2].first { (1 - low) / $0 <= 6 } ?? 0.25
        for tick in stride(from: 1.0, through: low - 0.0001, by: -fidelityStep) {
            svg += line(left, y(tick), width - right, y(tick), stroke: "#eee")
            svg += text(left - 6, y(tick) + 4, "\(Int((tick * 100).rounded()))%", anchor: "end")
        }
        svg += line(
            left, y(BehaviourThresholds.agreement), width - right, y(BehaviourThresholds.agreement), stroke: "#999", dash: true)
        svg += text((left + width - right) / 2, height - bottom + 34, "total bits on the domain: model + the domain's exceptions (log scale)", anchor: "middle")
        svg +=
            "<text x=\"14\" y=\"\(fmt((top + height - bottom) / 2))\" transform=\"rotate(-90 14 \(fmt((top + height - bottom) / 2)))\" "
        svg += "text-anchor=\"middle\" font-size=\"12\">fidelity (the verdict’s measure)</text>"
        let front = b.paretoFront
        if front.count > 1 {
            let points = front.map { "\(fmt(x(bits[$0]))),\(fmt(y(b.surrogates[$0].verdictValue)))" }.joined(separator: " ")
            svg += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"1.5\"/>"
        }
        // Labels left to right; one that would overlap an earlier label moves down a line.
        var placed: [(x0: Double, x1: Double, y: Double)] = []
        for i in b.surrogates.indices.sorted(by: { (bits[$0], $0) < (bits[$1], $1) }) {
            let e = b.surrogates[i]
            let cx = x(bits[i]), cy = y(max(low, e.verdictValue))
            let colour = front.contains(i) ? "#2ca02c" : "#888"
            svg +=
                "<circle cx=\"\(fmt(cx))\" cy=\"\(fmt(cy))\" r=\"5\" fill=\"\(colour)\"><title>\(escape(e.surrogate.family.rawValue)): "
            svg += "\(fmt(e.totalBits)) total bits (\(fmt(e.surrogate.modelBits)) model), fidelity \(percent(e.verdictValue))</title></circle>"
            let name = e.surrogate.family.rawValue
            var ly = cy - 6
            while placed.contains(where: { abs($0.y - ly) < 13 && cx + 8 < $0.x1 && cx + 8 + textWidth(name) > $0.x0 }) { ly += 14 }
            let anchorEnd = cx + 8 + textWidth(name) > width - 4
            svg += text(anchorEnd ? cx - 8 : cx + 8, ly, name, anchor: anchorEnd ? "end" : "start")
            placed.append(anchorEnd ? (cx - 8 - textWidth(name), cx - 8, ly) : (cx + 8, cx + 8 + textWidth(name), ly))
        }
        var lx = left
        let ly = height - 8
        lx = legendItem(&svg, x: lx, y: ly, colour: "#2ca02c", mark: .dot, label: "on the Pareto front")
        if front.count < b.surrogates.count { lx = legendItem(&svg, x: lx, y: ly, colour: "#888", mark: .dot, label: "not on it") }
        _ = legendItem(
            &svg, x: lx, y: ly, colour: "#999", mark: .dashed,
            label: "behaviour threshold (\(Int((BehaviourThresholds.agreement * 100).rounded()))%)")
        return svg + "</svg>"
    }

    /// The input grid of a two-variable task, coloured where `e` and the network disagree: red where the network
    /// is right (or there is no truth) and the surrogate differs, orange where the network is wrong and the surrogate
    /// differs from it. `nil` when the task has not two variables or the domain was not enumerated.
    static func disagreementMap(_ report: FidelityReport, _ i: Int, side: Double = 300) -> String? {
        let b = report.behaviour
        let task = b.task
        guard mapsGrid(task), let cells = b.surrogates[i].disagreementIndices else { return nil }
        let wrong = Set(b.networkWrongIndices ?? [])
        let listed = b.surrogates[i].exceptionIndices ?? []
        var title = "\(b.surrogates[i].surrogate.family.rawValue): \(cells.count) of \(task.domainSize) inputs disagree"
        if !listed.isEmpty { title += ", \(listed.count) exceptions listed" }
        let disagreeing = Set(cells)
        return grid(
            task: task, figure: "disagreement-map-\(b.surrogates[i].surrogate.family.rawValue)", title: title,
            cells: cells.map { ($0, wrong.contains($0) ? "#ff7f0e" : "#d62728") }
                + listed.filter { !disagreeing.contains($0) }.map { ($0, "#1f77b4") }, side: side)
    }

    /// Held-out interchange intervention accuracy per surrogate variable on the network and on its random-init
    /// control, with the 95% interval and the chance level (always answering the commonest counterfactual).
    static func representation(_ report: FidelityReport, _ i: Int) -> String? {
        guard let result = report.representation[i], !result.network.variables.isEmpty else { return nil }
        let variables = result.network.variables
        let left = 230.0, right = 20.0, top = 24.0, rowHeight = 30.0, width = 720.0
        let height = top + rowHeight * Double(variables.count) + 50
        func x(_ v: Double) -> Double { left + v * (width - left - right) }
        let family = report.behaviour.surrogates[i].surrogate.family.rawValue
        var svg = open(
            figure: "representation-\(family)", width: width, height: height,
            title: "\(family): interchange intervention accuracy")
        for tick in stride(from: 0.0, through: 1.0001, by: 0.25) {
            svg += line(x(tick), top - 6, x(tick), top + rowHeight * Double(variables.count), stroke: "#ddd")
            svg += text(
                x(tick), top + rowHeight * Double(variables.count) + 16, String(format: "%.2f", tick), anchor: "middle")
        }
        for (k, v) in variables.enumerated() {
            let y = top + rowHeight * Double(k)
            svg += text(left - 8, y + 15, String(v.variable.name.prefix(32)), anchor: "end")
            let bars: [(Double, WilsonInterval?, String)] = [
                (v.best.heldOut.overall.proportion, v.best.heldOut.overall, "#1f77b4"),
                (
                    result.control?.variables[k].best.heldOut.overall.proportion ?? 0,
                    result.control?.variables[k].best.heldOut.overall, "#aaa"
                ),
            ]
            for (b, (value, interval, colour)) in bars.enumerated() where b == 0 || interval != nil {
                let by = y + 4 + Double(b) * 11
                svg +=
                    "<rect x=\"\(fmt(x(0)))\" y=\"\(fmt(by))\" width=\"\(fmt(x(value) - x(0)))\" height=\"9\" fill=\"\(colour)\">"
                svg += "<title>\(b == 0 ? "network" : "random-init control"): IIA \(String(format: "%.3f", value))</title></rect>"
                if let interval { svg += line(x(interval.lower), by + 4.5, x(interval.upper), by + 4.5, stroke: "#222") }
            }
            svg += line(x(v.chance), y + 2, x(v.chance), y + 26, stroke: "#d62728", dash: true)
        }
        let ly = height - 10
        var lx = legendItem(&svg, x: 10, y: ly, colour: "#1f77b4", mark: .square, label: "network")
        if result.control != nil { lx = legendItem(&svg, x: lx, y: ly, colour: "#aaa", mark: .square, label: "random-init control") }
        lx = legendItem(&svg, x: lx, y: ly, colour: "#222", mark: .line, label: "95% interval")
        _ = legendItem(&svg, x: lx, y: ly, colour: "#d62728", mark: .dashed, label: "chance")
        return svg + "</svg>"
    }

    /// Where the network's output differs from the task's truth.
    /// The localisation map of variable `k` of surrogate `i`: hooks down, positions across, each cell shaded by
    /// the IIA of interchanging that whole site on the pairs where the variable changes the output; searched
    /// sites outlined.
    static func localisation(_ report: FidelityReport, _ i: Int, _ k: Int) -> String? {
        guard let v = report.representation[i]?.network.variables[k], v.localisation.count > 1 else { return nil }
        var hooks: [String] = []
        for e in v.localisation where !hooks.contains(e.site.hook) { hooks.append(e.site.hook) }
        let positions = Array(Set(v.localisation.map { $0.site.position ?? -1 })).sorted()
        let left = 230.0, top = 40.0, cell = 28.0
        let width = max(left + cell * Double(positions.count) + 20, 470), height = top + cell * Double(hooks.count) + 40
        let family = report.behaviour.surrogates[i].surrogate.family.rawValue
        var svg = open(
            figure: "localisation-\(family)-\(k)", width: width, height: height,
            title: "\(family), \(v.variable.name): whole-site interchange")
        for (c, p) in positions.enumerated() {
            svg += text(left + cell * (Double(c) + 0.5), top - 8, p < 0 ? "–" : "@\(p)", anchor: "middle")
        }
        for (r, hook) in hooks.enumerated() {
            svg += text(left - 8, top + cell * Double(r) + 18, hook, anchor: "end")
        }
        for e in v.localisation {
            let r = hooks.firstIndex(of: e.site.hook)!, c = positions.firstIndex(of: e.site.position ?? -1)!
            let value = e.accuracy.changed.trials > 0 ? e.accuracy.changed.proportion : e.accuracy.overall.proportion
            let shade = Int((1 - value) * 255)
            svg += "<rect x=\"\(fmt(left + cell * Double(c) + 1))\" y=\"\(fmt(top + cell * Double(r) + 1))\" "
            svg += "width=\"\(fmt(cell - 2))\" height=\"\(fmt(cell - 2))\" fill=\"rgb(\(shade),\(shade),255)\""
            svg += e.searched ? " stroke=\"#d62728\" stroke-width=\"2\">" : ">"
            svg += "<title>\(escape(e.site.text)): IIA \(String(format: "%.3f", value))\(e.searched ? ", searched" : "")</title></rect>"
        }
        let ly = height - 8
        var lx = legendItem(&svg, x: 10, y: ly, colour: "rgb(255,255,255)", mark: .square, label: "IIA 0")
        lx = legendItem(&svg, x: lx, y: ly, colour: "rgb(0,0,255)", mark: .square, label: "IIA 1")
        if v.localisation.contains(where: \.searched) {
            _ = legendItem(&svg, x: lx, y: ly, colour: "#d62728", mark: .outline, label: "searched")
        }
        return svg + "</svg>"
    }

    static func networkErrorMap(_ report: FidelityReport, side: Double = 300) -> String? {
        let b = report.behaviour
        guard mapsGrid(b.task), let wrong = b.networkWrongIndices else { return nil }
        return grid(
            task: b.task, figure: "network-errors", title: "network: \(wrong.count) of \(b.task.domainSize) inputs wrong",
            cells: wrong.map { ($0, "#444") }, side: side)
    }

    /// The most values a variable may have for its grid to be drawn: finer cells are not seen, only paid for.
    static let gridLimit = 512

    /// Whether the task's inputs form a grid worth drawing: two variables of at most `gridLimit` values.
    static func mapsGrid(_ task: TaskDescription) -> Bool {
        task.variables.count == 2 && task.variables.allSatisfy { $0.count <= gridLimit }
    }

    /// A grid with the first variable down and the second across; runs of same-coloured cells in a row are one rect.
    private static func grid(task: TaskDescription, figure: String, title: String, cells: [(Int, String)], side: Double) -> String
    {
        let rows = task.variables[0].count, columns = task.variables[1].count
        let cell = side / Double(max(rows, columns))
        let left = 44.0
        let width = left + cell * Double(columns) + 10
        let titleLines = wrapped(title, width: width - 10)
        let top = 20 + 15 * Double(titleLines.count)
        let height = top + cell * Double(rows) + 28
        var svg = open(figure: figure, width: width, height: height, title: title)
        for (k, line) in titleLines.enumerated() { svg += text(10, 14 + 15 * Double(k), line, anchor: "start") }
        svg +=
            "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(cell * Double(columns)))\" height=\"\(fmt(cell * Double(rows)))\" fill=\"#e6f0e6\"/>"
        let sorted = cells.sorted { $0.0 < $1.0 }
        var k = 0
        while k < sorted.count {
            let (start, colour) = sorted[k]
            var end = k
            while end + 1 < sorted.count, sorted[end + 1].0 == sorted[end].0 + 1, sorted[end + 1].1 == colour,
                sorted[end + 1].0 / columns == start / columns
            {
                end += 1
            }
            let r = start / columns, c = start % columns
            svg += "<rect x=\"\(fmt(left + Double(c) * cell))\" y=\"\(fmt(top + Double(r) * cell))\" "
            svg += "width=\"\(fmt(Double(end - k + 1) * cell))\" height=\"\(fmt(cell))\" fill=\"\(colour)\"/>"
            k = end + 1
        }
        let v0 = task.variables[0], v1 = task.variables[1]
        svg += text(left, top - 4, "\(v1.name) = \(v1.min)", anchor: "start")
        svg += text(left + cell * Double(columns), top - 4, "\(v1.max)", anchor: "end")
        svg += text(left - 4, top + 10, "\(v0.min)", anchor: "end")
        svg += text(left - 4, top + cell * Double(rows), "\(v0.max)", anchor: "end")
        svg += text(left - 4, top + cell * Double(rows) / 2, v0.name, anchor: "end")
        svg += text(left + cell * Double(columns) / 2, top + cell * Double(rows) + 16, "\(v1.name) →", anchor: "middle")
        return svg + "</svg>"
    }

    /// How a legend entry draws its colour.
    enum LegendMark { case dot, square, line, dashed, outline }

    /// Appends a legend entry at (`x`, baseline `y`): a mark in `colour` tagged `data-legend` and its label.
    /// - Returns: the x where the next entry starts.
    static func legendItem(_ svg: inout String, x: Double, y: Double, colour: String, mark: LegendMark, label: String) -> Double
    {
        let tag = "data-legend=\"\(escape(label))\""
        switch mark {
        case .dot:
            svg += "<circle \(tag) cx=\"\(fmt(x + 5))\" cy=\"\(fmt(y - 4))\" r=\"4\" fill=\"\(colour)\"/>"
        case .square:
            svg += "<rect \(tag) x=\"\(fmt(x))\" y=\"\(fmt(y - 9))\" width=\"10\" height=\"10\" fill=\"\(colour)\" stroke=\"#ccc\" stroke-width=\"0.5\"/>"
        case .outline:
            svg += "<rect \(tag) x=\"\(fmt(x + 1))\" y=\"\(fmt(y - 9))\" width=\"9\" height=\"9\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>"
        case .line, .dashed:
            svg += "<line \(tag) x1=\"\(fmt(x))\" y1=\"\(fmt(y - 4))\" x2=\"\(fmt(x + 16))\" y2=\"\(fmt(y - 4))\" stroke=\"\(colour)\""
            svg += (mark == .dashed ? " stroke-dasharray=\"4 3\"" : "") + " stroke-width=\"1.5\"/>"
        }
        let markWidth = mark == .line || mark == .dashed ? 20.0 : 14.0
        svg += text(x + markWidth, y, label, anchor: "start")
        return x + markWidth + textWidth(label) + 16
    }

    /// The width `text` takes at the figures' 12-pixel sans-serif, generously (an average glyph of 6.8 px).
    static func textWidth(_ text: String) -> Double { Double(text.count) * 6.8 }

    /// `text` broken after its commas into lines that fit `width`.
    static func wrapped(_ text: String, width: Double) -> [String] {
        var lines: [String] = []
        var current = ""
        for piece in text.split(separator: ",", omittingEmptySubsequences: false).enumerated().map({
            $0.offset == 0 ? String($0.element) : "," + $0.element
        }) {
            if !current.isEmpty, textWidth(current + piece) > width {
                lines.append(current + (piece.hasPrefix(",") ? "," : ""))
                current = String(piece.drop(while: { $0 == "," || $0 == " " }))
            } else {
                current += piece
            }
        }
        lines.append(current)
        return lines
    }

    /// A power of two as a tick label: 1, 2, …, 512, 1,024, …, with thousands separated.
    static func bitsLabel(_ exponent: Int) -> String {
        let value = exponent >= 62 ? Int.max : 1 << exponent
        var digits = Array(String(value))
        var k = digits.count - 3
        while k > 0 {
            digits.insert(",", at: k)
            k -= 3
        }
        return String(digits)
    }

    static func open(figure: String, width: Double, height: Double, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" data-figure=\"\(escape(figure))\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" "
            + "viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" role=\"img\" aria-label=\"\(escape(title))\" font-family=\"sans-serif\">"
    }

    private static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, dash: Bool = false) -> String
    {
        "<line x1=\"\(fmt(x1))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(x2))\" y2=\"\(fmt(y2))\" stroke=\"\(stroke)\""
            + (dash ? " stroke-dasharray=\"4 3\"" : "") + " stroke-width=\"1.5\"/>"
    }

    static func text(_ x: Double, _ y: Double, _ content: String, anchor: String) -> String {
        "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" text-anchor=\"\(anchor)\" font-size=\"12\">\(escape(content))</text>"
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// Escapes text for HTML and SVG.
func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for c in text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}

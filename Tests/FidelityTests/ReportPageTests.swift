import Distillation
import Foundation
import Network
import Testing
import WeightFiles

@testable import Fidelity

/// The bundled addition example's report with a program, a tree and a lookup table (the table's text is 5,000
/// lines long), evaluated once for the tests below.
private let additionReport: Result<FidelityReport, any Error> = Result {
    let folder = referenceNetwork("addition_mlp")
    let net = try NetworkLoader.load(
        file: try WeightFiles.open("\(folder)/model.safetensors"),
        description: try NetworkLoader.description("\(folder)/network.json"), threads: 2)
    let task = try TaskDescription.read("\(folder)/task.json")
    let probes = try ProbeSet.probe(net, task: task, region: try #require(try task.resolveRegions()["probe"]))
    var options = Distiller.Options()
    options.threads = 2
    let features = try TaskFeatures(task: task)
    let surrogates = try [SurrogateFamily.program, .tree, .table].map {
        try Distiller.fit($0, probes: probes, task: task, features: features, options: options)
    }
    return FidelityReport(
        model: "\(folder)/model.safetensors", network: "\(folder)/network.json", taskPath: "\(folder)/task.json",
        behaviour: try BehaviourReport.evaluate(network: net, task: task, surrogates: surrogates))
}

/// Every match of `pattern`'s first group in `text`.
private func matches(_ pattern: String, in text: String) throws -> [String] {
    let regex = try NSRegularExpression(pattern: pattern)
    return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
        Range($0.range(at: 1), in: text).map { String(text[$0]) }
    }
}

@Suite("The HTML report page")
struct ReportPageTests {
    @Test("every colour a figure draws with has a legend entry")
    func everyColourUsedHasALegendEntry() throws {
        let html = try additionReport.get().html
        let figures = try matches("(<svg [^>]*data-figure=\"[^\"]+\"[\\s\\S]*?</svg>)", in: html)
        #expect(figures.count >= 5)
        // The grid maps share the key above them; the other figures carry their own legend.
        let keyColours = Set(try matches("<span data-legend=\"[^\"]*\" style=\"background:(#[0-9a-f]+)\">", in: html))
        // Grid lines and the legend swatches' own outline are not data.
        let neutral: Set<String> = ["#ddd", "#eee", "#ccc", "none"]
        for figure in figures {
            let name = try #require(try matches("data-figure=\"([^\"]+)\"", in: figure).first)
            let legend = Set(
                try matches("<[a-z]+ data-legend=\"[^\"]*\"[^>]*?(?:fill|stroke)=\"(#[0-9a-f]+)\"", in: figure)
                    + matches("<[a-z]+ data-legend=\"[^\"]*\"[^>]*?fill=\"none\" stroke=\"(#[0-9a-f]+)\"", in: figure))
            let marks = try matches("<(?:circle|rect|line|polyline)(?![^>]*data-legend)[^>]*?(?:fill|stroke)=\"(#[0-9a-f]+)\"", in: figure)
            for colour in Set(marks).subtracting(neutral) {
                #expect(legend.contains(colour) || keyColours.contains(colour), "\(name) draws \(colour) with no legend entry")
            }
        }
    }

    @Test("the maps' key lists only colours the maps use, the network's own mistakes among them")
    func mapKeyListsTheColoursUsed() throws {
        let html = try additionReport.get().html
        let key = try #require(try matches("(<p class=key>[\\s\\S]*?</p>)", in: html).first)
        #expect(key.contains("the network is wrong"))
        let maps = try matches("(<div class=maps>[\\s\\S]*?</div>)", in: html).joined()
        for colour in try matches("background:(#[0-9a-f]+)", in: key) where colour != "#e6f0e6" {
            #expect(maps.contains("fill=\"\(colour)\""), "the key lists \(colour), which no map draws")
        }
    }

    @Test("a long surrogate text is collapsed in <details> under its first line; a short one is shown whole")
    func longSurrogateTextsAreCollapsed() throws {
        let report = try additionReport.get()
        let html = report.html
        let table = try #require(report.behaviour.surrogates.first { $0.surrogate.family == .table })
        let tableText = table.surrogate.text(task: report.behaviour.task)
        #expect(tableText.split(separator: "\n").count > FidelityReport.collapsedTextLines)
        let firstLine = String(tableText.prefix { $0 != "\n" })
        #expect(html.contains("<details class=surrogate-text><summary>\(escape(firstLine)) — "))
        let program = try #require(report.behaviour.surrogates.first { $0.surrogate.family == .program })
        let programText = program.surrogate.text(task: report.behaviour.task)
        #expect(programText.split(separator: "\n").count <= FidelityReport.collapsedTextLines)
        #expect(html.contains("<pre>\(escape(programText))</pre>"))
    }

    @Test("the how-to-read box explains agreement, same errors, vs table and every verdict before the first table")
    func howToReadBoxComesFirst() throws {
        let html = try additionReport.get().html
        let box = try #require(try matches("(<aside class=howto[\\s\\S]*?</aside>)", in: html).first)
        for words in ["agreement", "same errors", "vs table"] + Verdict.allCases.map(\.words)
            + ["algorithm", "lookup table and special cases", "too small to tell"]
        {
            #expect(box.contains(words), "the box does not explain \(words)")
        }
        let boxAt = try #require(html.range(of: "<aside class=howto"))
        let tableAt = try #require(html.range(of: "<table>"))
        #expect(boxAt.lowerBound < tableAt.lowerBound)
    }

    @Test("the surrogates table has the summary's same-errors column")
    func surrogatesTableHasSameErrors() throws {
        let report = try additionReport.get()
        let program = try #require(report.behaviour.surrogates.firstIndex { $0.surrogate.family == .program })
        #expect(report.sameErrors(program).contains("/"))
        #expect(report.html.contains("<th>same errors</th>") && report.html.contains("<td>\(report.sameErrors(program))</td>"))
    }

    @Test("the surrogates table shows the domain's total bits, the Pareto front's axis, beside the probes' total")
    func surrogatesTableHasDomainBits() throws {
        let report = try additionReport.get()
        let program = try #require(report.behaviour.surrogates.firstIndex { $0.surrogate.family == .program })
        let e = report.behaviour.surrogates[program]
        #expect(report.html.contains("total bits (probes)</th>") && report.html.contains("total bits (domain)</th>"))
        let cells = "<td>\(Int(e.surrogate.modelBits.rounded()))</td><td>\(Int(e.surrogate.totalBits.rounded()))</td>"
            + "<td>\(Int(e.totalBits.rounded()))</td>"
        #expect(report.html.contains(cells), "\(cells)")
        #expect(report.html.contains("total bits on the domain: model + the domain"))
    }

    @Test("the fidelity-by-region axis starts below every whisker and says where it starts")
    func fidelityAxisFitsTheWhiskers() throws {
        let report = try additionReport.get()
        let svg = SVGFigures.fidelityByRegion(report)
        let lowest = report.behaviour.surrogates.flatMap { e in report.behaviour.regionSizes.compactMap { e.fidelity($0.name)?.agreement.lower } }.min()!
        let ticks = svg.matches(of: /text-anchor="middle"[^>]*>(\d+)%</).map { Int($0.1)! }
        let first = try #require(ticks.first)
        #expect(Double(first) / 100 <= lowest && Double(first) / 100 <= BehaviourThresholds.agreement)
        #expect(ticks.last == 100 && ticks == ticks.sorted())
        #expect(svg.contains("the axis starts at \(first)%") == (first > 0))
    }

    @Test("the terminal summary has a one-line legend of its columns and verdicts under the table")
    func summaryHasTheLegend() throws {
        let report = try additionReport.get()
        let lines = report.summary.split(separator: "\n", omittingEmptySubsequences: false)
        let legend = try #require(lines.first { $0.hasPrefix("* ") })
        for words in ["Pareto", "agreement with the network", "SAME ERRORS", "VS TABLE", "behaviour: ≥95%", "algorithm: ≥20 bits"] {
            #expect(legend.contains(words), "the legend lacks \(words)")
        }
        #expect(legend == Substring(report.legend))
    }

    @Test("header paths are shown relative to the current directory, or as their last two components")
    func headerPathsAreTidied() {
        #expect(displayPath("/home/me/retort/formats/m.safetensors", currentDirectory: "/home/me/retort") == "formats/m.safetensors")
        #expect(displayPath("/tmp/xyz-123/run/model.safetensors", currentDirectory: "/home/me") == "…/run/model.safetensors")
        #expect(displayPath("formats/task.json", currentDirectory: "/home/me") == "formats/task.json")
        #expect(displayPath("mlp", currentDirectory: "/home/me") == "mlp")
        #expect(displayPath("/model.safetensors", currentDirectory: "/home/me") == "/model.safetensors")
    }

    @Test("the header keeps the path as given in a tooltip when it shows a shorter one")
    func headerKeepsTheFullPathInATooltip() throws {
        let report = try additionReport.get()
        let shown = displayPath(report.model)
        #expect(shown != report.model)
        #expect(report.html.contains("<code title=\"\(escape(report.model))\">\(escape(shown))</code>"))
    }

    @Test("the Pareto figure labels its axis in bits and percents, not powers written out")
    func paretoTicksAreReadable() throws {
        let figure = SVGFigures.paretoFront(try additionReport.get())
        #expect(!figure.contains("2^"))
        #expect(figure.contains(">1,024<") || figure.contains(">4,096<"))
        #expect(figure.contains(">100%<"))
        #expect(SVGFigures.bitsLabel(0) == "1" && SVGFigures.bitsLabel(10) == "1,024" && SVGFigures.bitsLabel(20) == "1,048,576")
    }

    @Test("a map title too wide for its figure is broken after a comma")
    func longMapTitlesWrap() {
        let lines = SVGFigures.wrapped("program: 84 of 10000 inputs disagree, 77 exceptions listed", width: 280)
        #expect(lines == ["program: 84 of 10000 inputs disagree,", "77 exceptions listed"])
        #expect(lines.allSatisfy { SVGFigures.textWidth($0) <= 280 })
        #expect(SVGFigures.wrapped("tree: 154 of 10000 inputs disagree", width: 280).count == 1)
    }
}

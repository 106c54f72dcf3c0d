import Distillation
import Foundation
import Network

extension FidelityReport {
    /// Runs the prompt-task representation tests (`PromptRepresentationTests`) for every surrogate with
    /// intermediate variables, whatever its behavioural verdict: the tests use only the inputs where the
    /// network gives the surrogate's answer (unless `options.onlyAgreeingInputs` is off), and there the
    /// surrogate is exact. A surrogate whose tests cannot run gets a reason in `representationSkipped`.
    /// - Parameter control: builds the random-init control (`PromptRepresentationTests.controlModel`); called at
    ///   most once, when the first surrogate's tests reach it, and shared by the others. `nil`: no control.
    public mutating func runPromptRepresentationTests(
        network: any NeuralNetwork, inputs: Region, options: RepresentationOptions,
        control: (() throws(RepresentationError) -> any NeuralNetwork)? = nil,
        progress: (_ stage: String, _ done: Int, _ total: Int) -> Void = { _, _, _ in }
    ) {
        representationOptions = options
        var built: (any NeuralNetwork)?
        func shared() throws(RepresentationError) -> any NeuralNetwork {
            if let built { return built }
            let model = try control!()
            built = model
            return model
        }
        for (i, e) in behaviour.surrogates.enumerated() {
            do {
                promptRepresentation[i] = try PromptRepresentationTests.run(
                    network: network, surrogate: e.surrogate, task: behaviour.task, inputs: inputs, options: options,
                    control: control == nil ? nil : shared
                ) { stage, done, total in progress("\(e.surrogate.family.rawValue): \(stage)", done, total) }
            } catch {
                representationSkipped[i] = "not run: \(error)"
            }
        }
    }

    /// The summary's lines for prompt-task representation tests.
    var promptRepresentationSummary: [String] {
        guard !promptRepresentation.isEmpty else { return [] }
        var lines = [
            "",
            "representation on a prompt task (interchange interventions; whole sites, then class-mean and DAS subspaces at the "
                + (promptRepresentation.values.contains { $0.controlSeconds != nil }
                    ? "best; control = random-init copy):" : "best; no random-init control, so nothing is supported):"),
        ]
        for i in byBits {
            guard let r = promptRepresentation[i] else { continue }
            let family = behaviour.surrogates[i].surrogate.family.rawValue
            let s = r.inputs
            lines.append(
                "\(family): \(s.used) inputs of \(s.tokenLength) tokens (\(s.sameLength) of \(s.given) have that length"
                    + (s.onlyAgreeing ? "; \(s.agreeing) of \(s.scanned) scanned get the surrogate's answer, only those used" : "")
                    + "); \(r.localisationPairs) localisation and \(r.heldOutPairs) held-out pairs; \(r.patchedRuns) runs, "
                    + String(format: "%.0f s", r.cleanSeconds + r.localisationSeconds + r.subspaceSeconds)
                    + (r.controlSeconds.map { String(format: "; control %d runs, %.0f s", r.controlRuns, $0) } ?? "; no control"))
            var rows = [["VARIABLE", "IGNORE", "BEST SITES (IIA where the output changes, localisation pairs)"]]
            for v in r.variables {
                let best = v.localisation.filter(\.searched).sorted {
                    $0.accuracy.changed.successes > $1.accuracy.changed.successes
                }
                rows.append([
                    String(v.variable.name.prefix(28)) + (v.indistinguishableFromOutput && !v.variable.isOutput ? " (= output)" : ""),
                    String(format: "%.3f", v.ignoringScore),
                    best.map { "\(siteText($0.site, r)) \(String(format: "%.2f", $0.accuracy.changed.proportion))" }
                        .joined(separator: ", "),
                ])
            }
            lines += table(rows)
            var held = [
                ["VARIABLE", "SITE", "WHOLE", "WHOLE CHANGED", "CONTROL", "SUBSPACE k", "IIA", "CHANGED", "RANDOM k CHANGED", "CONTROL"]
            ]
            for v in r.variables {
                for t in v.top {
                    let whole = [
                        String(v.variable.name.prefix(20)), siteText(t.site, r), String(format: "%.3f", t.wholeSite.overall.proportion),
                        changedText(t.wholeSite), t.controlWholeSite.map(changedText) ?? "-",
                    ]
                    if t.subspaces.isEmpty { held.append(whole + ["-", "-", "-", "-", "-"]) }
                    for p in t.subspaces {
                        held.append(
                            whole + [
                                "\(p.dimension)", String(format: "%.3f", p.accuracy.overall.proportion), changedText(p.accuracy),
                                changedText(p.randomAccuracy), p.controlAccuracy.map(changedText) ?? "-",
                            ])
                    }
                }
            }
            lines.append("held-out pairs at each variable's best sites:")
            lines += table(held)
            lines += promptDASSummary(r)
            let verdict = r.verdict
            var judged = [["VARIABLE", "BEST ALIGNMENT", "IIA CHANGED", "CONTROL", "SUPPORTED"]]
            for (k, v) in r.variables.enumerated() {
                let j = verdict.variables[k]
                judged.append([
                    String(v.variable.name.prefix(28)) + (v.indistinguishableFromOutput && !v.variable.isOutput ? " (= output)" : ""),
                    v.bestAlignment.map { String($0.name.prefix(48)) } ?? "-",
                    j.changedPairs == 0 ? "-" : String(format: "%.3f (%d)", j.changedIIA, j.changedPairs),
                    j.controlIIA.map { String(format: "%.3f", $0) } ?? "-",
                    j.supported ? "yes" : "no: " + j.reasons.joined(separator: "; "),
                ])
            }
            lines += table(judged)
            lines.append("\(family): representation \(promptVerdictWords(verdict))")
        }
        lines.append("supported: " + RepresentationThresholds.standard.summary + "; the best measured alignment against the control's best")
        lines.append(
            "IGNORE = IIA of a network that leaves the base output; CHANGED = IIA on the pairs where the variable changes the "
                + "output; CONTROL = the random-init copy's IIA there; SUBSPACE rows are class-mean (not DAS: no gradient through "
                + "the network), beside random ones; DAS rows are trained by gradient through the network")
        return lines
    }

    /// `supported`, `supported for the 2 variables tested`, `not supported (3 variables untested)`.
    func promptVerdictWords(_ verdict: RepresentationVerdict) -> String {
        (verdict.supported ? "supported" : "not supported")
            + (verdict.scope.map { verdict.supported ? " " + $0 : " (" + $0 + ")" } ?? "")
    }

    /// `L12 resid_post @"=" (−1)`.
    func siteText(_ site: AlignmentSite, _ r: PromptRepresentationResult) -> String {
        let parts = site.hook.split(separator: ".")
        let hook =
            parts.count == 3 && parts[0] == "blocks"
            ? "L\(parts[1]) \(parts[2].replacingOccurrences(of: "hook_", with: ""))" : site.hook
        return "\(hook) @\(r.label(site.position))"
    }

    private func changedText(_ a: InterchangeAccuracy) -> String {
        a.changed.trials == 0 ? "-" : String(format: "%.3f (%d)", a.changed.proportion, a.changed.trials)
    }

    /// The HTML section for prompt-task representation tests.
    var promptRepresentationHTML: String {
        guard !promptRepresentation.isEmpty else { return "" }
        var page = "<h2>Representation (prompt task)</h2>\n<p>Interchange interventions on pairs of prompts of one token "
        page += "length: the base prompt runs with one site (a hook at a position counted from the prompt's end) set to the "
        page += "source's clean activation, and its continuation is read with the task's decoder; it counts as right when it is "
        page += "the surrogate's counterfactual answer. Every site is interchanged whole on the localisation pairs (the maps); "
        page += "at each variable's best sites, held-out pairs score the whole site and a <i>class-mean subspace</i> (the "
        page += "leading directions of the variable's per-value mean activations, computed on clean runs without any "
        page += "gradient: not distributed alignment search) beside a random subspace of the same dimension, and a DAS subspace "
        page += "(below). The random-init control (a copy of the model with transformers' initialisation) runs the same "
        page += "interchanges (and trains its own DAS subspaces) at the same sites on the same pairs. A variable is supported at "
        page += "\(escape(RepresentationThresholds.standard.summary)), its best measured alignment against the control's best "
        page += "(formats/report.md).</p>\n"
        for i in byBits {
            guard let r = promptRepresentation[i] else { continue }
            let family = behaviour.surrogates[i].surrogate.family.rawValue
            let s = r.inputs
            page += "<h3>\(family): representation \(escape(promptVerdictWords(r.verdict)))</h3>\n"
            page += "<p>\(s.used) inputs whose prompts have \(s.tokenLength) tokens "
            page += "(\(s.sameLength) of the \(s.given) given; the first \(s.sharedPrefix) are the shared prefix)"
            if s.onlyAgreeing { page += "; \(s.agreeing) of the \(s.scanned) scanned get the surrogate's answer, and only those are used" }
            page += String(
                format: ". %d localisation and %d held-out pairs; %d language-model runs in %.0f s.</p>\n", r.localisationPairs,
                r.heldOutPairs, r.patchedRuns, r.cleanSeconds + r.localisationSeconds + r.subspaceSeconds)
            if let seconds = r.controlSeconds {
                page += String(format: "<p>Random-init control: %d runs in %.0f s.</p>\n", r.controlRuns, seconds)
            } else {
                page += "<p>No random-init control was run, so no variable is supported.</p>\n"
            }
            let verdict = r.verdict
            page += "<table><tr><th class=l>variable</th><th class=l>best alignment</th><th>IIA where it changes</th>"
            page += "<th>control</th><th class=l>supported</th></tr>"
            for (k, v) in r.variables.enumerated() {
                let j = verdict.variables[k]
                page += "<tr><td class=l>\(escape(v.variable.name))</td><td class=l>\(escape(v.bestAlignment?.name ?? "–"))</td>"
                page += j.changedPairs == 0 ? "<td>–</td>" : String(format: "<td>%.3f (%d)</td>", j.changedIIA, j.changedPairs)
                page += j.controlIIA.map { String(format: "<td>%.3f</td>", $0) } ?? "<td>–</td>"
                page += "<td class=l>\(j.supported ? "supported" : escape(j.reasons.joined(separator: "; ")))</td></tr>"
            }
            page += "</table>\n"
            page += "<table><tr><th class=l>variable</th><th class=l>site</th><th>ignoring the patch</th><th>whole site IIA</th>"
            page += "<th>where it changes</th><th>control there</th><th>subspace k</th><th>IIA</th><th>where it changes</th>"
            page += "<th>random k there</th><th>control there</th></tr>"
            for v in r.variables {
                for t in v.top {
                    let rows = t.subspaces.isEmpty ? [nil] : t.subspaces.map { Optional($0) }
                    for p in rows {
                        page += "<tr><td class=l>\(escape(v.variable.name))</td><td class=l>\(escape(siteText(t.site, r)))</td>"
                        page += String(format: "<td>%.3f</td><td>%.3f</td><td>%@</td>", v.heldOutIgnoringScore, t.wholeSite.overall.proportion, changedText(t.wholeSite))
                        page += "<td>\(t.controlWholeSite.map(changedText) ?? "–")</td>"
                        if let p {
                            page += String(format: "<td>%d</td><td>%.3f</td><td>%@</td><td>%@</td>", p.dimension, p.accuracy.overall.proportion, changedText(p.accuracy), changedText(p.randomAccuracy))
                            page += "<td>\(p.controlAccuracy.map(changedText) ?? "–")</td>"
                        } else {
                            page += "<td>–</td><td>–</td><td>–</td><td>–</td><td>–</td>"
                        }
                        page += "</tr>"
                    }
                }
            }
            page += "</table>\n"
            page += promptDASHTML(r)
            for (k, v) in r.variables.enumerated() {
                if let map = SVGFigures.promptLocalisation(r, k, family: family) { page += "<figure>\(map)</figure>\n" }
                _ = v
            }
        }
        return page
    }
}

extension SVGFigures {
    /// The localisation map of variable `k` of a prompt-task result: layers down; across, for each hook kind, the
    /// positions; each cell shaded by the IIA of interchanging that whole site where the variable changes the
    /// output; the best sites outlined.
    static func promptLocalisation(_ r: PromptRepresentationResult, _ k: Int, family: String) -> String? {
        let v = r.variables[k]
        guard v.localisation.count > 1 else { return nil }
        var rows: [String] = [], kinds: [String] = []
        func split(_ hook: String) -> (String, String) {
            let parts = hook.split(separator: ".")
            if parts.count == 3 && parts[0] == "blocks" { return ("L\(parts[1])", String(parts[2])) }
            return (hook, "")
        }
        for e in v.localisation {
            let (row, kind) = split(e.site.hook)
            if !rows.contains(row) { rows.append(row) }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        let positions = r.positions.map(\.offset).filter { p in v.localisation.contains { $0.site.position == p } }
        let cell = 22.0, gap = 16.0, left = 44.0, top = 62.0
        let groupWidth = cell * Double(positions.count)
        let heading = "\(v.variable.name): whole-site IIA where it changes the output"
        let width = max(left + Double(kinds.count) * (groupWidth + gap) + 10, 520, textWidth(heading) + 20)
        let height = top + cell * Double(rows.count) + 34
        var svg = open(
            figure: "prompt-localisation-\(family)-\(k)", width: width, height: height,
            title: "\(family), \(v.variable.name): whole-site interchange by layer and position")
        svg += text(10, 16, heading, anchor: "start")
        for (g, kind) in kinds.enumerated() {
            let x0 = left + Double(g) * (groupWidth + gap)
            svg += text(x0 + groupWidth / 2, 36, kind.replacingOccurrences(of: "hook_", with: ""), anchor: "middle")
            for (c, p) in positions.enumerated() {
                let label = r.label(p)
                svg += "<text x=\"\(fmt(x0 + cell * (Double(c) + 0.5)))\" y=\"\(fmt(top - 6))\" text-anchor=\"middle\" font-size=\"9\">"
                svg += "\(escape(String(label.prefix(5))))</text>"
            }
        }
        for (row, name) in rows.enumerated() where row % 5 == 0 || row == rows.count - 1 {
            svg += "<text x=\"\(fmt(left - 4))\" y=\"\(fmt(top + cell * Double(row) + 12))\" text-anchor=\"end\" font-size=\"9\">\(escape(name))</text>"
        }
        for e in v.localisation {
            let (rowName, kind) = split(e.site.hook)
            guard let row = rows.firstIndex(of: rowName), let g = kinds.firstIndex(of: kind),
                let c = positions.firstIndex(of: e.site.position ?? 0)
            else { continue }
            let value = e.accuracy.changed.trials > 0 ? e.accuracy.changed.proportion : e.accuracy.overall.proportion
            let shade = Int((1 - value) * 255)
            let x = left + Double(g) * (groupWidth + gap) + cell * Double(c), y = top + cell * Double(row)
            svg += "<rect x=\"\(fmt(x + 0.5))\" y=\"\(fmt(y + 0.5))\" width=\"\(fmt(cell - 1))\" height=\"\(fmt(cell - 1))\" "
            svg += "fill=\"rgb(\(shade),\(shade),255)\""
            svg += e.searched ? " stroke=\"#d62728\" stroke-width=\"2\">" : " stroke=\"#ddd\" stroke-width=\"0.5\">"
            svg += "<title>\(escape(e.site.hook)) @\(escape(r.label(e.site.position))): IIA \(String(format: "%.3f", value))</title></rect>"
        }
        let ly = height - 8
        var lx = legendItem(&svg, x: 10, y: ly, colour: "rgb(255,255,255)", mark: .square, label: "IIA 0")
        lx = legendItem(&svg, x: lx, y: ly, colour: "rgb(0,0,255)", mark: .square, label: "IIA 1")
        if v.localisation.contains(where: \.searched) {
            _ = legendItem(&svg, x: lx, y: ly, colour: "#d62728", mark: .outline, label: "best sites")
        }
        return svg + "</svg>"
    }
}

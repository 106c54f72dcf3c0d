import Distillation
import Foundation

extension FidelityReport {
    /// The report as one self-contained HTML page: no scripts, no external files; figures as inline SVG.
    /// - Complexity: O(surrogates × (regions + disagreements))
    public var html: String {
        let b = behaviour
        let task = b.task
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>Retort fidelity report: \(escape(task.name))</title>
            <style>
            body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
            th{background:#f4f4f4}td.l,th.l{text-align:left}pre{background:#f7f7f7;padding:.6em;overflow:auto;white-space:pre-wrap}
            .maps{display:flex;flex-wrap:wrap;gap:1em}.key span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
            .key span:first-child{margin-left:0}
            figure{margin:1em 0}figcaption{font-size:90%;color:#555;max-width:720px}.maps figcaption{max-width:340px}
            .howto{border:1px solid #bcd;background:#f5f9fc;padding:.2em 1em;margin:1em 0}.howto h2{font-size:1.1em}
            .howto dt{font-weight:bold;margin-top:.4em}.howto dd{margin-left:1.5em}summary{cursor:pointer;color:#235}
            </style></head><body>
            <h1>Fidelity report: \(escape(task.name))</h1>

            """
        page +=
            "<p>Model \(pathCode(model)), network \(pathCode(network)), task \(pathCode(taskPath)). "
        page +=
            "Domain: \(task.domainSize) inputs (\(task.variables.map { "\(escape($0.name)) \($0.min)…\($0.max)" }.joined(separator: ", "))), "
        page += "\(task.outputValues.count) outputs."
        if let truth = task.truth { page += " Truth: <code>\(escape(truth.text(variables: task.variables.map(\.name))))</code>." }
        if let seconds { page += String(format: " Took %.1f s.", seconds) }
        page +=
            "</p>\n<p>Regions: " + b.regionSizes.map { "\(escape($0.name)) (\($0.count))" }.joined(separator: ", ") + ".</p>\n"
        if !b.networkAccuracy.isEmpty {
            page += "<p>Network accuracy against the truth: "
            page +=
                b.networkAccuracy.map { "\(escape($0.region)) \(percent($0.accuracy.proportion))" }.joined(separator: ", ")
                + ".</p>\n"
        }

        page += howToRead

        page += "<h2>Surrogates</h2>\n<table><tr><th class=l>family</th><th>model bits</th><th title=\"model + exceptions on the probes it was fitted on\">total bits (probes)</th>"
        page += "<th title=\"model + exceptions on the domain: what the Pareto front and the verdict use\">total bits (domain)</th>"
        for r in b.regionSizes { page += "<th>\(escape(r.name))</th>" }
        if task.truth != nil { page += "<th>same errors</th>" }
        page += "<th>vs table</th><th class=l>verdict</th></tr>\n"
        for i in byBits {
            let e = b.surrogates[i]
            page += "<tr><td class=l>\(e.surrogate.family.rawValue)\(b.paretoFront.contains(i) ? " ★" : "")</td>"
            page += "<td>\(Int(e.surrogate.modelBits.rounded()))</td><td>\(Int(e.surrogate.totalBits.rounded()))</td>"
            page += "<td>\(Int(e.totalBits.rounded()))</td>"
            for r in b.regionSizes {
                if let f = e.fidelity(r.name) {
                    page += "<td title=\"95% Wilson interval \(percent(f.agreement.lower)) – \(percent(f.agreement.upper))\">"
                    page += "\(percent(f.agreement.proportion))</td>"
                } else {
                    page += "<td>–</td>"
                }
            }
            if task.truth != nil { page += "<td>\(escape(sameErrors(i)))</td>" }
            page += String(format: "<td>%.4f</td>", e.compression)
            page += "<td class=l>\(escape(verdict(i).words))\(e.character.map { " (\(escape($0)))" } ?? "")</td></tr>\n"
        }
        page += "</table>\n<p>★ on the Pareto front: no other surrogate has both fewer total bits on the domain (model + the domain's exceptions) "
        page += "and a higher fidelity. Hover an agreement for its 95% Wilson interval (formats/report.md).</p>\n"

        page += "<h2>Fidelity by region</h2>\n<figure>\(SVGFigures.fidelityByRegion(self))"
        page +=
            "<figcaption>Dots: agreement with the network; whiskers: 95% Wilson intervals; dashed: the behaviour threshold.</figcaption></figure>\n"
        page += "<h2>Fidelity against description length</h2>\n<figure>\(SVGFigures.paretoFront(self))"
        page +=
            "<figcaption>Fidelity is the verdict’s measure (\(escape(b.surrogates.first?.verdictBasis ?? ""))); green: the Pareto front.</figcaption></figure>\n"

        let maps = byBits.compactMap { SVGFigures.disagreementMap(self, $0, side: 280) }
        if !maps.isEmpty {
            let errors = SVGFigures.networkErrorMap(self, side: 280)
            page += "<h2>Where the network is wrong, and where each surrogate disagrees with it</h2>\n"
            page += "<p>Each map is the input grid: \(escape(task.variables[0].name)) down, \(escape(task.variables[1].name)) across. "
            page += "\(errors == nil ? "" : "The first shows the network’s own mistakes; the others, ")"
            page += "\(errors == nil ? "Each" : "each")"
            page += " shows the inputs where a surrogate’s output differs from the network’s.</p>\n<p class=key>"
            // A key entry for every colour the maps use, and only those.
            let drawn = ([errors].compactMap { $0 } + maps).joined()
            for (colour, words) in SVGFigures.mapColours where colour == "#e6f0e6" || drawn.contains("fill=\"\(colour)\"") {
                let meaning = colour == "#d62728" && task.truth == nil ? "the surrogate differs" : words
                page += "<span data-legend=\"\(escape(meaning))\" style=\"background:\(colour)\"></span>\(escape(meaning))"
            }
            page += "</p>\n<div class=maps>"
            if let errors { page += "<figure>\(errors)</figure>" }
            for map in maps { page += "<figure>\(map)</figure>" }
            page += "</div>\n"
        }

        page += promptRepresentationHTML
        if !representation.isEmpty {
            let t = RepresentationThresholds.standard
            page += "<h2>Representation</h2>\n<p>Interchange interventions on held-out base/source pairs of the probe inputs: "
            page += "the network is run on the base with the aligned activations patched from the source, and counts as right "
            page += "when it gives the surrogate's counterfactual output. The same search runs on a randomly initialised copy "
            page += "of the network (the control). A variable is supported at \(escape(t.summary)) (formats/report.md).</p>\n"
            if let options = representationOptions { page += "<p>Searched: \(escape(options.summary)).</p>\n" }
            for i in byBits {
                guard let result = representation[i] else { continue }
                let family = behaviour.surrogates[i].surrogate.family.rawValue
                page += "<h3>\(family): \(result.verdict.supported ? "supported" : "not supported")"
                page += "\(result.verdict.scope.map { " " + escape($0) } ?? "")</h3>\n"
                if let figure = SVGFigures.representation(self, i) { page += "<figure>\(figure)</figure>\n" }
                page += "<table><tr><th class=l>variable</th><th class=l>alignment</th><th>params</th><th>IIA</th>"
                page += "<th>ignoring the patch</th><th>IIA where it changes</th><th>control IIA there</th><th>chance</th>"
                page += "<th>recovered</th><th>excluded acc.</th>"
                page += "<th>specificity vs random</th><th class=l>verdict</th></tr>"
                for (k, v) in result.network.variables.enumerated() {
                    let judged = result.verdict.variables[k]
                    let h = v.best.heldOut
                    page +=
                        "<tr><td class=l>\(escape(v.variable.name))\(v.indistinguishableFromOutput && !v.variable.isOutput ? " (= output)" : "")</td>"
                        + "<td class=l>\(escape(describe(v.best.alignment)))</td>"
                    page += "<td>\(v.best.alignment.parameterCount)</td>"
                    page += String(format: "<td>%.3f [%.3f, %.3f]</td>", h.overall.proportion, h.overall.lower, h.overall.upper)
                    page += String(format: "<td>%.3f</td>", v.ignoringScore)
                    page +=
                        h.changed.trials == 0
                        ? "<td>–</td>" : String(format: "<td>%.3f (%d)</td>", h.changed.proportion, h.changed.trials)
                    page += judged.controlIIA.map { String(format: "<td>%.3f</td>", $0) } ?? "<td>–</td>"
                    page += String(format: "<td>%.3f</td>", v.chance)
                    page +=
                        v.evaluation.replacement?.recoveredFraction.map { String(format: "<td>%.2f</td>", $0) } ?? "<td>–</td>"
                    page += v.evaluation.replacement.map { String(format: "<td>%.3f</td>", $0.excludedAccuracy) } ?? "<td>–</td>"
                    page += v.evaluation.specificity.difference.map { String(format: "<td>%+.3f</td>", $0) } ?? "<td>–</td>"
                    page +=
                        "<td class=l>\(judged.supported ? "supported" : escape(judged.reasons.joined(separator: "; ")))</td></tr>"
                }
                page += "</table>\n"
                let maps = result.network.variables.indices.compactMap { SVGFigures.localisation(self, i, $0) }
                if !maps.isEmpty {
                    page += "<p>Localisation: each candidate site interchanged whole; darker = higher IIA where the "
                    page += "variable changes the output; outlined = searched.</p>\n"
                    for map in maps { page += "<figure>\(map)</figure>\n" }
                }
                if result.network.untested > 0 && result.network.named {
                    page += "<p>Only the variables named by --variables were tested; the verdict is about them.</p>\n"
                } else if result.network.untested > 0 {
                    page += "<p>\(result.network.untested) more variables were not tested (--max-variables), so the "
                    page += "surrogate as a whole is not supported.</p>\n"
                }
            }
        }
        let skipped = byBits.filter { representationSkipped[$0] != nil && behaviour.surrogates[$0].verdict != .notEvenBehaviour }
        if !skipped.isEmpty {
            page +=
                "<p>"
                + skipped.map {
                    "\(behaviour.surrogates[$0].surrogate.family.rawValue): \(escape(representationSkipped[$0]!))"
                }.joined(separator: "<br>") + "</p>\n"
        }

        page += "<h2>Each surrogate</h2>\n"
        for i in byBits {
            let e = b.surrogates[i]
            page += "<h3>\(e.surrogate.family.rawValue)</h3>\n<p>Verdict: <b>\(escape(verdict(i).words))</b>"
            page += "\(e.character.map { " — \(escape($0))" } ?? ""); \(escape(e.verdictBasis)) = \(percent(e.verdictValue)). "
            page += String(format: "Compression %.4f ", e.compression)
            page += "(\(e.compressionExceptions) exceptions, \(escape(e.compressionBasis))); "
            page += "\(Int(e.bitsSaved.rounded(.down))) bits saved over the lookup table (p ≤ 2^−\(max(0, Int(e.bitsSaved.rounded(.down))))).</p>\n"
            page += surrogateText(e.surrogate, task: task)
            var errorRows = ""
            for f in e.regions {
                guard let ea = f.errorAgreement, ea.networkWrong > 0 else { continue }
                errorRows += "<tr><td class=l>\(escape(f.region))</td><td>\(ea.networkWrong)</td><td>\(ea.sameMistake.successes) "
                errorRows +=
                    "(\(percent(ea.sameMistake.proportion)), \(percent(ea.sameMistake.lower)) – \(percent(ea.sameMistake.upper)))</td>"
                errorRows += "<td>\(ea.surrogateRight)</td></tr>"
            }
            if !errorRows.isEmpty {
                page += "<table><tr><th class=l>region</th><th>network wrong</th><th>surrogate makes the same mistake</th>"
                page += "<th>surrogate right</th></tr>\(errorRows)</table>\n"
            }
            if case .program(let program) = e.surrogate.model, !program.exceptions.isEmpty {
                page += "<details><summary>the program's \(program.exceptions.count) exceptions</summary><table><tr>"
                for v in task.variables { page += "<th>\(escape(v.name))</th>" }
                page += "<th>output</th><th>expression</th>\(task.truth == nil ? "" : "<th>truth</th>")</tr>"
                for x in program.exceptions {
                    page += "<tr>" + x.input.map { "<td>\($0)</td>" }.joined()
                    page += "<td>\(x.output)</td><td>\(program.expression.evaluate(x.input))</td>"
                    if let truth = task.truth { page += "<td>\(truth.evaluate(x.input))</td>" }
                    page += "</tr>"
                }
                page += "</table></details>\n"
            }
            if !e.disagreements.isEmpty {
                let shown = e.disagreements.prefix(200)
                let total = e.disagreementIndices?.count ?? e.disagreements.count
                page += "<details><summary>\(total) disagreements"
                page += shown.count < total ? " (first \(shown.count) listed)" : ""
                page += "</summary><table><tr>"
                for v in task.variables { page += "<th>\(escape(v.name))</th>" }
                page += "<th>network</th><th>surrogate</th>\(task.truth == nil ? "" : "<th>truth</th>")</tr>"
                for d in shown {
                    page += "<tr>" + d.input.map { "<td>\($0)</td>" }.joined() + "<td>\(d.network)</td><td>\(d.surrogate)</td>"
                    if let t = d.truth { page += "<td>\(t)</td>" }
                    page += "</tr>"
                }
                page += "</table></details>\n"
            }
        }
        if !b.notes.isEmpty {
            page += "<h2>Notes</h2>\n<ul>" + b.notes.map { "<li>\(escape($0))</li>" }.joined() + "</ul>\n"
        }
        page +=
            "<p><small>Written by Retort. The numbers are also in report.json (formats/report.md).</small></p>\n</body></html>\n"
        return page
    }
}

extension FidelityReport {
    /// Surrogate texts longer than this many lines are collapsed under their first line.
    static let collapsedTextLines = 12

    /// Surrogate `i`'s error agreement as the summary prints it: the network's mistakes it makes too, of all the
    /// network's mistakes, on the domain (else the last region evaluated); "-" when the network makes none.
    func sameErrors(_ i: Int) -> String {
        let e = behaviour.surrogates[i]
        guard let errors = e.fidelity("domain")?.errorAgreement ?? e.regions.last?.errorAgreement, errors.networkWrong > 0
        else { return "-" }
        return "\(errors.sameMistake.successes)/\(errors.networkWrong)"
    }

    /// The box that says what the columns and verdicts mean, before the first table.
    var howToRead: String {
        let threshold = Int((BehaviourThresholds.agreement * 100).rounded())
        let bits = Int(BehaviourThresholds.algorithmBitsSaved)
        var box = "<aside class=howto id=how-to-read><h2>How to read this report</h2><dl>\n"
        box += "<dt>agreement (one column per region)</dt><dd>the share of the region’s inputs where the surrogate gives "
        box += "the network’s output — the network’s, not the right answer: a surrogate is judged on how faithfully it "
        box += "copies the network, mistakes included.</dd>\n"
        if behaviour.task.truth != nil {
            box += "<dt>same errors</dt><dd>of the inputs where the network is wrong (it differs from the task’s truth), "
            box += "how many the surrogate gets wrong in the same way, as k/n over the whole domain. A faithful surrogate "
            box += "repeats the network’s mistakes; one that gives the right answer there describes the task, not the network.</dd>\n"
        }
        box += "<dt>vs table</dt><dd>the surrogate’s bits plus the bits to list every input where it differs from the "
        box += "network, divided by the bits of a lookup table of the whole domain: below 1 it is shorter than listing "
        box += "the answers, and the smaller, the more it explains.</dd>\n"
        box += "<dt>verdict</dt><dd><b>not even behaviour</b>: fidelity below \(threshold)% — the surrogate does not "
        box += "reproduce what the network does, so it says nothing about it. <b>interpretation only</b>: fidelity at "
        box += "least \(threshold)% — a valid reading of the network’s behaviour, with no evidence yet that the network "
        box += "computes it that way. <b>representation supported</b>: also every intermediate variable of the surrogate "
        box += "is found in the network’s activations by interchange interventions, well above a randomly initialised "
        box += "copy (<code>--representation</code>). Fidelity is the agreement on the whole domain when it was run "
        box += "whole, else the lower end of its 95% interval on the held-out inputs (else the untrained ones, else the probes). In brackets, for a faithful "
        box += "surrogate: <i>algorithm</i> when it saves at least \(bits) bits over the lookup table (a table-like "
        box += "function is compressed that far with probability at most 2<sup>−\(bits)</sup>), <i>lookup table and "
        box += "special cases</i> when it saves fewer, <i>too small to tell</i> when the whole table has fewer than "
        box += "\(bits) bits.</dd>\n</dl></aside>\n"
        return box
    }

    /// A surrogate's text: in full when short, else collapsed under its first line with the line count.
    func surrogateText(_ surrogate: FittedSurrogate, task: TaskDescription) -> String {
        let text = surrogate.text(task: task)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > Self.collapsedTextLines else { return "<pre>\(escape(text))</pre>\n" }
        let body = lines.dropFirst().joined(separator: "\n")
        return "<details class=surrogate-text><summary>\(escape(String(lines[0]))) — \(lines.count - 2) lines; "
            + "click to show</summary><pre>\(escape(body))</pre></details>\n"
    }

    /// `path` in `<code>`, tidied for reading (`displayPath`), the path as given in its tooltip.
    func pathCode(_ path: String) -> String {
        let shown = displayPath(path)
        return shown == path ? "<code>\(escape(path))</code>" : "<code title=\"\(escape(path))\">\(escape(shown))</code>"
    }
}

/// `path` as a reader wants it in a header: relative to the current directory when inside it, else at most its
/// last two components after "…/"; relative paths and presets are kept as given.
func displayPath(_ path: String, currentDirectory: String = FileManager.default.currentDirectoryPath) -> String {
    guard path.hasPrefix("/") else { return path }
    let base = currentDirectory.hasSuffix("/") ? currentDirectory : currentDirectory + "/"
    if path.hasPrefix(base), path.count > base.count { return String(path.dropFirst(base.count)) }
    let parts = path.split(separator: "/")
    guard parts.count > 2 else { return path }
    return "…/" + parts.suffix(2).joined(separator: "/")
}

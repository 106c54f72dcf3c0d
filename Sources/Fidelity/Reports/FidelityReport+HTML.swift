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
            figure{margin:1em 0}figcaption{font-size:90%;color:#555}
            </style></head><body>
            <h1>Fidelity report: \(escape(task.name))</h1>

            """
        page +=
            "<p>Model <code>\(escape(model))</code>, network <code>\(escape(network))</code>, task <code>\(escape(taskPath))</code>. "
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

        page += "<h2>Surrogates</h2>\n<table><tr><th class=l>family</th><th>model bits</th><th>total bits</th>"
        for r in b.regionSizes { page += "<th>\(escape(r.name))</th>" }
        page += "<th>vs table</th><th class=l>verdict</th></tr>\n"
        for i in byBits {
            let e = b.surrogates[i]
            page += "<tr><td class=l>\(e.surrogate.family.rawValue)\(b.paretoFront.contains(i) ? " ★" : "")</td>"
            page += "<td>\(Int(e.surrogate.modelBits.rounded()))</td><td>\(Int(e.surrogate.totalBits.rounded()))</td>"
            for r in b.regionSizes {
                if let f = e.fidelity(r.name) {
                    page += "<td title=\"95% Wilson interval \(percent(f.agreement.lower)) – \(percent(f.agreement.upper))\">"
                    page += "\(percent(f.agreement.proportion))</td>"
                } else {
                    page += "<td>–</td>"
                }
            }
            page += String(format: "<td>%.4f</td>", e.compression)
            page += "<td class=l>\(escape(verdict(i).words))\(e.character.map { " (\(escape($0)))" } ?? "")</td></tr>\n"
        }
        page += "</table>\n<p>★ on the Pareto front of total bits (model + exceptions) against fidelity. Agreement is the share of a region's inputs "
        page += "where the surrogate gives the network's output; hover a cell for its 95% Wilson interval. "
        page += "“vs table”: bits of the surrogate and its exceptions over the whole domain, divided by a lookup table’s bits. "
        page += "Verdict thresholds: behaviour at agreement ≥ \(BehaviourThresholds.agreement); “algorithm” when it saves at "
        page += "least \(Int(BehaviourThresholds.algorithmBitsSaved)) bits over the table (no-hypercompression: p ≤ 2^−"
        page += "\(Int(BehaviourThresholds.algorithmBitsSaved))) (formats/report.md).</p>\n"

        page += "<h2>Fidelity by region</h2>\n<figure>\(SVGFigures.fidelityByRegion(self))"
        page +=
            "<figcaption>Dots: agreement with the network; whiskers: 95% Wilson intervals; dashed: the behaviour threshold.</figcaption></figure>\n"
        page += "<h2>Fidelity against description length</h2>\n<figure>\(SVGFigures.paretoFront(self))"
        page +=
            "<figcaption>Fidelity is the verdict’s measure (\(escape(b.surrogates.first?.verdictBasis ?? ""))); green: the Pareto front.</figcaption></figure>\n"

        let maps = byBits.compactMap { SVGFigures.disagreementMap(self, $0, side: 280) }
        if !maps.isEmpty {
            page += "<h2>Where surrogates and the network disagree</h2>\n<p class=key>"
            page += "<span style=\"background:#e6f0e6\"></span>agree<span style=\"background:#d62728\"></span>surrogate differs"
            if task.truth != nil {
                page += "<span style=\"background:#ff7f0e\"></span>surrogate differs where the network is wrong"
            }
            if b.surrogates.contains(where: { !($0.exceptionIndices ?? []).isEmpty }) {
                page += "<span style=\"background:#1f77b4\"></span>an exception the program lists"
            }
            page += "</p>\n<div class=maps>"
            if let errors = SVGFigures.networkErrorMap(self, side: 280) { page += "<figure>\(errors)</figure>" }
            for map in maps { page += "<figure>\(map)</figure>" }
            page += "</div>\n"
        }

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
            page += "<pre>\(escape(e.surrogate.text(task: task)))</pre>\n"
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

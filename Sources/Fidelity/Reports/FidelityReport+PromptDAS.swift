import Foundation

extension FidelityReport {
    /// The summary's table of DAS subspaces at a prompt study's best sites, beside the class-mean and random ones
    /// of the same dimension; empty when no site has one.
    func promptDASSummary(_ r: PromptRepresentationResult) -> [String] {
        var rows = [["VARIABLE", "SITE", "k", "DAS IIA", "DAS CHANGED", "CONTROL", "CLASS-MEAN CHANGED", "RANDOM CHANGED", "PAIRS", "STEPS", "SECONDS"]]
        for v in r.variables {
            for t in v.top {
                for p in t.das {
                    let classMean = t.subspaces.first { $0.dimension == p.dimension }
                    rows.append([
                        String(v.variable.name.prefix(20)), siteText(t.site, r), "\(p.dimension)",
                        String(format: "%.3f", p.accuracy.overall.proportion), dasChangedText(p.accuracy),
                        p.controlAccuracy.map(dasChangedText) ?? "-", classMean.map { dasChangedText($0.accuracy) } ?? "-", classMean.map { dasChangedText($0.randomAccuracy) } ?? "-",
                        "\(p.trainingPairs)", "\(p.steps)", String(format: "%.1f", p.seconds),
                    ])
                }
            }
        }
        guard rows.count > 1 else { return [] }
        return ["DAS subspaces (trained through the model on the first answer token; held-out pairs, patched generation):"]
            + table(rows)
    }

    /// The HTML table of DAS subspaces of one prompt study, or "" when there are none.
    func promptDASHTML(_ r: PromptRepresentationResult) -> String {
        var body = ""
        for v in r.variables {
            for t in v.top {
                for p in t.das {
                    let classMean = t.subspaces.first { $0.dimension == p.dimension }
                    body += "<tr><td class=l>\(escape(v.variable.name))</td><td class=l>\(escape(siteText(t.site, r)))</td>"
                    body += String(
                        format: "<td>%d</td><td>%.3f</td><td>%@</td><td>%@</td><td>%@</td><td>%@</td><td>%d</td><td>%d</td><td>%.1f</td></tr>",
                        p.dimension, p.accuracy.overall.proportion, dasChangedText(p.accuracy), p.controlAccuracy.map(dasChangedText) ?? "–",
                        classMean.map { dasChangedText($0.accuracy) } ?? "–", classMean.map { dasChangedText($0.randomAccuracy) } ?? "–",
                        p.trainingPairs, p.steps, p.seconds)
                }
            }
        }
        guard !body.isEmpty else { return "" }
        var page = "<p>Distributed alignment search (DAS): at the same sites, a subspace of each dimension trained by gradient "
        page += "descent through the language model (reverse mode from the site to the logits) on the cross-entropy of the "
        page += "counterfactual answer's first token at the prompt's last position, with early stopping on a validation "
        page += "share of the fitting pairs; scored on the held-out pairs by patched generation and the task's decoder, "
        page += "beside the class-mean (not DAS) and random subspaces of the same dimension.</p>\n"
        page += "<table><tr><th class=l>variable</th><th class=l>site</th><th>k</th><th>DAS IIA</th><th>where it changes</th>"
        page += "<th>control there</th><th>class-mean there</th><th>random there</th><th>training pairs</th><th>steps</th><th>seconds</th></tr>"
        return page + body + "</table>\n"
    }

    private func dasChangedText(_ a: InterchangeAccuracy) -> String {
        a.changed.trials == 0 ? "-" : String(format: "%.3f (%d)", a.changed.proportion, a.changed.trials)
    }
}

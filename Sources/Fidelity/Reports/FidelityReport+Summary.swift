import Distillation
import Foundation

extension FidelityReport {
    /// The terminal summary: one row per surrogate (fewest bits first) with its agreement per region, error
    /// agreement, compression and verdict, then the best surrogate in full and the notes.
    /// - Complexity: O(surrogates × regions)
    public var summary: String {
        let b = behaviour
        let task = b.task
        var lines: [String] = []
        var head = "task: \(task.name); domain \(task.domainSize) inputs, \(task.outputValues.count) outputs"
        if let truth = task.truth { head += "; truth: \(truth.text(variables: task.variables.map(\.name)))" }
        lines.append(head)
        lines.append("regions: " + b.regionSizes.map { "\($0.name) \($0.count)" }.joined(separator: ", "))
        if !b.networkAccuracy.isEmpty {
            lines.append(
                "network accuracy: "
                    + b.networkAccuracy.map { "\($0.region) \(percent($0.accuracy.proportion))" }.joined(separator: ", "))
        }
        lines.append("")
        let regions = b.regionSizes.map(\.name)
        var header = ["FAMILY", "BITS", "MODEL"] + regions.map { $0.uppercased() }
        if task.truth != nil { header.append("SAME ERRORS") }
        header += ["VS TABLE", "VERDICT"]
        var rows = [header]
        for i in byBits {
            let e = b.surrogates[i]
            var row = [
                e.surrogate.family.rawValue + (b.paretoFront.contains(i) ? "*" : ""),
                String(Int(e.surrogate.totalBits.rounded())), String(Int(e.surrogate.modelBits.rounded())),
            ]
            row += regions.map { name in e.fidelity(name).map { percent($0.agreement.proportion) } ?? "-" }
            if task.truth != nil { row.append(sameErrors(i)) }
            row.append(String(format: "%.3f", e.compression))
            let scope = verdict(i) == .representationSupported ? (representation[i]?.verdict ?? promptRepresentation[i]?.verdict)?.scope.map { " " + $0 } ?? "" : ""
            row.append(verdict(i).words + scope + (e.character.map { " (\($0))" } ?? ""))
            rows.append(row)
        }
        lines += table(rows)
        lines.append(legend)
        if let best {
            let e = b.surrogates[best]
            lines.append("")
            lines.append("best: " + e.surrogate.text(task: task).trimmingCharacters(in: .whitespacesAndNewlines))
            lines.append("verdict: \(verdict(best).words) — \(e.verdictBasis) = \(percent(e.verdictValue))")
            if let wrong = e.disagreementsWhereNetworkWrong {
                let total = e.disagreementIndices?.count ?? e.disagreements.count
                lines.append(
                    "disagreements where the network is wrong (the surrogate gives the truth or another answer): \(wrong) of \(total)"
                )
            }
            let compressionText = String(format: "%.4f", e.compression)
            lines.append(
                "compression against a lookup table: \(compressionText) (\(e.compressionExceptions) exceptions, \(e.compressionBasis))"
            )
            lines.append(
                "bits saved over the table: \(Int(e.bitsSaved.rounded(.down))) (no-hypercompression: p ≤ "
                    + (e.bitsSaved > 30 ? "2^−\(Int(e.bitsSaved.rounded(.down)))" : String(format: "%.2g", e.pValue))
                    + "; “algorithm” needs \(Int(BehaviourThresholds.algorithmBitsSaved)))")
        }
        lines += representationSummary
        lines += promptRepresentationSummary
        for note in b.notes { lines.append("note: \(note)") }
        if let seconds { lines.append(String(format: "took %.1f s", seconds)) }
        return lines.joined(separator: "\n")
    }
}

extension FidelityReport {
    /// One line under the summary's table that says what its columns and verdicts mean (the HTML page's
    /// "how to read this report" box, shortened).
    public var legend: String {
        let threshold = Int((BehaviourThresholds.agreement * 100).rounded())
        var parts = ["* Pareto front (bits against fidelity)", "REGION: agreement with the network"]
        if behaviour.task.truth != nil { parts.append("SAME ERRORS: network mistakes repeated") }
        parts += [
            "VS TABLE: bits ÷ a lookup table's", "behaviour: ≥\(threshold)% fidelity",
            "algorithm: ≥\(Int(BehaviourThresholds.algorithmBitsSaved)) bits saved",
        ]
        if !representation.isEmpty { parts.append("representation: every variable found in the network") }
        return parts.joined(separator: " · ")
    }
}

func percent(_ value: Double) -> String { String(format: "%.2f%%", value * 100) }

/// Left-aligned columns two spaces apart.
func table(_ rows: [[String]]) -> [String] {
    let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max()! }
    return rows.map { row in
        row.enumerated().map { c, cell in
            c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
        }
        .joined(separator: "  ")
    }
}

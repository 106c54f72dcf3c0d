import ArgumentParser
import WeightFiles

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a weight file completely, or compare it with another bit for bit.",
        discussion: """
            Without --against: validates the structure and reads every byte, reporting NaN and \
            infinite values per float tensor. With --against: compares the two files tensor by \
            tensor (any formats) and reports the first differing element of each tensor that differs. \
            Exits 1 when a check fails or the files differ.
            """)

    @Argument(help: "The weight file to check.")
    var file: String

    @Option(help: "A second weight file to compare with, tensor by tensor.")
    var against: String?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let weights = try reportingErrors(path: file) { () throws(WeightFileError) in try WeightFiles.open(file) }
        if let against {
            let other = try reportingErrors(path: against) { () throws(WeightFileError) in try WeightFiles.open(against) }
            let bar = ProgressBar(label: "comparing", totalBytes: weights.totalByteCount)
            let report = try reportingErrors(path: file) { () throws(WeightFileError) in
                try Comparison.compare(weights, other, progress: bar.update)
            }
            bar.finish()
            emit(json ? comparisonJSON(report) : comparisonText(report, other: against))
            if !report.tensorsIdentical { throw ExitCode.failure }
            return
        }
        if let stz = weights as? STZFile {
            let bar = ProgressBar(label: "checking chunks", totalBytes: weights.totalByteCount)
            try reportingErrors(path: file) { () throws(WeightFileError) in try stz.verifyIntegrity(progress: bar.update) }
            bar.finish()
        }
        let bar = ProgressBar(label: "verifying", totalBytes: weights.totalByteCount)
        let report = try reportingErrors(path: file) { () throws(WeightFileError) in
            try Verifier.verify(weights, progress: bar.update)
        }
        bar.finish()
        emit(json ? verifyJSON(report) : verifyText(report))
        if !report.problems.isEmpty {
            // The report on stdout says it too, but a failed check must say why where errors go.
            for problem in report.problems { printError("\(file): \(problem)") }
            throw ExitCode.failure
        }
    }

    private func verifyText(_ report: Verifier.Report) -> String {
        let nan = report.tensors.reduce(0) { $0 + $1.nanCount }
        let inf = report.tensors.reduce(0) { $0 + $1.infinityCount }
        var lines = [
            "\(report.problems.isEmpty ? "ok" : "FAILED"): \(file) (\(report.format.rawValue)): \(report.tensors.count) tensors, \(report.totalBytes) bytes read, \(nan) NaN, \(inf) infinite"
        ]
        for t in report.tensors where t.nanCount > 0 || t.infinityCount > 0 {
            lines.append("  \(t.name): \(t.nanCount) NaN, \(t.infinityCount) infinite")
        }
        lines.append(contentsOf: report.problems.map { "  problem: \($0)" })
        return lines.joined(separator: "\n")
    }

    private func verifyJSON(_ report: Verifier.Report) -> String {
        let tensors = report.tensors.map { t in
            "{\"name\":\(JSONWriter.quoted(t.name)),\"dtype\":\"\(t.dtype)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"bytes\":\(t.byteCount),\"nan\":\(t.nanCount),\"infinite\":\(t.infinityCount),\"invalid_bool\":\(t.invalidBoolCount)}"
        }
        let problems = report.problems.map(JSONWriter.quoted).joined(separator: ",")
        return
            "{\"file\":\(JSONWriter.quoted(file)),\"format\":\"\(report.format.rawValue)\",\"ok\":\(report.problems.isEmpty),\"bytes\":\(report.totalBytes),\"problems\":[\(problems)],\"tensors\":[\(tensors.joined(separator: ","))]}"
    }

    private func describe(_ difference: Comparison.Difference) -> String {
        switch difference {
        case .dtype(let a, let b): "dtype \(a) vs \(b)"
        case .shape(let a, let b): "shape \(a) vs \(b)"
        case .values(let flat, let index, let first, let second, let count):
            "first difference at \(index) (element \(flat)): \(first) vs \(second); \(count) element\(count == 1 ? "" : "s") differ"
        }
    }

    private func comparisonText(_ report: Comparison.Report, other: String) -> String {
        var lines = [
            "\(report.tensorsIdentical ? "identical" : "DIFFERENT"): \(file) vs \(other): \(report.identical.count) tensors identical, \(report.mismatches.count) differ, \(report.onlyInFirst.count) only in the first, \(report.onlyInSecond.count) only in the second"
        ]
        for m in report.mismatches { lines.append("  \(m.name): \(describe(m.difference))") }
        for name in report.onlyInFirst { lines.append("  \(name): only in \(file)") }
        for name in report.onlyInSecond { lines.append("  \(name): only in \(other)") }
        if report.metadataDiffers { lines.append("  note: the metadata differs") }
        return lines.joined(separator: "\n")
    }

    private func comparisonJSON(_ report: Comparison.Report) -> String {
        let mismatches = report.mismatches.map {
            "{\"name\":\(JSONWriter.quoted($0.name)),\"difference\":\(JSONWriter.quoted(describe($0.difference)))}"
        }
        func list(_ names: [String]) -> String { "[" + names.map(JSONWriter.quoted).joined(separator: ",") + "]" }
        return
            "{\"identical\":\(report.tensorsIdentical),\"identical_tensors\":\(report.identical.count),\"mismatches\":[\(mismatches.joined(separator: ","))],\"only_in_first\":\(list(report.onlyInFirst)),\"only_in_second\":\(list(report.onlyInSecond)),\"metadata_differs\":\(report.metadataDiffers)}"
    }
}

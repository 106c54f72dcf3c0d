import Distillation
import Foundation
import Network
import WeightFiles

extension FidelityReport {
    /// Runs the representation tests (formats/report.md, "Representation tests") for every surrogate whose behavioural verdict is
    /// interpretation only, on `network` and on its random-init `control`, over `inputs` (the probe region).
    /// Surrogates that are not even behaviour, or whose tests cannot run (a lookup table has no intermediate
    /// variables; features read hidden units), get a reason in `representationSkipped` instead.
    /// - Complexity: see `RepresentationTests.run`, once per eligible surrogate.
    public mutating func runRepresentationTests(
        network: any NeuralNetwork, control: (any NeuralNetwork)?, inputs: Region, options: RepresentationOptions,
        progress: (_ message: String, _ done: Int, _ total: Int) -> Void = { _, _, _ in }
    ) {
        representationOptions = options
        // The work is one alignment search per (surrogate, variable, site, network): counted up front for the bar.
        let sites =
            options.sites?.count
            ?? ((try? RepresentationTests.defaultSites(
                network, task: behaviour.task, positions: options.positions
            ).count) ?? 1)
        var planned: [Int: Int] = [:]
        for (i, e) in behaviour.surrogates.enumerated() where e.verdict == .interpretationOnly {
            let variables = (try? SurrogateCausalModel(surrogate: e.surrogate, task: behaviour.task).variables.count) ?? 0
            let tested = min(variables, options.variables?.count ?? options.maxVariables ?? variables)
            planned[i] = tested * sites * (control == nil ? 1 : 2)
        }
        let total = max(1, planned.values.reduce(0, +))
        var done = 0
        for (i, e) in behaviour.surrogates.enumerated() {
            guard e.verdict == .interpretationOnly else {
                representationSkipped[i] = "not run: the surrogate does not reproduce the network's behaviour"
                continue
            }
            let start = done
            do {
                representation[i] = try RepresentationTests.run(
                    network: network, control: control, surrogate: e.surrogate, task: behaviour.task, inputs: inputs,
                    options: options
                ) { message in
                    // Each searched site reports one indented line.
                    if message.hasPrefix("  ") { done = min(done + 1, start + (planned[i] ?? 0)) }
                    progress("\(e.surrogate.family.rawValue): \(message.trimmingCharacters(in: .whitespaces))", done, total)
                }
            } catch {
                representationSkipped[i] = "not run: \(error)"
            }
            done = start + (planned[i] ?? 0)
            progress(e.surrogate.family.rawValue, done, total)
        }
    }

    /// The summary's representation section: per surrogate tested, one line per variable.
    var representationSummary: [String] {
        guard !representation.isEmpty || !representationSkipped.isEmpty else { return [] }
        var lines = ["", "representation (interchange interventions; held-out pairs; control = random-init copy):"]
        var rows = [
            [
                "SURROGATE", "VARIABLE", "ALIGNMENT", "IIA", "IGNORE", "IIA CHANGED", "CONTROL", "RECOVERED", "SPECIFICITY",
                "SUPPORTED",
            ]
        ]
        for i in byBits {
            let family = behaviour.surrogates[i].surrogate.family.rawValue
            guard let result = representation[i] else { continue }
            for (k, v) in result.network.variables.enumerated() {
                let judged = result.verdict.variables[k]
                let name = String(v.variable.name.prefix(28)) + (v.indistinguishableFromOutput && !v.variable.isOutput ? " (= output)" : "")
                rows.append([
                    family, name, describe(v.best.alignment),
                    String(format: "%.3f", v.best.heldOut.overall.proportion),
                    String(format: "%.3f", v.ignoringScore),
                    v.best.heldOut.changed.trials == 0 ? "-" : String(format: "%.3f", v.best.heldOut.changed.proportion),
                    judged.controlIIA.map { String(format: "%.3f", $0) } ?? "-",
                    v.evaluation.replacement?.recoveredFraction.map { String(format: "%.2f", $0) } ?? "-",
                    v.evaluation.specificity.difference.map { String(format: "%+.2f", $0) } ?? "-",
                    judged.supported ? "yes" : "no",
                ])
            }
            if result.network.variables.isEmpty {
                rows.append([family, "(no intermediate variables)", "", "", "", "", "", "", "no"])
            }
        }
        if rows.count > 1 { lines += table(rows) }
        for i in byBits {
            if let network = representation[i]?.network, network.named, network.untested > 0 {
                lines.append(
                    "\(behaviour.surrogates[i].surrogate.family.rawValue): the verdict is about the variables named "
                        + "(--variables); \(network.untested) other\(network.untested == 1 ? "" : "s") not tested")
            } else if let untested = representation[i]?.network.untested, untested > 0 {
                lines.append(
                    "\(behaviour.surrogates[i].surrogate.family.rawValue): \(untested) more variables not tested "
                        + "(--max-variables), so not supported as a whole")
            }
            if let reason = representationSkipped[i], behaviour.surrogates[i].verdict != .notEvenBehaviour {
                lines.append("\(behaviour.surrogates[i].surrogate.family.rawValue): \(reason)")
            }
        }
        for i in byBits {
            guard let result = representation[i] else { continue }
            for v in result.network.variables where v.localisation.count > 1 {
                let top = v.localisation.sorted { $0.accuracy.changed.proportion > $1.accuracy.changed.proportion }.prefix(4)
                lines.append(
                    "localisation of \(v.variable.name) (whole site interchanged, IIA where the output changes): "
                        + top.map { "\($0.site.text) \(String(format: "%.3f", $0.accuracy.changed.proportion))\($0.searched ? "" : " (not searched)")" }
                        .joined(separator: ", "))
            }
        }
        if let options = representationOptions { lines.append("searched: " + options.summary) }
        lines.append("supported: " + RepresentationThresholds.standard.summary)
        lines.append(
            "IGNORE = IIA of a network that ignores the intervention; IIA CHANGED and CONTROL = IIA (network, random-init "
                + "control) on the pairs where the variable changes the output")
        lines.append("RECOVERED = (L_ablated − L_replaced)/(L_ablated − L_full); SPECIFICITY = aligned minus random units")
        if representation.values.contains(where: { r in
            r.network.variables.contains { $0.indistinguishableFromOutput && !$0.variable.isOutput }
        }) {
            lines.append(
                "(= output): the variable's counterfactuals equal the output's on every pair; it adds no evidence of its own")
        }
        return lines
    }
}

/// `neuron layers.1.hook_post[0]`, `subspace(2) blocks.0.hook_resid_post@2, 256 params`.
func describe(_ a: Alignment) -> String {
    switch a.map {
    case .neurons(let units):
        let list = units.prefix(4).map(String.init).joined(separator: ",") + (units.count > 4 ? ",…" : "")
        return "\(a.className) \(a.site.text)[\(list)]"
    case .subspace:
        return "subspace(\(a.dimension)) \(a.site.text), \(a.parameterCount) params"
    }
}

extension RepresentationOptions {
    /// One line: what the alignment search tried.
    public var summary: String {
        let dims =
            subspaceDimensions.isEmpty
            ? "no subspaces" : "subspaces of \(subspaceDimensions.map(String.init).joined(separator: ", ")) dimensions"
        return
            "single neurons (top \(maxSingleNeurons) by η²), neuron sets of \(neuronSetSizes.map(String.init).joined(separator: ", ")), "
            + "\(dims) (--subspace-dimensions) at the \(searchSites.map { "best \($0)" } ?? "all") sites of the localisation "
            + "map (--search-sites); \(fittingPairs) fitting and \(heldOutPairs) held-out pairs; seed \(seed)"
    }

    /// The search settings as JSON.
    public var json: String {
        var o = JSONText()
        o.add("fitting_pairs", fittingPairs)
        o.add("held_out_pairs", heldOutPairs)
        o.add("seed", raw: String(seed))
        o.add("max_single_neurons", maxSingleNeurons)
        o.add("neuron_set_sizes", neuronSetSizes)
        o.add("subspace_dimensions", subspaceDimensions)
        o.add("subspace_steps", subspaceSteps)
        o.add("learning_rate", learningRate)
        o.add("random_draws", randomDraws)
        o.add("max_variables", maxVariables)
        o.add("max_inputs", maxInputs)
        o.add("max_evaluation_inputs", maxEvaluationInputs)
        o.add("localisation_pairs", localisationPairs)
        o.add("search_sites", searchSites)
        o.add("only_agreeing_inputs", onlyAgreeingInputs)
        o.add("max_prompt_inputs", maxPromptInputs)
        return o.text
    }
}

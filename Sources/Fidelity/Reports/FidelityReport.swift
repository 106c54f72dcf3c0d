import Distillation
import WeightFiles

/// Everything a fidelity report says (`formats/report.md`): the behavioural evaluation and where it came from.
public struct FidelityReport: Sendable {
    /// The weight file and network description evaluated (as the user named them).
    public var model: String
    public var network: String
    /// The task file.
    public var taskPath: String
    public var behaviour: BehaviourReport
    /// Seconds the whole job took (distillation and evaluation), for the summary.
    public var seconds: Double?
    /// The representation tests by surrogate index (`runRepresentationTests`), and why a surrogate has none.
    public var representation: [Int: RepresentationResult] = [:]
    public var representationSkipped: [Int: String] = [:]
    /// The prompt-task representation tests by surrogate index (`runPromptRepresentationTests`).
    public var promptRepresentation: [Int: PromptRepresentationResult] = [:]
    /// The search the representation tests ran with (`nil` when they were not run).
    public var representationOptions: RepresentationOptions?

    public init(model: String, network: String, taskPath: String, behaviour: BehaviourReport, seconds: Double? = nil) {
        self.model = model
        self.network = network
        self.taskPath = taskPath
        self.behaviour = behaviour
        self.seconds = seconds
    }

    /// Indices of the surrogates in ascending total bits: the order the summary and the HTML list them in.
    public var byBits: [Int] {
        behaviour.surrogates.indices.sorted {
            (behaviour.surrogates[$0].surrogate.totalBits, $0) < (behaviour.surrogates[$1].surrogate.totalBits, $1)
        }
    }

    /// Surrogate `i`'s verdict: its behavioural verdict, raised to representation supported when it is at least
    /// interpretation only and its representation tests (on a network or a prompt task) support every variable
    /// against the control.
    public func verdict(_ i: Int) -> Verdict {
        let behavioural = behaviour.surrogates[i].verdict
        let supported = representation[i]?.verdict.supported ?? promptRepresentation[i]?.verdict.supported ?? false
        guard behavioural == .interpretationOnly, supported else { return behavioural }
        return .representationSupported
    }

    /// The surrogate with the fewest total bits among those whose verdict is at least interpretation only,
    /// else the one with the fewest bits.
    public var best: Int? {
        byBits.first { behaviour.surrogates[$0].verdict != .notEvenBehaviour } ?? byBits.first
    }
}

extension FidelityReport {
    /// The report as JSON (`formats/report.md`).
    /// - Complexity: O(surrogates × (regions + listed disagreements))
    public var json: String {
        let b = behaviour
        let task = b.task
        var out = "{\"retort_report\":1,\"model\":\(JSONWriter.quoted(model)),\"network\":\(JSONWriter.quoted(network)),"
        out += "\"task\":{\"path\":\(JSONWriter.quoted(taskPath)),\"name\":\(JSONWriter.quoted(task.name)),\"variables\":["
        out += task.variables.map { "{\"name\":\(JSONWriter.quoted($0.name)),\"min\":\($0.min),\"max\":\($0.max)}" }
            .joined(separator: ",")
        out += "],\"domain_size\":\(task.domainSize),\"output_count\":\(task.outputValues.count),\"truth\":"
        out += task.truth.map { JSONWriter.quoted($0.text(variables: task.variables.map(\.name))) } ?? "null"
        out += "},\"seconds\":\(JSONText.number(seconds)),\"regions\":["
        out += b.regionSizes.map { "{\"name\":\(JSONWriter.quoted($0.name)),\"inputs\":\($0.count)}" }.joined(separator: ",")
        out += "],\"network_accuracy\":["
        out += b.networkAccuracy.map { "{\"region\":\(JSONWriter.quoted($0.region)),\"accuracy\":\($0.accuracy.json)}" }
            .joined(separator: ",")
        out += "],\"thresholds\":{\"behaviour_agreement\":\(BehaviourThresholds.agreement),"
        out += "\"algorithm_bits_saved\":\(BehaviourThresholds.algorithmBitsSaved)},\"surrogates\":["
        out += b.surrogates.indices.map { surrogateJSON($0, task: task) }.joined(separator: ",")
        out +=
            "],\"pareto_front\":[\(b.paretoFront.map(String.init).joined(separator: ","))],\"best\":\(best.map(String.init) ?? "null"),"
        out += "\"representation_search\":\(representationOptions.map(\.json) ?? "null"),"
        out += "\"notes\":[\(b.notes.map(JSONWriter.quoted).joined(separator: ","))]}\n"
        return out
    }

    private func surrogateJSON(_ i: Int, task: TaskDescription) -> String {
        let e = behaviour.surrogates[i]
        let s = e.surrogate
        var out = "{\"family\":\"\(s.family.rawValue)\",\"text\":\(JSONWriter.quoted(s.text(task: task))),"
        out += "\"features\":[\(s.featureNames.map(JSONWriter.quoted).joined(separator: ","))],"
        out +=
            "\"bits\":{\"model\":\(JSONText.number(s.modelBits)),\"exceptions\":\(JSONText.number(s.exceptionBits)),\"total\":\(JSONText.number(s.totalBits))},"
        out += "\"fit\":{\"probes\":\(s.probeCount),\"exceptions\":\(s.exceptionCount)},\"fidelity\":["
        out += e.regions.map { r in
            var item = "{\"region\":\(JSONWriter.quoted(r.region)),\"agreement\":\(r.agreement.json),"
            item += "\"mse\":\(JSONText.number(r.meanSquaredError)),\"error_agreement\":"
            if let ea = r.errorAgreement {
                item += "{\"network_wrong\":\(ea.networkWrong),\"same_mistake\":\(ea.sameMistake.json),"
                item += "\"surrogate_right\":\(ea.surrogateRight)}"
            } else {
                item += "null"
            }
            return item + "}"
        }.joined(separator: ",")
        out += "],\"compression\":{\"ratio\":\(JSONText.number(e.compression)),\"exceptions\":\(e.compressionExceptions),"
        out += "\"basis\":\(JSONWriter.quoted(e.compressionBasis)),\"total_bits\":\(JSONText.number(e.totalBits)),"
        out += "\"bits_saved\":\(JSONText.number(e.bitsSaved)),\"p_value\":\(JSONText.number(e.pValue))},"
        out += "\"representation\":\(representation[i]?.json ?? "null"),"
        out += "\"prompt_representation\":\(promptRepresentation[i]?.json ?? "null"),"
        out += "\"representation_skipped\":\(representationSkipped[i].map(JSONWriter.quoted) ?? "null"),"
        out += "\"verdict\":{\"verdict\":\"\(verdict(i).rawValue)\",\"behaviour\":\"\(e.verdict.rawValue)\","
        out += "\"value\":\(JSONText.number(e.verdictValue)),"
        out += "\"basis\":\(JSONWriter.quoted(e.verdictBasis)),\"character\":\(e.character.map(JSONWriter.quoted) ?? "null")},"
        out += "\"disagreements\":{\"count\":\(e.disagreementIndices?.count.description ?? "null"),"
        out += "\"where_network_wrong\":\(e.disagreementsWhereNetworkWrong.map(String.init) ?? "null"),\"listed\":["
        out += e.disagreements.map { d in
            "{\"input\":[\(d.input.map(String.init).joined(separator: ","))],\"network\":\(d.network),"
                + "\"surrogate\":\(d.surrogate),\"truth\":\(d.truth.map(String.init) ?? "null")}"
        }.joined(separator: ",")
        return out + "]}}"
    }
}

import Testing
import WeightFiles

@testable import Network

/// y = W₂·relu(W₁x): hidden = relu(x₀, x₁, x₀ + x₁), output = (h₀ + h₁ + h₂, h₂ − h₀).
private func network() throws -> MLPNetwork {
    let file = try makeWeights([
        ("0.weight", [3, 2], [1, 0, 0, 1, 1, 1]),
        ("2.weight", [2, 3], [1, 1, 1, -1, 0, 1]),
    ])
    return try MLPNetwork(file: file, description: MLPDescription())
}

private let base = rows([[1, 2], [3, 4]])

@Test func zeroInterventionZeroesTheSelectedUnits() throws {
    let run = try network().run(
        base, capture: [], interventions: [Intervention(hook: "layers.0.hook_post", units: [2], kind: .zero)])
    // hidden (1, 2, 0) → (3, −1); (3, 4, 0) → (7, −3)
    #expect(run.output.scalars == [3, -1, 7, -3])
}

@Test func setAndAddUseOneValuePerUnit() throws {
    let set = try network().run(
        base, capture: [], interventions: [Intervention(hook: "layers.0.hook_post", units: [0], kind: .set([10]))])
    #expect(set.output.scalars == [15, -7, 21, -3])
    let add = try network().run(
        base, capture: [], interventions: [Intervention(hook: "layers.0.hook_post", units: [0, 1], kind: .add([1, -1]))])
    #expect(add.output.scalars == [6, 1, 14, 3])
}

@Test func setWithTheWrongNumberOfValuesIsRefused() throws {
    let error = networkError {
        _ = try network().run(
            base, capture: [], interventions: [Intervention(hook: "layers.0.hook_post", units: [0, 1], kind: .set([1]))])
    }
    guard case .invalidIntervention(let hook, _) = error else {
        Issue.record("expected invalidIntervention, got \(String(describing: error))")
        return
    }
    #expect(hook == "layers.0.hook_post")
}

@Test func meanInterventionUsesTheMeanOverTheGivenInputs() throws {
    let meanSet = rows([[0, 0], [2, 4]])  // hidden means (1, 2, 3)
    let run = try network().run(
        base, capture: ["layers.0.hook_post"],
        interventions: [Intervention(hook: "layers.0.hook_post", units: [2], kind: .mean(over: meanSet))])
    #expect(run.activations["layers.0.hook_post"]?.scalars == [1, 2, 3, 3, 4, 3])
}

@Test func interchangeTakesEachExampleFromItsSource() throws {
    let source = rows([[100, 200], [-5, 7]])  // hidden (100, 200, 300), (0, 7, 2)
    let run = try network().run(
        base, capture: ["layers.0.hook_post"],
        interventions: [
            Intervention(hook: "layers.0.hook_post", units: [2], kind: .interchange(source: source, sourceIndex: [1, 0]))
        ])
    #expect(run.activations["layers.0.hook_post"]?.scalars == [1, 2, 2, 3, 4, 300])
    #expect(run.output.scalars == [5, 1, 307, 297])
}

@Test func interchangeWithASourceIndexOutOfRangeIsRefused() throws {
    let error = networkError {
        _ = try network().run(
            base, capture: [],
            interventions: [Intervention(hook: "layers.0.hook_post", kind: .interchange(source: base, sourceIndex: [0, 2]))])
    }
    guard case .invalidIntervention(_, let reason) = error else {
        Issue.record("expected invalidIntervention, got \(String(describing: error))")
        return
    }
    #expect(reason.contains("2"))
}

@Test func projectionOntoAndOffSplitTheActivation() throws {
    // Basis (1, 1, 0) (not normalised): onto keeps the mean of units 0 and 1 in both.
    let basis = FloatTensor(shape: [1, 3], scalars: [1, 1, 0])
    let net = try network()
    let onto = try net.run(
        base, capture: ["layers.0.hook_post"],
        interventions: [Intervention(hook: "layers.0.hook_post", kind: .projectOnto(basis: basis))])
    let off = try net.run(
        base, capture: ["layers.0.hook_post"],
        interventions: [Intervention(hook: "layers.0.hook_post", kind: .projectOff(basis: basis))])
    #expect(onto.activations["layers.0.hook_post"]?.scalars == [1.5, 1.5, 0, 3.5, 3.5, 0])
    #expect(off.activations["layers.0.hook_post"]?.scalars == [-0.5, 0.5, 3, -0.5, 0.5, 7])
}

@Test func rankDeficientBasisIsRefused() throws {
    let basis = FloatTensor(shape: [2, 3], scalars: [1, 1, 0, 2, 2, 0])
    let error = networkError {
        _ = try network().run(
            base, capture: [], interventions: [Intervention(hook: "layers.0.hook_post", kind: .projectOnto(basis: basis))])
    }
    guard case .invalidIntervention(_, let reason) = error else {
        Issue.record("expected invalidIntervention, got \(String(describing: error))")
        return
    }
    #expect(reason.contains("rank-deficient"))
}

@Test func interventionsComposeInOneRun() throws {
    let run = try network().run(
        base, capture: [],
        interventions: [
            Intervention(hook: "layers.0.hook_post", units: [0], kind: .zero),
            Intervention(hook: "layers.0.hook_post", units: [0], kind: .add([1])),
            Intervention(hook: "layers.1.hook_pre", units: [1], kind: .set([0])),
        ])
    // hidden (1, 2, 3) → (1, 2, 3): out (6, 0); (0+1, 4, 7) → (12, 0)
    #expect(run.output.scalars == [6, 0, 12, 0])
}

@Test func anInterventionLeavesLaterCleanRunsUnchanged() throws {
    let net = try network()
    let before = try net.run(base).output
    _ = try net.run(base, capture: [], interventions: [Intervention(hook: "layers.0.hook_post", kind: .set([9, 9, 9]))])
    #expect(try net.run(base).output == before)
}

@Test func unknownHookSuggestsCloseNames() throws {
    let error = networkError { _ = try network().run(base, capture: ["layers.0.hook_pots"], interventions: []) }
    guard case .unknownHook(let name, let suggestions) = error else {
        Issue.record("expected unknownHook, got \(String(describing: error))")
        return
    }
    #expect(name == "layers.0.hook_pots" && suggestions.contains("layers.0.hook_post"))
}

@Test func chunkedRunsMatchOneBatchIncludingInterchange() throws {
    let net = try network()
    let input = rows((0..<10).map { [Float($0), Float(10 - $0)] })
    let source = try net.cleanActivation("layers.0.hook_post", on: rows([[5, 5], [9, -3], [-2, 7]]))
    let interventions = [
        Intervention(
            hook: "layers.0.hook_post", units: [1, 2], kind: .interchangeActivation(source, sourceIndex: (0..<10).map { $0 % 3 }))
    ]
    let whole = try net.run(input, capture: ["layers.0.hook_post"], interventions: interventions)
    for threads in [1, 2] {
        let chunked = try Chunking.run(input, examplesPerChunk: 3, threads: threads, interventions: interventions) {
            chunk, sliced, _ throws(NetworkError) in
            try net.run(chunk, capture: ["layers.0.hook_post"], interventions: sliced)
        }
        #expect(chunked.output == whole.output)
        #expect(chunked.activations["layers.0.hook_post"] == whole.activations["layers.0.hook_post"])
    }
}

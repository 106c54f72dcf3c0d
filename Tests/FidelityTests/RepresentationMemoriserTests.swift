import Distillation
import Fidelity
import Network
import Testing

@Test func noTreeVariableOfTheMemoriserIsRepresented() throws {
    let setup = try ReferenceSetup("memoriser")
    let region = try setup.probes()
    let probes = try ProbeSet.probe(setup.network, task: setup.task, region: region)
    let tree = try Distiller.fit(.tree, probes: probes, task: setup.task, features: try TaskFeatures(task: setup.task))
    var options = quickOptions(pairs: 96, steps: 40)
    options.maxVariables = 3
    options.maxSingleNeurons = 8
    options.subspaceDimensions = [1]
    options.sites = [AlignmentSite(hook: "layers.0.hook_post")]
    let result = try RepresentationTests.run(
        network: setup.network, control: try setup.control(), surrogate: tree, task: setup.task, inputs: region,
        options: options)
    // As many split variables as the tree has, up to 3 (its description-length size varies with the code).
    #expect(!result.verdict.variables.isEmpty && result.verdict.variables.count <= 3)
    #expect(result.verdict.variables.allSatisfy { !$0.supported })
    #expect(!result.verdict.supported)
}

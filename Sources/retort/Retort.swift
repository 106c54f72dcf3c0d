import ArgumentParser
import WeightFiles

@main
struct Retort: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retort",
        abstract: "Read, convert and verify weight files; run networks; distil them into symbolic surrogates.",
        discussion: """
            Formats: safetensors (also sharded through model.safetensors.index.json, \
            and gzip- or zlib-wrapped), NumPy .npy and .npz. PyTorch checkpoints and \
            GGUF files are recognised but not read yet.
            Exit status: 0 success, 1 failed operation or check, 64 usage error.
            """,
        subcommands: [Inspect.self, Convert.self, Verify.self, Run.self, Generate.self, Distill.self, FidelityCommand.self]
    )

    static func main() {
        tuneAllocator()
        main(nil)
    }
}

extension DType: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument.uppercased()) }
    public static var allValueStrings: [String] { FloatConversion.castTargets.map(\.name) }
}

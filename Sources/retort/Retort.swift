import ArgumentParser
import Foundation
import WeightFiles

@main
struct Retort: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retort",
        abstract: "Read, convert and verify weight files; run networks; distil them into symbolic surrogates.",
        discussion: """
            Formats read: safetensors (also sharded through model.safetensors.index.json, \
            and gzip- or zlib-wrapped), NumPy .npy and .npz, PyTorch torch.save checkpoints, \
            GGUF and .stz. Written by convert: safetensors, .npz, .npy and .stz.
            Exit status: 0 success, 1 failed operation or check, 64 usage error.
            """,
        version: RetortVersion.current,
        subcommands: [
            Inspect.self, Convert.self, Verify.self, Run.self, Generate.self, Distill.self, Merge.self, FidelityCommand.self,
        ]
    )

    static func main() {
        tuneAllocator()
        let arguments = joiningNegativeValues(Array(CommandLine.arguments.dropFirst()))
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            // Usage errors get the same one-line form as every other error; help, --version and the
            // exit codes of failed operations (already reported) go through ArgumentParser.
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            let lines = message(for: error).split(whereSeparator: \.isNewline).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            var text = lines.filter { !$0.isEmpty }.joined(separator: "; ")
            if let first = text.first, first.isUppercase, text.dropFirst().first?.isLowercase == true {
                text = first.lowercased() + text.dropFirst()
            }
            let subcommand = arguments.first.flatMap { name in
                configuration.subcommands.first { $0._commandName == name }.map { _ in name }
            }
            printError("\(text) (see 'retort help\(subcommand.map { " " + $0 } ?? "")')")
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
    }

    /// `arguments` with an option followed by a negative number joined into `--option=-N`, so that
    /// `--threads -3` reaches the option's own check ("must be between 1 and …") instead of reading as an
    /// unknown option `-3` and a missing value. Retort takes no negative positional arguments.
    static func joiningNegativeValues(_ arguments: [String]) -> [String] {
        var joined: [String] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            if argument.hasPrefix("--"), !argument.contains("="), i + 1 < arguments.count,
                Double(arguments[i + 1]) != nil, arguments[i + 1].hasPrefix("-")
            {
                joined.append("\(argument)=\(arguments[i + 1])")
                i += 2
            } else {
                joined.append(argument)
                i += 1
            }
        }
        return joined
    }
}

extension DType: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument.uppercased()) }
    public static var allValueStrings: [String] { FloatConversion.castTargets.map(\.name) }
}

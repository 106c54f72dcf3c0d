import Foundation
import Testing

/// The tiny Llama folder (formats/vectors/networks/llama_tiny) copied beside a byte-level `tokenizer.json`
/// whose 256 tokens are the bytes and which has no merges, so that `retort generate` can run on it.
func tinyLlamaWithTokenizer() throws -> String {
    let folder = try temporaryDirectory()
    let source = RetortRun.vectors + "/networks/llama_tiny"
    for name in ["model.safetensors", "config.json"] {
        try FileManager.default.copyItem(atPath: source + "/" + name, toPath: folder + "/" + name)
    }
    var vocab: [String: Int] = [:]
    var next: UInt32 = 256
    for byte in 0..<256 {
        let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
        let scalar: UInt32 = printable ? UInt32(byte) : next
        if !printable { next += 1 }
        vocab[String(Character(Unicode.Scalar(scalar)!))] = byte
    }
    let tokenizer: [String: Any] = [
        "model": ["type": "BPE", "vocab": vocab, "merges": [String]()],
        "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true],
        "decoder": ["type": "ByteLevel"],
    ]
    try JSONSerialization.data(withJSONObject: tokenizer).write(to: URL(fileURLWithPath: folder + "/tokenizer.json"))
    return folder
}

@Suite("retort generate with hostile numbers")
struct GenerateHostileInputTests {
    @Test("generate on the tiny Llama with a byte tokenizer works (the fixture is sound)")
    func fixtureGenerates() throws {
        let run = try RetortRun("generate", try tinyLlamaWithTokenizer(), "--prompt", "hi", "--max-new-tokens", "3", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\"prompt_ids\":[104,105]"), "\(run.stdout)")
    }

    @Test("--max-new-tokens Int.max is one line naming the context, exit 1, not an overflow trap")
    func maxNewTokensIntMax() throws {
        let run = try RetortRun(
            "generate", try tinyLlamaWithTokenizer(), "--prompt", "hi", "--max-new-tokens", "\(Int.max)")
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("retort: error: ") && run.stderr.contains("context of 64"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }
}

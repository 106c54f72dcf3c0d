import Network
import FuzzSupport

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): a network description or a Hugging Face config.json, from arbitrary bytes.
runFuzzer { data, count in
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    _ = try? NetworkDescription.parse(bytes)
    _ = try? LanguageModelConfig.parse(huggingFace: bytes, source: "fuzz")
    return 0
}

import FuzzSupport
import Network
import WeightFiles

// Built only with -sanitize=fuzzer (scripts/fuzz.sh): a tokenizer from arbitrary bytes, read as a
// Hugging Face tokenizer.json or, when they are a GGUF file, from its tokenizer.ggml.* metadata; a
// tokenizer that loads encodes and decodes a fixed text.
runFuzzer { data, count in
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    var tokenizer: ByteLevelBPETokenizer? = try? ByteLevelBPETokenizer(tokenizerJSON: bytes)
    if tokenizer == nil, let gguf = try? GGUFFile(storage: ByteStorage(copying: bytes)) {
        tokenizer = try? ByteLevelBPETokenizer(gguf: gguf)
    }
    if let tokenizer {
        let ids = tokenizer.encode("3+4=7\n12+25=37 <|im_start|>héllo  wörld's 😀")
        _ = tokenizer.decode(ids)
    }
    return 0
}

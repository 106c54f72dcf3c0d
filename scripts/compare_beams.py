#!/usr/bin/env python3
"""Rule lists and rule sets fitted with beams of several widths, on many tasks, in one run: bits and fit time.

The rule search refines the `--rule-beam W` most promising conjunctions at each step. This fits both rule
families (and the tree, for reference) with each width on the same probes of sixteen tasks over the bundled
example's inputs (a, b in 0…99, 5,000 of the 10,000 pairs, two seeds per task) and on the bundled example's own
probes, and prints each task's description lengths by width, then each width's total bits, its fit seconds
(summed over the tasks, one thread) and on how many tasks it was shorter or longer than the widest.

    python3 scripts/compare_beams.py [--retort .build/release/retort] [--widths 1 2 3 4] [--json]

Needs numpy and safetensors (scripts/requirements.txt) to write the probe files.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE_TASK = os.path.join(ROOT, "formats", "vectors", "networks", "addition_mlp", "task.json")
FAMILIES = ["tree", "rule_list", "rule_set"]

# Outputs in 0…198, the example task's classes: sums and their variants, with noise, special cases and
# functions a rule list finds hard.
TASKS = {
    "sum, 3% noise": lambda a, b, r: np.where(r.random(len(a)) < 0.03, r.integers(0, 199, len(a)), a + b),
    "sum, special cases": lambda a, b, r: np.where(a == b, 0, np.where(a % 7 == 3, a, a + b)),
    "max": lambda a, b, r: np.maximum(a, b),
    "|a - b|": lambda a, b, r: np.abs(a - b),
    "digits without carry": lambda a, b, r: (a % 10 + b % 10) % 10 + 10 * ((a // 10 + b // 10) % 10),
    "digit sum": lambda a, b, r: a % 10 + a // 10 + b % 10 + b // 10,
    "sum mod 50": lambda a, b, r: (a + b) % 50,
    "a·b mod 199": lambda a, b, r: (a * b) % 199,
}


def run(command):
    process = subprocess.run(command, capture_output=True, text=True)
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}): {process.stderr.strip()}")
    return process.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--retort", default=os.path.join(ROOT, ".build", "release", "retort"))
    parser.add_argument("--widths", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(args.retort):
        sys.exit(f"no retort binary at {args.retort} (swift build -c release --product retort)")
    widest = max(args.widths)
    results = []  # per task: {"task", "bits": {family: {width: bits}}, "seconds": {family: {width: s}}}
    with tempfile.TemporaryDirectory() as tmp:
        print("probing the bundled example once…", file=sys.stderr)
        run([args.retort, "distill", "--surrogates", "table", "--out", os.path.join(tmp, "example")])
        example = os.path.join(tmp, "example", "probes.safetensors")
        with safe_open(example, "np") as f:
            metadata = f.metadata()
        probe_files = [("bundled example (the network)", example)]
        for seed in (1, 2):
            r = np.random.default_rng(seed)
            index = np.sort(r.choice(10000, 5000, replace=False))
            a, b = index // 100, index % 100
            for name, label in TASKS.items():
                path = os.path.join(tmp, f"{len(probe_files)}.safetensors")
                save_file({"indices": index.astype(np.int64), "inputs": np.stack([a, b], 1).astype(np.int64),
                           "outputs": label(a, b, r).astype(np.int64)}, path, metadata=metadata)
                probe_files.append((f"{name}, seed {seed}", path))
        for name, path in probe_files:
            row = {"task": name, "bits": {f: {} for f in FAMILIES}, "seconds": {f: {} for f in FAMILIES}}
            for width in args.widths:
                out = json.loads(run([
                    args.retort, "distill", "--probes", path, "--task", EXAMPLE_TASK, "--surrogates", *FAMILIES,
                    "--rule-beam", str(width), "--threads", "1", "--json", "--force", "--out", os.path.join(tmp, "fit")]))
                for s in out["surrogates"]:
                    row["bits"][s["family"]][width] = s["bits"]
                    row["seconds"][s["family"]][width] = s["fit_seconds"]
            results.append(row)
            print(f"{name}: done", file=sys.stderr)
    if args.json:
        print(json.dumps({"widths": args.widths, "tasks": results}, indent=2))
        return
    header = f"{'task':34}" + "".join(f" {f.replace('rule_', '')[:4]}/{w:<2}" .rjust(10) for f in FAMILIES[1:] for w in args.widths)
    print(header + f" {'tree':>9}")
    for row in results:
        cells = "".join(f"{row['bits'][f][w]:10,.0f}" for f in FAMILIES[1:] for w in args.widths)
        print(f"{row['task'][:34]:34}{cells} {row['bits']['tree'][args.widths[0]]:9,.0f}")
    print()
    print(f"{'family':10} {'beam':>4} {'bits':>10} {'fit s':>7} {'shorter':>8} {'longer':>7}  (than a beam of {widest})")
    for family in FAMILIES[1:]:
        for width in args.widths:
            bits = sum(row["bits"][family][width] for row in results)
            seconds = sum(row["seconds"][family][width] for row in results)
            shorter = sum(row["bits"][family][width] < row["bits"][family][widest] - 0.5 for row in results)
            longer = sum(row["bits"][family][width] > row["bits"][family][widest] + 0.5 for row in results)
            print(f"{family:10} {width:4d} {bits:10,.0f} {seconds:7.2f} {shorter:8d} {longer:7d}")
    tree_bits = sum(row["bits"]["tree"][args.widths[0]] for row in results)
    print(f"tree: {tree_bits:,.0f} bits over the {len(results)} tasks")


if __name__ == "__main__":
    main()

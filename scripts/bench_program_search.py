#!/usr/bin/env python3
"""Benchmark: time for the program search (Sources/Distillation/Surrogates/Program) to reach its answer.

Runs `retort-bench program TARGET EXAMPLES… [--corrupt C] [--max-size S]` (the in-process harness,
Sources/retort-bench) for each target and prints one row per run: examples, corrupted targets, seconds
to the answer (when the winning program was first scored), seconds for the whole search, the answer,
its exceptions, its bits against a lookup table's, and the candidates kept / built.

Targets (see ProgramBench.swift): add100 (a + b over 0..<100), mod113 ((a + b) mod 113 over 0..<113,
constant 113 supplied) and random (uniform labels, which no program should compress).

Goal: `a + b` and `(a + b) mod 113` found in seconds on 2,000–12,769 examples, with the corrupted
inputs (a network's mistakes) as the only exceptions.

Usage: python3 scripts/bench_program_search.py [--bench .build/release/retort-bench]
       [--targets add100,mod113,random] [--examples 2000,10000] [--corrupt 0,20] [--max-size 5] [--json]
Build first: swift build -c release --product retort-bench
It is a report: the exit status is 0 whatever the numbers are; 1 only when the harness is missing or fails.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", default=os.path.join(ROOT, ".build", "release", "retort-bench"))
    parser.add_argument("--targets", default="add100,mod113,random")
    parser.add_argument("--examples", default="2000,10000", help="comma-separated example counts (capped at |D|)")
    parser.add_argument("--corrupt", default="0,20", help="comma-separated counts of corrupted targets")
    parser.add_argument("--max-size", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--json", action="store_true", help="print the harness's JSON lines only")
    args = parser.parse_args()
    if not os.path.exists(args.bench):
        sys.exit(f"missing {args.bench}: build it with swift build -c release --product retort-bench")

    rows = []
    for target in args.targets.split(","):
        for corrupt in [int(c) for c in args.corrupt.split(",")]:
            if target == "random" and corrupt:
                continue  # corrupting random labels changes nothing
            command = [args.bench, "program", target, *args.examples.split(","),
                       "--corrupt", str(corrupt), "--max-size", str(args.max_size), "--seconds", str(args.seconds)]
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"{' '.join(command)} failed:\n{run.stderr}")
            rows += [json.loads(line) for line in run.stdout.splitlines() if line.strip()]

    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    header = f"{'target':8} {'examples':>8} {'corrupt':>7} {'to answer s':>11} {'total s':>8} {'exc':>6} " \
             f"{'bits':>10} {'table bits':>10} {'kept':>6} {'built':>8}  answer"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['target']:8} {r['examples']:8d} {r['corrupted']:7d} {r['seconds_to_answer']:11.4f} "
              f"{r['seconds']:8.4f} {r['exceptions']:6d} {r['bits']:10.1f} {r['table_bits']:10.1f} "
              f"{r['kept']:6d} {r['generated']:8d}  {r['answer']}  [{r['stop']}]")


if __name__ == "__main__":
    main()

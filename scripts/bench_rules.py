#!/usr/bin/env python3
"""Rule-list and rule-set fitting against the tree on the same probes, in one run.

Fits each family alone (`retort distill --probes P --task T --surrogates F --threads N`) on the same saved
probes, runs interleaved (tree, rule list, rule set, then again), and prints per family and thread count
the median of: the fit's own wall-clock seconds (the FIT S column retort prints), the process's CPU seconds
(user + system) less those of a run fitting only the lookup table (reading the probes, evaluating and
writing the report: the fixed cost), and both as a ratio to the tree's. By default the probes are those
of the bundled example (two-digit addition, 5,000 probes, 199 classes), made once by `retort distill`.

    python3 scripts/bench_rules.py [--retort .build/release/retort] [--runs 5] [--threads 1 0]
                                   [--rule-conditions C …] [--rule-beam W …] [--probes P --task T] [--json]

`--threads 0` leaves the flag out (all cores). `--rule-conditions C` also fits both rule families with
`--rule-conditions C` in the same runs (rows `rule_list/C`, `rule_set/C`), and `--rule-beam W` with a beam of W
(rows `rule_list/bW`, `rule_set/bW`). Needs only the Python standard library.
"""

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE_TASK = os.path.join(ROOT, "formats", "vectors", "networks", "addition_mlp", "task.json")
FAMILIES = ["tree", "rule_list", "rule_set"]


def run(command):
    """Runs a command; returns (stdout, wall seconds). Its CPU time shows in `children_cpu()` once it is reaped."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}): {stderr.strip()}")
    return stdout, wall


def children_cpu():
    """User + system seconds of every reaped child so far (getrusage: microseconds, where os.times counts ticks)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fit_seconds(stdout, family):
    """The FIT S column of retort's table for `family`."""
    lines = stdout.splitlines()
    header = next((i for i, line in enumerate(lines) if line.startswith("FAMILY") and "FIT S" in line), None)
    if header is None:
        sys.exit("retort printed no table with a FIT S column")
    start = lines[header].index("FIT S")
    for line in lines[header + 1:]:
        if line.split(" ", 1)[0] == family:
            match = re.match(r"\s*([0-9.]+)", line[start:])
            if match:
                return float(match.group(1))
    sys.exit(f"no FIT S for {family} in retort's output")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--retort", default=os.path.join(ROOT, ".build", "release", "retort"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 0])
    parser.add_argument("--rule-conditions", type=int, nargs="+", default=[])
    parser.add_argument("--rule-beam", type=int, nargs="+", default=[])
    parser.add_argument("--probes")
    parser.add_argument("--task")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if (args.probes is None) != (args.task is None):
        sys.exit("--probes and --task go together")
    if not os.path.exists(args.retort):
        sys.exit(f"no retort binary at {args.retort} (swift build -c release --product retort)")

    with tempfile.TemporaryDirectory() as tmp:
        probes, task = args.probes, args.task
        if probes is None:
            print("probing the bundled example once…", file=sys.stderr)
            run([args.retort, "distill", "--surrogates", "table", "--out", os.path.join(tmp, "example")])
            probes, task = os.path.join(tmp, "example", "probes.safetensors"), EXAMPLE_TASK
        rows = []
        # Each row: its label, the family and the extra flags.
        variants = [(f, f, []) for f in FAMILIES] + [
            (f"{f}/{c}", f, ["--rule-conditions", str(c)]) for c in args.rule_conditions for f in FAMILIES[1:]] + [
            (f"{f}/b{w}", f, ["--rule-beam", str(w)]) for w in args.rule_beam for f in FAMILIES[1:]]
        for threads in args.threads:
            flag = ["--threads", str(threads)] if threads > 0 else []
            fits = {label: [] for label, _, _ in variants}
            cpus = {label: [] for label, _, _ in variants + [("table", "table", [])]}
            for r in range(args.runs):
                for label, family, extra in [("table", "table", [])] + variants:
                    before = children_cpu()
                    stdout, _ = run([
                        args.retort, "distill", "--probes", probes, "--task", task, "--surrogates", family, *flag, *extra,
                        "--force", "--out", os.path.join(tmp, family)])
                    cpus[label].append(children_cpu() - before)
                    if family != "table":
                        fits[label].append(fit_seconds(stdout, family))
                print(f"threads {threads or 'all'}: run {r + 1} of {args.runs}", file=sys.stderr)
            fixed = statistics.median(cpus["table"])
            tree_fit = statistics.median(fits["tree"])
            tree_cpu = max(statistics.median(cpus["tree"]) - fixed, 1e-9)
            for family, _, _ in variants:
                fit = statistics.median(fits[family])
                cpu = statistics.median(cpus[family]) - fixed
                rows.append({
                    "family": family, "threads": threads or os.cpu_count(), "fit_seconds": fit, "cpu_seconds": cpu,
                    "fit_ratio_to_tree": fit / tree_fit, "cpu_ratio_to_tree": cpu / tree_cpu})
    load = os.getloadavg()
    if args.json:
        print(json.dumps({"runs": args.runs, "probes": probes if args.probes else "bundled example",
                          "load_average": load, "rows": rows}, indent=2))
        return
    print(f"{'family':12} {'threads':>7} {'fit s':>7} {'× tree':>7} {'CPU s':>7} {'× tree':>7}")
    for row in rows:
        print(f"{row['family']:12} {row['threads']:7d} {row['fit_seconds']:7.3f} {row['fit_ratio_to_tree']:7.1f} "
              f"{row['cpu_seconds']:7.3f} {row['cpu_ratio_to_tree']:7.1f}")
    print(f"medians of {args.runs} interleaved runs; CPU less a table-only run's; load average {load[0]:.2f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Probing a 10^7-input domain in 1, 2 and 4 shards on this machine: inputs/s per shard and in total,
and each shard's peak memory.

    python3 scripts/bench_shards.py [--retort .build/release/retort] [--shards 1 2 4] [--threads 1]
                                    [--digits 7] [--probe-sample N | --where EXPR] [--one-at-a-time] [--work DIR]

Builds (with numpy and safetensors, seeded) an MLP over DIGITS decimal digits, a task whose probe region
is its whole 10^DIGITS-input domain (raw encoder, argmax over the 64 possible digit sums), then for each
shard count N starts the N shards of `retort distill --shard I/N` at once, each under /usr/bin/time -v,
each with --threads THREADS. It prints, per shard, its slice, its probing time and rate (the network's
forward passes, encoding and decoding: what the shard summary calls "probing"), its whole time (reading,
fingerprinting, resolving the region, writing the probe file too), its CPU time (user + system) and its
peak resident memory; and per N the total: the probed inputs over the longest shard's wall time. With --probe-sample N the probe region is
a seeded sample of N inputs instead; with --where EXPR it is the inputs of the domain satisfying EXPR (a task `where`
condition, e.g. "d0 < 5"). An `all` region over 5·10^7 inputs is probed only sharded, each shard's slice at most 5·10^7.
With --one-at-a-time the N shards run one after another (each shard stands for one machine: its peak memory and rate
without the others beside it on this machine). The load average (uptime) before and after each N is printed with it: on
a shared machine other work changes the numbers.

With --fidelity the shards run `retort fidelity --shard I/N` instead: the surrogates (a tree and a program, fitted
first by one `retort distill` on a 2,000-input sample) are evaluated on the task's regions, `probe` (that sample),
`held_out` (a 20,000-input sample) and `everything`, the whole domain (or its inputs satisfying --where); each shard
counts its slice of each region chunk by chunk and writes statistics, not outputs. Per N it prints each shard's
evaluated inputs, running time and rate, whole time, CPU time and peak RSS, then the same for `retort merge` of the N
shards; on a domain one run can enumerate (--digits 7 or less) also one unsharded `retort fidelity`, whose
report.json must equal the merged one but for the timings.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from safetensors.numpy import save_file


def build(folder, digits, probe_sample=None, where=None):
    rng = np.random.default_rng(15)
    hidden, classes = 32, 9 * digits + 1
    # in_out layout: weight [in, out]. Random weights: the rate does not depend on what the network computes.
    tensors = {
        "w0": rng.standard_normal((digits, hidden)).astype(np.float32),
        "b0": rng.standard_normal(hidden).astype(np.float32),
        "w1": rng.standard_normal((hidden, classes)).astype(np.float32),
        "b1": rng.standard_normal(classes).astype(np.float32),
    }
    save_file(tensors, os.path.join(folder, "model.safetensors"))
    network = {
        "retort_network": 1,
        "preset": "mlp",
        "input_width": digits,
        "layers": [
            {"op": "linear", "weight": "w0", "bias": "b0", "layout": "in_out"},
            {"op": "relu"},
            {"op": "linear", "weight": "w1", "bias": "b1", "layout": "in_out"},
            {"op": "softmax"},
        ],
    }
    task = {
        "retort_task": 1,
        "name": f"{digits}-digit sums",
        "variables": [{"name": f"d{i}", "type": "integer", "min": 0, "max": 9} for i in range(digits)],
        "encoder": {"kind": "raw"},
        "decoder": {"kind": "argmax", "classes": list(range(classes))},
        "regions": {"probe": {"sample": probe_sample, "seed": 1} if probe_sample
                    else {"where": where} if where else {"all": True}},
    }
    for name, value in (("network.json", network), ("task.json", task)):
        with open(os.path.join(folder, name), "w") as f:
            json.dump(value, f)


def build_fidelity(folder, digits, where=None, retort=None, threads=1):
    """The network, a task to fit surrogates on (a 2,000-input sample) and the task they are evaluated on."""
    build(folder, digits, probe_sample=2000)
    with open(os.path.join(folder, "task.json")) as f:
        task = json.load(f)
    with open(os.path.join(folder, "fit_task.json"), "w") as f:
        json.dump(task, f)
    task["regions"]["held_out"] = {"sample": 20000, "seed": 2, "excluding": ["probe"]}
    task["regions"]["everything"] = {"where": where} if where else {"all": True}
    with open(os.path.join(folder, "task.json"), "w") as f:
        json.dump(task, f)
    surrogates = os.path.join(folder, "surrogates")
    subprocess.run([retort, "distill", os.path.join(folder, "model.safetensors"), "--network",
                    os.path.join(folder, "network.json"), "--task", os.path.join(folder, "fit_task.json"),
                    "--surrogates", "tree", "program", "--program-seconds", "10", "--threads", str(threads),
                    "--out", surrogates, "--force"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return [os.path.join(surrogates, name) for name in ("tree.json", "program.json")]


def peak_kib(time_output):
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_output)
    return int(match.group(1)) if match else None


def cpu_seconds(time_output):
    user = re.search(r"User time \(seconds\): ([\d.]+)", time_output)
    system = re.search(r"System time \(seconds\): ([\d.]+)", time_output)
    return float(user.group(1)) + float(system.group(1)) if user and system else float("nan")


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--retort", default=".build/release/retort")
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--threads", type=int, default=1, help="threads per shard")
    parser.add_argument("--digits", type=int, default=7, help="the domain has 10^DIGITS inputs")
    parser.add_argument("--probe-sample", type=int, help="probe a seeded sample of this many inputs, not all")
    parser.add_argument("--where", help="probe the domain's inputs satisfying this task condition, not all")
    parser.add_argument("--one-at-a-time", action="store_true", help="run each N's shards one after another")
    parser.add_argument("--fidelity", action="store_true",
                        help="run sharded fidelity on an all region of the domain (and merge), not distill")
    parser.add_argument("--work", help="folder for the network and the shards (default: a temporary one, removed)")
    args = parser.parse_args()
    retort = os.path.abspath(args.retort)
    if not os.access(retort, os.X_OK):
        sys.exit(f"bench_shards: no retort binary at {retort}")
    if not os.access("/usr/bin/time", os.X_OK):
        sys.exit("bench_shards: /usr/bin/time (GNU time) is needed for the peak memory")
    work = args.work or tempfile.mkdtemp(prefix="retort-bench-shards-")
    os.makedirs(work, exist_ok=True)
    try:
        if args.probe_sample and args.where:
            sys.exit("bench_shards: give --probe-sample or --where, not both")
        if args.fidelity:
            if args.probe_sample:
                sys.exit("bench_shards: --fidelity evaluates an all region: --probe-sample does not apply")
            surrogates = build_fidelity(work, args.digits, args.where, retort, args.threads)
            fidelity(args, retort, work, surrogates)
            return
        build(work, args.digits, args.probe_sample, args.where)
        domain = args.probe_sample or 10**args.digits
        print(f"domain: {10**args.digits:,} inputs ({args.digits} digits); probing "
              f"{'those where ' + args.where if args.where else f'{domain:,} of them'}; "
              f"{os.cpu_count()} CPUs; {args.threads} thread(s) per shard")
        for n in args.shards:
            out = os.path.join(work, f"shards-{n}")
            shutil.rmtree(out, ignore_errors=True)
            before = uptime()
            started = time.monotonic()
            runs = []
            for i in range(n):
                command = ["/usr/bin/time", "-v", retort, "distill", os.path.join(work, "model.safetensors"),
                           "--network", os.path.join(work, "network.json"), "--task", os.path.join(work, "task.json"),
                           "--shard", f"{i}/{n}", "--threads", str(args.threads), "--out", out]
                run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                runs.append((run, run.communicate() if args.one_at_a_time else None))
            results = []
            for i, (run, finished) in enumerate(runs):
                stdout, stderr = finished or run.communicate()
                wall = time.monotonic() - started
                if run.returncode != 0:
                    sys.exit(f"bench_shards: shard {i}/{n} failed:\n{stderr[-2000:]}")
                summary = re.search(
                    r"(\d+) probes in ([\d.]+) s, probing ([\d.]+) s \((\d+) inputs/s\)", stdout)
                if not summary:
                    sys.exit(f"bench_shards: shard {i}/{n} printed no summary: {stdout!r}")
                probes, seconds, probing, rate = summary.groups()
                results.append((i, int(probes), float(seconds), float(probing), int(rate), peak_kib(stderr), cpu_seconds(stderr)))
            elapsed = time.monotonic() - started
            after = uptime()
            print(f"\n{n} shard(s): load before: {before}")
            print(f"  {'shard':>5}  {'inputs':>10}  {'probing s':>9}  {'probing/s':>10}  {'whole s':>7}  "
                  f"{'whole/s':>9}  {'CPU s':>6}  {'peak RSS':>9}")
            for i, probes, seconds, probing, rate, kib, cpu in results:
                print(f"  {i:>5}  {probes:>10,}  {probing:>9.2f}  {rate:>10,}  {seconds:>7.2f}  "
                      f"{probes / seconds:>9,.0f}  {cpu:>6.1f}  {kib / 1024:>7.0f} MiB")
            probing_rate = sum(r[1] / r[3] for r in results)
            probed = sum(r[1] for r in results)
            print(f"  total: {probed:,} inputs in {elapsed:.2f} s wall{' (one shard at a time)' if args.one_at_a_time else ''} = {probed / elapsed:,.0f} inputs/s; "
                  f"probing rates summed {probing_rate:,.0f} inputs/s; largest peak RSS "
                  f"{max(r[5] for r in results) / 1024:.0f} MiB")
            print(f"  load after: {after}")
            shutil.rmtree(out, ignore_errors=True)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


def timed(command):
    """Runs `command` under /usr/bin/time -v: (stdout, wall seconds, CPU seconds, peak KiB); exits on failure."""
    started = time.monotonic()
    run = subprocess.run(["/usr/bin/time", "-v"] + command, capture_output=True, text=True)
    wall = time.monotonic() - started
    if run.returncode != 0:
        sys.exit(f"bench_shards: {' '.join(command[:2])} failed:\n{run.stderr[-2000:]}")
    return run.stdout, wall, cpu_seconds(run.stderr), peak_kib(run.stderr)


def fidelity(args, retort, work, surrogates):
    print(f"domain: {10**args.digits:,} inputs ({args.digits} digits); evaluating a tree and a program on "
          f"probe (2,000), held_out (20,000) and {'the inputs where ' + args.where if args.where else 'all of them'}; "
          f"{os.cpu_count()} CPUs; {args.threads} thread(s) per shard; shards one at a time: "
          f"{'yes' if args.one_at_a_time else 'no'}")
    common = [os.path.join(work, "model.safetensors"), "--network", os.path.join(work, "network.json"),
              "--task", os.path.join(work, "task.json")]
    for path in surrogates:
        common += ["--surrogate", path]
    for n in args.shards:
        out = os.path.join(work, f"shards-{n}")
        shutil.rmtree(out, ignore_errors=True)
        before = uptime()
        started = time.monotonic()
        commands = [[retort, "fidelity"] + common + ["--shard", f"{i}/{n}", "--threads", str(args.threads), "--out", out]
                    for i in range(n)]
        if args.one_at_a_time:
            finished = [timed(c) for c in commands]
        else:
            runs = [subprocess.Popen(["/usr/bin/time", "-v"] + c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    for c in commands]
            finished = []
            for run in runs:
                stdout, stderr = run.communicate()
                if run.returncode != 0:
                    sys.exit(f"bench_shards: a fidelity shard failed:\n{stderr[-2000:]}")
                finished.append((stdout, time.monotonic() - started, cpu_seconds(stderr), peak_kib(stderr)))
        elapsed = time.monotonic() - started
        print(f"\n{n} fidelity shard(s): load before: {before}")
        print(f"  {'shard':>5}  {'inputs':>11}  {'running s':>9}  {'running/s':>10}  {'whole s':>7}  {'CPU s':>6}  {'peak RSS':>9}")
        for i, (stdout, wall, cpu, kib) in enumerate(finished):
            summary = re.search(r"(\d+) inputs in ([\d.]+) s, running ([\d.]+) s \((\d+) inputs/s\)", stdout)
            if not summary:
                sys.exit(f"bench_shards: fidelity shard {i}/{n} printed no summary: {stdout!r}")
            inputs, seconds, running, rate = summary.groups()
            print(f"  {i:>5}  {int(inputs):>11,}  {float(running):>9.2f}  {int(rate):>10,}  {float(seconds):>7.2f}  "
                  f"{cpu:>6.1f}  {kib / 1024:>7.0f} MiB")
        print(f"  shards: {elapsed:.2f} s wall{' (one at a time)' if args.one_at_a_time else ''}; largest peak RSS "
              f"{max(f[3] for f in finished) / 1024:.0f} MiB")
        merged = os.path.join(work, f"merged-{n}")
        stdout, wall, cpu, kib = timed([retort, "merge", out, "--out", merged, "--force", "--json"])
        report = json.loads(stdout)
        everything = next(r["inputs"] for r in report["regions"] if r["name"] == "everything")
        print(f"  merge: {wall:.2f} s wall, {cpu:.1f} s CPU, peak RSS {kib / 1024:.0f} MiB; the report's everything "
              f"region: {everything:,} inputs")
        if 10**args.digits <= 50_000_000:
            # Small enough for one run: the merged report must be its report but for the timings.
            single = os.path.join(work, "single")
            stdout, wall, cpu, kib = timed([retort, "fidelity"] + common + ["--threads", str(args.threads), "--out", single,
                                                                           "--force", "--json"])
            same = untimed(os.path.join(single, "report.json")) == untimed(os.path.join(merged, "report.json"))
            print(f"  one run: {wall:.2f} s wall, {cpu:.1f} s CPU, peak RSS {kib / 1024:.0f} MiB; merged report.json "
                  f"{'identical to' if same else 'DIFFERS from'} its report.json but for the timings")
            if not same:
                sys.exit("bench_shards: the merged report differs from one run's")
        print(f"  load after: {uptime()}")
        shutil.rmtree(out, ignore_errors=True)


def untimed(path):
    """report.json without its timings (`seconds`, `…_seconds`)."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not (k == "seconds" or k.endswith("_seconds"))}
        return [strip(v) for v in value] if isinstance(value, list) else value
    with open(path) as f:
        return strip(json.load(f))


if __name__ == "__main__":
    main()

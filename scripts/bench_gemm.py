#!/usr/bin/env python3
"""Benchmark: Retort's single-precision matrix multiply against NumPy (OpenBLAS), one thread.

For each size M×N×K (default 512³, 256³, 1024³ and the MLP-like 10000×512×512) it
alternates, `--rounds` times, between
- NumPy: float32 C-contiguous A[M×K], B[K×N], `np.matmul(a, b, out=c)` (that is `a @ b`
  into a preallocated C, so neither side pays for allocating the result), timed with
  time.perf_counter() over `--repeat` calls after warming up, in this process, with
  OpenBLAS limited to one thread (OPENBLAS_NUM_THREADS=1 etc. set before NumPy is
  imported, by re-executing this script if needed, and threadpoolctl when installed);
- Retort: `retort-bench gemm M N K --repeat R --threads 1` (the in-process harness,
  Sources/retort-bench), which prints best and median seconds as one JSON line.
Each side's figure is its best time over all rounds; GFLOP/s = 2·M·N·K / time / 10⁹.
With `--bt` both sides multiply by a transposed B instead (NumPy `a @ bt.T`, Retort
`retort_sgemm_bt`).

Goal: the Retort kernel at >= 0.80 of NumPy's single-thread GFLOP/s on 512×512×512.

OpenBLAS picks its kernels by CPU model (threadpoolctl reports it as `architecture`), unless
OPENBLAS_CORETYPE names a core type. By default (`--openblas-coretype auto`) the variable is
removed, so NumPy runs the kernels OpenBLAS detects as best for this CPU (SkylakeX, i.e.
AVX-512, on an AMD Zen 5); `inherit` keeps the environment's value, and a name (Haswell,
SkylakeX, ...) forces that core type.

Usage: python3 scripts/bench_gemm.py [--bench .build/release/retort-bench]
       [--sizes 512x512x512,256x256x256,...] [--repeat 20] [--rounds 3] [--bt]
       [--openblas-coretype auto|inherit|NAME] [--retort-isa portable|avx2|avx512] [--json]
Build first: swift build -c release
Needs: numpy (threadpoolctl optional, to report OpenBLAS's core type).
It is a report: the exit status is 0 whatever the goal says; it is 1 only when the
harness is missing or fails.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SIZES = "512x512x512,256x256x256,1024x1024x1024,10000x512x512"
GOAL_SIZE = (512, 512, 512)
GOAL_RATIO = 0.80


def early_option(name):
    """The value of `name` on the command line, read before argparse (and NumPy) run."""
    for i, word in enumerate(sys.argv):
        if word == name and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


# BLAS libraries read their thread count (and OpenBLAS its core type) when they are loaded:
# make sure NumPy is imported with one thread and the chosen core type, by re-executing
# with the environment set (once). None means "not set" (OpenBLAS detects the CPU).
CORETYPE_CHOICE = early_option("--openblas-coretype") or "auto"
WANTED_ENV = {v: "1" for v in THREAD_VARS}
if CORETYPE_CHOICE == "auto":
    WANTED_ENV["OPENBLAS_CORETYPE"] = None
elif CORETYPE_CHOICE != "inherit":
    WANTED_ENV["OPENBLAS_CORETYPE"] = CORETYPE_CHOICE
if any(os.environ.get(k) != v for k, v in WANTED_ENV.items()) and "numpy" not in sys.modules:
    if os.environ.get("RETORT_BENCH_GEMM_REEXEC") != "1":
        env = dict(os.environ, RETORT_BENCH_GEMM_REEXEC="1",
                   RETORT_BENCH_GEMM_INHERITED_CORETYPE=os.environ.get("OPENBLAS_CORETYPE", ""))
        for key, value in WANTED_ENV.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env)

import numpy as np  # noqa: E402

try:
    import threadpoolctl  # noqa: E402
except ImportError:
    threadpoolctl = None


def parse_sizes(text):
    sizes = []
    for item in text.split(","):
        parts = item.lower().split("x")
        if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise SystemExit(f"bad size {item!r}: expected MxNxK")
        sizes.append(tuple(int(p) for p in parts))
    return sizes


def blas_info():
    """What threadpoolctl says about the BLAS NumPy uses (core type, version, threads)."""
    if threadpoolctl is None:
        return {"note": "threadpoolctl not installed"}
    infos = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    if not infos:
        return {"note": "no BLAS found by threadpoolctl"}
    i = infos[0]
    return {k: i.get(k) for k in ("internal_api", "version", "architecture", "threading_layer", "num_threads")}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def time_numpy(m, n, k, repeat, transposed):
    rng = np.random.default_rng(12345)
    a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if transposed else (k, n)).astype(np.float32)
    rhs = b.T if transposed else b
    c = np.empty((m, n), dtype=np.float32)
    start = time.perf_counter()
    warm = 0
    while warm < 2 or (time.perf_counter() - start < 0.1 and warm < 1000):
        np.matmul(a, rhs, out=c)
        warm += 1
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        np.matmul(a, rhs, out=c)
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def time_retort(bench, m, n, k, repeat, transposed, isa):
    cmd = [bench, "gemm", str(m), str(n), str(k), "--repeat", str(repeat), "--threads", "1"]
    if transposed:
        cmd.append("--bt")
    if isa:
        cmd += ["--isa", isa]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr.strip()}")
    line = [l for l in out.stdout.splitlines() if l.startswith("{")][-1]
    return json.loads(line)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bench", default=os.path.join(ROOT, ".build", "release", "retort-bench"))
    p.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated MxNxK list")
    p.add_argument("--repeat", type=int, default=20, help="timed calls per side per round")
    p.add_argument("--rounds", type=int, default=3, help="NumPy/Retort alternations per size")
    p.add_argument("--bt", action="store_true", help="B transposed on both sides")
    p.add_argument("--openblas-coretype", metavar="NAME", default="auto",
                   help="OpenBLAS kernels for NumPy: auto (default: OPENBLAS_CORETYPE unset, OpenBLAS "
                        "detects the CPU), inherit (keep the environment's OPENBLAS_CORETYPE), or a core "
                        "type name such as Haswell or SkylakeX")
    p.add_argument("--retort-isa", choices=["portable", "avx2", "avx512"],
                   help="cap Retort's kernel at this instruction set (default: the best the CPU has)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = p.parse_args()

    if args.repeat < 1 or args.rounds < 1:
        p.error("--repeat and --rounds must be at least 1")
    if not os.path.exists(args.bench):
        print(f"missing {args.bench}: build with `swift build -c release` or pass --bench", file=sys.stderr)
        return 1
    if threadpoolctl is not None:
        threadpoolctl.threadpool_limits(1)
    sizes = parse_sizes(args.sizes)
    info = blas_info()

    rows = []
    for m, n, k in sizes:
        # Fewer calls for big products so that each size takes about the same time.
        repeat = max(5, min(args.repeat, int(args.repeat * 512**3 / (m * n * k))))
        np_best, np_median, rt_best, rt_median, isa = [], [], [], [], None
        for _ in range(args.rounds):
            best, median = time_numpy(m, n, k, repeat, args.bt)
            np_best.append(best)
            np_median.append(median)
            try:
                r = time_retort(args.bench, m, n, k, repeat, args.bt, args.retort_isa)
            except RuntimeError as e:
                print(e, file=sys.stderr)
                return 1
            rt_best.append(r["best_s"])
            rt_median.append(r["median_s"])
            isa = r.get("isa")
        flop = 2.0 * m * n * k
        np_s, rt_s = min(np_best), min(rt_best)
        row = {
            "m": m, "n": n, "k": k, "bt": args.bt, "repeat": repeat, "rounds": args.rounds,
            "numpy_best_s": np_s, "numpy_median_s": statistics.median(np_median),
            "retort_best_s": rt_s, "retort_median_s": statistics.median(rt_median),
            "numpy_gflops": flop / np_s / 1e9, "retort_gflops": flop / rt_s / 1e9,
            "ratio": np_s / rt_s, "retort_isa": isa,
        }
        if (m, n, k) == GOAL_SIZE:
            row["goal"] = GOAL_RATIO
            row["pass"] = row["ratio"] >= GOAL_RATIO
        rows.append(row)

    result = {
        "cpu": cpu_model(),
        "numpy": np.__version__,
        "blas": info,
        "openblas_coretype_choice": args.openblas_coretype,
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        "openblas_coretype_inherited": os.environ.get("RETORT_BENCH_GEMM_INHERITED_CORETYPE") or None,
        "threads": 1,
        "results": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0

    print(f"CPU: {result['cpu']}")
    arch = info.get("architecture") or info.get("note")
    print(f"NumPy {np.__version__}, BLAS: {info.get('internal_api', '?')} {info.get('version', '')}, "
          f"core type: {arch}, threads: {info.get('num_threads', '?')}"
          + (f" (OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']})" if os.environ.get("OPENBLAS_CORETYPE")
             else " (detected by OpenBLAS)"))
    inherited = result["openblas_coretype_inherited"]
    if inherited and args.openblas_coretype == "auto":
        print(f"note: the environment sets OPENBLAS_CORETYPE={inherited}; it was unset here so that OpenBLAS "
              f"runs the kernels it picks for this CPU (--openblas-coretype inherit keeps it)")
    print(f"Retort kernel: {rows[0]['retort_isa'] if rows else '?'}; one thread each; best of "
          f"{args.rounds} rounds × repeat calls{'; B transposed' if args.bt else ''}")
    print()
    header = (f"{'M×N×K':>16}  {'NumPy GFLOP/s':>13}  {'Retort GFLOP/s':>14}  {'Retort/NumPy':>12}  "
              f"{'(medians)':>9}  goal")
    print(header)
    print("-" * len(header))
    for r in rows:
        size = f"{r['m']}×{r['n']}×{r['k']}"
        goal = ""
        if "pass" in r:
            goal = f"{'PASS' if r['pass'] else 'FAIL'} (>= {GOAL_RATIO:.2f})"
        median_ratio = r["numpy_median_s"] / r["retort_median_s"]
        print(f"{size:>16}  {r['numpy_gflops']:13.1f}  {r['retort_gflops']:14.1f}  {r['ratio']:12.2f}  "
              f"{median_ratio:9.2f}  {goal}")
    print()
    print("GFLOP/s = 2·M·N·K / best time; ratio = NumPy best time / Retort best time "
          "(medians: the same with median times).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

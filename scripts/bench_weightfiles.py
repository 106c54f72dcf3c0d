#!/usr/bin/env python3
"""Benchmark: Retort against the Python safetensors library on the same files, one run.

1. Read every byte: `safetensors.numpy.load_file` (timed in-process, so Python's start-up
   is not counted against it) vs `retort verify` (a whole process, start-up included,
   which also validates the structure and counts NaN/infinite values of every tensor).
2. Header-only inspection: `retort inspect` on files from 10 MB to several GB (sparse
   files, so that the benchmark needs no disk), to show it does not grow with the size.

Usage: python3 scripts/bench_weightfiles.py [--retort .build/release/retort] [--mb 400] [--repeat 5]
Prints a table and the ratio; exits 1 when Retort is slower than the peer.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import safetensors
import safetensors.numpy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def best_of(repeat, fn):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def make_checkpoint(path, megabytes, seed=0):
    """A checkpoint-like file: a few large F32 matrices and many small ones."""
    rng = np.random.default_rng(seed)
    tensors = {}
    remaining = megabytes * 1_000_000 // 4
    layer = 0
    while remaining > 0:
        rows = min(4096, max(1, remaining // 1024))
        tensors[f"layers.{layer}.weight"] = rng.standard_normal((rows, 1024), dtype=np.float32) * 0.02
        tensors[f"layers.{layer}.bias"] = np.zeros(1024, dtype=np.float32)
        remaining -= rows * 1024 + 1024
        layer += 1
    safetensors.numpy.save_file(tensors, path, metadata={"format": "pt"})


def make_sparse(path, total_bytes):
    """A valid safetensors file of `total_bytes` whose data area is a hole."""
    rows = 4096
    per = rows * 1024 * 4
    count = max(1, total_bytes // per)
    header, offset = {}, 0
    for i in range(count):
        header[f"layers.{i}.weight"] = {"dtype": "F32", "shape": [rows, 1024], "data_offsets": [offset, offset + per]}
        offset += per
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    with open(path, "wb") as f:
        f.write(len(blob).to_bytes(8, "little"))
        f.write(blob)
        f.truncate(8 + len(blob) + offset)
    return 8 + len(blob) + offset


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--retort", default=os.path.join(ROOT, ".build", "release", "retort"))
    parser.add_argument("--mb", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    retort = os.path.abspath(args.retort)

    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as work:
        path = os.path.join(work, "model.safetensors")
        make_checkpoint(path, args.mb)
        size = os.path.getsize(path)
        # Warm the page cache for both, so neither pays for the disk.
        safetensors.numpy.load_file(path)
        subprocess.run([retort, "verify", path], check=True, capture_output=True)

        t_peer = best_of(args.repeat, lambda: safetensors.numpy.load_file(path))
        t_retort = best_of(args.repeat, lambda: subprocess.run([retort, "verify", path], check=True, capture_output=True))
        print(f"file: {size / 1e6:.1f} MB F32 checkpoint, best of {args.repeat}, page cache warm")
        print(f"  safetensors {safetensors.__version__} numpy.load_file : {t_peer * 1000:8.1f} ms  {size / t_peer / 1e9:6.2f} GB/s")
        print(f"  retort verify (whole process)       : {t_retort * 1000:8.1f} ms  {size / t_retort / 1e9:6.2f} GB/s")
        ratio = t_peer / t_retort
        print(f"  ratio (peer time / retort time)     : {ratio:.2f}x {'(retort faster)' if ratio >= 1 else '(retort SLOWER)'}")

        print("\nretort inspect (header only), sparse files:")
        for total in (10_000_000, 100_000_000, 1_000_000_000, 4_000_000_000, 16_000_000_000):
            sparse = os.path.join(work, f"sparse_{total}.safetensors")
            actual = make_sparse(sparse, total)
            t = best_of(args.repeat, lambda: subprocess.run([retort, "inspect", sparse, "--json"], check=True, capture_output=True))
            print(f"  {actual / 1e9:8.3f} GB : {t * 1000:7.1f} ms")
            os.remove(sparse)
    return 0 if ratio >= 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())

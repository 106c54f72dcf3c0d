#!/usr/bin/env python3
"""Dequantize every tensor of a GGUF file with gguf-py and report the time and each tensor's
SHA-256 (float32, little-endian); with --retort-dump, compare against Retort's.

    pip install gguf==0.19.0 numpy
    python scripts/check_gguf_dequant.py MODEL.gguf [--retort-dump dump.jsonl]

The dump holds one JSON object per line: {"name", "type", "f32_sha256"}. Exit status 1 when
any tensor differs or is missing.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gguf")
    parser.add_argument("--retort-dump", help="JSON lines of Retort's per-tensor SHA-256")
    args = parser.parse_args()

    reader = GGUFReader(args.gguf)
    hashes: dict[str, str] = {}
    elapsed = 0.0
    count = 0
    for t in reader.tensors:
        start = time.perf_counter()
        values = dequantize(t.data, t.tensor_type)
        values = np.ascontiguousarray(values, dtype=np.float32)  # F64/BF16 views become float32 copies
        elapsed += time.perf_counter() - start
        count += values.size
        hashes[t.name] = hashlib.sha256(values.astype("<f4", copy=False).tobytes()).hexdigest()
    print(f"gguf-py: dequantized {len(hashes)} tensors, {count} floats, in {elapsed:.3f} s", file=sys.stderr)

    if not args.retort_dump:
        return 0
    with open(args.retort_dump) as f:
        retort = {row["name"]: row["f32_sha256"] for row in map(json.loads, filter(str.strip, f))}
    bad = [name for name, h in hashes.items() if retort.get(name) != h]
    extra = sorted(set(retort) - set(hashes))
    for name in bad:
        print(f"differs: {name}", file=sys.stderr)
    for name in extra:
        print(f"only in Retort's dump: {name}", file=sys.stderr)
    print(f"{len(hashes) - len(bad)}/{len(hashes)} tensors bit-identical", file=sys.stderr)
    return 1 if bad or extra else 0


if __name__ == "__main__":
    sys.exit(main())

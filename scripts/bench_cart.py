#!/usr/bin/env python3
"""CART against scikit-learn on probe-like data, in one run.

Generates ROWS x FEATURES probe-like examples (two numbers a, b in 0..99 and what a probe set of an
adder would hold: the numbers, their digits, the sum and its digits and carry, random bits, and
continuous "activations"), with labels from a noisy rule (the tens digit of a + b, 5 % of labels
replaced). Writes them to one .npz, fits scikit-learn's DecisionTreeClassifier(random_state=0) and
`retort-bench cart` (with the same tie-break, so both grow the same tree) on the same file, and prints
both times and the ratio sklearn_time / retort_time. scikit-learn's tree builder is single-threaded.

    python3 scripts/bench_cart.py [--rows 1000000] [--features 40] [--max-depth 12] [--criterion gini]
                                  [--threads 1] [--repeat 1] [--retort-bench PATH] [--json]

Build first: swift build -c release --product retort-bench
Requires numpy and scikit-learn (scripts/requirements-networks.txt pins them).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import sklearn
from sklearn.tree import DecisionTreeClassifier


def probe_data(rows, features, seed=7):
    """Columns, in order: a, b, a+b; digits of a, b and a+b; the carry; then bits and continuous
    activations filling up to `features` (about a third continuous)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, rows)
    b = rng.integers(0, 100, rows)
    s = a + b
    base = [a, b, s, a % 10, a // 10, b % 10, b // 10, s % 10, s // 10 % 10, s // 100, (a % 10 + b % 10 >= 10).astype(np.int64)]
    columns = base[:features]
    rest = features - len(columns)
    continuous = rest // 2
    for k in range(rest - continuous):
        columns.append(rng.integers(0, 2, rows))
    for k in range(continuous):
        # an "activation": a noisy, rectified linear read-out of a and b
        w = rng.normal(0, 1, 2)
        columns.append(np.maximum(0, (w[0] * a + w[1] * b) / 50 + rng.normal(0, 0.3, rows)))
    X = np.stack(columns, axis=1).astype(np.float32)
    y = s // 10 % 10
    noisy = rng.random(rows) < 0.05
    y = np.where(noisy, rng.integers(0, 10, rows), y).astype(np.int64)
    return X, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--max-depth", type=int, default=12, help="0 for no limit")
    parser.add_argument("--criterion", default="gini", choices=["gini", "entropy"])
    parser.add_argument("--threads", type=int, default=1, help="retort's threads (scikit-learn's tree has one)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--retort-bench", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "retort-bench"))
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    max_depth = None if args.max_depth == 0 else args.max_depth

    X, y = probe_data(args.rows, args.features)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cart.npz")
        np.savez(path, X=X, y=y)

        times = []
        for _ in range(args.repeat):
            clf = DecisionTreeClassifier(criterion=args.criterion, max_depth=max_depth, random_state=0)
            start = time.perf_counter()
            clf.fit(X, y)
            times.append(time.perf_counter() - start)
        sk = {"best_s": min(times), "nodes": int(clf.tree_.node_count), "depth": int(clf.get_depth()),
              "train_accuracy": float((clf.predict(X) == y).mean())}

        command = [args.retort_bench, "cart", path, "--criterion", args.criterion, "--random-state", "0",
                   "--repeat", str(args.repeat), "--threads", str(args.threads)]
        if max_depth is not None:
            command += ["--max-depth", str(max_depth)]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        retort = json.loads(out.strip().splitlines()[-1])

    result = {
        "rows": args.rows, "features": args.features, "max_depth": max_depth, "criterion": args.criterion,
        "sklearn": dict(sk, version=sklearn.__version__, threads=1), "retort": retort,
        "ratio_sklearn_over_retort": sk["best_s"] / retort["best_s"],
        "same_tree_size": sk["nodes"] == retort["nodes"] and sk["depth"] == retort["depth"],
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"CART, {args.rows} rows x {args.features} features, criterion {args.criterion}, max_depth {max_depth}")
    print(f"  scikit-learn {sklearn.__version__} (1 thread): {sk['best_s']:8.3f} s  nodes {sk['nodes']}  depth {sk['depth']}  train acc {sk['train_accuracy']:.4f}")
    print(f"  retort ({retort['threads']} thread{'s' if retort['threads'] > 1 else ''}):          {retort['best_s']:8.3f} s  nodes {retort['nodes']}  depth {retort['depth']}  train acc {retort['train_accuracy']:.4f}")
    print(f"  ratio sklearn_time / retort_time: {result['ratio_sklearn_over_retort']:.2f}x   same tree size: {result['same_tree_size']}")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes the CART fixtures that Tests/DistillationTests/DecisionTreeTests.swift checks against.

For every case it fits scikit-learn's DecisionTreeClassifier(random_state=0) on a seeded data set and
stores the data and scikit-learn's tree (pre-order: feature, threshold, leaf label, samples), its
training-set predictions, node count, depth and leaf count. A case is "tie_free" when random_state
0..4 all give the same tree: scikit-learn breaks ties between equally good splits by a random feature
permutation, so only then is the tree independent of how ties are broken.

    python3 scripts/compare_cart.py [--out Tests/DistillationTests/Fixtures/cart]

Requires numpy and scikit-learn (scripts/requirements-networks.txt pins them: numpy 2.4.6, scikit-learn 1.9.1).
"""

import argparse
import json
import os

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.tree import DecisionTreeClassifier


def sums_data(rng, rows):
    """Integer probe features of a + b: a, b, their digits, and the sum's digits as labels."""
    a = rng.integers(0, 100, rows)
    b = rng.integers(0, 100, rows)
    X = np.stack([a, b, a % 10, a // 10, b % 10, b // 10], axis=1)
    return X, a, b


def binary_data(rng, rows, width=12, noise=0.05):
    X = rng.integers(0, 2, (rows, width))
    y = (X[:, 0] ^ X[:, 1]) | (X[:, 2] & X[:, 3])
    flip = rng.random(rows) < noise
    return X, np.where(flip, 1 - y, y)


def continuous_data(rng, rows, classes=4, width=5):
    centres = rng.normal(0, 2, (classes, width))
    y = rng.integers(0, classes, rows)
    X = centres[y] + rng.normal(0, 1.5, (rows, width))
    return X, y


def mixed_data(rng, rows):
    """Probe-like columns: small integers, bits, a sum and continuous activations; labels from a noisy rule."""
    a = rng.integers(0, 10, rows)
    b = rng.integers(0, 10, rows)
    bits = rng.integers(0, 2, (rows, 4))
    h = rng.normal(0, 1, (rows, 3))
    X = np.column_stack([a, b, a + b, bits, h])
    y = ((a + b) // 7 + bits[:, 0] * (h[:, 0] > 0)) % 3
    flip = rng.random(rows) < 0.08
    return X, np.where(flip, rng.integers(0, 3, rows), y)


def datasets():
    rng = np.random.default_rng(20240611)
    out = {}
    X, a, b = sums_data(rng, 3000)
    out["sums"] = (X, {"tens": (a + b) // 10 % 10, "carry": (a % 10 + b % 10 >= 10).astype(int), "sum": a + b})
    X, y = binary_data(rng, 2000)
    out["binary"] = (X, {"rule": y})
    X, y = continuous_data(rng, 1500)
    out["continuous"] = (X, {"blob": y})
    X, y = mixed_data(rng, 2000)
    out["mixed"] = (X, {"rule": y})
    digits = load_digits()
    out["digits"] = (digits.data, {"digit": digits.target})
    # scikit-learn fits on float32: store exactly the values it sees.
    return {name: (X.astype(np.float32), labels) for name, (X, labels) in out.items()}


# (case, dataset, labels, parameters)
CASES = [
    ("sums_tens_gini_depth6", "sums", "tens", dict(criterion="gini", max_depth=6)),
    ("sums_carry_entropy", "sums", "carry", dict(criterion="entropy")),
    ("sums_sum_gini_depth8", "sums", "sum", dict(criterion="gini", max_depth=8)),
    ("binary_rule_gini", "binary", "rule", dict(criterion="gini")),
    ("binary_rule_entropy_depth4", "binary", "rule", dict(criterion="entropy", max_depth=4)),
    ("continuous_gini_depth8", "continuous", "blob", dict(criterion="gini", max_depth=8)),
    ("continuous_entropy_leaves30", "continuous", "blob", dict(criterion="entropy", max_leaf_nodes=30)),
    ("mixed_entropy_leaves25", "mixed", "rule", dict(criterion="entropy", max_leaf_nodes=25)),
    ("mixed_gini_ccp", "mixed", "rule", dict(criterion="gini", ccp_alpha="path:0.7")),
    ("mixed_gini_minleaf", "mixed", "rule", dict(criterion="gini", max_depth=10, min_samples_leaf=5, min_samples_split=12)),
    ("mixed_gini_leaves40_depth5", "mixed", "rule", dict(criterion="gini", max_leaf_nodes=40, max_depth=5)),
    ("digits_gini", "digits", "digit", dict(criterion="gini")),
    ("digits_entropy_leaves40", "digits", "digit", dict(criterion="entropy", max_leaf_nodes=40)),
    ("digits_gini_ccp", "digits", "digit", dict(criterion="gini", ccp_alpha="path:0.5")),
]


def resolve_alpha(X, y, params):
    """`path:q` picks a ccp_alpha halfway between two consecutive effective alphas of the pruning path
    (at quantile q), so that rounding cannot put a branch on either side of it."""
    spec = params.get("ccp_alpha")
    if not isinstance(spec, str):
        return params
    q = float(spec.split(":")[1])
    base = {k: v for k, v in params.items() if k != "ccp_alpha"}
    alphas = DecisionTreeClassifier(random_state=0, **base).cost_complexity_pruning_path(X, y).ccp_alphas
    alphas = np.unique(alphas[alphas > 0])
    i = min(int(q * (len(alphas) - 1)), len(alphas) - 2)
    return dict(base, ccp_alpha=float((alphas[i] + alphas[i + 1]) / 2))


def preorder(clf):
    """(feature, threshold, leaf label, samples) per node in pre-order, left subtree first."""
    t = clf.tree_
    rows = []

    def visit(node):
        if t.children_left[node] == -1:
            label = clf.classes_[int(np.argmax(t.value[node][0]))]
            rows.append((-1, 0.0, int(label), int(t.n_node_samples[node])))
        else:
            rows.append((int(t.feature[node]), float(t.threshold[node]), -1, int(t.n_node_samples[node])))
            visit(t.children_left[node])
            visit(t.children_right[node])

    visit(0)
    return rows


def depth_of(rows):
    deepest, stack, index = 0, [0], 0

    def walk(i, level):
        nonlocal deepest
        deepest = max(deepest, level)
        if rows[i][0] < 0:
            return i + 1
        after_left = walk(i + 1, level + 1)
        return walk(after_left, level + 1)

    walk(0, 0)
    return deepest


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "DistillationTests", "Fixtures", "cart"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    data = datasets()
    for name, (X, labels) in data.items():
        np.savez_compressed(os.path.join(args.out, f"data_{name}.npz"), X=X, **{f"y_{k}": v.astype(np.int64) for k, v in labels.items()})

    manifest = {"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": []}
    for case, dataset, label, params in CASES:
        X, labels = data[dataset]
        y = labels[label]
        params = resolve_alpha(X, y, params)
        trees = []
        for seed in range(5):
            clf = DecisionTreeClassifier(random_state=seed, **params).fit(X, y)
            trees.append(preorder(clf))
        clf = DecisionTreeClassifier(random_state=0, **params).fit(X, y)
        rows = trees[0]
        tie_free = all(t == rows for t in trees[1:])
        np.savez_compressed(
            os.path.join(args.out, f"tree_{case}.npz"),
            feature=np.array([r[0] for r in rows], dtype=np.int64),
            threshold=np.array([r[1] for r in rows], dtype=np.float64),
            label=np.array([r[2] for r in rows], dtype=np.int64),
            samples=np.array([r[3] for r in rows], dtype=np.int64),
            predictions=clf.predict(X).astype(np.int64),
        )
        entry = {
            "name": case, "data": f"data_{dataset}.npz", "labels": f"y_{label}", "tree": f"tree_{case}.npz",
            "criterion": params.get("criterion", "gini"), "max_depth": params.get("max_depth"),
            "max_leaf_nodes": params.get("max_leaf_nodes"), "min_samples_split": params.get("min_samples_split", 2),
            "min_samples_leaf": params.get("min_samples_leaf", 1), "ccp_alpha": params.get("ccp_alpha", 0.0),
            "random_state": 0, "nodes": len(rows), "depth": depth_of(rows), "leaves": sum(r[0] < 0 for r in rows),
            "train_accuracy": float((clf.predict(X) == y).mean()), "tie_free": tie_free,
        }
        assert entry["nodes"] == clf.tree_.node_count and entry["depth"] == clf.get_depth(), case
        manifest["cases"].append(entry)
        print(f"{case:32s} nodes {entry['nodes']:4d} depth {entry['depth']:2d} leaves {entry['leaves']:4d} "
              f"acc {entry['train_accuracy']:.4f} tie_free {tie_free}")
    with open(os.path.join(args.out, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in os.listdir(args.out))
    print(f"fixtures: {total / 1e6:.2f} MB in {args.out}")


if __name__ == "__main__":
    main()

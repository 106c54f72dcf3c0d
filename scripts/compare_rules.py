#!/usr/bin/env python3
"""Retort's rule list and rule set against the rule learners users know, on the same probes, in one run.

For each reference network (default: the bundled two-digit addition MLP and the two boolean circuits) it
runs `retort distill` with the tree, rule list and rule set families (their fidelity, bits and fit
seconds come from that run's report), asks retort for the network's output on every input of the domain
(a copy of the task whose probe region is the whole domain), computes the same features retort fitted on
(a, b, their digits, a+b and its digits; the variables for the boolean circuits), and fits on the same
probes with the same labels:

- imodels' GreedyRuleListClassifier one-vs-rest (imodels' rule lists and rule sets are binary only),
- wittgenstein's RIPPER one-vs-rest (numeric features binned by its defaults),
- scikit-learn's DecisionTreeClassifier grown best-first to as many leaves as retort's rule list has
  rules plus its default ("a tree of the same size"), and to as many as retort's own tree.

Fidelity is agreement with the network on the held-out region (inputs that are not probes); a task
without one (the boolean circuits probe their whole 16-input domain) is scored on the whole domain.
One-vs-rest models predict the class whose model gives the highest probability. Rules counts every
rule of every one-vs-rest model; a tree's rules are its leaves. Fit seconds are wall-clock seconds of
fitting alone, on the same machine in the same run (retort: its own timing of each family's fit).

    python3 scripts/compare_rules.py --retort .build/release/retort [--networks addition_mlp ...] [--json]

Requires numpy, safetensors, scikit-learn, imodels (and six, which it imports without declaring),
wittgenstein and pandas: pip install -r scripts/requirements-rules.txt
"""

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from safetensors.numpy import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETWORKS = os.path.join(ROOT, "formats", "vectors", "networks")


def run_retort(retort, folder, task, surrogates, out):
    """Runs retort distill; returns its stdout."""
    command = [
        retort, "distill", os.path.join(folder, "model.safetensors"), "--network", os.path.join(folder, "network.json"),
        "--task", task, "--surrogates", *surrogates, "--out", out,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"retort distill failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def feature_column(name, variables, inputs, base):
    """The value of one of retort's task features (formats/task.md, Features) on every input."""
    names = [v["name"] for v in variables]

    def operands(text):
        parts = text.split("+")
        if not all(p in names for p in parts):
            raise ValueError(f"unsupported feature {name}")
        return sum(inputs[:, names.index(p)] for p in parts)

    digit = re.fullmatch(r"digit(\d+)\((.+)\)", name)
    if digit:
        return (np.abs(operands(digit.group(2))) // base ** int(digit.group(1))) % base
    return operands(name)


def features(names, task, inputs):
    base = task.get("encoder", {}).get("base", 10)
    return np.stack([feature_column(n, task["variables"], inputs, base) for n in names], axis=1).astype(np.float64)


def one_vs_rest(make, fit, proba, X, y, classes):
    """Fits one binary model per class; predicts the class with the highest probability (majority if none)."""
    models = []
    started = time.perf_counter()
    for c in classes:
        target = (y == c).astype(int)
        models.append(None if target.sum() == 0 else fit(make(), X, target))
    seconds = time.perf_counter() - started
    majority = classes[np.argmax([(y == c).sum() for c in classes])]

    def predict(Z):
        scores = np.stack([np.zeros(len(Z)) if m is None else proba(m, Z) for m in models], axis=1)
        best = np.argmax(scores, axis=1)
        return np.where(scores.max(axis=1) > 0, np.asarray(classes)[best], majority)

    return models, predict, seconds


def compare(network, retort):
    folder = os.path.join(NETWORKS, network)
    task_path = os.path.join(folder, "task.json")
    task = json.load(open(task_path))
    with tempfile.TemporaryDirectory() as tmp:
        stdout = run_retort(retort, folder, task_path, ["tree", "rule_list", "rule_set"], os.path.join(tmp, "fit"))
        fit_seconds = dict(
            (f, float(s)) for f, s in re.findall(r"(\w+) ([0-9.]+)", re.search(r"fit seconds: (.*)", stdout).group(1)))
        report = json.load(open(os.path.join(tmp, "fit", "report.json")))
        probes = load_file(os.path.join(tmp, "fit", "probes.safetensors"))
        bodies = {f: json.load(open(os.path.join(tmp, "fit", f + ".json"))) for f in ["tree", "rule_list", "rule_set"]}
        # The network on the whole domain: the same task with the whole domain as its probe region.
        whole = dict(task, regions={"probe": {"all": True}})
        whole_path = os.path.join(tmp, "whole.json")
        json.dump(whole, open(whole_path, "w"))
        run_retort(retort, folder, whole_path, ["table"], os.path.join(tmp, "whole"))
        domain = load_file(os.path.join(tmp, "whole", "probes.safetensors"))

    names = bodies["rule_list"]["features"]
    order = np.argsort(domain["indices"])
    all_inputs, all_outputs = domain["inputs"][order], domain["outputs"][order]
    probe_index = probes["indices"]
    X, y = features(names, task, probes["inputs"]), probes["outputs"]
    held = np.setdiff1d(np.arange(len(all_inputs)), probe_index)
    region = "held_out" if len(held) else "domain"
    if not len(held):
        held = np.arange(len(all_inputs))
    Xh, yh = features(names, task, all_inputs[held]), all_outputs[held]
    classes = sorted(set(y.tolist()))

    rows = []
    for family in ["rule_list", "rule_set", "tree"]:
        s = next(s for s in report["surrogates"] if s["family"] == family)
        fidelity = next(f for f in s["fidelity"] if f["region"] == region)["agreement"]["proportion"]
        body = bodies[family]["body"]
        rules = len(body["rules"]) + 1 if "rules" in body else sum(1 for n in body["nodes"] if "leaf" in n)
        rows.append((f"retort {family.replace('_', ' ')}", fidelity, rules, fit_seconds[family], s["bits"]["total"]))
    list_rules = rows[0][2]
    tree_leaves = rows[2][2]

    warnings.filterwarnings("ignore")
    import imodels
    from sklearn.tree import DecisionTreeClassifier

    models, predict, seconds = one_vs_rest(
        lambda: imodels.GreedyRuleListClassifier(), lambda m, A, t: m.fit(A, t, feature_names=names) or m,
        lambda m, Z: m.predict_proba(Z)[:, 1], X, y, classes)
    rules = sum(len(m.rules_) for m in models if m is not None)
    rows.append(("imodels GreedyRuleList 1-vs-rest", float((predict(Xh) == yh).mean()), rules, seconds, None))

    import pandas as pd
    import wittgenstein as lw

    frame = lambda A: pd.DataFrame(A, columns=names)
    # RIPPER prints a warning for every class it learns no rule for; keep the table readable.
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        models, predict, seconds = one_vs_rest(
            lambda: lw.RIPPER(random_state=0), lambda m, A, t: m.fit(frame(A), t, pos_class=1) or m,
            lambda m, Z: np.asarray(m.predict_proba(frame(Z)))[:, 1] * np.asarray(m.predict(frame(Z))), X, y, classes)
        fidelity = float((predict(Xh) == yh).mean())
    rules = sum(len(m.ruleset_) for m in models if m is not None)
    rows.append(("wittgenstein RIPPER 1-vs-rest", fidelity, rules, seconds, None))

    for leaves, label in [(list_rules, "rule-list size"), (tree_leaves, "retort tree's size")]:
        tree = DecisionTreeClassifier(max_leaf_nodes=max(leaves, 2), random_state=0)
        started = time.perf_counter()
        tree.fit(X, y)
        seconds = time.perf_counter() - started
        rows.append((f"sklearn tree, {label}", float((tree.predict(Xh) == yh).mean()), tree.get_n_leaves(), seconds, None))
    return {"network": network, "region": region, "probes": len(y), "scored": len(held), "classes": len(classes), "rows": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--retort", default=os.path.join(ROOT, ".build", "release", "retort"))
    parser.add_argument("--networks", nargs="+", default=["addition_mlp", "boolean_circuit_handwired", "boolean_circuit_learned"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [compare(n, args.retort) for n in args.networks]
    if args.json:
        print(json.dumps(results, indent=1))
        return
    for r in results:
        print(f"\n{r['network']}: {r['probes']} probes, {r['classes']} classes; fidelity on {r['region']} ({r['scored']} inputs)")
        print(f"{'LEARNER':38} {'FIDELITY':>9} {'RULES':>6} {'FIT S':>8} {'BITS':>7}")
        for name, fidelity, rules, seconds, bits in r["rows"]:
            shown = f"{bits:7.0f}" if bits is not None else f"{'':>7}"
            print(f"{name:38} {100 * fidelity:8.2f}% {rules:6d} {seconds:8.3f} {shown}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes a hand-made program surrogate for two-digit addition that spells out column addition, so the
representation tests can ask whether the addition MLP computes its intermediate values (the ones-digit
sum, the carry, the tens-digit sum):

    10 * (digit1(a) + digit1(b) + (digit0(a) + digit0(b)) div 10) + (digit0(a) + digit0(b)) mod 10

Its bits follow formats/surrogate.md (program: log2 14 per node, + log2 V per variable, + integer(c) per
constant, + log2 3 per digit node); it lists no exceptions, so its exception bits are 0 and its fit
fields say it was not fitted on probes.

Usage: python3 scripts/column_addition_surrogate.py [OUT] (default
formats/vectors/networks/addition_mlp/column_addition.json), then
  retort fidelity formats/vectors/networks/addition_mlp/model.safetensors \
    --network formats/vectors/networks/addition_mlp/network.json \
    --task formats/vectors/networks/addition_mlp/task.json --surrogate OUT --representation
"""
import json
import math
import os
import sys


def natural(n):
    return 2 * (n + 1).bit_length() - 1


def integer(n):
    return natural(2 * n if n >= 0 else -2 * n - 1)


def bits(e, variables):
    node = math.log2(14)
    if isinstance(e, int):
        return node + integer(e)
    if isinstance(e, dict):
        return node + math.log2(variables)
    if e[0] == "digit":
        return node + math.log2(3) + bits(e[2], variables)
    return node + sum(bits(x, variables) for x in e[1:])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    folder = os.path.join(here, "..", "formats", "vectors", "networks", "addition_mlp")
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(folder, "column_addition.json")
    a, b = {"var": "a"}, {"var": "b"}
    ones_sum = ["+", ["digit", 0, a], ["digit", 0, b]]
    tens = ["+", ["+", ["digit", 1, a], ["digit", 1, b]], ["div", ones_sum, 10]]
    expression = ["+", ["*", 10, tens], ["mod", ones_sum, 10]]
    task = json.load(open(os.path.join(folder, "task.json")))
    model = bits(expression, 2)
    doc = {
        "retort_surrogate": 1, "family": "program",
        "task": {"name": task["name"], "variables": ["a", "b"], "output_values": task["decoder"]["classes"],
                 "domain_size": 10000},
        "features": [],
        "bits": {"model": model, "exceptions": 0.0, "total": model},
        "fit": {"probes": 0, "exceptions": 0, "agreement": 0},
        "body": {"expression": expression, "digit_base": 10, "exceptions": [],
                 "bits": {"expression": model, "exceptions": 0.0}},
    }
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {out}: {model:.1f} bits")


if __name__ == "__main__":
    main()

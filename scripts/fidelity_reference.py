#!/usr/bin/env python3
"""Writes Tests/FidelityTests/Fixtures/reference.json: figures the Fidelity tests check Retort against,
computed here independently of Retort.

- Wilson 95% intervals by SciPy (`binomtest(k, n).proportion_ci(method="wilson")`).
- Compression against a lookup table (formats/report.md), straight from the formula:
  (bits(S) + E * (log2|D| + log2|Y|)) / (|D| * log2|Y|).

Usage: python3 scripts/fidelity_reference.py [--out PATH]
"""
import argparse
import json
import math
import os

import numpy as np
from scipy.stats import binomtest


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "..", "Tests", "FidelityTests", "Fixtures", "reference.json"))
    args = parser.parse_args()

    rng = np.random.default_rng(20261127)
    cases = [(0, 1), (1, 1), (0, 10), (10, 10), (5, 10), (1, 3), (77, 5000), (4923, 5000), (4982, 5000), (12769, 12769),
             (0, 768), (1, 2), (999_999, 1_000_000)]
    for _ in range(40):
        n = int(rng.integers(1, 100_000))
        cases.append((int(rng.integers(0, n + 1)), n))
    wilson = []
    for k, n in cases:
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        wilson.append({"successes": k, "trials": n, "lower": float(ci.low), "upper": float(ci.high)})

    compression = []
    for bits, exceptions, domain, outputs in [(13.4, 77, 10_000, 199), (40.0, 18, 12_769, 113), (0.0, 0, 16, 2),
                                              (3401.0, 0, 1024, 10), (120.5, 1024, 1024, 10), (7.0, 3, 1_000_000, 1000)]:
        # The exception table as every family codes it: Elias-gamma count, which inputs, their outputs.
        natural = 2 * math.floor(math.log2(exceptions + 1)) + 1
        table = natural + math.log2(math.comb(domain, exceptions)) + exceptions * math.log2(outputs)
        ratio = (bits + table) / (domain * math.log2(outputs))
        compression.append({"model_bits": bits, "exceptions": exceptions, "domain": domain, "outputs": outputs, "ratio": ratio})

    with open(args.out, "w") as f:
        json.dump({"generator": "scripts/fidelity_reference.py", "scipy_wilson": wilson, "compression": compression}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(wilson)} intervals and {len(compression)} compression cases to {args.out}")


if __name__ == "__main__":
    main()

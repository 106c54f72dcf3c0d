#!/usr/bin/env python3
"""Times Retort's representation tests on a lookup-table network with a 10,000-unit hidden layer.

The network reads two-digit addition (a, b in 0..99, one-hot digits, 40 inputs) and has one hidden
unit per input pair: unit 100*a + b is relu(x[a_tens] + x[a_ones] + x[b_tens] + x[b_ones] - 3), which
is 1 on (a, b) and 0 elsewhere; the output layer maps that unit to the class a + b. It computes the sum
by table lookup, so no hidden unit or small subspace should carry `a + b` apart from the output.

    python3 scripts/bench_representation.py [--retort PATH] [--dir DIR] [--args "..."]

Builds the network (NumPy, saved with safetensors), distils the program surrogate once, then times
`retort fidelity --representation` with the default search and prints its wall and CPU seconds.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
from safetensors.numpy import save_file


def build(folder):
    os.makedirs(folder, exist_ok=True)
    w1 = np.zeros((10000, 40), dtype=np.float32)
    w2 = np.zeros((199, 10000), dtype=np.float32)
    for a in range(100):
        for b in range(100):
            u = 100 * a + b
            w1[u, a // 10] = 1
            w1[u, 10 + a % 10] = 1
            w1[u, 20 + b // 10] = 1
            w1[u, 30 + b % 10] = 1
            w2[a + b, u] = 10
    b1 = np.full(10000, -3, dtype=np.float32)
    b2 = np.zeros(199, dtype=np.float32)
    save_file({"0.weight": w1, "0.bias": b1, "2.weight": w2, "2.bias": b2}, os.path.join(folder, "model.safetensors"))
    network = {
        "retort_network": 1, "preset": "mlp", "input_width": 40,
        "layers": [
            {"op": "linear", "weight": "0.weight", "bias": "0.bias", "layout": "out_in"},
            {"op": "relu"},
            {"op": "linear", "weight": "2.weight", "bias": "2.bias", "layout": "out_in"},
        ],
    }
    task = {
        "retort_task": 1, "name": "two-digit addition by lookup table",
        "variables": [{"name": "a", "type": "integer", "min": 0, "max": 99},
                      {"name": "b", "type": "integer", "min": 0, "max": 99}],
        "encoder": {"kind": "one_hot_digits", "base": 10, "digits": 2},
        "decoder": {"kind": "argmax", "classes": list(range(199))},
        "regions": {"probe": {"all": True}},
    }
    with open(os.path.join(folder, "network.json"), "w") as f:
        json.dump(network, f, indent=1)
    with open(os.path.join(folder, "task.json"), "w") as f:
        json.dump(task, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retort", default=".build-repr/release/retort")
    parser.add_argument("--dir", default="/tmp/retort-lookup-table")
    parser.add_argument("--args", default="", help="extra options for retort fidelity")
    options = parser.parse_args()
    build(options.dir)
    model, network, task = (os.path.join(options.dir, n) for n in ("model.safetensors", "network.json", "task.json"))
    surrogates = os.path.join(options.dir, "surrogates")
    program = os.path.join(surrogates, "program.json")
    if not os.path.exists(program):
        subprocess.run([options.retort, "distill", model, "--network", network, "--task", task,
                        "--surrogates", "program", "--out", surrogates], check=True,
                       stdout=subprocess.DEVNULL)
    command = [options.retort, "fidelity", model, "--network", network, "--task", task,
               "--surrogate", program, "--representation"] + options.args.split()
    print("$", " ".join(command), file=sys.stderr)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(result.stdout)
    # CPU seconds beside wall seconds: on a shared machine the wall time depends on the other jobs.
    print(f"representation tests on the 10,000-unit lookup-table network: {seconds:.1f} s wall, {cpu:.1f} s CPU "
          f"(exit {result.returncode})")
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()

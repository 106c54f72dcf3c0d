#!/usr/bin/env python3
"""Writes the hostile probe files in formats/vectors/malformed/ (probes_*.safetensors), with numpy and
the safetensors library: probe files as `retort distill` writes them (formats/task.md, "Probe files")
for the bundled two-digit addition task, each with one thing a reader must refuse. Every one of them
trapped `distill --probes` (or, for the activations, would index outside the tensor) before the reader
checked it; DistillationTests.ProbeFileTests expects each to be refused with its reason.

    python3 scripts/make_probe_vectors.py
"""
import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

OUT = Path(__file__).resolve().parent.parent / "formats/vectors/malformed"
METADATA = {"retort_probes": json.dumps({"region": "probe", "variables": ["a", "b"]}, separators=(",", ":"))}

rng = np.random.default_rng(16)
n = 40
inputs = rng.integers(0, 100, size=(n, 2)).astype(np.int64)
outputs = inputs.sum(axis=1).astype(np.int64)
indices = (inputs[:, 0] * 100 + inputs[:, 1]).astype(np.int64)


def write(name, tensors):
    save_file(tensors, str(OUT / f"probes_{name}.safetensors"), metadata=METADATA)


# No probes at all: the tree and the rule searches trapped on an empty table.
write("empty", {"inputs": np.zeros((0, 2), np.int64), "outputs": np.zeros((0,), np.int64)})
# Values at the ends of the 64-bit range: the features' sums overflowed (a trap).
huge = inputs.copy()
huge[3] = [2**63 - 1, 2**63 - 1]
write("value_int64_max", {"inputs": huge, "outputs": outputs})
low = inputs.copy()
low[5, 0] = -(2**63)
write("value_int64_min", {"inputs": low, "outputs": outputs})
# Domain indices that do not fit the probes or the task's domain.
write("indices_wrong_length", {"inputs": inputs, "outputs": outputs, "indices": indices[:3].copy()})
beyond = indices.copy()
beyond[7] = 10_000
write("indices_outside_domain", {"inputs": inputs, "outputs": outputs, "indices": beyond})
negative = indices.copy()
negative[0] = -1
write("indices_negative", {"inputs": inputs, "outputs": outputs, "indices": negative})
# Activations whose first dimension is not the probe count, or with no positions.
write("activations_wrong_batch",
      {"inputs": inputs, "outputs": outputs, "activations.layers.0.hook_post": np.ones((2, 4), np.float32)})
write("activations_scalar",
      {"inputs": inputs, "outputs": outputs, "activations.layers.0.hook_post": np.ones((), np.float32)})
write("activations_no_positions",
      {"inputs": inputs, "outputs": outputs, "activations.layers.0.hook_post": np.ones((n, 0, 4), np.float32)})
print(f"wrote {len(list(OUT.glob('probes_*.safetensors')))} probe files in {OUT}")

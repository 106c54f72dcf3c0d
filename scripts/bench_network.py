#!/usr/bin/env python3
"""Benchmark: Retort's forward pass against the same network in NumPy (and PyTorch when
installed), on the same inputs, in one run.

For each reference network in formats/vectors/networks (the MLPs, and the modular-addition
transformer), a batch of --batch inputs (default 10,000+) is built from the network's own
reference inputs; NumPy runs the description's math (x @ W + b, activations, softmax) in
process, PyTorch likewise with torch.no_grad(), and `retort-bench forward` runs Retort's
library in process (weights loaded once, outside the timing). Best of --repeat runs each.
All sides use the same number of threads (--threads, default 2: OpenBLAS and PyTorch are
told through their environment/thread settings before they start).

Usage: python3 scripts/bench_network.py [--bench .build/release/retort-bench] [--batch 10000]
       [--repeat 7] [--threads 2] [--json]
Prints a table and the ratios; exits 1 when Retort is slower than NumPy on an MLP.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NETWORKS = os.path.join(ROOT, "formats", "vectors", "networks")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", default=os.path.join(ROOT, ".build", "release", "retort-bench"))
    p.add_argument("--batch", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true")
    p.add_argument("--networks", nargs="*", default=["addition_mlp", "digits_mlp", "memoriser", "boolean_circuit_learned", "ops_mlp", "modular_addition"])
    return p.parse_args()


ARGS = parse_args()
# The BLAS thread count must be fixed before NumPy loads OpenBLAS. An inherited
# OPENBLAS_CORETYPE (this machine's environment sets Haswell) would hold OpenBLAS to a
# slower kernel than it picks for the CPU by itself; it is removed so NumPy runs at its best.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)
if "OPENBLAS_CORETYPE" in os.environ:
    print(f"note: unset OPENBLAS_CORETYPE={os.environ.pop('OPENBLAS_CORETYPE')} so OpenBLAS picks its own kernel", file=sys.stderr)

import numpy as np  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

try:
    import torch  # noqa: E402

    torch.set_num_threads(ARGS.threads)
except ImportError:  # PyTorch is optional
    torch = None


def best_of(repeat, fn):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def erf(x):
    from scipy.special import erf as e  # only the exact-GELU ops network needs it

    return e(x)


def numpy_mlp(weights, layers):
    steps = []
    for op in layers:
        kind = op["op"]
        if kind == "linear":
            w = weights[op["weight"]].astype(np.float32)
            if op["layout"] == "out_in":
                w = np.ascontiguousarray(w.T)
            b = weights[op["bias"]].astype(np.float32) if op.get("bias") else None
            steps.append(("linear", w, b))
        elif kind == "layernorm":
            steps.append(("layernorm", weights.get(op.get("weight")), weights.get(op.get("bias")), op.get("eps", 1e-5)))
        else:
            steps.append((kind,))

    def forward(x):
        for step in steps:
            kind = step[0]
            if kind == "linear":
                x = x @ step[1]
                if step[2] is not None:
                    x += step[2]
            elif kind == "relu":
                np.maximum(x, 0, out=x)
            elif kind == "tanh":
                np.tanh(x, out=x)
            elif kind == "sigmoid":
                x = 1 / (1 + np.exp(-x))
            elif kind == "gelu":
                x = 0.5 * x * (1 + erf(x / np.sqrt(2)))
            elif kind == "gelu_tanh":
                x = 0.5 * x * (1 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))
            elif kind == "softmax":
                x = np.exp(x - x.max(axis=-1, keepdims=True))
                x /= x.sum(axis=-1, keepdims=True)
            elif kind == "layernorm":
                m = x.mean(-1, keepdims=True)
                v = ((x - m) ** 2).mean(-1, keepdims=True)
                x = (x - m) / np.sqrt(v + step[3])
                if step[1] is not None:
                    x = x * step[1] + step[2]
        return x

    return forward


def torch_mlp(weights, layers):
    mods = []
    for op in layers:
        kind = op["op"]
        if kind == "linear":
            w = torch.from_numpy(weights[op["weight"]].astype(np.float32))
            if op["layout"] == "in_out":
                w = w.T.contiguous()
            lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=bool(op.get("bias")))
            lin.weight.data = w
            if op.get("bias"):
                lin.bias.data = torch.from_numpy(weights[op["bias"]].astype(np.float32))
            mods.append(lin)
        elif kind == "layernorm":
            ln = torch.nn.LayerNorm(mods[-1].out_features if mods else 1, eps=op.get("eps", 1e-5), elementwise_affine=bool(op.get("weight")))
            if op.get("weight"):
                ln.weight.data = torch.from_numpy(weights[op["weight"]])
                ln.bias.data = torch.from_numpy(weights[op["bias"]])
            mods.append(ln)
        else:
            mods.append({"relu": torch.nn.ReLU(), "tanh": torch.nn.Tanh(), "sigmoid": torch.nn.Sigmoid(), "gelu": torch.nn.GELU(),
                         "gelu_tanh": torch.nn.GELU(approximate="tanh"), "softmax": torch.nn.Softmax(dim=-1), "identity": torch.nn.Identity()}[kind])
    model = torch.nn.Sequential(*mods).eval()

    def forward(x):
        with torch.no_grad():
            return model(x)

    return forward


def numpy_transformer(w, cfg):
    n_heads, d_head = cfg["n_heads"], cfg["d_head"]
    assert cfg.get("normalization_type") is None and cfg["n_layers"] == 1 and cfg["act_fn"] == "relu"
    W_E, W_pos = w["embed.W_E"], w["pos_embed.W_pos"]
    p = "blocks.0."
    WQ, WK, WV, WO = (w[p + "attn.W_" + k] for k in "QKVO")
    bQ, bK, bV, bO = (w[p + "attn.b_" + k] for k in "QKVO")
    hd = n_heads * d_head
    WQf, WKf, WVf = (np.ascontiguousarray(m.transpose(1, 0, 2).reshape(-1, hd)) for m in (WQ, WK, WV))
    WOf = WO.reshape(hd, -1)
    W_in, b_in, W_out, b_out = w[p + "mlp.W_in"], w[p + "mlp.b_in"], w[p + "mlp.W_out"], w[p + "mlp.b_out"]
    W_U, b_U = w["unembed.W_U"], w["unembed.b_U"]
    scale = np.float32(np.sqrt(d_head))

    def forward(tokens):
        b, s = tokens.shape
        x = W_E[tokens] + W_pos[:s]
        flat = x.reshape(b * s, -1)
        q = (flat @ WQf + bQ.reshape(-1)).reshape(b, s, n_heads, d_head)
        k = (flat @ WKf + bK.reshape(-1)).reshape(b, s, n_heads, d_head)
        v = (flat @ WVf + bV.reshape(-1)).reshape(b, s, n_heads, d_head)
        scores = np.einsum("bqhe,bkhe->bhqk", q, k) / scale
        scores = np.where(np.triu(np.ones((s, s), bool), 1), -np.inf, scores)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        pattern = scores / scores.sum(-1, keepdims=True)
        z = np.einsum("bhqk,bkhe->bqhe", pattern, v).reshape(b * s, hd)
        resid = flat + z @ WOf + bO
        resid = resid + np.maximum(resid @ W_in + b_in, 0) @ W_out + b_out
        return (resid @ W_U + b_U).reshape(b, s, -1)

    return forward


def retort(bench, model, network, inputs, repeat, threads):
    out = subprocess.run([bench, "forward", model, network, inputs, "--repeat", str(repeat), "--threads", str(threads)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    if not os.path.exists(ARGS.bench):
        sys.exit(f"{ARGS.bench} not found: build it with `swift build -c release --product retort-bench`")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ARGS.networks:
            folder = os.path.join(NETWORKS, name)
            if not os.path.exists(os.path.join(folder, "network.json")):
                print(f"skipping {name}: not in {NETWORKS}", file=sys.stderr)
                continue
            description = json.load(open(os.path.join(folder, "network.json")))
            weights = load_file(os.path.join(folder, "model.safetensors"))
            reference = load_file(os.path.join(folder, "reference.safetensors"))
            base = reference["input"]
            reps = -(-ARGS.batch // len(base))
            inputs = np.ascontiguousarray(np.concatenate([base] * reps)[: max(ARGS.batch, len(base))])
            path = os.path.join(tmp, name + ".npy")
            np.save(path, inputs)
            if description["preset"] == "mlp":
                np_forward = numpy_mlp(weights, description["layers"])
                th_forward = torch_mlp(weights, description["layers"]) if torch else None
            else:
                from safetensors import safe_open
                with safe_open(os.path.join(folder, "model.safetensors"), "np") as f:
                    cfg = json.loads(f.metadata()["transformer_lens_config"])
                np_forward = numpy_transformer(weights, cfg)
                th_forward = None
            np_inputs = inputs
            check = np_forward(np_inputs)
            t_numpy = best_of(ARGS.repeat, lambda: np_forward(np_inputs))
            t_torch = None
            if th_forward is not None:
                th_inputs = torch.from_numpy(inputs)
                t_torch = best_of(ARGS.repeat, lambda: th_forward(th_inputs))
            r = retort(ARGS.bench, os.path.join(folder, "model.safetensors"), os.path.join(folder, "network.json"), path,
                       ARGS.repeat, ARGS.threads)
            results.append({"network": name, "batch": len(inputs), "numpy_s": t_numpy, "torch_s": t_torch,
                            "retort_s": r["best_s"], "ratio_vs_numpy": t_numpy / r["best_s"],
                            "ratio_vs_torch": (t_torch / r["best_s"]) if t_torch else None,
                            "mlp": description["preset"] == "mlp", "output_shape": list(check.shape)})
    if ARGS.json:
        print(json.dumps(results, indent=1))
    else:
        print(f"threads {ARGS.threads}; best of {ARGS.repeat}; ratio = peer time / Retort time (>1: Retort faster)")
        print(f"{'network':26} {'batch':>7} {'NumPy ms':>9} {'torch ms':>9} {'Retort ms':>10} {'vs NumPy':>9} {'vs torch':>9}")
        for r in results:
            torch_ms = f"{r['torch_s'] * 1e3:9.2f}" if r["torch_s"] else f"{'-':>9}"
            vs_torch = f"{r['ratio_vs_torch']:8.2f}x" if r["ratio_vs_torch"] else f"{'-':>9}"
            print(f"{r['network']:26} {r['batch']:7d} {r['numpy_s'] * 1e3:9.2f} {torch_ms} {r['retort_s'] * 1e3:10.2f} "
                  f"{r['ratio_vs_numpy']:8.2f}x {vs_torch}")
    failed = [r for r in results if r["mlp"] and r["ratio_vs_numpy"] < 1]
    for r in failed:
        print(f"FAIL: Retort slower than NumPy on {r['network']}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

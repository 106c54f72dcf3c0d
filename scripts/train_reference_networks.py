#!/usr/bin/env python3
"""Train Retort's reference networks and write their reference outputs and activations.

    pip install -r scripts/requirements-networks.txt
    python scripts/train_reference_networks.py                     # all networks
    python scripts/train_reference_networks.py --only memoriser    # one network (repeatable)
    python scripts/train_reference_networks.py --verify-only       # re-check what is on disk

Each network gets a folder formats/vectors/networks/<name>/ (see the README there):

  model.safetensors          weights (F32), with the training framework's tensor names
  network.json               the Retort network description (formats/network.md)
  reference.safetensors      `input`, `output` and one tensor per hook, named by the hook
  interventions.json/.safetensors   (some networks) intervention cases, expected outputs
                             computed in PyTorch with forward hooks
  info.json                  task, framework, architecture, training, seeds, split, accuracies
  train_indices.npy / labels.npy    (some networks) int64 arrays, see info.json

Everything is seeded (numpy Generator, torch.manual_seed, scikit-learn random_state) and
runs on the CPU with two threads. The script deletes and recreates only the folders of the
networks it builds, rewrites the README from every info.json present, and finally reloads
every file from disk and recomputes all outputs, hooks and intervention results with an
independent float64 numpy implementation (asserting agreement to 1e-5 relative).

Reference activations come from the training framework itself: scikit-learn's
predict_proba (hooks in float64 numpy from coefs_/intercepts_, exactly as scikit-learn's
forward pass), and for PyTorch networks the float32 forward pass (hooks captured with
forward hooks on the modules / TransformerLens-style HookPoints).
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import safetensors
import safetensors.numpy as stnp
import safetensors.torch as sttorch
import scipy
import scipy.special
import sklearn
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "formats" / "vectors" / "networks"
SCRIPT = "scripts/train_reference_networks.py"

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)

RTOL = 1e-5  # verification tolerance (relative to the tensor's largest magnitude, see close())

SEEDS = {
    "addition_mlp": 1001,
    "modular_addition": 1002,
    "boolean_circuit_handwired": 1003,
    "boolean_circuit_learned": 1004,
    "memoriser": 1005,
    "digits_mlp": 1006,
    "ops_mlp": 1007,
    "ops_transformer": 1008,
    "ops_transformer_lnpre": 1009,
}


def versions() -> dict:
    return {"python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "scikit-learn": sklearn.__version__,
            "scipy": scipy.__version__, "safetensors": safetensors.__version__}


def framework(name: str) -> dict:
    if name == "scikit-learn":
        return {"name": "scikit-learn", "version": sklearn.__version__}
    return {"name": "pytorch", "version": torch.__version__}


def f32(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def i64(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(a, dtype=np.int64))


def acc_round(x: float) -> float:
    return float(round(float(x), 6))


# --------------------------------------------------------------------------------------
# What a builder returns; written by write_network()
# --------------------------------------------------------------------------------------

@dataclass
class Built:
    name: str
    model: dict                      # tensor name -> np.ndarray (F32) or torch state dict
    model_metadata: dict             # str -> str
    network: dict                    # network.json
    reference: dict                  # input, output, hooks
    info: dict
    interventions: list | None = None
    intervention_tensors: dict | None = None
    npy: dict = field(default_factory=dict)   # file name -> int64 array
    torch_model: bool = False


# --------------------------------------------------------------------------------------
# Interventions (PyTorch side). Activation views: an MLP hook [b, n] has no position axis;
# a transformer hook [b, p, d] or [b, p, h, e] is viewed as [b, p, features] (h·e flattened).
# --------------------------------------------------------------------------------------

def projector64(basis: np.ndarray) -> np.ndarray:
    """Orthogonal projector onto the row space of `basis` ([k, n]), in float64."""
    b = np.asarray(basis, dtype=np.float64)
    q, r = np.linalg.qr(b.T)                      # q: [n, k] orthonormal columns
    assert np.min(np.abs(np.diag(r))) > 1e-8 * np.max(np.abs(np.diag(r))), "rank-deficient basis"
    return q @ q.T


def torch_apply(act: torch.Tensor, iv: dict, tensors: dict, source_act: torch.Tensor | None,
                source_index: np.ndarray | None) -> torch.Tensor:
    """Returns the intervened activation (same shape and dtype as `act`)."""
    shape = act.shape
    if act.dim() == 2:
        if "positions" in iv:
            raise ValueError("positions on a hook without a position axis")
        view = act.reshape(shape[0], 1, shape[1])
        positions = [0]
        src_view = None if source_act is None else source_act.reshape(source_act.shape[0], 1, -1)
    elif act.dim() in (3, 4) and iv["hook"].split(".")[-1] not in ("hook_attn_scores", "hook_pattern"):
        view = act.reshape(shape[0], shape[1], -1)
        positions = iv.get("positions", list(range(shape[1])))
        src_view = None if source_act is None else source_act.reshape(source_act.shape[0], source_act.shape[1], -1)
    else:
        raise ValueError(f"interventions on {iv['hook']} are not used by these vectors")
    n_feat = view.shape[2]
    units = iv.get("units", list(range(n_feat)))
    out = view.clone().to(torch.float64)
    pos_t = torch.tensor(positions, dtype=torch.long)
    unit_t = torch.tensor(units, dtype=torch.long)
    x = out[:, pos_t][:, :, unit_t]                           # [b, P, U]
    kind = iv["kind"]
    if kind == "zero":
        new = torch.zeros_like(x)
    elif kind == "interchange":
        src = src_view.to(torch.float64)[torch.as_tensor(source_index, dtype=torch.long)]
        new = src[:, pos_t][:, :, unit_t]
    elif kind in ("project_onto", "project_off"):
        p = torch.from_numpy(projector64(tensors[iv["basis"]]))
        onto = x @ p                                           # p is symmetric
        new = onto if kind == "project_onto" else x - onto
    else:
        raise ValueError(kind)
    idx_p = pos_t[:, None]
    idx_u = unit_t[None, :]
    out[:, idx_p, idx_u] = new
    return out.to(act.dtype).reshape(shape)


# --------------------------------------------------------------------------------------
# PyTorch MLP (nn.Sequential): hook names, network.json, forward with hooks
# --------------------------------------------------------------------------------------

def seq_hook_modules(seq: nn.Sequential) -> dict:
    """hook name -> index of the module whose output is that hook ("hook_input": -1)."""
    mods = list(seq)
    lin = [i for i, m in enumerate(mods) if isinstance(m, nn.Linear)]
    hooks = {"hook_input": -1}
    for j, i in enumerate(lin):
        nxt = lin[j + 1] if j + 1 < len(lin) else len(mods)
        hooks[f"layers.{j}.hook_pre"] = i
        hooks[f"layers.{j}.hook_post"] = nxt - 1
    return hooks


def seq_network_json(seq: nn.Sequential, input_width: int) -> dict:
    layers = []
    for i, m in enumerate(seq):
        if isinstance(m, nn.Linear):
            op = {"op": "linear", "weight": f"{i}.weight", "layout": "out_in"}
            if m.bias is not None:
                op["bias"] = f"{i}.bias"
            layers.append(op)
        elif isinstance(m, nn.ReLU):
            layers.append({"op": "relu"})
        elif isinstance(m, nn.GELU):
            layers.append({"op": "gelu" if m.approximate == "none" else "gelu_tanh"})
        elif isinstance(m, nn.Tanh):
            layers.append({"op": "tanh"})
        elif isinstance(m, nn.Sigmoid):
            layers.append({"op": "sigmoid"})
        elif isinstance(m, nn.Identity):
            layers.append({"op": "identity"})
        elif isinstance(m, nn.Softmax):
            assert m.dim in (-1, 1)
            layers.append({"op": "softmax"})
        elif isinstance(m, nn.LayerNorm):
            op = {"op": "layernorm"}
            if m.elementwise_affine:
                op["weight"] = f"{i}.weight"
                op["bias"] = f"{i}.bias"
            op["eps"] = m.eps
            layers.append(op)
        else:
            raise TypeError(m)
    return {"retort_network": 1, "preset": "mlp", "input_width": input_width, "layers": layers}


def run_with_hooks(model: nn.Module, x: torch.Tensor, hook_modules: dict, capture: bool = True,
                   interventions: list | None = None, tensors: dict | None = None,
                   source_cache: dict | None = None, source_index=None):
    """Forward pass with forward hooks. hook_modules: hook name -> the nn.Module whose output is
    that hook ("hook_input" is the input itself). Interventions are applied by forward hooks
    that return the replaced output, so everything downstream is recomputed; with capture, the
    hook values (after any intervention) are returned in `cache`."""
    cache = {}
    handles = []

    def make(name):
        def fn(_mod, _inp, out):
            for iv in interventions or []:
                if iv["hook"] == name:
                    src = None if source_cache is None else source_cache.get(name)
                    out = torch_apply(out, iv, tensors, src, source_index)
            if capture:
                cache[name] = out.detach().clone()
            return out
        return fn

    # Hooks sharing a module (hook_pre == hook_post when no non-linearity follows a linear)
    # run in registration order: pre before post.
    ordered = sorted(hook_modules.items(), key=lambda kv: 0 if kv[0].endswith("hook_pre") else 1)
    for name, mod in ordered:
        if name == "hook_input":
            continue
        handles.append(mod.register_forward_hook(make(name)))
    try:
        with torch.no_grad():
            if "hook_input" in hook_modules:
                x = make("hook_input")(None, None, x)
            out = model(x)
    finally:
        for h in handles:
            h.remove()
    return out, cache


def seq_hooks(seq: nn.Sequential) -> dict:
    mods = list(seq)
    return {k: (None if v < 0 else mods[v]) for k, v in seq_hook_modules(seq).items()}


def torch_interventions(model, hook_modules, cases: list, tensors: dict):
    """Computes each case's expected output in PyTorch (float32), stores it in `tensors`."""
    for case in cases:
        base = torch.from_numpy(tensors[case["base_input"]])
        source_cache, sidx = None, None
        if "source_input" in case:
            src = torch.from_numpy(tensors[case["source_input"]])
            _, source_cache = run_with_hooks(model, src, hook_modules)
            sidx = tensors[case["source_index"]]
        out, _ = run_with_hooks(model, base, hook_modules, capture=False,
                                interventions=case["interventions"], tensors=tensors,
                                source_cache=source_cache, source_index=sidx)
        tensors[case["expected_output"]] = f32(out)


def sequential_reference(seq: nn.Sequential, x: np.ndarray) -> dict:
    out, cache = run_with_hooks(seq, torch.from_numpy(f32(x)), seq_hooks(seq))
    ref = {"input": f32(x), "output": f32(out)}
    for k, v in cache.items():
        ref[k] = f32(v)
    return ref


def torch_state(model: nn.Module) -> dict:
    return {k: v.detach().to(torch.float32).contiguous().clone() for k, v in model.state_dict().items()}


# --------------------------------------------------------------------------------------
# TransformerLens-style transformer (the HookedTransformer math; see formats/network.md)
# --------------------------------------------------------------------------------------

class HookPoint(nn.Module):
    def forward(self, x):
        return x


class TLLayerNorm(nn.Module):
    """TransformerLens LayerNorm (affine=True) / LayerNormPre (affine=False)."""

    def __init__(self, d: int, eps: float, affine: bool):
        super().__init__()
        self.eps, self.affine = eps, affine
        if affine:
            self.w = nn.Parameter(torch.ones(d))
            self.b = nn.Parameter(torch.zeros(d))
        self.hook_normalized = HookPoint()

    def forward(self, x):
        x = x - x.mean(-1, keepdim=True)
        scale = (x.pow(2).mean(-1, keepdim=True) + self.eps).sqrt()
        x = x / scale
        if self.affine:
            x = x * self.w + self.b
        return self.hook_normalized(x)


def make_ln(cfg, d):
    nt = cfg["normalization_type"]
    if nt == "LN":
        return TLLayerNorm(d, cfg["eps"], True)
    if nt == "LNPre":
        return TLLayerNorm(d, cfg["eps"], False)
    assert nt is None
    return nn.Identity()


def batch_addmm(bias, weight, x):
    """TransformerLens utilities.addmm.batch_addmm: x @ weight + bias over leading axes."""
    out = torch.addmm(bias, x.reshape(-1, x.shape[-1]), weight)
    return out.reshape(*x.shape[:-1], weight.shape[-1])


def attn_linear(x, w, b):
    """TransformerLens simple_attn_linear: [b,p,d] x [h,d,e] + [h,e] -> [b,p,h,e]."""
    h, d, e = w.shape
    w2 = w.permute(0, 2, 1).reshape(h * e, d)
    return F.linear(x, w2, b.reshape(h * e)).reshape(x.shape[0], x.shape[1], h, e)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ACT = {"relu": F.relu, "gelu": F.gelu, "gelu_new": gelu_new}


class TLAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, d, e = cfg["n_heads"], cfg["d_model"], cfg["d_head"]
        self.W_Q = nn.Parameter(torch.empty(h, d, e))
        self.W_K = nn.Parameter(torch.empty(h, d, e))
        self.W_V = nn.Parameter(torch.empty(h, d, e))
        self.W_O = nn.Parameter(torch.empty(h, e, d))
        self.b_Q = nn.Parameter(torch.zeros(h, e))
        self.b_K = nn.Parameter(torch.zeros(h, e))
        self.b_V = nn.Parameter(torch.zeros(h, e))
        self.b_O = nn.Parameter(torch.zeros(d))
        self.attn_scale = math.sqrt(e)
        for n in ("hook_q", "hook_k", "hook_v", "hook_attn_scores", "hook_pattern", "hook_z"):
            setattr(self, n, HookPoint())

    def forward(self, x):
        q = self.hook_q(attn_linear(x, self.W_Q, self.b_Q))
        k = self.hook_k(attn_linear(x, self.W_K, self.b_K))
        v = self.hook_v(attn_linear(x, self.W_V, self.b_V))
        scores = q.permute(0, 2, 1, 3) @ k.permute(0, 2, 3, 1) / self.attn_scale   # [b,h,q,k]
        seq = x.shape[1]
        mask = torch.tril(torch.ones(seq, seq, dtype=torch.bool))
        scores = torch.where(mask, scores, torch.tensor(-torch.inf))
        scores = self.hook_attn_scores(scores)
        pattern = F.softmax(scores, dim=-1)
        pattern = torch.where(torch.isnan(pattern), torch.zeros_like(pattern), pattern)
        pattern = self.hook_pattern(pattern)
        z = self.hook_z((pattern @ v.permute(0, 2, 1, 3)).permute(0, 2, 1, 3))       # [b,p,h,e]
        h, e, d = self.W_O.shape
        w = self.W_O.reshape(h * e, d).T                                              # d (h e)
        return F.linear(z.reshape(z.shape[0], z.shape[1], h * e), w, self.b_O)


class TLMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, m = cfg["d_model"], cfg["d_mlp"]
        self.W_in = nn.Parameter(torch.empty(d, m))
        self.b_in = nn.Parameter(torch.zeros(m))
        self.W_out = nn.Parameter(torch.empty(m, d))
        self.b_out = nn.Parameter(torch.zeros(d))
        self.act = ACT[cfg["act_fn"]]
        self.hook_pre = HookPoint()
        self.hook_post = HookPoint()

    def forward(self, x):
        pre = self.hook_pre(batch_addmm(self.b_in, self.W_in, x))
        post = self.hook_post(self.act(pre))
        return batch_addmm(self.b_out, self.W_out, post)


class TLBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attn_only = cfg["attn_only"]
        self.ln1 = make_ln(cfg, cfg["d_model"])
        self.attn = TLAttention(cfg)
        self.hook_resid_pre = HookPoint()
        self.hook_attn_out = HookPoint()
        self.hook_resid_post = HookPoint()
        if not self.attn_only:
            self.ln2 = make_ln(cfg, cfg["d_model"])
            self.mlp = TLMLP(cfg)
            self.hook_resid_mid = HookPoint()   # TransformerLens has no resid_mid when attn_only
            self.hook_mlp_out = HookPoint()

    def forward(self, resid_pre):
        resid_pre = self.hook_resid_pre(resid_pre)
        attn_out = self.hook_attn_out(self.attn(self.ln1(resid_pre)))
        if self.attn_only:
            return self.hook_resid_post(resid_pre + attn_out)
        resid_mid = self.hook_resid_mid(resid_pre + attn_out)
        mlp_out = self.hook_mlp_out(self.mlp(self.ln2(resid_mid)))
        return self.hook_resid_post(resid_mid + mlp_out)


class _Embed(nn.Module):
    def __init__(self, v, d):
        super().__init__()
        self.W_E = nn.Parameter(torch.empty(v, d))


class _PosEmbed(nn.Module):
    def __init__(self, n, d):
        super().__init__()
        self.W_pos = nn.Parameter(torch.empty(n, d))


class _Unembed(nn.Module):
    def __init__(self, d, v):
        super().__init__()
        self.W_U = nn.Parameter(torch.empty(d, v))
        self.b_U = nn.Parameter(torch.zeros(v))


class TLTransformer(nn.Module):
    """Module and parameter names follow HookedTransformer, so state_dict() has TL's names."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d = cfg["d_model"]
        self.embed = _Embed(cfg["d_vocab"], d)
        self.pos_embed = _PosEmbed(cfg["n_ctx"], d)
        self.hook_embed = HookPoint()
        self.hook_pos_embed = HookPoint()
        self.blocks = nn.ModuleList([TLBlock(cfg) for _ in range(cfg["n_layers"])])
        if cfg["normalization_type"] is not None:
            self.ln_final = make_ln(cfg, d)
        self.unembed = _Unembed(d, cfg["d_vocab_out"])

    def forward(self, tokens):
        b, p = tokens.shape
        embed = self.hook_embed(self.embed.W_E[tokens, :])
        pos = self.hook_pos_embed(self.pos_embed.W_pos[:p, :].unsqueeze(0).expand(b, p, -1))
        resid = embed + pos
        for block in self.blocks:
            resid = block(resid)
        if self.cfg["normalization_type"] is not None:
            resid = self.ln_final(resid)
        return batch_addmm(self.unembed.b_U, self.unembed.W_U, resid)

    def hook_points(self) -> dict:
        return {n: m for n, m in self.named_modules() if isinstance(m, HookPoint)}


def tl_config(**kw) -> dict:
    cfg = {"n_layers": None, "d_model": None, "n_heads": None, "d_head": None, "d_mlp": None,
           "d_vocab": None, "d_vocab_out": None, "n_ctx": None, "act_fn": None,
           "normalization_type": None, "attn_only": False, "eps": 1e-5,
           "positional_embedding_type": "standard"}
    cfg.update(kw)
    return cfg


def tl_reference(model: TLTransformer, tokens: np.ndarray) -> dict:
    out, cache = run_with_hooks(model, torch.from_numpy(i64(tokens)), model.hook_points())
    ref = {"input": i64(tokens), "output": f32(out)}
    for k, v in cache.items():
        ref[k] = f32(v)
    return ref


def tl_state(model: TLTransformer) -> dict:
    sd = torch_state(model)
    assert not any(k.endswith(("IGNORE", "mask")) for k in sd)
    return sd


# --------------------------------------------------------------------------------------
# scikit-learn MLPs
# --------------------------------------------------------------------------------------

def sklearn_round_to_f32(clf: MLPClassifier) -> float:
    """Rounds coefs_/intercepts_ to float32-representable values in place (so the saved F32
    weights ARE the model that predict_proba runs). Returns the largest absolute change."""
    delta = 0.0
    for lst in (clf.coefs_, clf.intercepts_):
        for i, a in enumerate(lst):
            r = a.astype(np.float32).astype(np.float64)
            delta = max(delta, float(np.max(np.abs(r - a))))
            lst[i] = r
    return delta


def sklearn_forward64(clf: MLPClassifier, X: np.ndarray) -> dict:
    """scikit-learn's MLP forward pass (_forward_pass_fast) in float64, keeping every hook."""
    assert clf.activation == "relu" and clf.out_activation_ == "softmax"
    hooks = {"hook_input": np.asarray(X, dtype=np.float64)}
    act = hooks["hook_input"]
    n = len(clf.coefs_)
    for i in range(n):
        pre = act @ clf.coefs_[i] + clf.intercepts_[i]
        hooks[f"layers.{i}.hook_pre"] = pre.copy()
        if i < n - 1:
            post = np.maximum(pre, 0)
        else:
            tmp = pre - pre.max(axis=1)[:, np.newaxis]
            post = np.exp(tmp)
            post /= post.sum(axis=1)[:, np.newaxis]
        hooks[f"layers.{i}.hook_post"] = post
        act = post
    return hooks


def sklearn_export(clf: MLPClassifier, input_width: int):
    tensors = {}
    layers = []
    n = len(clf.coefs_)
    for i in range(n):
        tensors[f"coefs_.{i}"] = f32(clf.coefs_[i])
        tensors[f"intercepts_.{i}"] = f32(clf.intercepts_[i])
        layers.append({"op": "linear", "weight": f"coefs_.{i}", "bias": f"intercepts_.{i}",
                       "layout": "in_out"})
        layers.append({"op": "relu"} if i < n - 1 else {"op": "softmax"})
    net = {"retort_network": 1, "preset": "mlp", "input_width": input_width, "layers": layers}
    return tensors, net


def sklearn_reference(clf: MLPClassifier, X: np.ndarray) -> dict:
    hooks = sklearn_forward64(clf, X)
    proba = clf.predict_proba(X)
    n = len(clf.coefs_)
    diff = np.max(np.abs(proba - hooks[f"layers.{n - 1}.hook_post"]))
    assert diff < 1e-12, f"numpy replica of scikit-learn's forward pass differs by {diff}"
    ref = {"input": f32(X), "output": f32(proba)}
    for k, v in hooks.items():
        ref[k] = f32(v)
    return ref


def fit_quiet(clf, X, y):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always", ConvergenceWarning)
        t0 = time.perf_counter()
        clf.fit(X, y)
        secs = time.perf_counter() - t0
    converged = not any(issubclass(x.category, ConvergenceWarning) for x in w)
    return secs, converged


def mlp_params(clf) -> dict:
    p = clf.get_params()
    return {k: p[k] for k in ("hidden_layer_sizes", "activation", "solver", "alpha", "batch_size",
                              "learning_rate_init", "max_iter", "tol", "n_iter_no_change",
                              "early_stopping", "random_state", "shuffle", "beta_1", "beta_2")}


# --------------------------------------------------------------------------------------
# 1. addition_mlp
# --------------------------------------------------------------------------------------

def addition_encode(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    X = np.zeros((len(a), 40), dtype=np.float64)
    r = np.arange(len(a))
    X[r, a // 10] = 1
    X[r, 10 + a % 10] = 1
    X[r, 20 + b // 10] = 1
    X[r, 30 + b % 10] = 1
    return X


def build_addition_mlp(args) -> Built:
    name = "addition_mlp"
    seed = SEEDS[name]
    rng = np.random.default_rng(seed)
    idx = np.arange(10000)
    a, b = idx // 100, idx % 100
    X, y = addition_encode(a, b), a + b
    perm = rng.permutation(10000)
    n_train = 6500
    train_idx, test_idx = np.sort(perm[:n_train]), np.sort(perm[n_train:])
    clf = MLPClassifier(hidden_layer_sizes=(256,), activation="relu", solver="adam", alpha=1e-4,
                        batch_size=200, learning_rate_init=1e-3, max_iter=200, tol=1e-6,
                        n_iter_no_change=20, random_state=seed)
    secs, converged = fit_quiet(clf, X[train_idx], y[train_idx])
    delta = sklearn_round_to_f32(clf)
    train_acc = clf.score(X[train_idx], y[train_idx])
    test_acc = clf.score(X[test_idx], y[test_idx])
    classes = [int(c) for c in clf.classes_]
    missing = sorted(set(range(199)) - set(classes))

    ref_idx = np.sort(np.concatenate([rng.choice(train_idx, 128, replace=False),
                                      rng.choice(test_idx, 128, replace=False)]))
    reference = sklearn_reference(clf, X[ref_idx])
    tensors, net = sklearn_export(clf, 40)
    info = {
        "name": name,
        "task": "two-digit addition a + b, a, b in 0..99; classify the sum",
        "input_encoding": "40 one-hot features: [tens(a) 0..9, units(a) 0..9, tens(b) 0..9, units(b) 0..9]; "
                          "feature indices 10*k + digit for k = 0..3",
        "framework": framework("scikit-learn"),
        "architecture": "MLPClassifier 40 -> 256 relu -> softmax over len(classes) sums",
        "training": {**mlp_params(clf), "n_iter": int(clf.n_iter_), "converged": converged,
                     "input_dtype": "float64", "final_loss": float(clf.loss_)},
        "weights_rounded_to_float32": {"max_abs_change": delta, "note":
                                       "coefs_/intercepts_ were rounded to float32 after fit; accuracies and "
                                       "reference outputs are those of the rounded model (the saved weights)"},
        "seeds": {"numpy_generator": seed, "random_state": seed},
        "split": {"description": "random 65% of the 10,000 pairs (numpy Generator(seed).permutation) for "
                                 "training, the other 35% held out; train_indices.npy holds the training "
                                 "pairs' indices 100*a + b (sorted)",
                  "n_train": int(n_train), "n_test": int(10000 - n_train)},
        "train_accuracy": acc_round(train_acc), "test_accuracy": acc_round(test_acc),
        "train_seconds": round(secs, 2),
        "classes": classes,
        "class_map": "output column j is the sum classes[j] (scikit-learn classes_: the sums present in the "
                     "training set)",
        "sums_absent_from_training": missing,
        "reference": {"n": int(len(ref_idx)), "pair_index": [int(i) for i in ref_idx],
                      "n_in_train": int(np.isin(ref_idx, train_idx).sum()),
                      "output": "predict_proba (float64, stored float32)",
                      "hooks": "float64 numpy replica of scikit-learn's forward pass from coefs_/intercepts_"},
    }
    meta = {"classes": json.dumps(classes)}
    return Built(name, tensors, meta, net, reference, info, npy={"train_indices.npy": i64(train_idx)})


# --------------------------------------------------------------------------------------
# 6. digits_mlp
# --------------------------------------------------------------------------------------

def build_digits_mlp(args) -> Built:
    name = "digits_mlp"
    seed = SEEDS[name]
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float64)
    idx = np.arange(len(y))
    train_idx, test_idx = train_test_split(idx, test_size=0.25, random_state=seed, stratify=y)
    train_idx, test_idx = np.sort(train_idx), np.sort(test_idx)
    clf = MLPClassifier(hidden_layer_sizes=(64,), activation="relu", solver="adam", alpha=1e-4,
                        batch_size=200, learning_rate_init=1e-3, max_iter=500, tol=1e-5,
                        n_iter_no_change=20, random_state=seed)
    secs, converged = fit_quiet(clf, X[train_idx], y[train_idx])
    delta = sklearn_round_to_f32(clf)
    train_acc = clf.score(X[train_idx], y[train_idx])
    test_acc = clf.score(X[test_idx], y[test_idx])
    classes = [int(c) for c in clf.classes_]
    assert classes == list(range(10))
    rng = np.random.default_rng(seed)
    ref_idx = np.sort(np.concatenate([rng.choice(train_idx, 128, replace=False),
                                      rng.choice(test_idx, 128, replace=False)]))
    reference = sklearn_reference(clf, X[ref_idx])
    tensors, net = sklearn_export(clf, 64)
    info = {
        "name": name,
        "task": "handwritten digit classification, scikit-learn's bundled load_digits (1,797 8x8 images)",
        "input_encoding": "the 64 raw pixel features (integers 0..16, row-major 8x8), unscaled, as float32",
        "framework": framework("scikit-learn"),
        "architecture": "MLPClassifier 64 -> 64 relu -> 10 softmax",
        "training": {**mlp_params(clf), "n_iter": int(clf.n_iter_), "converged": converged,
                     "input_dtype": "float64", "final_loss": float(clf.loss_)},
        "weights_rounded_to_float32": {"max_abs_change": delta, "note":
                                       "coefs_/intercepts_ were rounded to float32 after fit; accuracies and "
                                       "reference outputs are those of the rounded model (the saved weights)"},
        "seeds": {"train_test_split_random_state": seed, "mlp_random_state": seed,
                  "reference_numpy_generator": seed},
        "split": {"description": "sklearn.model_selection.train_test_split(test_size=0.25, stratify=y, "
                                 "random_state=seed) over the sample indices; train_indices.npy holds the "
                                 "training sample indices into load_digits() (sorted)",
                  "n_train": int(len(train_idx)), "n_test": int(len(test_idx))},
        "train_accuracy": acc_round(train_acc), "test_accuracy": acc_round(test_acc),
        "train_seconds": round(secs, 2),
        "classes": classes,
        "reference": {"n": int(len(ref_idx)), "sample_index": [int(i) for i in ref_idx],
                      "n_in_train": int(np.isin(ref_idx, train_idx).sum()),
                      "output": "predict_proba (float64, stored float32)",
                      "hooks": "float64 numpy replica of scikit-learn's forward pass from coefs_/intercepts_"},
    }
    meta = {"classes": json.dumps(classes)}
    return Built(name, tensors, meta, net, reference, info, npy={"train_indices.npy": i64(train_idx)})


# --------------------------------------------------------------------------------------
# 2. modular_addition (Nanda et al. 2023)
# --------------------------------------------------------------------------------------

P_MOD = 113


def modadd_tokens(idx: np.ndarray) -> np.ndarray:
    a, b = idx // P_MOD, idx % P_MOD
    return np.stack([a, b, np.full_like(a, P_MOD)], axis=1).astype(np.int64)


def last_position_logits(model: TLTransformer, tokens: torch.Tensor) -> torch.Tensor:
    """Training fast path for a 1-layer, normalization-free model: the logits at the last position
    only. Mathematically identical to model(tokens)[:, -1] (asserted after training); only the
    order of floating-point operations differs:
    - with no LayerNorm the residual stream at position p is W_E[token] + W_pos[p], so queries,
      keys and values are computed once per (position, vocabulary entry) and gathered;
    - the MLP and the unembedding run at the last position only (in one layer the MLP outputs at
      earlier positions never reach the last position's logits), and the last query attends to
      every key, so no mask is needed."""
    cfg = model.cfg
    assert cfg["n_layers"] == 1 and cfg["normalization_type"] is None and not cfg["attn_only"]
    at, mlp = model.blocks[0].attn, model.blocks[0].mlp
    n, p = tokens.shape
    h, e, d = at.W_O.shape
    vocab = model.embed.W_E.shape[0]
    tab = (model.embed.W_E[None, :, :] + model.pos_embed.W_pos[:p, None, :]).reshape(p * vocab, d)
    rows = (torch.arange(p) * vocab)[None, :] + tokens                               # [n, p]
    k_tab = attn_linear(tab[None], at.W_K, at.b_K)[0].reshape(p * vocab, h * e)
    v_tab = attn_linear(tab[None], at.W_V, at.b_V)[0].reshape(p * vocab, h * e)
    q_tab = attn_linear(tab[None, (p - 1) * vocab:], at.W_Q, at.b_Q)[0].reshape(vocab, h * e)
    k = torch.index_select(k_tab, 0, rows.reshape(-1)).reshape(n, p, h, e)
    v = torch.index_select(v_tab, 0, rows.reshape(-1)).reshape(n, p, h, e)
    q = torch.index_select(q_tab, 0, tokens[:, -1]).reshape(n, 1, h, e)
    scores = q.permute(0, 2, 1, 3) @ k.permute(0, 2, 3, 1) / at.attn_scale          # [n,h,1,p]
    pattern = F.softmax(scores, dim=-1)
    z = (pattern @ v.permute(0, 2, 1, 3)).permute(0, 2, 1, 3)                       # [n,1,h,e]
    attn_out = F.linear(z.reshape(n, h * e), at.W_O.reshape(h * e, d).T, at.b_O)
    resid = torch.index_select(tab, 0, rows[:, -1]) + attn_out
    resid = resid + torch.addmm(mlp.b_out, mlp.act(torch.addmm(mlp.b_in, resid, mlp.W_in)), mlp.W_out)
    return torch.addmm(model.unembed.b_U, resid, model.unembed.W_U)


def build_modular_addition(args) -> Built:
    name = "modular_addition"
    seed = SEEDS[name]
    p = P_MOD
    cfg = tl_config(n_layers=1, d_model=128, n_heads=4, d_head=32, d_mlp=512, d_vocab=p + 1,
                    d_vocab_out=p, n_ctx=3, act_fn="relu", normalization_type=None)
    torch.manual_seed(seed)
    model = TLTransformer(cfg)
    init_std = 0.8 / math.sqrt(cfg["d_model"])       # TransformerLens default initializer_range
    for n_, prm in model.named_parameters():
        if n_.split(".")[-1].startswith("W_"):
            nn.init.normal_(prm, std=init_std)
        else:
            nn.init.zeros_(prm)
            prm.requires_grad_(False)                # Nanda et al. freeze every bias at zero
    rng = np.random.default_rng(seed)
    all_idx = np.arange(p * p)
    perm = rng.permutation(p * p)
    n_train = int(0.3 * p * p)
    train_idx, test_idx = np.sort(perm[:n_train]), np.sort(perm[n_train:])
    toks = torch.from_numpy(modadd_tokens(all_idx))
    labels = torch.from_numpy((all_idx // p + all_idx % p) % p)
    tr_t, tr_y = toks[train_idx], labels[train_idx]
    te_t, te_y = toks[test_idx], labels[test_idx]
    params = [q for q in model.parameters() if q.requires_grad]
    lr, wd, betas = 1e-3, 1.0, (0.9, 0.98)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=wd, betas=betas)
    max_steps, eval_every, target = args.max_steps, 100, 0.995
    history = []
    t0 = time.perf_counter()
    step, test_acc, train_acc, loss_v = 0, 0.0, 0.0, float("nan")
    stop_reason = "max_steps"
    while step < max_steps:
        logits = last_position_logits(model, tr_t).to(torch.float64)
        loss = F.cross_entropy(logits, tr_y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % eval_every == 0 or step == max_steps:
            with torch.no_grad():
                train_acc = (last_position_logits(model, tr_t).argmax(-1) == tr_y).double().mean().item()
                te_logits = last_position_logits(model, te_t).to(torch.float64)
                test_acc = (te_logits.argmax(-1) == te_y).double().mean().item()
                test_loss = F.cross_entropy(te_logits, te_y).item()
            loss_v = loss.item()
            done = test_acc >= target and train_acc == 1.0
            if step % 1000 == 0 or done or step == max_steps:
                history.append({"step": step, "train_loss": round(loss_v, 6), "test_loss": round(test_loss, 6),
                                "train_accuracy": acc_round(train_acc), "test_accuracy": acc_round(test_acc)})
                print(f"    step {step:6d}  train loss {loss_v:.4g}  test loss {test_loss:.4g}  "
                      f"train acc {train_acc:.4f}  test acc {test_acc:.4f}  "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
            if done:
                stop_reason = f"test accuracy >= {target} (checked every {eval_every} steps)"
                break
    secs = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        full = model(toks)[:, -1]
        fast = last_position_logits(model, toks)
        assert torch.allclose(full, fast, rtol=1e-4, atol=1e-4), "training fast path != full forward"
        pred = full.argmax(-1)
        train_acc = (pred[train_idx] == tr_y).double().mean().item()
        test_acc = (pred[test_idx] == te_y).double().mean().item()

    ref_idx = np.sort(np.concatenate([rng.choice(train_idx, 64, replace=False),
                                      rng.choice(test_idx, 64, replace=False)]))
    reference = tl_reference(model, modadd_tokens(ref_idx))

    # Interventions
    hp = model.hook_points()
    base_idx = rng.choice(all_idx, 32, replace=False)
    src_idx = rng.choice(np.setdiff1d(all_idx, base_idx), 32, replace=False)
    base_t, src_t = modadd_tokens(base_idx), modadd_tokens(src_idx)
    source_index = i64(rng.integers(0, 32, size=32))
    # 64 neurons: the most variable ones at position 2 over the reference set (so the
    # interchange matters), in increasing index order.
    post = reference["blocks.0.mlp.hook_post"][:, 2, :]
    neurons = sorted(int(i) for i in np.argsort(-post.std(axis=0), kind="stable")[:64])
    basis = f32(rng.standard_normal((8, cfg["d_model"])))
    T = {}
    cases = []

    def add_case(cname, ivs, with_source):
        T[f"{cname}.base_input"] = base_t
        case = {"name": cname, "interventions": ivs, "base_input": f"{cname}.base_input"}
        if with_source:
            T[f"{cname}.source_input"] = src_t
            T[f"{cname}.source_index"] = source_index
            case["source_input"] = f"{cname}.source_input"
            case["source_index"] = f"{cname}.source_index"
        case["expected_output"] = f"{cname}.output"
        cases.append(case)

    T["resid_mid_subspace.basis"] = basis
    add_case("interchange_mlp_neurons",
             [{"hook": "blocks.0.mlp.hook_post", "kind": "interchange", "positions": [2], "units": neurons}], True)
    add_case("project_onto_resid_mid",
             [{"hook": "blocks.0.hook_resid_mid", "kind": "project_onto", "positions": [2],
               "basis": "resid_mid_subspace.basis"}], False)
    add_case("project_off_resid_mid",
             [{"hook": "blocks.0.hook_resid_mid", "kind": "project_off", "positions": [2],
               "basis": "resid_mid_subspace.basis"}], False)
    add_case("interchange_head1_z",
             [{"hook": "blocks.0.attn.hook_z", "kind": "interchange", "positions": [2],
               "units": list(range(32, 64))}], True)
    add_case("zero_attn_out_all_positions",
             [{"hook": "blocks.0.hook_attn_out", "kind": "zero"}], False)
    torch_interventions(model, hp, cases, T)
    with torch.no_grad():
        clean = model(torch.from_numpy(base_t))[:, -1].argmax(-1).numpy()
    effects = {}
    for c in cases:
        pred_c = T[c["expected_output"]][:, -1].argmax(-1)
        effects[c["name"]] = {"last_position_argmax_changed": int((pred_c != clean).sum()), "of": 32}

    tensors = tl_state(model)
    meta = {"transformer_lens_config": json.dumps(cfg)}
    net = {"retort_network": 1, "preset": "transformer", "config": "metadata"}
    info = {
        "name": name,
        "task": f"(a + b) mod {p}; input tokens [a, b, {p}] ({p} is the '=' token); the answer is read from "
                "the logits at the last position (argmax over 113 classes, class c = value c)",
        "framework": framework("pytorch"),
        "architecture": "TransformerLens-style HookedTransformer (own module, TL names and math), 1 layer, "
                        "no LayerNorm, relu MLP; config in model.safetensors metadata "
                        "'transformer_lens_config'",
        "config": cfg,
        "training": {"optimizer": "AdamW", "lr": lr, "weight_decay": wd, "betas": list(betas),
                     "batch": "full batch (all training pairs every step)",
                     "loss": "cross-entropy (float64) on the logits at the last position",
                     "init": f"W_* ~ Normal(0, {init_std:.6g}) (0.8/sqrt(d_model), TransformerLens default); "
                             "all biases zero and frozen (requires_grad False), as in Nanda et al.",
                     "dtype": "float32", "max_steps": max_steps, "steps": step, "stop_reason": stop_reason,
                     "final_train_loss": loss_v, "history": history},
        "seeds": {"torch_manual_seed": seed, "numpy_generator": seed},
        "split": {"description": "random 30% of the 113*113 pairs (numpy Generator(seed).permutation, first "
                                 "int(0.3*12769) = 3830) for training, the rest held out; train_indices.npy "
                                 "holds index 113*a + b (sorted)",
                  "n_train": int(n_train), "n_test": int(p * p - n_train)},
        "train_accuracy": acc_round(train_acc), "test_accuracy": acc_round(test_acc),
        "train_seconds": round(secs, 2),
        "classes": "output column c is the residue c (0..112)",
        "reference": {"n": int(len(ref_idx)), "pair_index": [int(i) for i in ref_idx],
                      "n_in_train": int(np.isin(ref_idx, train_idx).sum()),
                      "output": "logits [N, 3, 113] (all positions)"},
        "interventions": {
            "base_pair_index": [int(i) for i in base_idx], "source_pair_index": [int(i) for i in src_idx],
            "interchange_mlp_neurons": "blocks.0.mlp.hook_post at position 2, the 64 neurons with the largest "
                                       "standard deviation over the reference inputs, from source example "
                                       "source_index[b]",
            "project_onto_resid_mid": "blocks.0.hook_resid_mid at position 2 projected onto the row space of "
                                      "an 8x128 standard-normal basis (not orthonormal; expected output uses the "
                                      "orthogonal projector onto its row space)",
            "project_off_resid_mid": "the same subspace projected out (x - P x)",
            "interchange_head1_z": "blocks.0.attn.hook_z at position 2, units 32..63 = head 1 (units index "
                                   "the flattened head*d_head features)",
            "zero_attn_out_all_positions": "blocks.0.hook_attn_out zeroed at every position (no 'positions')",
            "effect_on_prediction": effects},
    }
    return Built(name, tensors, meta, net, reference, info, cases, T,
                 npy={"train_indices.npy": i64(train_idx)}, torch_model=True)


# --------------------------------------------------------------------------------------
# 3. boolean_circuit_handwired
# --------------------------------------------------------------------------------------

BOOL_X = np.array([[(i >> 3) & 1, (i >> 2) & 1, (i >> 1) & 1, i & 1] for i in range(16)], dtype=np.float32)
BOOL_Y = ((BOOL_X[:, 0] != BOOL_X[:, 1]) & (BOOL_X[:, 2] == 1)).astype(np.int64)
BOOL_INPUT_DOC = "the 16 rows are all x in {0,1}^4 in binary order: row i = [x1, x2, x3, x4] = bits of i (x1 most significant)"


def build_boolean_handwired(args) -> Built:
    name = "boolean_circuit_handwired"
    s = 4.0
    seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2), nn.ReLU(),
                        nn.Linear(2, 1), nn.ReLU(), nn.Linear(1, 2))
    with torch.no_grad():
        seq[0].weight.copy_(torch.tensor([[1., -1., 0., 0.], [-1., 1., 0., 0.], [0., 0., 1., 0.]]))
        seq[0].bias.zero_()
        seq[2].weight.copy_(torch.tensor([[1., 1., 0.], [0., 0., 1.]]))
        seq[2].bias.zero_()
        seq[4].weight.copy_(torch.tensor([[1., 1.]]))
        seq[4].bias.copy_(torch.tensor([-1.]))
        seq[6].weight.copy_(torch.tensor([[-s], [s]]))
        seq[6].bias.copy_(torch.tensor([s / 2, -s / 2]))
    reference = sequential_reference(seq, BOOL_X)
    x = BOOL_X
    # The named units compute exactly what they claim:
    x1, x2, x3 = x[:, 0], x[:, 1], x[:, 2]
    xor = (x1 != x2).astype(np.float32)
    assert np.array_equal(reference["layers.0.hook_post"], np.stack([np.maximum(x1 - x2, 0), np.maximum(x2 - x1, 0), x3], 1))
    assert np.array_equal(reference["layers.1.hook_post"], np.stack([xor, x3], 1))
    assert np.array_equal(reference["layers.2.hook_post"][:, 0], xor * x3)
    pred = reference["output"].argmax(1)
    acc = float((pred == BOOL_Y).mean())
    assert acc == 1.0

    hm = seq_hooks(seq)
    T, cases = {}, []
    # all 256 (base, source) combinations
    bi, si = np.meshgrid(np.arange(16), np.arange(16), indexing="ij")
    bi, si = bi.ravel(), si.ravel()

    def add_case(cname, ivs, base_rows, source_index=None):
        T[f"{cname}.base_input"] = f32(BOOL_X[base_rows])
        case = {"name": cname, "interventions": ivs, "base_input": f"{cname}.base_input"}
        if source_index is not None:
            T[f"{cname}.source_input"] = f32(BOOL_X)
            T[f"{cname}.source_index"] = i64(source_index)
            case["source_input"] = f"{cname}.source_input"
            case["source_index"] = f"{cname}.source_index"
        case["expected_output"] = f"{cname}.output"
        cases.append(case)

    add_case("interchange_xor", [{"hook": "layers.1.hook_post", "kind": "interchange", "units": [0]}], bi, si)
    T["project_onto_layer0.basis"] = f32([[1.0, 0.0, 1.0]])
    add_case("project_onto_layer0", [{"hook": "layers.0.hook_post", "kind": "project_onto",
                                      "basis": "project_onto_layer0.basis"}], np.arange(16))
    add_case("zero_x3_and_interchange_layer0_unit2",
             [{"hook": "layers.1.hook_post", "kind": "zero", "units": [1]},
              {"hook": "layers.0.hook_post", "kind": "interchange", "units": [2]}], bi, si)
    add_case("zero_layer0_unit0_and_interchange_x3",
             [{"hook": "layers.0.hook_post", "kind": "zero", "units": [0]},
              {"hook": "layers.1.hook_post", "kind": "interchange", "units": [1]}], bi, si)
    T["project_off_layer0_units02.basis"] = f32([[1.0, 2.0]])
    add_case("project_off_layer0_units02", [{"hook": "layers.0.hook_post", "kind": "project_off",
                                             "units": [0, 2], "basis": "project_off_layer0_units02.basis"}],
             np.arange(16))
    torch_interventions(seq, hm, cases, T)
    # Checks of the expected outputs against the circuit's logic
    o = T["interchange_xor.output"]
    want = (xor[si] * x3[bi])
    assert np.array_equal(o[:, 1] > o[:, 0], want == 1)
    o = T["zero_x3_and_interchange_layer0_unit2.output"]
    assert np.all(o == np.array([s / 2, -s / 2], dtype=np.float32))
    o = T["zero_layer0_unit0_and_interchange_x3.output"]
    want = (x2[bi] > x1[bi]) & (x3[si] == 1)
    assert np.array_equal(o[:, 1] > o[:, 0], want)

    info = {
        "name": name,
        "task": "y = (x1 XOR x2) AND x3 over x1..x4 in {0,1} (x4 is a distractor); class 1 = true",
        "inputs": BOOL_INPUT_DOC,
        "framework": framework("pytorch"),
        "architecture": "nn.Sequential(Linear(4,3), ReLU, Linear(3,2), ReLU, Linear(2,1), ReLU, Linear(1,2)), "
                        "weights written by hand (no training)",
        "weights": {
            "0 (Linear 4->3)": "rows [1,-1,0,0], [-1,1,0,0], [0,0,1,0]; bias 0",
            "2 (Linear 3->2)": "rows [1,1,0], [0,0,1]; bias 0",
            "4 (Linear 2->1)": "row [1,1]; bias -1",
            "6 (Linear 1->2)": f"column [-s, s], bias [s/2, -s/2], s = {s:g}: logits [-s*and + s/2, s*and - s/2]"},
        "units": {
            "layers.0.hook_post": {"0": "relu(x1 - x2) = x1 AND NOT x2", "1": "relu(x2 - x1) = x2 AND NOT x1",
                                   "2": "x3"},
            "layers.1.hook_post": {"0": "x1 XOR x2", "1": "x3"},
            "layers.2.hook_post": {"0": "(x1 XOR x2) AND x3"}},
        "seeds": {"note": "none needed: no randomness"},
        "train_accuracy": acc, "test_accuracy": None,
        "split": {"description": "no training; accuracy over all 16 inputs"},
        "train_seconds": None,
        "classes": "output column 0 = false, 1 = true",
        "reference": {"n": 16, "inputs": BOOL_INPUT_DOC, "output": "logits"},
        "interventions": {
            "pairs": "cases with a source use base_input = BOOL_X[i] and source_input = all 16 inputs with "
                     "source_index = j for every (i, j) (256 rows, i major)",
            "interchange_xor": "layers.1.hook_post unit 0 (XOR) from the source: the output is "
                               "XOR(source) AND x3(base)",
            "project_onto_layer0": "layers.0.hook_post onto the line spanned by [1, 0, 1] (not unit length)",
            "zero_x3_and_interchange_layer0_unit2": "layers.1.hook_post unit 1 (x3) zeroed, and layers.0.hook_post "
                                                    "unit 2 interchanged in the same run: the zero makes AND "
                                                    "false, so the output is constant [s/2, -s/2]",
            "zero_layer0_unit0_and_interchange_x3": "layers.0.hook_post unit 0 zeroed (XOR becomes x2 AND NOT x1) "
                                                    "and layers.1.hook_post unit 1 (x3) from the source: output "
                                                    "true iff x2 > x1 (base) and x3 (source)",
            "project_off_layer0_units02": "layers.0.hook_post units [0, 2] with the direction [1, 2] removed"},
    }
    meta = {"format": "pt"}
    return Built(name, torch_state(seq), meta, seq_network_json(seq, 4), reference, info, cases, T,
                 torch_model=True)


# --------------------------------------------------------------------------------------
# 4. boolean_circuit_learned
# --------------------------------------------------------------------------------------

def build_boolean_learned(args) -> Built:
    name = "boolean_circuit_learned"
    seed = SEEDS[name]
    torch.manual_seed(seed)
    seq = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
    X, Y = torch.from_numpy(BOOL_X), torch.from_numpy(BOOL_Y)
    opt = torch.optim.Adam(seq.parameters(), lr=1e-2)
    t0 = time.perf_counter()
    steps, max_steps = 0, 5000
    while steps < max_steps:
        loss = F.cross_entropy(seq(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
        with torch.no_grad():
            acc = (seq(X).argmax(1) == Y).float().mean().item()
            if acc == 1.0 and F.cross_entropy(seq(X), Y).item() < 1e-2:
                break
    secs = time.perf_counter() - t0
    with torch.no_grad():
        final_loss = F.cross_entropy(seq(X), Y).item()
    reference = sequential_reference(seq, BOOL_X)
    acc = float((reference["output"].argmax(1) == BOOL_Y).mean())
    assert acc == 1.0, "boolean_circuit_learned did not reach 100%"
    info = {
        "name": name,
        "task": "y = (x1 XOR x2) AND x3 over x1..x4 in {0,1} (x4 a distractor), learned; class 1 = true",
        "inputs": BOOL_INPUT_DOC,
        "framework": framework("pytorch"),
        "architecture": "nn.Sequential(Linear(4,16), ReLU, Linear(16,16), ReLU, Linear(16,2))",
        "training": {"optimizer": "Adam", "lr": 1e-2, "batch": "all 16 inputs", "loss": "cross-entropy",
                     "init": "PyTorch default (kaiming-uniform) after torch.manual_seed",
                     "stop": "100% accuracy and loss < 0.01", "steps": steps, "final_loss": final_loss},
        "seeds": {"torch_manual_seed": seed},
        "split": {"description": "all 16 inputs are the training set (no held-out set)"},
        "train_accuracy": acc, "test_accuracy": None, "train_seconds": round(secs, 2),
        "classes": "output column 0 = false, 1 = true",
        "reference": {"n": 16, "inputs": BOOL_INPUT_DOC, "output": "logits"},
    }
    meta = {"format": "pt"}
    return Built(name, torch_state(seq), meta, seq_network_json(seq, 4), reference, info, torch_model=True)


# --------------------------------------------------------------------------------------
# 5. memoriser
# --------------------------------------------------------------------------------------

def build_memoriser(args) -> Built:
    name = "memoriser"
    seed = SEEDS[name]
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    idx = np.arange(1024)
    a, b = idx // 32, idx % 32
    X = np.zeros((1024, 64), dtype=np.float32)
    X[idx, a] = 1
    X[idx, 32 + b] = 1
    labels = rng.integers(0, 10, size=1024).astype(np.int64)
    seq = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(labels)
    lr = 3e-3
    opt = torch.optim.Adam(seq.parameters(), lr=lr)
    t0 = time.perf_counter()
    steps, max_steps = 0, 20000
    acc = 0.0
    while steps < max_steps:
        loss = F.cross_entropy(seq(Xt), Yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
        if steps % 10 == 0:
            with torch.no_grad():
                acc = (seq(Xt).argmax(1) == Yt).float().mean().item()
            if acc == 1.0:
                break
    secs = time.perf_counter() - t0
    with torch.no_grad():
        logits = seq(Xt)
        final_loss = F.cross_entropy(logits, Yt).item()
        acc = (logits.argmax(1) == Yt).double().mean().item()
        top2 = logits.topk(2, dim=1).values
        min_margin = (top2[:, 0] - top2[:, 1]).min().item()
    assert acc == 1.0, "memoriser did not reach 100% training accuracy"
    ref_idx = np.sort(rng.choice(idx, 256, replace=False))
    reference = sequential_reference(seq, X[ref_idx])
    info = {
        "name": name,
        "task": "memorise uniformly random labels 0..9 for every pair (a, b), a, b in 0..31",
        "input_encoding": "64 one-hot features: [a one-hot 32, b one-hot 32]",
        "framework": framework("pytorch"),
        "architecture": "nn.Sequential(Linear(64,256), ReLU, Linear(256,10))",
        "training": {"optimizer": "Adam", "lr": lr, "batch": "all 1,024 pairs", "loss": "cross-entropy",
                     "init": "PyTorch default after torch.manual_seed",
                     "stop": "100% training accuracy (checked every 10 steps)", "steps": steps,
                     "final_loss": final_loss, "min_top1_top2_logit_margin": min_margin},
        "seeds": {"torch_manual_seed": seed, "numpy_generator": seed,
                  "labels": "numpy Generator(seed).integers(0, 10, 1024)"},
        "split": {"description": "all 1,024 pairs are training data; labels are random, so there is nothing to "
                                 "generalise to (chance is 10%)"},
        "labels_file": "labels.npy: int64 [1024], label of pair index 32*a + b",
        "train_accuracy": acc_round(acc), "test_accuracy": None, "train_seconds": round(secs, 2),
        "classes": "output column c is label c",
        "reference": {"n": 256, "pair_index": [int(i) for i in ref_idx], "output": "logits"},
    }
    meta = {"format": "pt"}
    return Built(name, torch_state(seq), meta, seq_network_json(seq, 64), reference, info,
                 npy={"labels.npy": labels}, torch_model=True)


# --------------------------------------------------------------------------------------
# 7. ops_mlp
# --------------------------------------------------------------------------------------

def build_ops_mlp(args) -> Built:
    name = "ops_mlp"
    seed = SEEDS[name]
    torch.manual_seed(seed)
    seq = nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.Linear(16, 16), nn.GELU(approximate="tanh"),
                        nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 12), nn.Sigmoid(), nn.Linear(12, 8),
                        nn.LayerNorm(8), nn.Linear(8, 5), nn.Softmax(dim=-1))
    with torch.no_grad():            # non-trivial LayerNorm affine parameters
        seq[9].weight.copy_(1.0 + 0.3 * torch.randn(8))
        seq[9].bias.copy_(0.3 * torch.randn(8))
    rng = np.random.default_rng(seed)
    X = f32(2.0 * rng.standard_normal((256, 6)))
    reference = sequential_reference(seq, X)
    info = {
        "name": name,
        "task": "none: an untrained network exercising every MLP op",
        "framework": framework("pytorch"),
        "architecture": "nn.Sequential(Linear(6,16), GELU(), Linear(16,16), GELU(approximate='tanh'), "
                        "Linear(16,12), Tanh(), Linear(12,12), Sigmoid(), Linear(12,8), LayerNorm(8), "
                        "Linear(8,5), Softmax(dim=-1))",
        "training": {"init": "PyTorch default Linear init after torch.manual_seed; LayerNorm weight "
                             "1 + 0.3*N(0,1), bias 0.3*N(0,1) (drawn from torch after the Linear inits)"},
        "seeds": {"torch_manual_seed": seed, "numpy_generator": seed},
        "inputs": "256 rows of 2*N(0,1) (numpy Generator(seed).standard_normal((256, 6)) * 2), float32",
        "train_accuracy": None, "test_accuracy": None, "train_seconds": None,
        "reference": {"n": 256, "output": "softmax probabilities"},
    }
    meta = {"format": "pt"}
    return Built(name, torch_state(seq), meta, seq_network_json(seq, 6), reference, info, torch_model=True)


# --------------------------------------------------------------------------------------
# 8. ops_transformer, ops_transformer_lnpre
# --------------------------------------------------------------------------------------

def random_init_transformer(model: TLTransformer, std: float):
    with torch.no_grad():
        for n_, prm in model.named_parameters():
            leaf = n_.split(".")[-1]
            if ".ln" in "." + n_ and leaf == "w":
                prm.copy_(1.0 + std * torch.randn_like(prm))
            else:
                prm.copy_(std * torch.randn_like(prm))


def build_ops_transformer(args) -> Built:
    name = "ops_transformer"
    seed = SEEDS[name]
    cfg = tl_config(n_layers=2, d_model=32, n_heads=4, d_head=8, d_mlp=64, d_vocab=20, d_vocab_out=20,
                    n_ctx=6, act_fn="gelu_new", normalization_type="LN")
    torch.manual_seed(seed)
    model = TLTransformer(cfg)
    random_init_transformer(model, 0.2)
    rng = np.random.default_rng(seed)
    toks = rng.integers(0, cfg["d_vocab"], size=(128, 6)).astype(np.int64)
    reference = tl_reference(model, toks)
    info = {
        "name": name,
        "task": "none: an untrained TransformerLens-style transformer exercising LN, gelu_new, 2 layers, "
                "biases; config INLINE in network.json",
        "framework": framework("pytorch"),
        "architecture": "TransformerLens-style HookedTransformer (own module, TL names and math)",
        "config": cfg,
        "training": {"init": "every parameter ~ Normal(0, 0.2) (biases included) except LayerNorm weights "
                             "~ 1 + Normal(0, 0.2), drawn in named_parameters() order after torch.manual_seed"},
        "seeds": {"torch_manual_seed": seed, "numpy_generator": seed},
        "inputs": "128 sequences of 6 tokens uniform in 0..19 (numpy Generator(seed).integers)",
        "train_accuracy": None, "test_accuracy": None, "train_seconds": None,
        "reference": {"n": 128, "seq": 6, "output": "logits [128, 6, 20]"},
    }
    meta = {"format": "pt"}
    net = {"retort_network": 1, "preset": "transformer", "config": cfg}
    return Built(name, tl_state(model), meta, net, reference, info, torch_model=True)


def build_ops_transformer_lnpre(args) -> Built:
    name = "ops_transformer_lnpre"
    seed = SEEDS[name]
    cfg = tl_config(n_layers=1, d_model=32, n_heads=4, d_head=8, d_mlp=None, d_vocab=20, d_vocab_out=20,
                    n_ctx=6, act_fn="gelu", normalization_type="LNPre", attn_only=True)
    torch.manual_seed(seed)
    model = TLTransformer(cfg)
    random_init_transformer(model, 0.2)
    rng = np.random.default_rng(seed)
    toks = rng.integers(0, cfg["d_vocab"], size=(64, 5)).astype(np.int64)
    reference = tl_reference(model, toks)
    info = {
        "name": name,
        "task": "none: an untrained attention-only transformer with LNPre, inputs shorter than n_ctx, config "
                "in model.safetensors metadata",
        "framework": framework("pytorch"),
        "architecture": "TransformerLens-style HookedTransformer (own module, TL names and math), attn_only: "
                        "no MLP, no ln2 and (as in TransformerLens) no blocks.0.hook_resid_mid",
        "config": cfg,
        "training": {"init": "every parameter ~ Normal(0, 0.2) (biases included), drawn in named_parameters() "
                             "order after torch.manual_seed"},
        "seeds": {"torch_manual_seed": seed, "numpy_generator": seed},
        "inputs": "64 sequences of 5 tokens (n_ctx is 6) uniform in 0..19 (numpy Generator(seed).integers)",
        "train_accuracy": None, "test_accuracy": None, "train_seconds": None,
        "reference": {"n": 64, "seq": 5, "output": "logits [64, 5, 20]"},
    }
    meta = {"transformer_lens_config": json.dumps(cfg)}
    net = {"retort_network": 1, "preset": "transformer", "config": "metadata"}
    return Built(name, tl_state(model), meta, net, reference, info, torch_model=True)


BUILDERS = {
    "addition_mlp": build_addition_mlp,
    "modular_addition": build_modular_addition,
    "boolean_circuit_handwired": build_boolean_handwired,
    "boolean_circuit_learned": build_boolean_learned,
    "memoriser": build_memoriser,
    "digits_mlp": build_digits_mlp,
    "ops_mlp": build_ops_mlp,
    "ops_transformer": build_ops_transformer,
    "ops_transformer_lnpre": build_ops_transformer_lnpre,
}


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------

def to_json(obj, indent: int = 0) -> str:
    """Indented JSON with lists of scalars on one line."""
    pad, pad1 = "  " * indent, "  " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad1}{json.dumps(str(k))}: {to_json(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return json.dumps(list(obj), allow_nan=False)
        return "[\n" + ",\n".join(pad1 + to_json(v, indent + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False)


def dump_json(path: Path, obj):
    text = to_json(obj) + "\n"
    assert json.loads(text) == json.loads(json.dumps(obj))
    path.write_text(text)


def contiguous_np(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        v = np.asarray(v)
        assert v.dtype in (np.float32, np.int64), (k, v.dtype)
        out[k] = np.ascontiguousarray(v)
    return out


GENERATED_FILES = ("model.safetensors", "network.json", "reference.safetensors", "interventions.json",
                   "interventions.safetensors", "info.json", "train_indices.npy", "labels.npy")


def write_network(out: Path, built: Built):
    folder = out / built.name
    folder.mkdir(parents=True, exist_ok=True)
    # Replace only what this script writes; other files in the folder (e.g. the distillation
    # task.json that lives beside the network) are left alone.
    for f in GENERATED_FILES:
        if (folder / f).exists():
            (folder / f).unlink()
    if built.torch_model:
        sttorch.save_file(built.model, str(folder / "model.safetensors"), metadata=built.model_metadata)
    else:
        stnp.save_file(contiguous_np(built.model), str(folder / "model.safetensors"),
                       metadata=built.model_metadata)
    dump_json(folder / "network.json", built.network)
    stnp.save_file(contiguous_np(built.reference), str(folder / "reference.safetensors"))
    if built.interventions is not None:
        dump_json(folder / "interventions.json", built.interventions)
        stnp.save_file(contiguous_np(built.intervention_tensors), str(folder / "interventions.safetensors"))
    assert set(built.npy) <= set(GENERATED_FILES)
    for fname, arr in built.npy.items():
        np.save(folder / fname, i64(arr))
    info = dict(built.info)
    info["files"] = sorted(p.name for p in folder.iterdir() if p.name in GENERATED_FILES) + ["info.json"]
    info["generated_by"] = SCRIPT
    info["library_versions"] = versions()
    dump_json(folder / "info.json", info)


# --------------------------------------------------------------------------------------
# Independent verification from the files on disk (float64 numpy)
# --------------------------------------------------------------------------------------

def np_apply(act: np.ndarray, iv: dict, T: dict, src: np.ndarray | None, sidx) -> np.ndarray:
    x = act.copy()
    has_pos = x.ndim >= 3
    if x.ndim == 2:
        x3 = x[:, None, :]
        s3 = None if src is None else src[:, None, :]
    else:
        x3 = x.reshape(x.shape[0], x.shape[1], -1)
        s3 = None if src is None else src.reshape(src.shape[0], src.shape[1], -1)
    positions = iv.get("positions", list(range(x3.shape[1]))) if has_pos else [0]
    units = iv.get("units", list(range(x3.shape[2])))
    for p_ in positions:
        v = x3[:, p_, units]
        if iv["kind"] == "zero":
            v = np.zeros_like(v)
        elif iv["kind"] == "interchange":
            v = s3[np.asarray(sidx), p_][:, units]
        else:
            # Gram-Schmidt (independent of the QR used on the PyTorch side)
            rows = []
            for r in np.asarray(T[iv["basis"]], dtype=np.float64):
                for q in rows:
                    r = r - (r @ q) * q
                rows.append(r / np.linalg.norm(r))
            Q = np.stack(rows)
            onto = (v @ Q.T) @ Q
            v = onto if iv["kind"] == "project_onto" else v - onto
        x3[:, p_, units] = v
    return x3.reshape(act.shape)


def np_mlp(net: dict, W: dict, x: np.ndarray, ivs=(), T=None, src_hooks=None, sidx=None):
    hooks = {}

    def hook(name, v):
        for iv in ivs:
            if iv["hook"] == name:
                v = np_apply(v, iv, T, None if src_hooks is None else src_hooks[name], sidx)
        hooks[name] = v
        return v

    def w(n):
        return np.asarray(W[n], dtype=np.float64)

    v = hook("hook_input", np.asarray(x, dtype=np.float64))
    layers = net["layers"]
    li = -1
    for k, op in enumerate(layers):
        kind = op["op"]
        if kind == "linear":
            li += 1
            M = w(op["weight"])
            v = v @ M if op["layout"] == "in_out" else v @ M.T
            if "bias" in op:
                v = v + w(op["bias"])
            v = hook(f"layers.{li}.hook_pre", v)
        elif kind == "relu":
            v = np.maximum(v, 0)
        elif kind == "gelu":
            v = 0.5 * v * (1 + scipy.special.erf(v / math.sqrt(2)))
        elif kind == "gelu_tanh":
            v = 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3)))
        elif kind == "tanh":
            v = np.tanh(v)
        elif kind == "sigmoid":
            v = 1 / (1 + np.exp(-v))
        elif kind == "identity":
            pass
        elif kind == "softmax":
            e = np.exp(v - v.max(-1, keepdims=True))
            v = e / e.sum(-1, keepdims=True)
        elif kind == "layernorm":
            mu = v.mean(-1, keepdims=True)
            var = ((v - mu) ** 2).mean(-1, keepdims=True)
            v = (v - mu) / np.sqrt(var + op.get("eps", 1e-5))
            if "weight" in op:
                v = v * w(op["weight"]) + w(op["bias"])
        else:
            raise ValueError(kind)
        nxt = layers[k + 1]["op"] if k + 1 < len(layers) else None
        if li >= 0 and nxt in (None, "linear"):
            v = hook(f"layers.{li}.hook_post", v)
    return v, hooks


def np_tl(cfg: dict, W: dict, tokens: np.ndarray, ivs=(), T=None, src_hooks=None, sidx=None):
    hooks = {}

    def hook(name, v):
        for iv in ivs:
            if iv["hook"] == name:
                v = np_apply(v, iv, T, None if src_hooks is None else src_hooks[name], sidx)
        hooks[name] = v
        return v

    def w(n):
        return np.asarray(W[n], dtype=np.float64)

    nt = cfg.get("normalization_type")

    def ln(prefix, x):
        if nt is None:
            return x
        x = x - x.mean(-1, keepdims=True)
        x = x / np.sqrt((x ** 2).mean(-1, keepdims=True) + cfg.get("eps", 1e-5))
        if nt == "LN":
            x = x * w(prefix + ".w") + w(prefix + ".b")
        return hook(prefix + ".hook_normalized", x)

    acts = {"relu": lambda x: np.maximum(x, 0),
            "gelu": lambda x: 0.5 * x * (1 + scipy.special.erf(x / math.sqrt(2))),
            "gelu_new": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))}
    b, p = tokens.shape
    resid = hook("hook_embed", w("embed.W_E")[tokens]) + hook(
        "hook_pos_embed", np.broadcast_to(w("pos_embed.W_pos")[:p], (b, p, cfg["d_model"])).copy())
    causal = np.tril(np.ones((p, p), dtype=bool))
    for i in range(cfg["n_layers"]):
        pre = f"blocks.{i}"
        resid = hook(pre + ".hook_resid_pre", resid)
        x = ln(pre + ".ln1", resid)
        q = hook(pre + ".attn.hook_q", np.einsum("bpd,hde->bphe", x, w(pre + ".attn.W_Q")) + w(pre + ".attn.b_Q"))
        k = hook(pre + ".attn.hook_k", np.einsum("bpd,hde->bphe", x, w(pre + ".attn.W_K")) + w(pre + ".attn.b_K"))
        v = hook(pre + ".attn.hook_v", np.einsum("bpd,hde->bphe", x, w(pre + ".attn.W_V")) + w(pre + ".attn.b_V"))
        s = np.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(cfg["d_head"])
        s = hook(pre + ".attn.hook_attn_scores", np.where(causal, s, -np.inf))
        e = np.exp(s - s.max(-1, keepdims=True))
        pat = hook(pre + ".attn.hook_pattern", e / e.sum(-1, keepdims=True))
        z = hook(pre + ".attn.hook_z", np.einsum("bhqk,bkhe->bqhe", pat, v))
        attn_out = hook(pre + ".hook_attn_out", np.einsum("bqhe,hed->bqd", z, w(pre + ".attn.W_O")) + w(pre + ".attn.b_O"))
        if cfg.get("attn_only"):
            resid = hook(pre + ".hook_resid_post", resid + attn_out)
            continue
        resid = hook(pre + ".hook_resid_mid", resid + attn_out)
        x = ln(pre + ".ln2", resid)
        h_pre = hook(pre + ".mlp.hook_pre", x @ w(pre + ".mlp.W_in") + w(pre + ".mlp.b_in"))
        h_post = hook(pre + ".mlp.hook_post", acts[cfg["act_fn"]](h_pre))
        mlp_out = hook(pre + ".hook_mlp_out", h_post @ w(pre + ".mlp.W_out") + w(pre + ".mlp.b_out"))
        resid = hook(pre + ".hook_resid_post", resid + mlp_out)
    x = ln("ln_final", resid)
    return x @ w("unembed.W_U") + w("unembed.b_U"), hooks


def close(name: str, got: np.ndarray, want64: np.ndarray) -> float:
    """Asserts |got - want| <= RTOL * max|want| elementwise (-inf entries must match exactly);
    returns the largest error relative to that scale."""
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == want64.shape, f"{name}: shape {got.shape} != {want64.shape}"
    inf = np.isinf(want64)
    assert np.array_equal(inf, np.isinf(got)) and np.array_equal(got[inf], want64[inf]), f"{name}: inf mismatch"
    fin = ~inf
    if not fin.any():
        return 0.0
    scale = max(np.max(np.abs(want64[fin])), 1e-30)
    err = float(np.max(np.abs(got[fin] - want64[fin])) / scale)
    assert err <= RTOL, f"{name}: relative error {err:.3g} > {RTOL}"
    return err


EXPECTED_MLP_HOOKS = lambda n_lin: {"hook_input"} | {f"layers.{i}.hook_{k}" for i in range(n_lin) for k in ("pre", "post")}


def expected_tl_hooks(cfg) -> set:
    hs = {"hook_embed", "hook_pos_embed"}
    nt = cfg.get("normalization_type")
    for i in range(cfg["n_layers"]):
        b = f"blocks.{i}"
        hs |= {b + ".hook_resid_pre", b + ".hook_attn_out", b + ".hook_resid_post"}
        hs |= {f"{b}.attn.hook_{k}" for k in ("q", "k", "v", "attn_scores", "pattern", "z")}
        if nt is not None:
            hs.add(b + ".ln1.hook_normalized")
        if not cfg.get("attn_only"):
            hs |= {b + ".hook_resid_mid", b + ".mlp.hook_pre", b + ".mlp.hook_post", b + ".hook_mlp_out"}
            if nt is not None:
                hs.add(b + ".ln2.hook_normalized")
    if nt is not None:
        hs.add("ln_final.hook_normalized")
    return hs


def verify_network(folder: Path) -> dict:
    from safetensors import safe_open
    name = folder.name
    net = json.loads((folder / "network.json").read_text())
    info = json.loads((folder / "info.json").read_text())
    W = stnp.load_file(str(folder / "model.safetensors"))
    with safe_open(str(folder / "model.safetensors"), "np") as f:
        meta = f.metadata() or {}
    for k, v in W.items():
        assert v.dtype == np.float32, f"{name}: {k} is {v.dtype}"
    assert len(meta) == 1, meta
    if "classes" in meta:
        assert json.loads(meta["classes"]) == info["classes"]
    ref = stnp.load_file(str(folder / "reference.safetensors"))
    for k, v in ref.items():
        assert v.flags["C_CONTIGUOUS"]
        assert v.dtype == (np.int64 if (k == "input" and net["preset"] == "transformer") else np.float32), (k, v.dtype)
    worst = 0.0
    if net["preset"] == "mlp":
        n_lin = sum(op["op"] == "linear" for op in net["layers"])
        run = lambda x, **kw: np_mlp(net, W, x, **kw)
        expected = EXPECTED_MLP_HOOKS(n_lin)
        assert net["input_width"] == ref["input"].shape[1]
    else:
        cfg = json.loads(meta["transformer_lens_config"]) if net["config"] == "metadata" else net["config"]
        run = lambda x, **kw: np_tl(cfg, W, x, **kw)
        expected = expected_tl_hooks(cfg)
        names = set(W)
        assert not any(n.endswith(("IGNORE", ".mask")) for n in names)
    out, hooks = run(ref["input"])
    assert set(ref) - {"input", "output"} == expected, f"{name}: hooks {sorted(set(ref) ^ expected)}"
    assert set(hooks) == expected, f"{name}: numpy hooks {sorted(set(hooks) ^ expected)}"
    worst = max(worst, close(f"{name}/output", ref["output"], out))
    for k in expected:
        worst = max(worst, close(f"{name}/{k}", ref[k], hooks[k]))
    n_cases = 0
    if (folder / "interventions.json").exists():
        cases = json.loads((folder / "interventions.json").read_text())
        T = stnp.load_file(str(folder / "interventions.safetensors"))
        for c in cases:
            assert set(c) <= {"name", "interventions", "base_input", "source_input", "source_index",
                              "expected_output"}
            src_hooks, sidx = None, None
            if "source_input" in c:
                _, src_hooks = run(T[c["source_input"]])
                sidx = T[c["source_index"]]
                assert sidx.dtype == np.int64 and sidx.shape == (T[c["base_input"]].shape[0],)
            got, _ = run(T[c["base_input"]], ivs=c["interventions"], T=T, src_hooks=src_hooks, sidx=sidx)
            worst = max(worst, close(f"{name}/{c['name']}", T[c["expected_output"]], got))
            n_cases += 1
            for iv in c["interventions"]:
                assert iv["kind"] in ("zero", "interchange", "project_onto", "project_off")
                if "basis" in iv:
                    assert T[iv["basis"]].dtype == np.float32 and T[iv["basis"]].ndim == 2
    # Accuracies recomputed from the saved weights where the whole data set is local
    if name in ("boolean_circuit_handwired", "boolean_circuit_learned"):
        o, _ = run(BOOL_X)
        assert float((o.argmax(1) == BOOL_Y).mean()) == info["train_accuracy"] == 1.0
    if name == "memoriser":
        labels = np.load(folder / "labels.npy")
        idx = np.arange(1024)
        X = np.zeros((1024, 64))
        X[idx, idx // 32] = 1
        X[idx, 32 + idx % 32] = 1
        o, _ = run(X)
        assert float((o.argmax(1) == labels).mean()) == info["train_accuracy"]
    if name == "addition_mlp":
        tr = np.load(folder / "train_indices.npy")
        idx = np.arange(10000)
        o, _ = run(addition_encode(idx // 100, idx % 100))
        pred = np.asarray(info["classes"])[o.argmax(1)]
        ok = pred == (idx // 100 + idx % 100)
        te = np.setdiff1d(idx, tr)
        assert abs(ok[tr].mean() - info["train_accuracy"]) < 1e-6 and abs(ok[te].mean() - info["test_accuracy"]) < 1e-6
    if name == "digits_mlp":
        tr = np.load(folder / "train_indices.npy")
        X, y = load_digits(return_X_y=True)
        o, _ = run(X)
        ok = o.argmax(1) == y
        te = np.setdiff1d(np.arange(len(y)), tr)
        assert abs(ok[tr].mean() - info["train_accuracy"]) < 1e-6 and abs(ok[te].mean() - info["test_accuracy"]) < 1e-6
    if name == "modular_addition":
        tr = np.load(folder / "train_indices.npy")
        idx = np.arange(P_MOD * P_MOD)
        o, _ = run(modadd_tokens(idx))
        ok = o[:, -1].argmax(-1) == (idx // P_MOD + idx % P_MOD) % P_MOD
        te = np.setdiff1d(idx, tr)
        assert abs(ok[tr].mean() - info["train_accuracy"]) < 1e-6 and abs(ok[te].mean() - info["test_accuracy"]) < 1e-6
    return {"worst_relative_error": worst, "cases": n_cases}


# --------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------

DESCRIPTIONS = {
    "addition_mlp": "Two-digit addition a + b (a, b in 0..99) as classification of the sum, scikit-learn "
                    "`MLPClassifier` on one-hot digits. Held-out pairs test whether it learned addition or a "
                    "lookup table.",
    "modular_addition": "(a + b) mod 113 with Nanda et al. (2023)'s one-layer transformer and training recipe "
                        "(30% of pairs, full-batch AdamW, weight decay 1.0): the grokking network.",
    "boolean_circuit_handwired": "y = (x1 XOR x2) AND x3 with hand-written weights, so named hidden units have "
                                 "known values (ground truth for interventions and distillation).",
    "boolean_circuit_learned": "The same boolean function learned by a 4-16-16-2 ReLU MLP.",
    "memoriser": "A 64-256-10 MLP that memorised uniformly random labels of all 1,024 one-hot pairs (no "
                 "structure to find).",
    "digits_mlp": "scikit-learn's bundled 8x8 digits, `MLPClassifier` 64-64-10 on raw pixel values.",
    "ops_mlp": "Untrained PyTorch MLP exercising every MLP op: gelu, gelu_tanh, tanh, sigmoid, layernorm, "
               "softmax.",
    "ops_transformer": "Untrained 2-layer TransformerLens-style transformer with LN, gelu_new and random "
                       "non-zero biases; configuration inline in network.json.",
    "ops_transformer_lnpre": "Untrained 1-layer attention-only transformer with LNPre, sequences shorter than "
                             "n_ctx; configuration in the weight file's metadata.",
}


def folder_size(folder: Path) -> int:
    """Bytes of the files this script generates in a network folder."""
    return sum(p.stat().st_size for p in folder.iterdir() if p.name in GENERATED_FILES)


def fmt_acc(x):
    return "—" if x is None else f"{100 * x:.2f}%"


def fmt_secs(x):
    return "—" if x is None else f"{x:.1f} s"


def write_readme(out: Path):
    rows = []
    for name in BUILDERS:
        f = out / name / "info.json"
        if not f.exists():
            continue
        info = json.loads(f.read_text())
        size = folder_size(out / name)
        rows.append((name, info, size))
    total = sum(r[2] for r in rows)
    L = []
    A = L.append
    A("# Reference networks")
    A("")
    A(f"Generated by `{SCRIPT}` (do not edit by hand; this README is rewritten by the script).")
    A("Each folder is one network trained (or built) with scikit-learn or PyTorch, with reference")
    A("outputs and hook activations from the training framework itself, for checking Retort's")
    A("Float32 forward pass (target: 1e-5 relative). Network descriptions follow")
    A("[`formats/network.md`](../../network.md).")
    A("")
    A("| network | framework | what it is | train acc | test acc | train time | size |")
    A("|---|---|---|---|---|---|---|")
    for name, info, size in rows:
        fw = info["framework"]["name"]
        A(f"| `{name}` | {fw} | {DESCRIPTIONS[name]} | {fmt_acc(info.get('train_accuracy'))} | "
          f"{fmt_acc(info.get('test_accuracy'))} | {fmt_secs(info.get('train_seconds'))} | {size / 1024:.0f} KiB |")
    A("")
    A(f"Total: {total / 1024 / 1024:.2f} MiB (the generated files, without this README). Train times are wall-clock seconds on the")
    A("2-core machine that generated the files, which was shared with other jobs (informational only).")
    A("")
    A("## Files in each folder")
    A("")
    A("- `model.safetensors`: the weights, F32, named as the framework names them. PyTorch `nn.Sequential`")
    A("  models keep their state-dict names (`0.weight`, `0.bias`, `2.weight`, …; layout `out_in`).")
    A("  scikit-learn models are exported as `coefs_.{i}` (`coefs_[i]`, shape `[in, out]`) and")
    A("  `intercepts_.{i}` (layout `in_out`). Transformers use TransformerLens state-dict names")
    A("  (`embed.W_E`, `blocks.0.attn.W_Q`, …; no `IGNORE`/`mask` buffers). Metadata has one key, so")
    A("  the files are byte-for-byte reproducible: scikit-learn classifiers `classes` (JSON list, output")
    A("  column j is class `classes[j]`), transformers with `\"config\": \"metadata\"`")
    A("  `transformer_lens_config` (a JSON string of the TransformerLens config), the other PyTorch models")
    A("  `format` = `pt`. Framework and library versions are in info.json.")
    A("- `network.json`: the Retort network description. MLPs list their ops explicitly; transformers give")
    A("  `\"config\": \"metadata\"` or an inline TransformerLens config (`ops_transformer`).")
    A("- `reference.safetensors`: `input` (MLPs: F32 `[N, width]`; transformers: I64 token ids")
    A("  `[N, seq]`), `output` (the network's final output: probabilities after a softmax op, logits")
    A("  otherwise), and one tensor per hook, named by the hook (every hook point of the network).")
    A("- `interventions.json` + `interventions.safetensors` (`modular_addition`,")
    A("  `boolean_circuit_handwired`): a list of cases")
    A("  `{name, interventions, base_input, source_input?, source_index?, expected_output}` whose string")
    A("  members name tensors in `interventions.safetensors`; `source_input`/`source_index` are present only")
    A("  in cases with an `interchange`. All interventions of a case apply together in one forward pass;")
    A("  interchange values come from a clean run on `source_input` (base example b takes source example")
    A("  `source_index[b]`). Projection bases are F32 `[k, n_units]` rows, deliberately not orthonormal:")
    A("  the expected output projects onto their row space (projector QᵀQ with Q orthonormalised).")
    A("  Expected outputs were computed in PyTorch (float32), with forward hooks that replace the hook's")
    A("  activation and everything downstream recomputed; the projection itself is done in float64.")
    A("- `info.json`: task, framework and versions, architecture, training settings, seeds, split,")
    A("  accuracies, class map, named units, which inputs the reference uses, intervention descriptions.")
    A("- `train_indices.npy` (int64, sorted; `addition_mlp` index 100a + b, `modular_addition` 113a + b,")
    A("  `digits_mlp` index into `load_digits()`), `labels.npy` (`memoriser`, int64, index 32a + b).")
    A("- Any other file in a folder (such as the distillation `task.json`) is not written by the script;")
    A("  regenerating replaces only the files above and leaves the others alone.")
    A("")
    A("## Hook names")
    A("")
    A("MLPs: `hook_input`; `layers.{i}.hook_pre` = output of the i-th linear op; `layers.{i}.hook_post` =")
    A("value after the non-linear ops following linear i up to the next linear (equals `hook_pre` when none")
    A("follow; for the last linear of a softmax network it equals `output`).")
    A("")
    A("Transformers (TransformerLens names): `hook_embed`, `hook_pos_embed` (broadcast to `[N, seq, d]`),")
    A("`blocks.{i}.hook_resid_pre`, `blocks.{i}.ln1.hook_normalized` (LN/LNPre; after `w`, `b` for LN, as in")
    A("TransformerLens), `blocks.{i}.attn.hook_q/_k/_v/_z` `[N, p, h, e]`, `blocks.{i}.attn.hook_attn_scores`")
    A("`[N, h, q, k]` (after the causal mask: −inf above the diagonal), `blocks.{i}.attn.hook_pattern`,")
    A("`blocks.{i}.hook_attn_out`, `blocks.{i}.hook_resid_mid`, `blocks.{i}.ln2.hook_normalized`,")
    A("`blocks.{i}.mlp.hook_pre/_post`, `blocks.{i}.hook_mlp_out`, `blocks.{i}.hook_resid_post`,")
    A("`ln_final.hook_normalized`. Attention-only models have no MLP hooks, no `ln2` and — as in")
    A("TransformerLens — no `hook_resid_mid` (resid_post = resid_pre + attn_out).")
    A("")
    A("## The networks")
    for name, info, size in rows:
        A("")
        A(f"### `{name}`")
        A("")
        A(DESCRIPTIONS[name])
        A("")
        A(f"- Task: {info['task']}.")
        for key in ("input_encoding", "inputs"):
            if key in info:
                A(f"- Inputs: {info[key]}.")
        A(f"- Architecture: {info['architecture']}.")
        if "config" in info:
            A(f"- Config: `{json.dumps(info['config'])}`.")
        tr = info.get("training", {})
        if tr:
            keep = {k: v for k, v in tr.items() if k != "history"}
            A(f"- Training: `{json.dumps(keep)}`.")
        if "weights" in info:
            for k, v in info["weights"].items():
                A(f"- Weights `{k}`: {v}.")
        A(f"- Seeds: `{json.dumps(info.get('seeds', {}))}`.")
        if "split" in info:
            A(f"- Split: {info['split']['description']}.")
        A(f"- Accuracy: train {fmt_acc(info.get('train_accuracy'))}, test {fmt_acc(info.get('test_accuracy'))}.")
        if "classes" in info:
            c = info["classes"]
            if isinstance(c, list) and name == "addition_mlp":
                A(f"- Classes: {len(c)} output columns; column j is the sum `classes[j]` (scikit-learn `classes_`, "
                  f"in info.json and in the weight file's metadata `classes`): {c[0]}..{c[-1]}; sums never seen in "
                  f"training have no column (here: {info.get('sums_absent_from_training') or 'none'}).")
            elif isinstance(c, list):
                A(f"- Classes: column j is class `classes[j]` = {c}.")
            else:
                A(f"- Classes: {c}.")
        if "units" in info:
            for hook, units in info["units"].items():
                A(f"- Units of `{hook}`: " + "; ".join(f"{u} = {m}" for u, m in units.items()) + ".")
        if "interventions" in info:
            A("- Intervention cases:")
            for k, v in info["interventions"].items():
                if k in ("base_pair_index", "source_pair_index", "effect_on_prediction"):
                    continue
                A(f"  - `{k}`: {v}." if k != "pairs" else f"  - {v}.")
        if name == "modular_addition":
            h = info["training"].get("history", [])
            if h:
                A("- Training curve (every 1,000 steps and at the stop):")
                A("")
                A("  | step | train loss | test loss | train acc | test acc |")
                A("  |---|---|---|---|---|")
                for r in h:
                    A(f"  | {r['step']} | {r['train_loss']:.4g} | {r['test_loss']:.4g} | "
                      f"{fmt_acc(r['train_accuracy'])} | {fmt_acc(r['test_accuracy'])} |")
    A("")
    A("## Notes and conventions")
    A("")
    A("- scikit-learn networks: after `fit`, `coefs_`/`intercepts_` are rounded to float32 in place")
    A("  (largest change in info.json), so the saved F32 weights are exactly the model whose")
    A("  `predict_proba` is the reference `output`; the reported accuracies are those of the rounded model.")
    A("  Their hooks are a float64 numpy replica of scikit-learn's forward pass (asserted equal to")
    A("  `predict_proba` within 1e-12), stored as float32.")
    A("- PyTorch networks: `output` and hooks are the float32 PyTorch forward pass, captured with forward")
    A("  hooks on the `nn.Sequential` modules or on the transformer's HookPoints.")
    A("- The transformers run in a small PyTorch module written for this script (TransformerLens is not a")
    A("  dependency) with HookedTransformer's module and parameter names and its math, mirrored operation")
    A("  by operation: LayerNorm `hook_normalized` after `w`, `b`; the causal mask writes −inf before")
    A("  `hook_attn_scores`; NaN patterns become 0; scores divided by √d_head; `W_O` applied as one linear")
    A("  map over the flattened (head, d_head) axis; MLP and unembedding via `addmm`.")
    A("- Attention-only models: TransformerLens creates no `hook_resid_mid`, no `ln2` and no MLP, so none")
    A("  are in the reference; their configuration has `\"d_mlp\": null` (TransformerLens's value when an")
    A("  attention-only config gives no d_mlp).")
    A("- `modular_addition` follows Nanda et al.: biases are initialised to zero and frozen (they are")
    A("  saved, all zero); training computes only the last position's logits (the loss needs nothing")
    A("  else; identical to the full forward pass, asserted after training); the loss is computed in")
    A("  float64 from float32 logits. Training stops at the first evaluation (every 100 steps) with")
    A("  train accuracy 100% and test accuracy ≥ 99.5%, or at the step cap.")
    A("- `hook_pos_embed` is stored broadcast over the batch, `[N, seq, d_model]`, as TransformerLens")
    A("  caches it.")
    A("")
    A("## Regenerating")
    A("")
    A("```")
    A("pip install -r scripts/requirements-networks.txt")
    A("python scripts/train_reference_networks.py                  # every network (see below for time)")
    A("python scripts/train_reference_networks.py --only NAME      # one network; README rewritten")
    A("python scripts/train_reference_networks.py --verify-only    # re-check the files, rewrite this README")
    A("```")
    A("")
    A("A full run takes about 10 minutes on an idle 2-core machine, almost all of it `modular_addition`")
    A("(about 13,500 full-batch steps at 35-45 ms each until it groks); with other jobs competing for the")
    A("cores it took 16 to 30 minutes. `--max-steps N` caps `modular_addition`'s training (for trying the")
    A("script quickly; the result will not have generalised).")
    A("")
    A("The script is seeded throughout and runs on the CPU with `torch.set_num_threads(2)` and")
    A("deterministic algorithms; the same library versions on the same kind of CPU give the same tensors")
    A("(floating-point results may differ slightly between CPUs or BLAS builds, which can change a")
    A("trained network). After writing, it reloads every file and recomputes every output, hook and")
    A("intervention result from the saved weights with an independent float64 numpy implementation,")
    A("asserting agreement within 1e-5 of each tensor's largest magnitude.")
    A("")
    (out / "README.md").write_text("\n".join(L))


# --------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--only", action="append", choices=list(BUILDERS), metavar="NAME",
                    help="regenerate only this network (repeatable); one of: " + ", ".join(BUILDERS))
    ap.add_argument("--verify-only", action="store_true",
                    help="train nothing: verify the files on disk and rewrite README.md from their info.json")
    ap.add_argument("--max-steps", type=int, default=25000, help="modular_addition step cap (default 25000)")
    args = ap.parse_args()
    out = args.out
    names = args.only or list(BUILDERS)
    out.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    if not args.verify_only:
        for name in names:
            print(f"[{name}] building", flush=True)
            t0 = time.perf_counter()
            built = BUILDERS[name](args)
            write_network(out, built)
            print(f"[{name}] written in {time.perf_counter() - t0:.1f} s", flush=True)
    write_readme(out)
    print("\nverification (float64 numpy from the saved files):")
    summary = []
    for name in names:
        folder = out / name
        if not folder.exists():
            print(f"  {name}: missing")
            continue
        res = verify_network(folder)
        info = json.loads((folder / "info.json").read_text())
        size = folder_size(folder)
        summary.append((name, info, size, res))
        print(f"  {name:28s} ok  worst rel. error {res['worst_relative_error']:.2e}  "
              f"intervention cases {res['cases']}")
    print("\nsummary:")
    print(f"  {'network':28s} {'train acc':>10s} {'test acc':>10s} {'train s':>9s} {'size KiB':>9s}")
    for name, info, size, _ in summary:
        print(f"  {name:28s} {fmt_acc(info.get('train_accuracy')):>10s} {fmt_acc(info.get('test_accuracy')):>10s} "
              f"{fmt_secs(info.get('train_seconds')):>9s} {size / 1024:9.0f}")
    total = sum(size for _, _, size, _ in summary)
    print(f"  total of these networks' files: {total / 1024 / 1024:.2f} MiB; elapsed {time.perf_counter() - t_all:.0f} s")


if __name__ == "__main__":
    main()

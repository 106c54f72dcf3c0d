#!/usr/bin/env python3
"""Write formats/vectors/biasless_transformer/: a transformer trained without some biases, as people have them.

    python scripts/make_biasless_transformer.py

Nanda et al.'s modular-addition transformer ("Progress measures for grokking via mechanistic
interpretability", 2023) has no attention biases (b_Q, b_K, b_V, b_O) and no unembedding bias (b_U),
and no LayerNorm; its MLP has biases. This script builds a tiny, randomly initialised copy of that
architecture as the original code writes it (its own parameter shapes: W_E [d_model, d_vocab],
W_Q/W_K/W_V [n_heads, d_head, d_model], W_O [d_model, n_heads*d_head], W_in [d_mlp, d_model], ...),
computes its logits with that code in PyTorch (float32), then renames and reshapes the weights to
TransformerLens's names, as users do to load it into HookedTransformer, leaving the absent biases out.

Files:
  model.safetensors      TransformerLens-named weights (F32), no attention or unembedding biases;
                         metadata key "config" = the TransformerLens configuration as a JSON string,
                         with Retort's "absent_biases": "zero"
  reference.safetensors  "input" I64 [49, 3] (every "a b =" of a, b in 0..6, "=" is token 7),
                         "output" F32 [49, 3, 8] (logits from the original-architecture forward pass),
                         "blocks.0.attn.hook_pattern" F32 [49, 2, 3, 3], "blocks.0.mlp.hook_post" F32 [49, 3, 32]
  info.json              configuration, seed, library versions
"""
from __future__ import annotations

import json
import math
import platform
from pathlib import Path

import numpy as np
import safetensors
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parent.parent / "formats" / "vectors" / "biasless_transformer"
SEED = 1017
P = 7  # residues 0..6; token 7 is "="

CONFIG = {
    "n_layers": 1, "d_model": 16, "n_heads": 2, "d_head": 8, "d_mlp": 32, "d_vocab": P + 1, "d_vocab_out": P + 1,
    "n_ctx": 3, "act_fn": "relu", "normalization_type": None, "attn_only": False,
    "positional_embedding_type": "standard", "absent_biases": "zero",
}


class NandaTransformer(nn.Module):
    """The original code's one-layer transformer without LayerNorm (its `use_ln=False`), shapes as it has them."""

    def __init__(self, c: dict):
        super().__init__()
        d, h, e, m, v, n = c["d_model"], c["n_heads"], c["d_head"], c["d_mlp"], c["d_vocab"], c["n_ctx"]
        std = 1 / math.sqrt(d)
        self.W_E = nn.Parameter(torch.randn(d, v) * std)
        self.W_pos = nn.Parameter(torch.randn(n, d) * std)
        self.W_K = nn.Parameter(torch.randn(h, e, d) * std)
        self.W_Q = nn.Parameter(torch.randn(h, e, d) * std)
        self.W_V = nn.Parameter(torch.randn(h, e, d) * std)
        self.W_O = nn.Parameter(torch.randn(d, e * h) * std)
        self.W_in = nn.Parameter(torch.randn(m, d) * std)
        self.b_in = nn.Parameter(torch.randn(m) * 0.1)
        self.W_out = nn.Parameter(torch.randn(d, m) * std)
        self.b_out = nn.Parameter(torch.randn(d) * 0.1)
        self.W_U = nn.Parameter(torch.randn(d, c["d_vocab_out"]) * std)
        self.d_head = e
        self.register_buffer("mask", torch.tril(torch.ones(n, n)))

    def forward(self, tokens: torch.Tensor):
        x = torch.einsum("dbp -> bpd", self.W_E[:, tokens])
        x = x + self.W_pos[: tokens.shape[-1]]
        k = torch.einsum("ihd,bpd->biph", self.W_K, x)
        q = torch.einsum("ihd,bpd->biph", self.W_Q, x)
        v = torch.einsum("ihd,bpd->biph", self.W_V, x)
        scores = torch.einsum("biph,biqh->biqp", k, q)
        seq = tokens.shape[-1]
        masked = torch.tril(scores) - 1e10 * (1 - self.mask[:seq, :seq])
        pattern = F.softmax(masked / math.sqrt(self.d_head), dim=-1)
        z = torch.einsum("biph,biqp->biqh", v, pattern)
        z_flat = z.permute(0, 2, 1, 3).reshape(z.shape[0], seq, -1)  # b q (i h)
        x = x + torch.einsum("df,bqf->bqd", self.W_O, z_flat)
        post = F.relu(torch.einsum("md,bpd->bpm", self.W_in, x) + self.b_in)
        x = x + torch.einsum("dm,bpm->bpd", self.W_out, post) + self.b_out
        return x @ self.W_U, pattern, post


def transformer_lens_state(model: NandaTransformer) -> dict:
    """The weights under TransformerLens's names and shapes; no b_Q, b_K, b_V, b_O or b_U (the model has none)."""
    c = CONFIG
    h, e, d = c["n_heads"], c["d_head"], c["d_model"]
    with torch.no_grad():
        state = {
            "embed.W_E": model.W_E.T,
            "pos_embed.W_pos": model.W_pos,
            "blocks.0.attn.W_Q": model.W_Q.permute(0, 2, 1),  # [h, e, d] -> [h, d, e]
            "blocks.0.attn.W_K": model.W_K.permute(0, 2, 1),
            "blocks.0.attn.W_V": model.W_V.permute(0, 2, 1),
            "blocks.0.attn.W_O": model.W_O.reshape(d, h, e).permute(1, 2, 0),  # [d, (h e)] -> [h, e, d]
            "blocks.0.mlp.W_in": model.W_in.T,
            "blocks.0.mlp.b_in": model.b_in,
            "blocks.0.mlp.W_out": model.W_out.T,
            "blocks.0.mlp.b_out": model.b_out,
            "unembed.W_U": model.W_U,
        }
        return {k: v.detach().to(torch.float32).contiguous().clone() for k, v in state.items()}


def main():
    torch.manual_seed(SEED)
    model = NandaTransformer(CONFIG)
    pairs = [(a, b) for a in range(P) for b in range(P)]
    tokens = torch.tensor([[a, b, P] for a, b in pairs], dtype=torch.int64)
    with torch.no_grad():
        logits, pattern, post = model(tokens)
    OUT.mkdir(parents=True, exist_ok=True)
    save_file(transformer_lens_state(model), str(OUT / "model.safetensors"), metadata={"config": json.dumps(CONFIG)})
    save_file(
        {
            "input": tokens.contiguous(),
            "output": logits.to(torch.float32).contiguous(),
            "blocks.0.attn.hook_pattern": pattern.to(torch.float32).contiguous(),
            "blocks.0.mlp.hook_post": post.to(torch.float32).contiguous(),
        },
        str(OUT / "reference.safetensors"),
    )
    info = {
        "generator": "scripts/make_biasless_transformer.py",
        "what": "Nanda et al.'s modular-addition architecture (no attention or unembedding biases, no LayerNorm), "
                "tiny and untrained, its weights renamed to TransformerLens's",
        "config": CONFIG,
        "seed": {"torch_manual_seed": SEED},
        "absent_tensors": ["blocks.0.attn.b_Q", "blocks.0.attn.b_K", "blocks.0.attn.b_V", "blocks.0.attn.b_O",
                           "unembed.b_U"],
        "reference": "logits and hooks from the original architecture's forward pass (float32, PyTorch)",
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                     "safetensors": safetensors.__version__},
    }
    (OUT / "info.json").write_text(json.dumps(info, indent=1) + "\n")
    print(f"wrote {OUT}: logits {tuple(logits.shape)}, largest |logit| {logits.abs().max().item():.3f}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()

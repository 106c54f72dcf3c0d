#!/usr/bin/env python3
"""Reference gradients for reverse mode through a language model (`DecoderTail`), by PyTorch autograd.

    python scripts/make_lm_gradient_vectors.py   # writes formats/vectors/networks/{gpt2,llama,qwen2}_tiny/gradients.safetensors

For the tiny models `scripts/make_lm_vectors.py` writes, loaded with transformers (float32, CPU, eager
attention), three prompts of 9 tokens that share their first 3 tokens, and a target token per prompt. For each
site (block, hook, position) the activation at that hook and position is replaced by a leaf tensor equal to
its clean value; the loss is the cross-entropy of the target token under the logits at the last position, and
autograd gives its gradient with respect to the leaf:

  input_ids        I64 [3, 9]
  targets          I64 [3]
  sites            I64 [K, 3]   (block, hook, position); hook 0 = hook_resid_post (the block's output),
                                1 = hook_attn_out (the attention module's output), 2 = hook_mlp_out (the MLP's output)
  activation.{k}   F32 [3, d]   the clean activation at site k
  gradient.{k}     F32 [3, d]   d loss / d activation, per prompt (each prompt's own loss)
  loss.{k}         F32 [3]      the loss per prompt
Seeded; CPU; float32.
"""
from __future__ import annotations

from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "formats" / "vectors" / "networks"
torch.set_num_threads(2)

SITES = [(0, 0, 4), (0, 1, 3), (0, 2, 5), (1, 0, 6), (1, 1, 7), (1, 2, 8), (0, 0, 8)]


def modules(model, layer: int):
    if hasattr(model, "transformer"):
        block = model.transformer.h[layer]
        return block, block.attn, block.mlp
    block = model.model.layers[layer]
    return block, block.self_attn, block.mlp


def site_gradient(model, ids: torch.Tensor, targets: torch.Tensor, layer: int, hook: int, position: int):
    module = modules(model, layer)[hook]
    leaf = {}

    def replace(_module, _inputs, output):
        tensor = output[0] if isinstance(output, tuple) else output
        x = tensor[:, position, :].detach().clone().requires_grad_(True)
        leaf["x"] = x
        patched = torch.cat([tensor[:, :position, :], x[:, None, :], tensor[:, position + 1:, :]], dim=1)
        return (patched,) + tuple(output[1:]) if isinstance(output, tuple) else patched

    handle = module.register_forward_hook(replace)
    try:
        logits = model(ids).logits[:, -1, :]
    finally:
        handle.remove()
    losses = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
    losses.sum().backward()
    return leaf["x"].detach().clone(), leaf["x"].grad.detach().clone(), losses.detach().clone()


def write(name: str, seed: int) -> None:
    folder = OUT / name
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, torch_dtype=torch.float32, attn_implementation="eager")
    model.eval()
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (3, 9), generator=g)
    ids[:, :3] = ids[0, :3]
    targets = torch.randint(0, vocab, (3,), generator=g)
    tensors = {"input_ids": ids, "targets": targets, "sites": torch.tensor(SITES, dtype=torch.int64)}
    for k, (layer, hook, position) in enumerate(SITES):
        activation, gradient, loss = site_gradient(model, ids, targets, layer, hook, position)
        tensors[f"activation.{k}"] = activation.contiguous()
        tensors[f"gradient.{k}"] = gradient.contiguous()
        tensors[f"loss.{k}"] = loss.contiguous()
    save_file(tensors, folder / "gradients.safetensors", metadata={"transformers": transformers.__version__})
    print(name, "sites", len(SITES), "max |gradient|", max(float(tensors[f"gradient.{k}"].abs().max()) for k in range(len(SITES))))


def main() -> None:
    for seed, name in enumerate(["gpt2_tiny", "llama_tiny", "qwen2_tiny"], start=11):
        write(name, seed)


if __name__ == "__main__":
    main()

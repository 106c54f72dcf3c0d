#!/usr/bin/env python3
"""Write tiny randomly initialised Hugging Face language models and their reference outputs.

    python scripts/make_lm_vectors.py            # writes formats/vectors/networks/{gpt2,llama,qwen2}_tiny/

Each folder holds what `save_pretrained` writes (model.safetensors, config.json, and
generation_config.json, which Retort ignores) plus `expected.safetensors`:

  input_ids            I64 [B, S]   prompts of equal length (the `run` batch)
  logits               F32 [B, S, V] transformers' logits, float32, CPU
  hidden_states.{i}    F32 [B, S, D] `output_hidden_states`: i = 0 is the embedding sum
                       (blocks.0.hook_resid_pre), i = 1 … n_layers−1 the residual stream after
                       block i−1 (blocks.{i−1}.hook_resid_post), i = n_layers the final norm's
                       output (ln_final.hook_normalized)
  attentions.{l}       F32 [B, H, S, S] `output_attentions` (eager attention): blocks.{l}.attn.hook_pattern
  prompts              I64 [P, L]   prompts of different lengths, right-padded with −1
  generated            I64 [P, N]   greedy continuation of each prompt (N new tokens, no stop token)
  next_logits          F32 [P, V]   logits after each prompt's last token

The models: GPT-2 (2 layers, n_embd 64, 4 heads, vocab 256, n_positions 32, tied lm_head);
Llama (2 layers, hidden 64, 4 query / 2 key-value heads, d_ff 128, vocab 256, untied lm_head,
RoPE θ 10000); Qwen2 (the same with q/k/v biases, tied embeddings, RoPE θ 1e6). Weights are
drawn with a larger spread than the default initialisation (and norm weights and biases are
made non-trivial), so that the logits are far from uniform and every parameter matters.
Seeded; CPU; float32.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "formats" / "vectors" / "networks"
torch.set_num_threads(2)


def randomise(model: torch.nn.Module, seed: int, std: float) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1 and ("norm" in name or "ln_" in name) and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif p.ndim == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(std * torch.randn(p.shape, generator=g))


def greedy(model, prompt: list[int], new: int) -> tuple[list[int], torch.Tensor]:
    ids = list(prompt)
    first = None
    with torch.no_grad():
        for _ in range(new):
            logits = model(torch.tensor([ids])).logits[0, -1]
            if first is None:
                first = logits.clone()
            ids.append(int(torch.argmax(logits)))
    return ids[len(prompt):], first


def write(name: str, model, vocab: int, seq: int, seed: int) -> None:
    folder = OUT / name
    folder.mkdir(parents=True, exist_ok=True)
    model.eval()
    model.save_pretrained(folder, safe_serialization=True)
    g = torch.Generator().manual_seed(seed + 1)
    input_ids = torch.randint(0, vocab, (3, seq), generator=g)
    with torch.no_grad():
        out = model(input_ids, output_hidden_states=True, output_attentions=True)
    tensors = {"input_ids": input_ids, "logits": out.logits.float().contiguous()}
    for i, h in enumerate(out.hidden_states):
        tensors[f"hidden_states.{i}"] = h.contiguous()
    for i, a in enumerate(out.attentions):
        tensors[f"attentions.{i}"] = a.contiguous()
    lengths = [1, 5, 9, 12]
    new = 8
    prompts = torch.full((len(lengths), max(lengths)), -1, dtype=torch.int64)
    generated = torch.zeros((len(lengths), new), dtype=torch.int64)
    next_logits = torch.zeros((len(lengths), vocab))
    for p, n in enumerate(lengths):
        prompt = torch.randint(0, vocab, (n,), generator=g).tolist()
        prompts[p, :n] = torch.tensor(prompt)
        cont, first = greedy(model, prompt, new)
        generated[p] = torch.tensor(cont)
        next_logits[p] = first
    tensors.update({"prompts": prompts, "generated": generated, "next_logits": next_logits})
    save_file(tensors, folder / "expected.safetensors", metadata={"transformers": transformers.__version__})
    print(name, {k: list(v.shape) for k, v in tensors.items() if not k.startswith(("hidden", "attentions"))})


def main() -> None:
    torch.manual_seed(0)
    gpt2 = transformers.GPT2LMHeadModel(
        transformers.GPT2Config(
            n_layer=2, n_embd=64, n_head=4, vocab_size=256, n_positions=32, activation_function="gelu_new",
            attn_implementation="eager"))
    randomise(gpt2, 1, 0.15)
    gpt2.tie_weights()
    write("gpt2_tiny", gpt2, 256, 16, 1)

    llama = transformers.LlamaForCausalLM(
        transformers.LlamaConfig(
            hidden_size=64, intermediate_size=128, num_attention_heads=4, num_key_value_heads=2,
            num_hidden_layers=2, vocab_size=256, max_position_embeddings=64, rope_theta=10000.0,
            rms_norm_eps=1e-6, tie_word_embeddings=False, attn_implementation="eager"))
    randomise(llama, 2, 0.15)
    write("llama_tiny", llama, 256, 16, 2)

    qwen2 = transformers.Qwen2ForCausalLM(
        transformers.Qwen2Config(
            hidden_size=64, intermediate_size=128, num_attention_heads=4, num_key_value_heads=2,
            num_hidden_layers=2, vocab_size=256, max_position_embeddings=64, rope_theta=1e6,
            rms_norm_eps=1e-6, tie_word_embeddings=True, attn_implementation="eager"))
    randomise(qwen2, 3, 0.15)
    qwen2.tie_weights()
    write("qwen2_tiny", qwen2, 256, 16, 3)


if __name__ == "__main__":
    main()

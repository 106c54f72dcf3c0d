#!/usr/bin/env python3
"""Write the tiny GPT-2 and Llama models of formats/vectors/networks/*_tiny as block-quantized GGUF
files, with gguf-py, and transformers' logits for them.

    python scripts/make_gguf_lm_vectors.py     # writes formats/vectors/networks/{gpt2,llama}_tiny_gguf/

Each folder holds:
  model.gguf            the model under llama.cpp's names, its 2-D weights quantized by gguf-py's
                        `gguf.quants.quantize`: GPT-2 in Q8_0 (token and position embeddings,
                        the fused attn_qkv, attn_output, ffn_up, ffn_down); Llama with Q4_1
                        attention and gate weights, Q5_0 up, Q5_1 down, Q4_0 output and Q8_0
                        token embeddings (every 32-element block type); the Llama Q/K rows
                        permuted as llama.cpp's converter permutes them
  rope_freqs_zero.gguf  (Llama only) the same model with a `rope_freqs.weight` whose element 3 is 0,
                        which Retort must refuse by name
  expected.safetensors  input_ids I64 [B, S] and logits F32 [B, S, V]: what transformers computes
                        from model.gguf (`from_pretrained(gguf_file=…)`, which dequantizes with
                        gguf-py), float32, CPU

Needs torch, transformers, gguf. Seeded; deterministic.
"""
from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import torch
import transformers
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
NETWORKS = ROOT / "formats" / "vectors" / "networks"
Q = gguf.GGMLQuantizationType
torch.set_num_threads(2)


def add(writer: gguf.GGUFWriter, name: str, tensor: torch.Tensor, qtype: Q | None = None) -> None:
    data = tensor.detach().to(torch.float32).contiguous().numpy()
    if qtype is None:
        writer.add_tensor(name, data)
    else:
        writer.add_tensor(name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)


def permute(weight: torch.Tensor, heads: int) -> torch.Tensor:
    """llama.cpp's convert_hf_to_gguf.py `LlamaModel.permute`: rotate-half rows to interleaved."""
    return (weight.reshape(heads, 2, weight.shape[0] // heads // 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def write_gpt2(folder: Path) -> None:
    model = transformers.GPT2LMHeadModel.from_pretrained(NETWORKS / "gpt2_tiny")
    c, sd = model.config, model.state_dict()
    writer = gguf.GGUFWriter(str(folder / "model.gguf"), "gpt2")
    writer.add_context_length(c.n_positions)
    writer.add_embedding_length(c.n_embd)
    writer.add_block_count(c.n_layer)
    writer.add_feed_forward_length(4 * c.n_embd)
    writer.add_head_count(c.n_head)
    writer.add_layer_norm_eps(c.layer_norm_epsilon)
    writer.add_vocab_size(c.vocab_size)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    add(writer, "token_embd.weight", sd["transformer.wte.weight"], Q.Q8_0)
    add(writer, "position_embd.weight", sd["transformer.wpe.weight"], Q.Q8_0)
    for i in range(c.n_layer):
        p, b = f"transformer.h.{i}.", f"blk.{i}."
        add(writer, b + "attn_norm.weight", sd[p + "ln_1.weight"])
        add(writer, b + "attn_norm.bias", sd[p + "ln_1.bias"])
        # Conv1D weights are [in, out]; GGUF stores [out, in].
        add(writer, b + "attn_qkv.weight", sd[p + "attn.c_attn.weight"].T, Q.Q8_0)
        add(writer, b + "attn_qkv.bias", sd[p + "attn.c_attn.bias"])
        add(writer, b + "attn_output.weight", sd[p + "attn.c_proj.weight"].T, Q.Q8_0)
        add(writer, b + "attn_output.bias", sd[p + "attn.c_proj.bias"])
        add(writer, b + "ffn_norm.weight", sd[p + "ln_2.weight"])
        add(writer, b + "ffn_norm.bias", sd[p + "ln_2.bias"])
        add(writer, b + "ffn_up.weight", sd[p + "mlp.c_fc.weight"].T, Q.Q8_0)
        add(writer, b + "ffn_up.bias", sd[p + "mlp.c_fc.bias"])
        add(writer, b + "ffn_down.weight", sd[p + "mlp.c_proj.weight"].T, Q.Q8_0)
        add(writer, b + "ffn_down.bias", sd[p + "mlp.c_proj.bias"])
    add(writer, "output_norm.weight", sd["transformer.ln_f.weight"])
    add(writer, "output_norm.bias", sd["transformer.ln_f.bias"])
    finish(writer)


def write_llama(folder: Path, file: str = "model.gguf", rope_freqs: np.ndarray | None = None) -> None:
    model = transformers.LlamaForCausalLM.from_pretrained(NETWORKS / "llama_tiny")
    c, sd = model.config, model.state_dict()
    writer = gguf.GGUFWriter(str(folder / file), "llama")
    writer.add_context_length(c.max_position_embeddings)
    writer.add_embedding_length(c.hidden_size)
    writer.add_block_count(c.num_hidden_layers)
    writer.add_feed_forward_length(c.intermediate_size)
    writer.add_rope_dimension_count(c.hidden_size // c.num_attention_heads)
    writer.add_head_count(c.num_attention_heads)
    writer.add_head_count_kv(c.num_key_value_heads)
    writer.add_layer_norm_rms_eps(c.rms_norm_eps)
    writer.add_rope_freq_base(c.rope_theta if hasattr(c, "rope_theta") else 10000.0)
    writer.add_vocab_size(c.vocab_size)
    add(writer, "token_embd.weight", sd["model.embed_tokens.weight"], Q.Q8_0)
    for i in range(c.num_hidden_layers):
        p, b = f"model.layers.{i}.", f"blk.{i}."
        add(writer, b + "attn_norm.weight", sd[p + "input_layernorm.weight"])
        add(writer, b + "attn_q.weight", permute(sd[p + "self_attn.q_proj.weight"], c.num_attention_heads), Q.Q4_1)
        add(writer, b + "attn_k.weight", permute(sd[p + "self_attn.k_proj.weight"], c.num_key_value_heads), Q.Q4_1)
        add(writer, b + "attn_v.weight", sd[p + "self_attn.v_proj.weight"], Q.Q4_1)
        add(writer, b + "attn_output.weight", sd[p + "self_attn.o_proj.weight"], Q.Q4_1)
        add(writer, b + "ffn_norm.weight", sd[p + "post_attention_layernorm.weight"])
        add(writer, b + "ffn_gate.weight", sd[p + "mlp.gate_proj.weight"], Q.Q4_1)
        add(writer, b + "ffn_up.weight", sd[p + "mlp.up_proj.weight"], Q.Q5_0)
        add(writer, b + "ffn_down.weight", sd[p + "mlp.down_proj.weight"], Q.Q5_1)
    add(writer, "output_norm.weight", sd["model.norm.weight"])
    add(writer, "output.weight", sd["lm_head.weight"], Q.Q4_0)
    if rope_freqs is not None:
        writer.add_tensor("rope_freqs.weight", rope_freqs.astype(np.float32))
    finish(writer)


def finish(writer: gguf.GGUFWriter) -> None:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def expected(folder: Path, vocab: int, length: int, **config) -> None:
    # transformers reads gpt2.context_length as n_ctx, not n_positions, and takes the vocabulary size from
    # a tokenizer these files do not have: both are passed on.
    model = transformers.AutoModelForCausalLM.from_pretrained(
        folder, gguf_file="model.gguf", dtype=torch.float32, **config)
    model.eval()
    generator = torch.Generator().manual_seed(7)
    ids = torch.randint(0, vocab, (3, length), generator=generator)
    with torch.inference_mode():
        logits = model(ids).logits
    save_file({"input_ids": ids.to(torch.int64).contiguous(), "logits": logits.to(torch.float32).contiguous()},
              str(folder / "expected.safetensors"))


def main() -> None:
    for name, write, config in [("gpt2_tiny_gguf", write_gpt2, {"n_positions": 32, "vocab_size": 256}),
                                 ("llama_tiny_gguf", write_llama, {"vocab_size": 256})]:
        folder = NETWORKS / name
        folder.mkdir(exist_ok=True)
        write(folder)
        expected(folder, 256, 12, **config)
        print(f"wrote {folder.relative_to(ROOT)}")
    divisors = np.ones(8, dtype=np.float32)  # d_head / 2 = 8
    divisors[3] = 0
    write_llama(NETWORKS / "llama_tiny_gguf", "rope_freqs_zero.gguf", divisors)


if __name__ == "__main__":
    np.random.seed(0)
    main()

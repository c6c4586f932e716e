"""A Llama-family decoder in plain PyTorch with an explicit KV cache.

RMSNorm, rotary position embeddings (configurable rope_theta), grouped-query attention
(fewer KV heads than query heads), SwiGLU MLP, optional q/k/v biases (Qwen2 style) and
optional tied embeddings.  Keys are cached AFTER rotary is applied, exactly like the
Hugging Face implementation, so the exported graph matches the optimum Llama/Qwen2 layout:

    present.{i}.key = concat(past_key_values.{i}.key, new_key, axis=2)   [batch, kv_heads, seq, head_dim]
"""
import json
import math
from dataclasses import dataclass, asdict, field
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG_INF = -1.0e9  # finite so that fully padded rows stay NaN-free


@dataclass
class ModelConfig:
    vocab_size: int = 3072
    hidden_size: int = 256
    intermediate_size: int = 688
    num_hidden_layers: int = 6
    num_attention_heads: int = 8
    num_key_value_heads: int = 2
    head_dim: int = 32
    max_position_embeddings: int = 1024
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    tie_word_embeddings: bool = False
    attention_bias: bool = False  # Qwen2 uses biases on q/k/v
    bos_token_id: Optional[int] = None
    eos_token_id: int = 2
    pad_token_id: int = 0
    name: str = "kvshare-support-tiny"
    model_type: str = "llama"
    initializer_range: float = 0.02

    def hf_config(self) -> dict:
        """config.json in Hugging Face LlamaConfig (or Qwen2Config) style."""
        arch = "Qwen2ForCausalLM" if self.model_type == "qwen2" else "LlamaForCausalLM"
        cfg = {
            "_name_or_path": self.name,
            "architectures": [arch],
            "model_type": self.model_type,
            "hidden_act": "silu",
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim,
            "max_position_embeddings": self.max_position_embeddings,
            "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta,
            "rope_scaling": None,
            "attention_bias": self.attention_bias,
            "attention_dropout": 0.0,
            "mlp_bias": False,
            "initializer_range": self.initializer_range,
            "tie_word_embeddings": self.tie_word_embeddings,
            "vocab_size": self.vocab_size,
            "bos_token_id": self.bos_token_id,
            "eos_token_id": self.eos_token_id,
            "pad_token_id": self.pad_token_id,
            "torch_dtype": "float32",
            "use_cache": True,
            "transformers_version": "4.44.0",
        }
        return cfg

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @staticmethod
    def from_dict(d: dict) -> "ModelConfig":
        keys = ModelConfig.__dataclass_fields__.keys()
        return ModelConfig(**{k: v for k, v in d.items() if k in keys})


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    x1 = x[..., :half]
    x2 = x[..., half:]
    return torch.cat((-x2, x1), dim=-1)


class Rotary(nn.Module):
    def __init__(self, head_dim: int, theta: float):
        super().__init__()
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, position_ids):
        # position_ids [b, s] -> cos/sin [b, 1, s, head_dim]
        freqs = position_ids.to(torch.float32).unsqueeze(-1) * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.h = cfg.num_attention_heads
        self.kvh = cfg.num_key_value_heads
        assert self.h % self.kvh == 0
        self.rep = self.h // self.kvh
        self.d = cfg.head_dim
        self.q_proj = nn.Linear(cfg.hidden_size, self.h * self.d, bias=cfg.attention_bias)
        self.k_proj = nn.Linear(cfg.hidden_size, self.kvh * self.d, bias=cfg.attention_bias)
        self.v_proj = nn.Linear(cfg.hidden_size, self.kvh * self.d, bias=cfg.attention_bias)
        self.o_proj = nn.Linear(self.h * self.d, cfg.hidden_size, bias=False)
        self.scale = 1.0 / math.sqrt(self.d)

    def forward(self, x, cos, sin, mask, past_k, past_v):
        b, s = x.shape[0], x.shape[1]
        q = self.q_proj(x).view(b, s, self.h, self.d).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.kvh, self.d).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.kvh, self.d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_k is not None:
            k = torch.cat((past_k, k), dim=2)
            v = torch.cat((past_v, v), dim=2)
        # grouped-query attention without materialising repeated KV:
        # q [b, kvh, rep, s, d] x k [b, kvh, 1, T, d] (MatMul broadcasts)
        q5 = q.reshape(b, self.kvh, self.rep, s, self.d)
        scores = torch.matmul(q5, k.unsqueeze(2).transpose(-1, -2)) * self.scale  # [b,kvh,rep,s,T]
        scores = scores.masked_fill(mask, NEG_INF)  # mask: True = blocked, [b,1,1,s,T]
        probs = torch.softmax(scores, dim=-1)
        out = torch.matmul(probs, v.unsqueeze(2))  # [b,kvh,rep,s,d]
        out = out.reshape(b, self.h, s, self.d).transpose(1, 2).reshape(b, s, self.h * self.d)
        return self.o_proj(out), k, v


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, mask, past_k, past_v):
        a, k, v = self.self_attn(self.input_layernorm(x), cos, sin, mask, past_k, past_v)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, k, v


class LlamaLM(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.rotary = Rotary(cfg.head_dim, cfg.rope_theta)
        if cfg.tie_word_embeddings:
            self.lm_head = None
        else:
            self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    def init_weights(self, generator: Optional[torch.Generator] = None):
        std = self.cfg.initializer_range
        for name, p in self.named_parameters():
            with torch.no_grad():
                if p.dim() >= 2:
                    p.normal_(0.0, std, generator=generator)
                    if name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                        p.mul_(1.0 / math.sqrt(2 * self.cfg.num_hidden_layers))
                elif name.endswith("bias"):
                    p.zero_()
                else:
                    p.fill_(1.0)

    def forward(self, input_ids, attention_mask, position_ids,
                past: Optional[List[Tuple[torch.Tensor, torch.Tensor]]] = None, skip_head: bool = False):
        """input_ids/position_ids [b, s]; attention_mask [b, past+s] (1 = attend);
        past: list of (key, value) [b, kvh, past, d] or None.  Returns logits (or, with skip_head, the final
        hidden states for head()), presents."""
        b, s = input_ids.shape[0], input_ids.shape[1]
        total = attention_mask.shape[1]
        x = self.embed_tokens(input_ids)
        cos, sin = self.rotary(position_ids)
        # causal: query i sits at absolute index (total - s + i); key j allowed iff j <= that
        q_idx = torch.arange(s, device=input_ids.device).unsqueeze(1) + (total - s)
        k_idx = torch.arange(total, device=input_ids.device).unsqueeze(0)
        blocked = k_idx > q_idx  # [s, T]
        pad = attention_mask.eq(0).view(b, 1, 1, 1, total)
        mask = blocked.view(1, 1, 1, s, total) | pad  # [b,1,1,s,T]
        presents = []
        for i, layer in enumerate(self.layers):
            pk, pv = (past[i] if past is not None else (None, None))
            x, k, v = layer(x, cos, sin, mask, pk, pv)
            presents.append((k, v))
        x = self.norm(x)
        return (x if skip_head else self.head(x)), presents

    def head(self, x):
        """Logits of final hidden states."""
        if self.lm_head is None:
            return torch.matmul(x, self.embed_tokens.weight.t())
        return self.lm_head(x)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


class OnnxWrapper(nn.Module):
    """Flat-argument wrapper used for torch.onnx.export (optimum layout)."""

    def __init__(self, model: LlamaLM):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *flat_past):
        n = self.model.cfg.num_hidden_layers
        past = [(flat_past[2 * i], flat_past[2 * i + 1]) for i in range(n)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        out = [logits]
        for k, v in presents:
            out.append(k)
            out.append(v)
        return tuple(out)


@torch.no_grad()
def greedy_generate(model: LlamaLM, prompt_ids: List[int], max_new_tokens: int,
                    eos_ids=(), use_cache: bool = True) -> List[int]:
    """Greedy decoding with the explicit KV cache (batch 1)."""
    model.eval()
    cfg = model.cfg
    ids = list(prompt_ids)
    out: List[int] = []
    past = [(torch.zeros(1, cfg.num_key_value_heads, 0, cfg.head_dim),
             torch.zeros(1, cfg.num_key_value_heads, 0, cfg.head_dim)) for _ in range(cfg.num_hidden_layers)]
    step_ids = list(ids)
    start = 0
    for _ in range(max_new_tokens):
        if not use_cache:
            step_ids, start = list(ids), 0
            past = [(p[0][:, :, :0], p[1][:, :, :0]) for p in past]
        inp = torch.tensor([step_ids], dtype=torch.long)
        pos = torch.arange(start, start + len(step_ids)).unsqueeze(0)
        am = torch.ones(1, start + len(step_ids), dtype=torch.long)
        logits, presents = model(inp, am, pos, past)
        nxt = int(torch.argmax(logits[0, -1]).item())
        out.append(nxt)
        ids.append(nxt)
        if nxt in eos_ids:
            break
        past = presents
        start = start + len(step_ids)
        step_ids = [nxt]
    return out

"""Attention: FastViTHD's MHSA core (after its qkv Linear) and Qwen2's grouped-query causal attention.

Vision cases give `qkv` [N, 3C] (the qkv Linear's output, columns split as [3, heads, 32]) and `y`
[N, C] = softmax(q k^T / sqrt(32)) v per head, heads concatenated (ready for `proj`).

LLM cases give post-RoPE `q` [S, heads, hd], `k`/`v` [S, kv_heads, hd] and `y` [S, heads * hd], the
causal attention of every position over all S. `steps` lists the chunks a test runs through the KV
cache: each appends k/v rows [start, start + T) and attends q rows [start, start + T) over keys
[0, start + T), which must equal rows [start, start + T) of `y` (chunked prefill and decode see the
same keys as one full causal pass).

References are computed in float64 with scaled_dot_product_attention (GQA by repeat_interleave of the
K/V heads, causality of an offset chunk by an explicit mask) and checked against transformers' own
Qwen2 attention math (`eager_attention_forward`, fp32) before being written.
"""
import math
import sys
from types import SimpleNamespace

import torch
import torch.nn.functional as F

from .common import Cases, generator, randn

NAME = "attention"

HEAD_DIM_VISION = 32

# name: (tokens N, channels C, scale of q and k)
VISION = {
    "odd": (37, 96, 1.0),
    "peaky": (70, 64, 2.0),  # scores of std ~4: the online softmax's max tracking matters
    "stage3": (1024, 768, 1.0),
    "stage4": (256, 1536, 1.0),
}

# name: (heads, kv_heads, head_dim, scale, steps [(start, T)])
LLM = {
    "odd": (6, 2, 64, 1.0, [(0, 13)]),
    "odd_chunks": (6, 2, 64, 2.0, [(0, 5), (5, 1), (6, 7)]),
    "hd128": (12, 2, 128, 1.0, [(0, 33), (33, 1), (34, 6)]),
    "prefill": (14, 2, 64, 1.0, [(0, 281)]),
    "decode": (14, 2, 64, 1.5, [(0, 297), (297, 1), (298, 1), (299, 1)]),
    "multiturn": (14, 2, 64, 1.0, [(0, 20), (20, 7)]),
}


def vision_reference(qkv: torch.Tensor, heads: int) -> torch.Tensor:
    n, c3 = qkv.shape
    c = c3 // 3
    # [N, 3C] -> [3, heads, N, 32]
    q, k, v = qkv.double().reshape(n, 3, heads, HEAD_DIM_VISION).permute(1, 2, 0, 3)
    y = F.scaled_dot_product_attention(q, k, v)  # [heads, N, 32], scale 1/sqrt(32)
    return y.permute(1, 0, 2).reshape(n, c).float()  # [N, C], column head*32 + d


def causal_reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, start: int) -> torch.Tensor:
    """Rows q[T] at positions start.. over keys k[:start + T]; q [T, H, hd], k/v [S, KV, hd] -> [T, H*hd]."""
    t, heads, hd = q.shape
    kv_len = start + t
    group = heads // k.shape[1]
    qh = q.double().transpose(0, 1)  # [H, T, hd]
    kh = k[:kv_len].double().transpose(0, 1).repeat_interleave(group, dim=0)  # [H, kv_len, hd]
    vh = v[:kv_len].double().transpose(0, 1).repeat_interleave(group, dim=0)
    allowed = torch.arange(kv_len)[None, :] <= (start + torch.arange(t))[:, None]  # [T, kv_len]
    y = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=allowed)
    return y.transpose(0, 1).reshape(t, heads * hd).float()


def qwen2_eager_attention():
    """transformers' own Qwen2 attention function (imported late: it pulls in much of transformers)."""
    try:
        import torchvision  # noqa: F401
    except Exception:  # a torchvision built for another torch breaks transformers' import; Qwen2 needs none of it
        sys.modules["torchvision"] = None
    from transformers.models.qwen2.modeling_qwen2 import eager_attention_forward

    return eager_attention_forward


def transformers_reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Full causal attention the way transformers' Qwen2 computes it (eager path, fp32)."""
    eager_attention_forward = qwen2_eager_attention()
    s, heads, hd = q.shape
    module = SimpleNamespace(num_key_value_groups=heads // k.shape[1], training=False)
    mask = torch.full((s, s), float("-inf")).triu(1)[None, None]
    out, _ = eager_attention_forward(module, q.transpose(0, 1)[None], k.transpose(0, 1)[None], v.transpose(0, 1)[None], mask, scaling=hd**-0.5)
    return out[0].reshape(s, heads * hd)  # already [S, H, hd] after its transpose


def make():
    gen = generator(5)
    c = Cases()
    for name, (n, channels, scale) in VISION.items():
        heads = channels // HEAD_DIM_VISION
        qkv = randn((n, 3 * channels), gen)
        qkv[:, : 2 * channels] *= scale
        c.add(f"vision.{name}", {"op": "vision", "heads": heads}, qkv=qkv, y=vision_reference(qkv, heads))
    for name, (heads, kv_heads, hd, scale, steps) in LLM.items():
        s = steps[-1][0] + steps[-1][1]
        q = randn((s, heads, hd), gen, scale)
        k = randn((s, kv_heads, hd), gen, scale)
        v = randn((s, kv_heads, hd), gen)
        y = causal_reference(q, k, v, 0)
        torch.testing.assert_close(transformers_reference(q, k, v), y, atol=2e-5, rtol=2e-5)
        for start, t in steps:  # a chunk over the cache sees exactly the full pass's rows
            torch.testing.assert_close(causal_reference(q[start : start + t], k, v, start), y[start : start + t], atol=1e-6, rtol=1e-6)
        params = {"op": "causal", "heads": heads, "kv_heads": kv_heads, "head_dim": hd, "steps": [list(step) for step in steps]}
        c.add(f"llm.{name}", params, q=q, k=k, v=v, y=y)
    assert math.isclose(64**-0.5, 1 / 8)
    return c.result()

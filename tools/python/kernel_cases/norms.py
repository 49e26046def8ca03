"""LayerNorm (FastViTHD's LayerNormChannel, channels last), Qwen2's RMSNorm, inference BatchNorm2d,
softmax over the last dim, and Qwen2's rotary embedding (transformers' own code as the reference).

Weights stored as f16 / bf16 in a checkpoint are given as f32 values already rounded to that dtype
(the tests upload them as f16 / bf16, which is exact), so the references see the same weights.
"""
import sys

import torch
import torch.nn.functional as F

from .common import Cases, generator, randn, uniform

NAME = "norms"


def qwen2_modules():
    """transformers' Qwen2 code. A torchvision wheel built for another torch fails on import, and
    transformers imports it whenever it is installed: hide a broken one (nothing here needs it)."""
    try:
        import torchvision  # noqa: F401
    except Exception:  # RuntimeError: operator torchvision::nms does not exist
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        sys.modules["torchvision"] = None  # find_spec() now reports it absent
    from transformers import Qwen2Config
    from transformers.models.qwen2.modeling_qwen2 import Qwen2RMSNorm, Qwen2RotaryEmbedding, apply_rotary_pos_emb

    return Qwen2Config, Qwen2RMSNorm, Qwen2RotaryEmbedding, apply_rotary_pos_emb


def rounded(t: torch.Tensor, dtype: str) -> torch.Tensor:
    """f32 values of `t` rounded to `dtype` (what a checkpoint of that dtype holds)."""
    return t if dtype == "f32" else t.to({"f16": torch.float16, "bf16": torch.bfloat16}[dtype]).float()


def layer_norm_cases(c: Cases, gen: torch.Generator) -> None:
    # (name, x shape, mean offset, weight dtype): stages 3 / 4 maps [H, W, C], odd, streamed (C > 2048)
    for name, shape, offset, dtype in [
        ("stage3", (32, 32, 768), 0.0, "f32"),
        ("stage4", (16, 16, 1536), 0.0, "f32"),
        ("stage3_offset_f16", (32, 32, 768), 20.0, "f16"),
        ("odd", (37, 13), 1.0, "f32"),
        ("odd_bf16", (37, 13), 0.0, "bf16"),
        ("narrow", (9, 96), 0.0, "f32"),
        ("long", (3, 4100), 0.0, "f32"),
        ("long_odd", (2, 2053), 3.0, "f32"),
    ]:
        channels = shape[-1]
        x = randn(shape, gen, 2.0) + offset
        weight = rounded(1.0 + randn((channels,), gen, 0.3), dtype)
        bias = rounded(randn((channels,), gen, 0.3), dtype)
        y = F.layer_norm(x, (channels,), weight, bias, 1e-5)
        c.add(f"layer_norm.{name}", {"op": "layer_norm", "eps": 1e-5, "weight_dtype": dtype}, x=x, weight=weight, bias=bias, y=y)


def rms_norm_cases(c: Cases, gen: torch.Generator, Qwen2RMSNorm) -> None:
    for name, shape, dtype in [
        ("decode", (1, 896), "f32"),
        ("decode_f16", (1, 896), "f16"),
        ("decode_bf16", (1, 896), "bf16"),
        ("prefill_bf16", (281, 896), "bf16"),
        ("prefill", (281, 896), "f32"),
        ("odd", (5, 37), "f32"),
        ("odd_f16", (5, 37), "f16"),
        ("long", (2, 2052), "f32"),
        ("long_odd", (3, 1027), "bf16"),
    ]:
        width = shape[-1]
        x = randn(shape, gen, 4.0)
        x[..., 7] *= 50.0  # an outlier channel, as Qwen2's residual stream has
        norm = Qwen2RMSNorm(width, eps=1e-6)
        with torch.no_grad():
            norm.weight.copy_(rounded(uniform((width,), gen, -0.5, 3.0), dtype))
            y = norm(x)
        c.add(f"rms_norm.{name}", {"op": "rms_norm", "eps": 1e-6, "weight_dtype": dtype}, x=x, weight=norm.weight.detach().clone(), y=y)


def batch_norm_cases(c: Cases, gen: torch.Generator) -> None:
    eps = 1e-5
    for name, shape in [("stage2", (32, 32, 192)), ("stage3", (16, 16, 384)), ("odd", (7, 5, 13))]:
        channels = shape[-1]
        x = randn(shape, gen, 2.0)
        mean = randn((channels,), gen, 0.5)
        var = uniform((channels,), gen, 0.05, 3.0)
        gamma = 1.0 + randn((channels,), gen, 0.3)
        beta = randn((channels,), gen, 0.3)
        # [H, W, C] -> [1, C, H, W] for PyTorch, and back
        y = F.batch_norm(x.permute(2, 0, 1)[None], mean, var, gamma, beta, training=False, eps=eps)[0].permute(1, 2, 0)
        scale = gamma / torch.sqrt(var + eps)  # the fold a conv takes at load
        shift = beta - mean * scale
        c.add(f"batch_norm.{name}", {"op": "batch_norm", "eps": eps}, x=x, mean=mean, var=var, gamma=gamma, beta=beta, y=y, scale=scale, shift=shift)


def softmax_cases(c: Cases, gen: torch.Generator) -> None:
    odd = randn((6, 37), gen, 3.0)
    odd[1, ::3] = float("-inf")  # masked entries
    odd[2] = 1e4 + randn((37,), gen)  # large values: safe only when max-subtracted
    odd[3, 5] = 3e38
    odd[3, 6] = -3e38
    odd[4, :36] = float("-inf")  # one finite entry: exactly 1
    long_odd = randn((3, 2053), gen, 4.0)
    long_odd[0, 100:] = float("-inf")
    for name, x, temperature in [
        ("vocab", randn((1, 151936), gen, 3.0), 1.0),
        ("vocab_t07", randn((2, 151936), gen, 3.0), 0.7),
        ("rows", randn((64, 1024), gen, 5.0), 1.0),
        ("narrow", randn((24, 256), gen, 2.0), 1.0),
        ("odd", odd, 1.0),
        ("odd_t2", odd, 2.0),
        ("long_odd", long_odd, 1.0),
    ]:
        y = F.softmax(x / temperature if temperature != 1.0 else x, dim=-1)
        c.add(f"softmax.{name}", {"op": "softmax", "temperature": temperature}, x=x, y=y)


def rope_cases(c: Cases, gen: torch.Generator, Qwen2Config, Qwen2RotaryEmbedding, apply_rotary_pos_emb) -> None:
    # (name, query heads, kv heads, head_dim, theta, positions)
    for name, heads, kv_heads, head_dim, theta, positions in [
        ("prefill", 14, 2, 64, 1e6, torch.arange(0, 281)),
        ("decode", 14, 2, 64, 1e6, torch.tensor([5000])),
        ("far", 14, 2, 64, 1e6, torch.randint(0, 32768, (37,), generator=gen)),
        ("hd32_odd", 3, 1, 32, 1e4, torch.arange(7, 7 + 37)),
        ("hd12", 2, 2, 12, 1e4, torch.arange(3, 3 + 5)),
    ]:
        config = Qwen2Config(
            hidden_size=heads * head_dim,
            num_attention_heads=heads,
            num_key_value_heads=kv_heads,
            rope_theta=theta,
            max_position_embeddings=32768,
        )
        rotary = Qwen2RotaryEmbedding(config)
        tokens = positions.numel()
        q = randn((tokens, heads, head_dim), gen)
        k = randn((tokens, kv_heads, head_dim), gen)
        cos, sin = rotary(q, positions[None])  # [1, T, d]
        # [T, heads, d] -> [1, T, heads, d]: heads at dim 2, so cos / sin unsqueeze there
        q_out, k_out = apply_rotary_pos_emb(q[None], k[None], cos, sin, unsqueeze_dim=2)
        params = {"op": "rope", "theta": theta, "head_dim": head_dim, "start": int(positions[0]), "contiguous": bool((positions == positions[0] + torch.arange(tokens)).all())}
        c.add(
            f"rope.{name}",
            params,
            q=q,
            k=k,
            positions=positions.to(torch.int32),
            inv_freq=rotary.inv_freq.clone(),
            q_out=q_out[0],
            k_out=k_out[0],
        )


def make():
    gen = generator(4)
    Qwen2Config, Qwen2RMSNorm, Qwen2RotaryEmbedding, apply_rotary_pos_emb = qwen2_modules()
    c = Cases()
    layer_norm_cases(c, gen)
    rms_norm_cases(c, gen, Qwen2RMSNorm)
    batch_norm_cases(c, gen)
    softmax_cases(c, gen)
    rope_cases(c, gen, Qwen2Config, Qwen2RotaryEmbedding, apply_rotary_pos_emb)
    return c.result()

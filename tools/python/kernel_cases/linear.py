"""linear: y = x W^T + b with W [out, in] in f32 / f16 / bf16 / int8 / int4, and fused epilogues.

Per shape: <shape>.x, .bias, .y_f32 (the f32 result) and .weight (f32, where a case needs it:
f32 cases and int8 / int4 cases, whose test quantizes it again in TypeScript). Per case
<shape>.<dtype>: the stored weight (float16 / bfloat16 bits, int8 values + f32 scales, or packed
int4 nibbles + f16 scales) and y computed in float64 from exactly those stored weights. Weights are
N(0, 1/K) so outputs are O(1).
"""
import torch
import torch.nn.functional as F

from .common import Cases, generator, randn, uniform

NAME = "linear"

# name: (M, K, N, dtypes); "int8g64" = int8 with one scale per 64 inputs of a row; "int4g32" = int4
# with one f16 scale per 32 inputs. The 0.5B decoder's shapes: decode_m3 (q/o_proj), k_proj,
# decode_up (gate/up_proj), decode_down (down_proj), projector_fc1 (the projector's first linear).
SHAPES = {
    "odd": (5, 37, 19, ["f32", "f16", "bf16", "int8", "int4g37"]),
    "edge": (13, 40, 23, ["f32", "f16", "bf16", "int8", "int8g8", "int4g8", "int4g40"]),
    "decode_m3": (3, 896, 896, ["f32", "f16", "int8", "int8g64", "int4g32", "int4g128"]),
    "decode_up": (1, 896, 4864, ["f16", "int4g32"]),
    "decode_down": (1, 4864, 896, ["int8", "int4g32", "int4g64"]),
    "k_proj": (281, 896, 128, ["f32", "f16", "bf16", "int8", "int8g32", "int4g32"]),
    "projector_fc1": (32, 3072, 896, ["f16", "int4g32"]),
    # stage-2 1x1 conv (ConvFFN fc1, 384 -> 1536) over 16x16 of the 64x64 positions
    "conv_stage2": (256, 384, 1536, ["f32", "f16", "int8g32"]),
}

# name: (M, K, N, dtype, activation, bias, residual, layer scale)
EPILOGUES = {
    "fc1_gelu": (37, 96, 384, "f16", "gelu", True, False, False),  # ConvFFN fc1, stage 0
    "silu": (6, 64, 40, "f32", "silu", False, False, False),
    "relu_bias": (9, 48, 24, "bf16", "relu", True, False, False),
    "o_proj_residual": (7, 128, 96, "f32", "none", False, True, False),
    "fc2_layer_scale": (50, 384, 96, "f16", "none", True, True, True),  # ConvFFN fc2 + layer scale
    "down_proj_decode": (1, 896, 896, "int8", "none", False, True, False),
    "projector_gelu_decode": (1, 256, 128, "bf16", "gelu", True, False, False),
    "gelu_scale_decode": (2, 64, 72, "int8g16", "gelu", True, True, True),
    "down_proj_decode_int4": (1, 896, 896, "int4g32", "none", False, True, False),
    "projector_gelu_int4": (3, 256, 128, "int4g64", "gelu", True, False, False),
    "gelu_scale_odd_int4": (5, 37, 9, "int4g37", "gelu", True, True, True),
}


# SwiGLU through one [gate; up] weight (linearSwiGlu): name: (M, K, N, dtypes); N columns out of
# 2N weight rows. "odd" has K = 37, which no tile's k-step divides: the scalar kernel.
SWIGLU = {
    "decode": (1, 256, 320, ["f32", "f16", "int8", "int8g32", "int4g32"]),
    "prefill": (19, 96, 40, ["f32", "f16", "int8", "int8g32", "int4g32"]),
    "odd": (5, 37, 12, ["f32", "f16", "int8", "int4g37"]),
}

# RMSNorm folded into the linear (linear's inputNorm): y = rmsNorm(x; gamma, eps) W^T (+ bias), or
# SwiGLU of it. name: (M, K, N, norm dtype, bias, swiglu, weight dtypes). Decode rows (M <= 4) run
# the norm inside the register tiles; "prefill" (M 19) and "odd" (K 37) run rmsNorm first.
NORMED = {
    "qkv": (1, 896, 1152, "bf16", True, False, ["f32", "f16", "int8", "int4g32"]),  # 0.5B q/k/v stacked
    "m3": (3, 896, 896, "f16", True, False, ["f16", "int8g64"]),
    "gate_up": (1, 256, 320, "f32", False, True, ["f16", "int8", "int4g32"]),
    "prefill": (19, 96, 40, "f32", True, False, ["f32"]),
    "odd": (2, 37, 12, "f16", True, False, ["f16"]),
}
NORM_EPS = 1e-6


def quantize_int8(w: torch.Tensor, group: int):
    """As packages/tensor/src/int8-weight.ts: scale = fp32(max|w| / 127), q = round(w / scale)."""
    rows, cols = w.shape
    grouped = w.reshape(rows, cols // group, group)
    scale = grouped.abs().amax(dim=-1) / 127  # f32 arithmetic, as in TypeScript
    safe = torch.where(scale == 0, torch.ones_like(scale), scale)
    q = torch.round(grouped / safe[..., None]).clamp(-127, 127)
    q = torch.where(scale[..., None] == 0, torch.zeros_like(q), q)
    dequant = (q.double() * scale.double()[..., None]).reshape(rows, cols)
    return q.to(torch.int8).reshape(rows, cols), scale, dequant


def quantize_int4(w: torch.Tensor, group: int):
    """As packages/tensor/src/int4-weight.ts: scale = f16(fp32(max|w| / 7)), q = round(w / scale) in
    [-7, 7]; q as two's-complement nibbles, two a byte (input 2j low), rows padded to whole bytes."""
    rows, cols = w.shape
    grouped = w.reshape(rows, cols // group, group)
    scale = (grouped.abs().amax(dim=-1) / 7).to(torch.float16)  # f32 division, then rounded to f16
    scale32 = scale.float()
    safe = torch.where(scale32 == 0, torch.ones_like(scale32), scale32)
    q = torch.round(grouped / safe[..., None]).clamp(-7, 7)
    q = torch.where(scale32[..., None] == 0, torch.zeros_like(q), q).to(torch.int8).reshape(rows, cols)
    dequant = q.double() * scale32.double().repeat_interleave(group, dim=1)
    nibbles = (q & 0xF).to(torch.uint8)
    if cols % 2:
        nibbles = torch.cat([nibbles, torch.zeros(rows, 1, dtype=torch.uint8)], dim=1)
    packed = nibbles[:, 0::2] | (nibbles[:, 1::2] << 4)
    return packed.contiguous(), scale, dequant


def stored_weight(w: torch.Tensor, dtype: str):
    """The tensors a case stores for W, and W as the kernel sees it (float64)."""
    if dtype == "f32":
        return {}, w.double()
    if dtype in ("f16", "bf16"):
        rounded = w.to(torch.float16 if dtype == "f16" else torch.bfloat16)
        return {"weight": rounded}, rounded.double()
    if dtype.startswith("int4g"):
        packed, scales, dequant = quantize_int4(w, int(dtype[5:]))
        return {"values": packed, "scales": scales}, dequant
    group = int(dtype[5:]) if dtype.startswith("int8g") else w.shape[1]
    q, scales, dequant = quantize_int8(w, group)
    return {"values": q, "scales": scales}, dequant


def reference(x, w64, bias=None, activation="none", residual=None, scale=None):
    y = x.double() @ w64.T
    if bias is not None:
        y = y + bias.double()
    y = {"gelu": F.gelu, "silu": F.silu, "relu": F.relu, "none": lambda t: t}[activation](y)
    if scale is not None:
        y = y * scale.double()
    if residual is not None:
        y = y + residual.double()
    return y.float()


def make():
    gen = generator(7)
    c = Cases()
    for shape, (m, k, n, dtypes) in SHAPES.items():
        x = randn((m, k), gen)
        w = randn((n, k), gen, k**-0.5)
        bias = randn((n,), gen, 0.5)
        needs_f32 = any(d == "f32" or d.startswith("int") for d in dtypes)
        shape_tensors = {"x": x, "bias": bias, "y_f32": reference(x, w.double(), bias)}
        if needs_f32:
            shape_tensors["weight"] = w
        c.add(shape, {"kind": "shape", "M": m, "K": k, "N": n}, **shape_tensors)
        for dtype in dtypes:
            tensors, w64 = stored_weight(w, dtype)
            y = shape_tensors["y_f32"] if dtype == "f32" else reference(x, w64, bias)
            c.add(f"{shape}.{dtype}", {"kind": "linear", "shape": shape, "dtype": dtype}, y=y, **tensors)
    for name, (m, k, n, dtype, activation, has_bias, has_residual, has_scale) in EPILOGUES.items():
        x = randn((m, k), gen)
        w = randn((n, k), gen, k**-0.5)
        extra = {}
        if has_bias:
            extra["bias"] = randn((n,), gen, 0.5)
        if has_residual:
            extra["residual"] = randn((m, n), gen)
        if has_scale:
            extra["scale"] = randn((n,), gen, 0.1)
        tensors, w64 = stored_weight(w, dtype)
        y = reference(x, w64, extra.get("bias"), activation, extra.get("residual"), extra.get("scale"))
        params = {"kind": "epilogue", "dtype": dtype, "activation": activation}
        c.add(f"epilogue.{name}", params, x=x, f32_weight=w, y=y, **tensors, **extra)
    for name, (m, k, n, dtypes) in SWIGLU.items():
        x = randn((m, k), gen)
        gate_up = randn((2 * n, k), gen, k**-0.5)  # gate_proj's rows, then up_proj's
        c.add(f"swiglu.{name}", {"kind": "swiglu_shape", "M": m, "K": k, "N": n}, x=x, weight=gate_up)
        for dtype in dtypes:
            tensors, w64 = stored_weight(gate_up, dtype)
            y = (F.silu(x.double() @ w64[:n].T) * (x.double() @ w64[n:].T)).float()
            c.add(f"swiglu.{name}.{dtype}", {"kind": "swiglu", "shape": f"swiglu.{name}", "dtype": dtype}, y=y, **tensors)
    normed_cases(c, gen)
    return c.result()


def normed_cases(c: Cases, gen) -> None:
    """linear with inputNorm: the residual stream's scale (x ~ 4, one outlier channel, as Qwen2's),
    gamma stored in the norm dtype; the reference normalises in float64 from the stored values."""
    for name, (m, k, n, norm_dtype, has_bias, swiglu, dtypes) in NORMED.items():
        x = randn((m, k), gen, 4.0)
        x[:, 7] *= 50.0
        # stored as f32 holding values of the norm dtype (the test uploads them as that dtype)
        gamma = uniform((k,), gen, -0.5, 3.0)
        if norm_dtype != "f32":
            gamma = gamma.to(torch.float16 if norm_dtype == "f16" else torch.bfloat16).float()
        rows = 2 * n if swiglu else n
        w = randn((rows, k), gen, k**-0.5)
        shape_tensors = {"x": x, "norm_weight": gamma, "weight": w}
        if has_bias:
            shape_tensors["bias"] = randn((n,), gen, 0.5)
        params = {"kind": "normed_shape", "M": m, "K": k, "N": n, "eps": NORM_EPS, "swiglu": swiglu, "norm_dtype": norm_dtype}
        c.add(f"normed.{name}", params, **shape_tensors)
        x64 = x.double()
        normed = x64 / torch.sqrt(x64.pow(2).mean(-1, keepdim=True) + NORM_EPS) * gamma.double()
        for dtype in dtypes:
            tensors, w64 = stored_weight(w, dtype)
            if swiglu:
                y = (F.silu(normed @ w64[:n].T) * (normed @ w64[n:].T)).float()
            else:
                y = reference(normed, w64, shape_tensors.get("bias"))
            c.add(f"normed.{name}.{dtype}", {"kind": "normed", "shape": f"normed.{name}", "dtype": dtype}, y=y, **tensors)

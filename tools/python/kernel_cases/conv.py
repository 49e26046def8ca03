"""Convolutions on channels-last maps: general grouped conv2d, depthwise conv2d (+ BatchNorm),
global average pooling and squeeze-excite, at FastViTHD's shapes (the largest maps reduced).

Feature maps are stored NHWC without the batch dim ([H, W, C]); weights in PyTorch's layout
[Cout, Cin/groups, kh, kw]. References are computed by torch on NCHW in float64 and stored as
float32. A case with `wdtype` f16/bf16 stores weights already rounded to that type (as float32
values, exactly representable) and its reference uses the rounded weights.
"""
import torch
import torch.nn.functional as F

from .common import Cases, generator, randn, uniform

NAME = "conv"

ACTIVATIONS = {"none": lambda t: t, "gelu": F.gelu, "relu": F.relu}


def to_nchw(x: torch.Tensor) -> torch.Tensor:
    return x.permute(2, 0, 1).unsqueeze(0).double()


def to_hwc(y: torch.Tensor) -> torch.Tensor:
    return y.squeeze(0).permute(1, 2, 0).float()


def rounded(t: torch.Tensor, wdtype: str) -> torch.Tensor:
    return t if wdtype == "f32" else t.to({"f16": torch.float16, "bf16": torch.bfloat16}[wdtype]).float()


def conv_case(c: Cases, gen, name, hw, cin, cout, k, stride, padding, groups, bias, act, wdtype="f32"):
    x = randn((*hw, cin), gen)
    fan_in = cin // groups * k * k
    w = rounded(randn((cout, cin // groups, k, k), gen, fan_in**-0.5), wdtype)
    b = rounded(randn((cout,), gen, 0.5), wdtype) if bias else None
    y = F.conv2d(to_nchw(x), w.double(), None if b is None else b.double(), stride, padding, 1, groups)
    params = {"op": "conv2d", "bias": bias, "stride": stride, "padding": padding, "groups": groups, "activation": act, "wdtype": wdtype}
    tensors = {"x": x, "weight": w, "y": to_hwc(ACTIVATIONS[act](y))}
    if b is not None:
        tensors["bias"] = b
    c.add(name, params, **tensors)


def depthwise_case(c: Cases, gen, name, hw, ch, k, stride, padding, bias, bn, act, wdtype="f32"):
    x = randn((*hw, ch), gen)
    w = rounded(randn((ch, 1, k, k), gen, 1 / k), wdtype)
    b = rounded(randn((ch,), gen, 0.5), wdtype) if bias else None
    y = F.conv2d(to_nchw(x), w.double(), None if b is None else b.double(), stride, padding, 1, ch)
    tensors = {"x": x, "weight": w}
    if b is not None:
        tensors["bias"] = b
    if bn:
        stats = {
            "running_mean": randn((ch,), gen, 0.3),
            "running_var": uniform((ch,), gen, 0.3, 2.0),
            "bn_weight": randn((ch,), gen),
            "bn_bias": randn((ch,), gen, 0.3),
        }
        y = F.batch_norm(y, *(stats[n].double() for n in ("running_mean", "running_var", "bn_weight", "bn_bias")), False, 0.0, 1e-5)
        tensors.update(stats)
    params = {"op": "depthwise", "bias": bias, "stride": stride, "padding": padding, "batchNorm": bn, "eps": 1e-5, "activation": act, "wdtype": wdtype}
    c.add(name, params, **tensors, y=to_hwc(ACTIVATIONS[act](y)))


def se_case(c: Cases, gen, name, hw, ch, reduced, act, wdtype="f32"):
    x = randn((*hw, ch), gen, 2.0)
    t = {
        "reduce_weight": rounded(randn((reduced, ch, 1, 1), gen, ch**-0.5 * 4), wdtype),
        "reduce_bias": rounded(randn((reduced,), gen, 0.5), wdtype),
        "expand_weight": rounded(randn((ch, reduced, 1, 1), gen, reduced**-0.5 * 2), wdtype),
        "expand_bias": rounded(randn((ch,), gen, 0.5), wdtype),
    }
    xd = to_nchw(x)
    hidden = F.relu(F.conv2d(xd.mean((2, 3), keepdim=True), t["reduce_weight"].double(), t["reduce_bias"].double()))
    gate = torch.sigmoid(F.conv2d(hidden, t["expand_weight"].double(), t["expand_bias"].double()))
    y = ACTIVATIONS[act](xd * gate)
    c.add(name, {"op": "se", "activation": act, "wdtype": wdtype}, x=x, **t, y=to_hwc(y))


def make():
    gen = generator(7)
    c = Cases()
    # conv2d: the stem patch_embed.0 (1024x1024 in the model), lkb_reparam downsamples, conv_exp, odd ones
    conv_case(c, gen, "stem.64", (64, 64), 3, 96, 3, 2, 1, 1, True, "gelu")
    conv_case(c, gen, "stem.odd_f16", (37, 45), 3, 96, 3, 2, 1, 1, True, "gelu", "f16")
    conv_case(c, gen, "lkb.96to192", (64, 64), 96, 192, 7, 2, 3, 96, True, "gelu", "f16")
    conv_case(c, gen, "lkb.768to1536", (32, 32), 768, 1536, 7, 2, 3, 768, True, "gelu")
    conv_case(c, gen, "lkb.odd", (11, 7), 13, 26, 7, 2, 3, 13, True, "gelu")
    conv_case(c, gen, "conv_exp.1536to3072", (16, 16), 1536, 3072, 3, 1, 1, 1536, True, "none", "f16")
    conv_case(c, gen, "generic.5x5s2", (13, 9), 7, 11, 5, 2, 2, 1, True, "relu")
    conv_case(c, gen, "generic.groups3", (10, 12), 6, 12, 3, 1, 1, 3, False, "none", "bf16")
    conv_case(c, gen, "generic.groups2_odd", (9, 11), 8, 6, 3, 2, 0, 2, True, "none")
    conv_case(c, gen, "generic.mult3", (9, 8), 4, 12, 3, 1, 1, 4, False, "relu")
    # depthwise: RepMixer reparam_conv 3x3, ConvFFN 7x7 + BN, RepCPE 7x7 + bias, stem patch_embed.1
    depthwise_case(c, gen, "mixer3x3.96", (64, 64), 96, 3, 1, 1, True, False, "none")
    depthwise_case(c, gen, "ffn7x7.96", (64, 64), 96, 7, 1, 3, False, True, "none", "f16")
    depthwise_case(c, gen, "ffn7x7.192", (48, 48), 192, 7, 1, 3, False, True, "none")
    depthwise_case(c, gen, "ffn7x7.384", (48, 48), 384, 7, 1, 3, False, True, "none", "f16")
    depthwise_case(c, gen, "cpe7x7.768", (32, 32), 768, 7, 1, 3, True, False, "none")
    depthwise_case(c, gen, "cpe7x7.1536", (16, 16), 1536, 7, 1, 3, True, False, "none", "bf16")
    depthwise_case(c, gen, "stem3x3s2.96", (64, 64), 96, 3, 2, 1, True, False, "gelu", "f16")
    depthwise_case(c, gen, "odd7x7.13", (11, 7), 13, 7, 1, 3, True, True, "gelu")
    depthwise_case(c, gen, "odd3x3s2.13", (11, 7), 13, 3, 2, 1, False, False, "relu", "f16")
    # global average pool and squeeze-excite (conv_exp's se: 3072 -> 192 -> 3072 at 16x16, then GELU)
    for name, hw, ch in (("pool.3072", (16, 16), 3072), ("pool.odd", (5, 7), 13)):
        x = randn((*hw, ch), gen)
        c.add(name, {"op": "avgpool"}, x=x, y=x.double().mean((0, 1)).float())
    se_case(c, gen, "se.3072", (16, 16), 3072, 192, "gelu", "f16")
    se_case(c, gen, "se.768_f32", (8, 8), 768, 48, "gelu")
    se_case(c, gen, "se.odd", (3, 4), 13, 5, "none")
    return c.result()

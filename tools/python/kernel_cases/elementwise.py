"""Activations, residual adds, SwiGLU's silu(gate)*up and the layer-scaled residual."""
import torch
import torch.nn.functional as F

from .common import Cases, generator, randn

NAME = "elementwise"

SHAPES = {"odd": (3, 37), "tokens": (1024, 768), "wide": (7, 4864)}


def make():
    gen = generator(1)
    c = Cases()
    for shape_name, shape in SHAPES.items():
        x = randn(shape, gen, 3.0)
        b = randn(shape, gen)
        channel = randn((shape[-1],), gen)
        for op, fn in {"gelu": lambda t: F.gelu(t), "silu": F.silu, "relu": F.relu, "sigmoid": torch.sigmoid}.items():
            c.add(f"{op}.{shape_name}", {"op": op}, x=x, y=fn(x))
        c.add(f"add.{shape_name}", {"op": "add"}, a=x, b=b, y=x + b)
        c.add(f"mul.{shape_name}", {"op": "mul"}, a=x, b=b, y=x * b)
        c.add(f"add_channel.{shape_name}", {"op": "add"}, a=x, b=channel, y=x + channel)
        c.add(f"silu_mul.{shape_name}", {"op": "silu_mul"}, a=x, b=b, y=F.silu(x) * b)
        c.add(f"layer_scale.{shape_name}", {"op": "layer_scale"}, x=x, branch=b, scale=channel, y=x + channel * b)
    # GELU's far tails and zero, where a poor erf shows
    tails = torch.tensor([-12.0, -9.0, -6.5, -5.0, -3.0, -1e-3, 0.0, 1e-3, 3.0, 5.0, 9.0], dtype=torch.float32)
    c.add("gelu.tails", {"op": "gelu"}, x=tails, y=F.gelu(tails))
    return c.result()

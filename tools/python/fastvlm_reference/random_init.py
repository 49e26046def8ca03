"""Random weights under which every branch of FastVLM matters and activations stay O(1).

Not a training init: BatchNorm running stats and affine parameters are random and far from
identity, layer scales are 0.1-0.4 (not 1e-5), every bias is non-zero, folded convs are an identity
tap plus noise (as a real reparameterized RepMixer / RepCPE is), and weights have std
gain/sqrt(fan_in), so the 44 tower blocks and the Qwen2 layers neither blow up nor collapse.
"""
import torch

IDENTITY_FOLDED = ("token_mixer.reparam_conv.weight", "network.6.reparam_conv.weight",
                   "network.9.reparam_conv.weight")
# Folded convs followed by GELU outside any residual (stem, downsamples, conv_exp): GELU roughly
# halves the RMS of a small input, so these get gain sqrt(2) (He) to keep each stage's input O(1).
BEFORE_GELU = ("lkb_reparam.weight", "proj.1.reparam_conv.weight", "conv_exp.reparam_conv.weight")


def _uniform(shape, low, high, generator):
    return torch.rand(shape, generator=generator).mul_(high - low).add_(low)  # in place: one buffer


def _normal(shape, std, generator):
    return torch.randn(shape, generator=generator).mul_(std)


def _fan_in(weight):
    return weight[0].numel()  # conv [out, in/groups, k, k] or linear [out, in]


def random_tensor(name, tensor, generator):
    shape = tensor.shape
    if name.endswith("num_batches_tracked"):
        return torch.zeros(shape, dtype=tensor.dtype)
    if name.endswith("bn.running_mean"):
        return _normal(shape, 0.5, generator)
    if name.endswith("bn.running_var"):
        return _uniform(shape, 0.5, 2.0, generator)
    if name.endswith("bn.weight") or name.endswith("norm.weight") or name.endswith("layernorm.weight"):
        return _uniform(shape, 0.5, 1.5, generator)  # BatchNorm, LayerNormChannel, RMSNorm gains
    if "layer_scale" in name:
        return _uniform(shape, 0.1, 0.4, generator)
    if name.endswith(".bias"):
        return _normal(shape, 0.1, generator)
    if name.endswith("head.proj"):
        return _normal(shape, shape[0] ** -0.5, generator)  # [3072, 768], used as x @ proj
    if name.endswith("embed_tokens.weight") or name.endswith("lm_head.weight"):
        return _normal(shape, 2 * shape[1] ** -0.5, generator)  # logits O(1) through the tied head
    if name.endswith(IDENTITY_FOLDED):
        # Folded RepMixer / RepCPE: identity (centre tap) plus a mixing kernel.
        k = shape[-1]
        weight = _normal(shape, 0.2 / k, generator)
        weight[:, :, k // 2, k // 2] += 1.0
        return weight
    if name.endswith(BEFORE_GELU) or "patch_embed" in name:
        return _normal(shape, (2 / _fan_in(tensor)) ** 0.5, generator)
    if name.endswith(".weight"):
        return _normal(shape, _fan_in(tensor) ** -0.5, generator)
    raise ValueError(f"no random init rule for {name} {tuple(shape)}")


def random_state(state_dict, seed=0):
    """(name, random f32 or int64 tensor) for each entry of a state_dict in its order, from one
    generator seeded with `seed`. The entries only give names and shapes: a model built on the meta
    device works, so a checkpoint can be written one tensor at a time without ever holding the model."""
    generator = torch.Generator().manual_seed(seed)
    for name, tensor in state_dict.items():
        yield name, random_tensor(name, tensor, generator).to(torch.float32 if tensor.is_floating_point() else tensor.dtype)


@torch.no_grad()
def randomize_(model, seed=0):
    """Overwrites every parameter and buffer of the model's state_dict, deterministically per seed."""
    state = model.state_dict()
    for name, values in random_state(state, seed):
        state[name].copy_(values.to(state[name].dtype))
    return model

"""FastViTHD (MobileCLIP-L image tower) in its reparameterized inference form.

Module and field names are the checkpoint's: the state_dict of `FastViTHD` has exactly the names
under `model.vision_tower.vision_tower.model.` in apple/FastVLM-0.5B (see
shared/spec/fastvlm-architecture.md §2). GELU is the exact erf form everywhere.
"""
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

WIDTHS = (96, 192, 384, 768, 1536)
DEPTHS = (2, 12, 24, 4, 2)
MIXERS = ("repmixer", "repmixer", "repmixer", "attention", "attention")
HEAD_DIM = 32
EMBED_DIM = 3072  # conv_exp output channels = image feature width
CLIP_DIM = 768  # head.proj output (MobileCLIP embedding, unused by the VLM)


def conv(cin, cout, kernel, stride=1, groups=1, bias=True):
    return nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=bias)


class MobileOneBlock(nn.Module):
    """Folded MobileOne block: one conv with bias, then GELU."""

    def __init__(self, cin, cout, kernel, stride=1, groups=1):
        super().__init__()
        self.reparam_conv = conv(cin, cout, kernel, stride, groups)

    def forward(self, x):
        return F.gelu(self.reparam_conv(x))


class ReparamLargeKernelConv(nn.Module):
    """Folded 7x7 + 3x3 large-kernel conv; grouped by input channel (multiplier cout/cin), GELU."""

    def __init__(self, cin, cout, kernel=7, stride=2):
        super().__init__()
        self.lkb_reparam = conv(cin, cout, kernel, stride, groups=cin)

    def forward(self, x):
        return F.gelu(self.lkb_reparam(x))


class PatchEmbed(nn.Module):
    """Downsampling between stages: [B,C,H,W] -> [B,2C,H/2,W/2]."""

    def __init__(self, cin, cout):
        super().__init__()
        self.proj = nn.Sequential(ReparamLargeKernelConv(cin, cout), MobileOneBlock(cout, cout, 1))

    def forward(self, x):
        return self.proj(x)


class RepMixer(nn.Module):
    """Folded RepMixer: depthwise 3x3 with bias; identity and inner layer scale are inside it."""

    def __init__(self, dim):
        super().__init__()
        self.reparam_conv = conv(dim, dim, 3, groups=dim)

    def forward(self, x):
        return self.reparam_conv(x)


class RepCPE(nn.Module):
    """Conditional positional encoding, identity folded in: depthwise 7x7 with bias."""

    def __init__(self, dim):
        super().__init__()
        self.reparam_conv = conv(dim, dim, 7, groups=dim)

    def forward(self, x):
        return self.reparam_conv(x)


class ConvFFN(nn.Module):
    """depthwise 7x7 (no bias) -> BatchNorm (running stats, not folded) -> fc1 -> GELU -> fc2."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.conv = nn.Sequential(OrderedDict(
            conv=conv(dim, dim, 7, groups=dim, bias=False),
            bn=nn.BatchNorm2d(dim, eps=1e-5),
        ))
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, dim, 1)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(self.conv(x))))


class RepMixerBlock(nn.Module):
    def __init__(self, dim, mlp_ratio=4):
        super().__init__()
        self.token_mixer = RepMixer(dim)
        self.convffn = ConvFFN(dim, dim * mlp_ratio)
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1))

    def forward(self, x):
        x = self.token_mixer(x)
        return x + self.layer_scale * self.convffn(x)


class LayerNormChannel(nn.Module):
    """LayerNorm over the channel dim of [B,C,H,W], per pixel."""

    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class MHSA(nn.Module):
    """Non-causal multi-head self-attention over the H*W pixels, heads 32 wide."""

    def __init__(self, dim):
        super().__init__()
        self.heads = dim // HEAD_DIM
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, C, H, W = x.shape
        x = x.flatten(2).transpose(1, 2)  # [B,C,H,W] -> [B,N,C]
        qkv = self.qkv(x).reshape(B, H * W, 3, self.heads, HEAD_DIM).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # each [B, heads, N, 32]
        attn = ((q * HEAD_DIM ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        x = (attn @ v).transpose(1, 2).reshape(B, H * W, C)
        return self.proj(x).transpose(1, 2).reshape(B, C, H, W)


class AttentionBlock(nn.Module):
    def __init__(self, dim, mlp_ratio=4):
        super().__init__()
        self.norm = LayerNormChannel(dim)
        self.token_mixer = MHSA(dim)
        self.convffn = ConvFFN(dim, dim * mlp_ratio)
        self.layer_scale_1 = nn.Parameter(torch.ones(dim, 1, 1))
        self.layer_scale_2 = nn.Parameter(torch.ones(dim, 1, 1))

    def forward(self, x):
        x = x + self.layer_scale_1 * self.token_mixer(self.norm(x))
        return x + self.layer_scale_2 * self.convffn(x)


class SEBlock(nn.Module):
    """Squeeze-excite: global mean -> reduce -> ReLU -> expand -> sigmoid -> channel gate."""

    def __init__(self, dim, ratio=0.0625):
        super().__init__()
        self.reduce = nn.Conv2d(dim, int(dim * ratio), 1)
        self.expand = nn.Conv2d(int(dim * ratio), dim, 1)

    def forward(self, x):
        gate = x.mean((2, 3), keepdim=True)  # [B,C,1,1]
        gate = torch.sigmoid(self.expand(F.relu(self.reduce(gate))))
        return x * gate


class ConvExp(nn.Module):
    """conv 3x3 1536->3072 grouped by input channel (multiplier 2) -> SE -> GELU."""

    def __init__(self, cin, cout):
        super().__init__()
        self.se = SEBlock(cout)
        self.reparam_conv = conv(cin, cout, 3, groups=cin)

    def forward(self, x):
        return F.gelu(self.se(self.reparam_conv(x)))


class GlobalPool2D(nn.Module):
    """MobileCLIP's image head: spatial mean then x @ proj [3072,768]. Loaded, unused by the VLM."""

    def __init__(self, cin, cout):
        super().__init__()
        self.proj = nn.Parameter(torch.zeros(cin, cout))

    def forward(self, x):
        return x.mean((2, 3)) @ self.proj


class FastViTHD(nn.Module):
    """Image [B,3,N,N] -> features [B,3072,N/64,N/64] (the conv_exp output)."""

    def __init__(self, image_size=1024):
        super().__init__()
        assert image_size % 64 == 0, f"image size {image_size} is not a multiple of 64"
        self.image_size = image_size
        c0 = WIDTHS[0]
        self.patch_embed = nn.Sequential(
            MobileOneBlock(3, c0, 3, stride=2),
            MobileOneBlock(c0, c0, 3, stride=2, groups=c0),
            MobileOneBlock(c0, c0, 1),
        )
        network = []
        for i, (dim, depth, mixer) in enumerate(zip(WIDTHS, DEPTHS, MIXERS)):
            if i > 0:
                network.append(PatchEmbed(WIDTHS[i - 1], dim))
            if mixer == "attention":
                network.append(RepCPE(dim))
            block = RepMixerBlock if mixer == "repmixer" else AttentionBlock
            network.append(nn.Sequential(*[block(dim) for _ in range(depth)]))
        self.network = nn.Sequential(*network)
        self.conv_exp = ConvExp(WIDTHS[-1], EMBED_DIM)
        self.head = GlobalPool2D(EMBED_DIM, CLIP_DIM)

    def forward(self, x, intermediates=None):
        """If `intermediates` is a dict, fills it with 'stem', 'network.i' outputs and 'conv_exp'."""
        x = self.patch_embed(x)  # [B,96,N/4,N/4]
        if intermediates is not None:
            intermediates["stem"] = x
        for i, layer in enumerate(self.network):
            x = layer(x)
            if intermediates is not None:
                intermediates[f"network.{i}"] = x
        x = self.conv_exp(x)  # [B,3072,N/64,N/64]
        if intermediates is not None:
            intermediates["conv_exp"] = x
        return x

    def image_embedding(self, x):
        """MobileCLIP's pooled and projected image embedding [B,768] (not used by FastVLM)."""
        return self.head(self.forward(x))

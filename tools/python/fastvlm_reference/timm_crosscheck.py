"""Cross-check of our FastViTHD against timm's `fastvit_mci3` (MobileCLIP-L image tower).

timm's mci3 is the same network (layers 2-12-24-4-2, widths 96..1536, RepCPE 7x7 before the two
attention stages, LayerNorm2d eps 1e-5, GELU after the large-kernel downsample conv, stem without
the 1x1 scale branch, conv_exp = `final_conv` with SE); built with inference_mode=True its
reparameterized state_dict is ours under other names. This loads our random weights into it and
compares every stage output and the conv_exp features.

    python -m fastvlm_reference.timm_crosscheck [--image-size 256] [--seed 0]   (from tools/python)
Prints one line per compared tensor and exits non-zero when one differs by more than 1e-4 relative.
"""
import argparse
import importlib.abc
import importlib.machinery
import re
import sys
import types

import torch

# network.N of the checkpoint -> timm stage index (a stage = downsample + pos_emb + blocks)
STAGE_OF = {0: 0, 1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 3, 8: 4, 9: 4, 10: 4}
BLOCKS = (0, 2, 4, 7, 10)


class _Placeholder(type):
    """A placeholder class whose attributes are placeholder strings (enum members and the like)."""

    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return f"{cls.__name__}.{name}"


class _Stub(types.ModuleType):
    """Any attribute is a placeholder class; timm only needs torchvision's names to exist."""
    __path__ = []

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder(name, (), {})


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] == "torchvision":
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        return _Stub(spec.name)

    def exec_module(self, module):
        pass


def import_timm():
    """timm imports torchvision.ops unconditionally; a broken torchvision (built for another torch)
    is replaced by stubs. Run in its own process: transformers must not see the stubs."""
    try:
        import torchvision  # noqa: F401
    except Exception:
        for name in [n for n in sys.modules if n.split(".")[0] == "torchvision"]:
            del sys.modules[name]
    if sys.modules.get("torchvision", True) is None:
        del sys.modules["torchvision"]
    if "torchvision" not in sys.modules:
        sys.meta_path.insert(0, _StubFinder())
    import timm
    return timm


def to_timm_name(name):
    name = name.replace("convffn", "mlp").replace("se.reduce", "se.fc1").replace("se.expand", "se.fc2")
    name = re.sub(r"^patch_embed\.", "stem.", name)
    name = re.sub(r"^conv_exp\.", "final_conv.", name)
    name = re.sub(r"layer_scale(_\d)?$", lambda m: m.group(0) + ".gamma", name)
    name = name.replace("lkb_reparam", "reparam_conv")
    match = re.match(r"^network\.(\d+)\.(.*)$", name)
    if match:
        index, rest = int(match.group(1)), match.group(2)
        stage = f"stages.{STAGE_OF[index]}"
        if rest.startswith("proj."):
            name = f"{stage}.downsample.{rest}"
        elif index in (6, 9):
            name = f"{stage}.pos_emb.{rest}"
        else:
            name = f"{stage}.blocks.{rest}"
    return name


def timm_state_dict(ours):
    out = {}
    for name, tensor in ours.items():
        if name == "head.proj":  # x @ proj [3072,768] == Linear(3072,768) with weight proj^T, bias 0
            out["head.fc.weight"] = tensor.t().contiguous()
            out["head.fc.bias"] = torch.zeros(tensor.shape[1], dtype=tensor.dtype)
        else:
            out[to_timm_name(name)] = tensor
    return out


@torch.no_grad()
def crosscheck(image_size=256, seed=0, tolerance=1e-4):
    timm = import_timm()
    from .fastvithd import FastViTHD
    from .random_init import randomize_

    ours = randomize_(FastViTHD(image_size), seed).eval()
    theirs = timm.create_model("fastvit_mci3", pretrained=False, inference_mode=True, num_classes=768).eval()
    theirs.load_state_dict(timm_state_dict(ours.state_dict()), strict=True)

    x = torch.rand(1, 3, image_size, image_size, generator=torch.Generator().manual_seed(seed))
    inter = {}
    features = ours(x, inter)
    pairs = []
    y = theirs.stem(x)
    pairs.append(("stem", inter["stem"], y))
    for stage, index in enumerate(BLOCKS):
        y = theirs.stages[stage](y)
        pairs.append((f"network.{index} / stages.{stage}", inter[f"network.{index}"], y))
    y = theirs.final_conv(y)
    pairs.append(("conv_exp / final_conv", features, y))
    pairs.append(("head (pooled x @ proj) / head.fc", ours.head(features), theirs.forward_head(y)))
    worst = 0.0
    for label, a, b in pairs:
        error = ((a - b).abs().max() / b.abs().max()).item()
        worst = max(worst, error)
        print(f"[timm] {label:34s} {tuple(a.shape)} max|diff|/max|timm| = {error:.2e}")
    return worst <= tolerance, worst


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(2)
    ok, worst = crosscheck(args.image_size, args.seed)
    print(f"[timm] {'MATCH' if ok else 'MISMATCH'}: worst relative difference {worst:.2e}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

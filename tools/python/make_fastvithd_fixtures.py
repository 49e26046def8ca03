"""Writes the FastViTHD tower parity fixtures under OUT/fastvithd/.

One random-weight tower (fastvlm_reference's FastViTHD and random init, seed 0: non-trivial
BatchNorm statistics, layer scales 0.1-0.4) is saved in Apple's names (prefix
`model.vision_tower.vision_tower.model.`, as in apple/FastVLM-0.5B) twice:

  tower-f32.safetensors   the weights as drawn, F32
  tower-f16.safetensors   the same weights rounded to F16 (num_batches_tracked stays I64)

The weights do not depend on the image size, so both sizes below use them. For each size N
(256: every real channel width on small maps; 1024: the real tower) forward-N.safetensors holds,
channels-last ([H, W, C], batch dropped), float32:

  pixels                       [N, N, 3] a photo-like JPEG (photo_like.py's 570x380 valley) preprocessed
                               as predict.py does
  f32.<stage>, f16.<stage>     stem, network.0 .. network.10, conv_exp: the output of each stage with
                               the F32 / the F16-rounded weights
  int8.<stage>                 (256 only) the tower as `visionDtype: 'int8'` holds it: the F16-rounded
                               weights, with every matrix (1x1 convolutions outside conv_exp's
                               squeeze-excite, attention qkv and proj) quantized to int8 per output
                               channel exactly as packages/tensor/src/int8-weight.ts does
  f32.features, f16.features   [(N/64)^2, 3072] image features (conv_exp output, rows over (h, w))

The reference runs in float64 (the exact result, to the precision that matters), from the same
float32 pixels. At 1024 only the f16 features are stored (the stages would add ~95 MB). The
metadata holds the image size, the source image, and, per stage, how far PyTorch's own float32
forward lands from the float64 one (max |f32 - f64| / max |f64|): a baseline for our tolerances.

Usage: python tools/python/make_fastvithd_fixtures.py --out .cache/fixtures [--sizes 256 1024]
"""
import argparse
import io
import json
import pathlib
import sys
import time

import torch
from PIL import Image
from safetensors.torch import save_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from fastvlm_reference import FastViTHD, preprocess  # noqa: E402
from fastvlm_reference.random_init import randomize_  # noqa: E402
from photo_like import fixture_photos  # noqa: E402

PHOTO = "valley_570x380.jpg"
PREFIX = "model.vision_tower.vision_tower.model."
SEED = 0
SIZES = (256, 1024)
F16_STAGES_UP_TO = 256  # larger sizes store only the f16 features


def channels_last(x: torch.Tensor) -> torch.Tensor:
    """[1, C, H, W] -> [H, W, C] float32."""
    return x[0].permute(1, 2, 0).float().contiguous()


def pixels_for(size: int) -> tuple[torch.Tensor, str]:
    photo = Image.open(io.BytesIO(fixture_photos()[PHOTO]))
    return preprocess(photo, size), f"photo_like.py {PHOTO}"


@torch.no_grad()
def run(tower: FastViTHD, pixels: torch.Tensor, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Every stage's output and the features, NCHW, computed in `dtype`."""
    stages: dict[str, torch.Tensor] = {}
    out = tower.to(dtype)(pixels.to(dtype), intermediates=stages)
    stages["features"] = out.flatten(2).transpose(1, 2)  # [1, 3072, h, w] -> [1, h*w, 3072]
    return stages


def dump(stages: dict[str, torch.Tensor], tag: str, only_features: bool) -> dict[str, torch.Tensor]:
    out = {}
    for name, x in stages.items():
        if only_features and name != "features":
            continue
        out[f"{tag}.{name}"] = x[0].float().contiguous() if name == "features" else channels_last(x)
    return out


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return float((actual.double() - expected).abs().max() / expected.abs().max())


def is_int8_matrix(name: str, t: torch.Tensor) -> bool:
    """The weights an int8 tower quantizes: its matrices (see packages/fastvithd/src/model/weights.ts)."""
    if not name.endswith(".weight") or "conv_exp" in name:
        return False
    return t.dim() == 2 or (t.dim() == 4 and tuple(t.shape[2:]) == (1, 1))


def quantize_dequantize(t: torch.Tensor) -> torch.Tensor:
    """Per output channel, as int8-weight.ts: scale = fp32(max|w| / 127), q = round_half_even(fp32(w / scale))."""
    w = t.float().reshape(t.shape[0], -1)
    scale = w.abs().amax(dim=1) / 127
    safe = torch.where(scale == 0, torch.ones_like(scale), scale)
    q = torch.round(w / safe[:, None]).clamp(-127, 127)
    q = torch.where(scale[:, None] == 0, torch.zeros_like(q), q)
    return (q.double() * scale.double()[:, None]).reshape(t.shape)


def save_tower(tower: FastViTHD, path: pathlib.Path, dtype: torch.dtype) -> None:
    tensors = {PREFIX + name: (t.to(dtype) if t.is_floating_point() else t).contiguous()
               for name, t in tower.state_dict().items()}
    save_file(tensors, str(path), metadata={"format": "pt", "seed": str(SEED)})
    path.chmod(0o644)  # safetensors creates it owner-only


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.backends.nnpack.set_flags(False)  # unsupported on this CPU: it only prints warnings
    out = pathlib.Path(args.out) / "fastvithd"
    out.mkdir(parents=True, exist_ok=True)

    started = time.time()
    torch.manual_seed(SEED)
    tower = randomize_(FastViTHD(image_size=max(args.sizes)), SEED).eval()
    rounded = FastViTHD(image_size=max(args.sizes)).eval()
    rounded.load_state_dict({k: (v.half().float() if v.is_floating_point() else v) for k, v in tower.state_dict().items()})
    int8 = FastViTHD(image_size=max(args.sizes)).eval().double()
    int8.load_state_dict({k: (quantize_dequantize(v) if is_int8_matrix(k, v) else v.double() if v.is_floating_point() else v)
                          for k, v in rounded.state_dict().items()})
    save_tower(tower, out / "tower-f32.safetensors", torch.float32)
    save_tower(tower, out / "tower-f16.safetensors", torch.float16)
    print(f"[fixtures] fastvithd/tower-f32, tower-f16: {len(tower.state_dict())} tensors, {time.time() - started:.1f} s")

    for size in args.sizes:
        started = time.time()
        tower.image_size = rounded.image_size = int8.image_size = size
        pixels, source = pixels_for(size)
        exact = run(tower, pixels, torch.float64)
        exact_f16 = run(rounded, pixels, torch.float64)
        torch_f32 = run(tower, pixels, torch.float32)
        baseline = {name: relative_error(torch_f32[name], exact[name]) for name in exact}
        f16_drift = {name: relative_error(exact_f16[name].float(), exact[name]) for name in exact}
        tensors = {"pixels": channels_last(pixels)}
        tensors.update(dump(exact, "f32", only_features=False))
        tensors.update(dump(exact_f16, "f16", only_features=size > F16_STAGES_UP_TO))
        if size <= F16_STAGES_UP_TO:
            tensors.update(dump(run(int8, pixels, torch.float64), "int8", only_features=False))
        metadata = {
            "image_size": str(size),
            "image": source,
            "seed": str(SEED),
            "stages": json.dumps(["stem", *[f"network.{i}" for i in range(len(tower.network))], "conv_exp", "features"]),
            "torch_f32_vs_f64": json.dumps(baseline),
            "f16_weights_vs_f32_weights": json.dumps(f16_drift),
        }
        save_file(tensors, str(out / f"forward-{size}.safetensors"), metadata=metadata)
        (out / f"forward-{size}.safetensors").chmod(0o644)
        size_mb = sum(t.numel() * t.element_size() for t in tensors.values()) / 2**20
        print(f"[fixtures] fastvithd/forward-{size}: {len(tensors)} tensors, {size_mb:.1f} MiB, "
              f"torch f32 vs f64 features {baseline['features']:.2e}, f16 weights drift {f16_drift['features']:.2e}, "
              f"{time.time() - started:.1f} s")
        tower.float()
        rounded.float()


if __name__ == "__main__":
    main()

"""Writes a random-weight FastVLM checkpoint folder in Apple's layout (config.json + model.safetensors).

Usage:
  python tools/python/init_random_checkpoint.py DIR --preset tiny|0.5b [--layers N]
         [--image-size N] [--dtype float16|float32] [--seed S]

`0.5b`: apple/FastVLM-0.5B's names, shapes and dtypes (tower at 1024, Qwen2-0.5B, 923 tensors);
`--layers N` keeps the real widths with N Qwen2 layers. `tiny`: the real FastViTHD at 256 px
(16 image tokens) with a 2-layer, 64-wide Qwen2 over the real 151936-row vocabulary.
`--image-size` sets the tower size (multiple of 64; config says mobileclip_l_N).
Weights: see fastvlm_reference/random_init.py. The tokenizer files are not written: copy
tokenizer.json / tokenizer_config.json (or vocab.json + merges.txt) from a real FastVLM folder.
"""
import argparse
import pathlib
import sys
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from fastvlm_reference import FastVLM, make_config, save_model  # noqa: E402
from fastvlm_reference.random_init import randomize_  # noqa: E402


def build_random(preset, layers=None, image_size=None, dtype="float16", seed=0):
    """The model exactly as it will be written: float32 holding values rounded to `dtype`."""
    torch.manual_seed(seed)  # transformers' own init runs first; randomize_ then overwrites it all
    model = FastVLM(make_config(preset, layers, image_size, dtype))
    randomize_(model, seed)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(tensor.to(getattr(torch, dtype)).float())
    return model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--preset", choices=["tiny", "0.5b"], default="tiny")
    parser.add_argument("--layers", type=int)
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--dtype", choices=["float16", "float32"], default="float16")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.time()
    model = build_random(args.preset, args.layers, args.image_size, args.dtype, args.seed)
    save_model(model, args.dir, args.dtype)
    count = sum(t.numel() for t in model.state_dict().values())
    print(f"[init_random_checkpoint] {args.dir}: preset {args.preset}, {model.config['num_hidden_layers']} layers, "
          f"{model.config['mm_vision_tower']}, {len(model.state_dict())} tensors, {count / 1e6:.1f} M elements, "
          f"{args.dtype}, seed {args.seed}, {time.time() - started:.1f} s")
    print("[init_random_checkpoint] tokenizer files not written: copy them from a real FastVLM folder")


if __name__ == "__main__":
    main()

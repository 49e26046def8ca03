"""PyTorch CPU side of `npm run bench:vision`: our reference FastViTHD on the same checkpoint.

Usage: python tools/python/bench_vision_torch.py CHECKPOINT --size N --runs R
Prints one JSON object: {"samplesMs": [...], "torch": version, "threads": n}. fp32, 2 threads
(this machine's cores) unless TORCH_THREADS says otherwise.
"""
import argparse
import json
import os
import pathlib
import sys
import time

import torch
from safetensors.torch import load_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fastvlm_reference import FastViTHD  # noqa: E402

PREFIX = "model.vision_tower.vision_tower.model."


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    torch.backends.nnpack.set_flags(False)
    weights = {k[len(PREFIX):]: v.float() if v.is_floating_point() else v for k, v in load_file(args.checkpoint).items() if k.startswith(PREFIX)}
    tower = FastViTHD(image_size=args.size).eval()
    tower.load_state_dict(weights)
    pixels = torch.rand(1, 3, args.size, args.size, generator=torch.Generator().manual_seed(0))
    samples = []
    with torch.inference_mode():
        tower(pixels)  # warm-up
        for _ in range(args.runs):
            started = time.perf_counter()
            tower(pixels)
            samples.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"samplesMs": samples, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()

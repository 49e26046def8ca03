"""Writes the kernel parity fixtures: one safetensors file per op family under OUT/kernels/.

Each family module in kernel_cases/ defines NAME and make(), which returns (tensors, cases):
tensors is {"<case>.<role>": torch.Tensor}, cases is [{"name": ..., **params}]. The case list is
stored as JSON in the file's metadata (key "cases") so the TypeScript tests can iterate it.

Usage: python tools/python/make_kernel_fixtures.py --out .cache/fixtures [--only NAME ...]
"""
import argparse
import importlib
import json
import pathlib
import sys
import time

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

FAMILIES = [
    "elementwise",
    "linear",
    "conv",
    "norms",
    "attention",
    "llm_plumbing",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    torch.set_num_threads(2)
    out = pathlib.Path(args.out) / "kernels"
    out.mkdir(parents=True, exist_ok=True)
    for name in FAMILIES:
        if args.only and name not in args.only:
            continue
        try:
            module = importlib.import_module(f"kernel_cases.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"kernel_cases.{name}":
                continue  # family not written yet
            raise
        started = time.time()
        tensors, cases = module.make()
        tensors = {k: v.detach().clone().contiguous() for k, v in tensors.items()}  # cases may share inputs
        save_file(tensors, str(out / f"{module.NAME}.safetensors"), metadata={"cases": json.dumps(cases)})
        size = sum(t.numel() * t.element_size() for t in tensors.values())
        print(f"[fixtures] kernels/{module.NAME}: {len(cases)} cases, {size / 2**20:.1f} MiB, {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()

"""Writes the checkpoint layouts of the presets as the PyTorch reference writes them, under OUT/layouts/.

For each of apple/FastVLM-0.5B, -1.5B and -7B (init_random_checkpoint.py's presets with their
default head: a stored copy for the tied 0.5B / 1.5B, the 7B's own) at full depth and with 2
decoder layers, `PRESET-LAYERS.json` holds what init_random_checkpoint.py writes, read from the
reference's own modules (meta device: no weights are made):
    config   config.json as a dict
    files    [{file, tensors: [[name, dtype, shape], ...]}]: each checkpoint file in order, its
             tensors in the order they are stored (safetensors' save_file order; checked here
             against the installed safetensors on one-element stand-ins)
    index    model.safetensors.index.json's text, or null for one file
The TypeScript writer (`fastvlm init-random`) is checked against these (tools/test/preset-layouts.test.ts).

Usage: python tools/python/make_layout_fixtures.py --out .cache/fixtures
"""
import argparse
import json
import pathlib
import struct
import sys

import torch
from safetensors.torch import save

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from fastvlm_reference import FastVLM  # noqa: E402
from fastvlm_reference.checkpoint import checkpoint_layout, make_config  # noqa: E402
from fastvlm_reference.shards import (  # noqa: E402
    SAFETENSORS_DTYPES,
    index_text,
    plan_shards,
    safetensors_order,
    shard_file_names,
)
from init_random_checkpoint import default_head  # noqa: E402

PRESETS = ("0.5b", "1.5b", "7b")
SHORT_LAYERS = 2


def library_order(entries):
    """The names in the order the installed safetensors stores them (one-element stand-ins)."""
    blob = save({name: torch.zeros(1, dtype=dtype) for name, _, dtype in entries}, metadata={"format": "pt"})
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    return [name for name in header if name != "__metadata__"]


def layout_of(preset, layers):
    config = make_config(preset, layers)
    with torch.device("meta"):
        state = FastVLM(config).state_dict()
    layout = checkpoint_layout(state, torch.bfloat16, default_head(config))
    shards = plan_shards(layout)
    names = shard_file_names(len(shards))
    files = []
    for shard, file_name in zip(shards, names):
        stored = safetensors_order(shard)
        assert [name for name, _, _ in stored] == library_order(shard), f"{preset}: safetensors' order differs"
        tensors = [[name, SAFETENSORS_DTYPES[dtype], list(shape)] for name, shape, dtype in stored]
        files.append({"file": file_name, "tensors": tensors})
    index = index_text(layout, shards, names) if len(shards) > 1 else None
    return {"config": config, "files": files, "index": index}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    out = args.out / "layouts"
    out.mkdir(parents=True, exist_ok=True)
    for preset in PRESETS:
        for layers in (None, SHORT_LAYERS):
            layout = layout_of(preset, layers)
            depth = layout["config"]["num_hidden_layers"]
            path = out / f"{preset}-{depth}.json"
            path.write_text(json.dumps(layout, indent=1) + "\n")
            sizes = [len(f["tensors"]) for f in layout["files"]]
            print(f"[make_layout_fixtures] {path}: {depth} layers, tensors per file {sizes}", file=sys.stderr)


if __name__ == "__main__":
    main()

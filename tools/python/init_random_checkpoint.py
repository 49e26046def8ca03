"""Writes a random-weight FastVLM checkpoint folder in Apple's layout (config.json + safetensors).

Usage:
  python tools/python/init_random_checkpoint.py DIR --preset tiny|0.5b|1.5b|7b [--layers N]
         [--image-size N] [--dtype bfloat16|float16|float32] [--vocab ROWS] [--head copy|separate|none]
         [--apple-folder] [--max-shard-bytes N] [--seed S]

Presets are apple/FastVLM-0.5B, -1.5B and -7B as the Hub ships them (fastvlm_reference/CHECKPOINTS.md):
bfloat16, the tower at 1024 px, Qwen2-0.5B / 1.5B / 7B, vocabularies of 151936 / 151936 / 152064
rows, the 0.5B and 1.5B tied with a stored copy of the embedding as lm_head.weight, the 7B untied
and in 4 shards with model.safetensors.index.json (transformers 4.39's 5 GB split). `tiny` is the
real FastViTHD at 256 px with a 2-layer, 64-wide Qwen2. `--layers N` keeps the widths with N Qwen2
layers; `--image-size` sets the tower size (multiple of 64; config says mobileclip_l_N); `--vocab`
sets the rows (151646 = a checkpoint resized to Qwen2's tokenizer, as Apple's loader does).
`--head`: for a tied preset, store lm_head.weight as a copy of the embedding (`copy`, the default,
as Apple's files), as a different matrix (`separate`: transformers then does not tie; the config
still says tied), or not at all (`none`). `--apple-folder`: the folder as Apple's
llava-fastvithd_* zips hold it (no auto_map, a generation_config.json). The weights are written one
tensor at a time (the 7B never is in memory whole). Weights: see fastvlm_reference/random_init.py.
The tokenizer files are not written.
"""
import argparse
import pathlib
import sys
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from fastvlm_reference import FastVLM, make_config  # noqa: E402
from fastvlm_reference.checkpoint import PRESETS, build_model, checkpoint_layout, write_folder_files  # noqa: E402
from fastvlm_reference.random_init import random_state  # noqa: E402
from fastvlm_reference.shards import APPLE_MAX_SHARD_BYTES, write_checkpoint  # noqa: E402

HEADS = ("copy", "separate", "none")


def random_tensors(config, dtype, head, seed):
    """(name, f32 values rounded to `dtype`) in module order, lm_head last when it is stored; the
    values depend only on the config, `head` and the seed."""
    with torch.device("meta"):
        shapes = FastVLM(config, separate_head=head == "separate").state_dict()
    target = getattr(torch, dtype)
    embed = None
    for name, values in random_state(shapes, seed):
        if values.is_floating_point():
            values.copy_(values.to(target))  # rounded in place: one f32 buffer per tensor
        if name == "model.embed_tokens.weight":
            embed = values
        yield name, values
    if head == "copy" and config["tie_word_embeddings"]:
        yield "lm_head.weight", embed


def default_head(config):
    return "copy" if config["tie_word_embeddings"] else "none"


def build_random(preset, layers=None, image_size=None, dtype="float16", seed=0, vocab_size=None, head="none"):
    """The model exactly as it will be written: float32 holding values rounded to `dtype`, as
    transformers would run it (a `copy` head is tied, a `separate` one is not)."""
    config = make_config(preset, layers, image_size, dtype, vocab_size)
    tensors = dict(random_tensors(config, dtype, head, seed))
    if head == "copy":
        del tensors["lm_head.weight"]  # tied: the embedding is the head
    return build_model(config, tensors, separate_head=head == "separate")


def write_random(folder, config, dtype, head, seed, max_shard_bytes=APPLE_MAX_SHARD_BYTES):
    """Writes config.json and the checkpoint of random weights, streamed. Returns the file names."""
    hub = "auto_map" in config
    write_folder_files(folder, config, hub)
    with torch.device("meta"):
        shapes = FastVLM(config, separate_head=head == "separate").state_dict()
    layout = checkpoint_layout(shapes, getattr(torch, dtype), head)
    return write_checkpoint(folder, layout, random_tensors(config, dtype, head, seed), max_shard_bytes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    parser.add_argument("--layers", type=int)
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--dtype", choices=["bfloat16", "float16", "float32"], default="bfloat16")
    parser.add_argument("--vocab", type=int, help="embedding rows (default: the preset's)")
    parser.add_argument("--head", choices=HEADS, help="lm_head.weight of a tied preset (default: copy)")
    parser.add_argument("--apple-folder", action="store_true", help="Apple's llava-fastvithd_* folder form")
    parser.add_argument("--max-shard-bytes", type=int, default=APPLE_MAX_SHARD_BYTES)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.time()
    config = make_config(args.preset, args.layers, args.image_size, args.dtype, args.vocab, hub=not args.apple_folder)
    head = args.head or default_head(config)
    if head != "none" and not config["tie_word_embeddings"]:
        parser.error(f"--head {head}: the {args.preset} preset is untied (its lm_head is always stored)")
    files = write_random(args.dir, config, args.dtype, head, args.seed, args.max_shard_bytes)
    print(f"[init_random_checkpoint] {args.dir}: preset {args.preset}, {config['num_hidden_layers']} layers, "
          f"{config['mm_vision_tower']}, vocab {config['vocab_size']}, {args.dtype}, head {head}, seed {args.seed}: "
          f"{', '.join(files)}, {time.time() - started:.1f} s")
    print("[init_random_checkpoint] tokenizer files not written: copy them from a real FastVLM folder")


if __name__ == "__main__":
    main()

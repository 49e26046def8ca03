"""Writes the parity fixtures at the widths of FastVLM-1.5B and -7B under OUT/checkpoints/.

Each variant is a folder like OUT/llava-real/ (make_llava_fixtures.py): `model/` (a complete model
folder, written as init_random_checkpoint.py writes its presets, with the Qwen2 tokenizer files),
`image.png` (the 300x200 test image) and `reference.safetensors`, from PyTorch in float32 on the
stored (bfloat16-rounded) weights:
    prompt_ids       i32 [25]         spec section 5's ids for "Describe the image." (-200 = image)
    image_embeds     f32 [4, H]       the projector's output (tower at 128 px: 4 image tokens)
    inputs_embeds    f32 [28, H]      text embeddings with the image rows spliced in
    prefill_logits   f32 [28, V]      logits at every position of one causal forward
    greedy_ids       i32 [16]         16 greedy tokens (argmax, KV cache, EOS stopping off)
    greedy_gaps      f32 [16]         top-1 minus top-2 logit at each greedy step

Variants (random weights, seed 0, 2 decoder layers of the real width, bfloat16 storage):
  1.5b   Qwen2-1.5B's widths (hidden 1536, 12 query / 2 KV heads: GQA 6, head dim 128, MLP 8960),
         tie_word_embeddings true with a STORED lm_head.weight that differs from the embedding (so
         transformers uses the stored head: CHECKPOINTS.md), 151646 rows (a checkpoint cut to the
         tokenizer, as Apple's loader does), in Apple's llava-fastvithd folder form (no auto_map,
         generation_config.json, vocab.json + merges.txt). 1.4 GB.
  7b     Qwen2-7B's widths (hidden 3584, 28 query / 4 KV heads: GQA 7, head dim 128, MLP 18944),
         untied lm_head, 152064 rows, sharded as transformers shards (here at 1 GB a shard: 4
         shards + model.safetensors.index.json), the Hub form (auto_map). 3.4 GB; 9.2 GB of memory
         (peak RSS) while it is made: the float32 model is 6.8 GB.

Usage: python tools/python/make_checkpoint_fixtures.py --out .cache/fixtures [--only 1.5b|7b]
"""
import argparse
import json
import pathlib
import sys
import time

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from fastvlm_reference import preprocess  # noqa: E402
from fastvlm_reference.checkpoint import TOKENIZER_SIZE, save_model  # noqa: E402
from init_random_checkpoint import build_random  # noqa: E402
from make_llava_fixtures import PROMPT_IDS, draw_test_image  # noqa: E402
from make_tokenizer_fixtures import SOURCE, check_source, qwen2_tokenizer_json, write_json, write_qwen2_files  # noqa: E402

GREEDY_TOKENS = 16
IMAGE_SIZE = 128
LAYERS = 2

VARIANTS = {
    "1.5b": dict(preset="1.5b", vocab_size=TOKENIZER_SIZE, head="separate", hub=False, max_shard_bytes=5_000_000_000),
    "7b": dict(preset="7b", vocab_size=None, head="none", hub=True, max_shard_bytes=1_000_000_000),
}


@torch.no_grad()
def reference(model, image_path):
    pixels = preprocess(image_path, model.image_size)
    image_embeds = model.project(model.encode_image(pixels))
    inputs_embeds = model.build_inputs_embeds(PROMPT_IDS, image_embeds)
    out = model.llm(inputs_embeds=inputs_embeds, use_cache=True)
    logits = out.logits[0].float().clone()
    ids, gaps = [], []
    for _ in range(GREEDY_TOKENS):
        top = out.logits[0, -1].topk(2)
        ids.append(int(top.indices[0]))
        gaps.append(float(top.values[0] - top.values[1]))
        out = model.llm(input_ids=torch.tensor([[ids[-1]]]), past_key_values=out.past_key_values, use_cache=True)
    return {
        "prompt_ids": torch.tensor(PROMPT_IDS, dtype=torch.int32),
        "image_embeds": image_embeds[0].contiguous(),
        "inputs_embeds": inputs_embeds[0].contiguous(),
        "prefill_logits": logits.contiguous(),
        "greedy_ids": torch.tensor(ids, dtype=torch.int32),
        "greedy_gaps": torch.tensor(gaps, dtype=torch.float32),
    }


def write_variant(root, name, spec, tokenizer_spec):
    started = time.time()
    v = VARIANTS[name]
    out = root / "checkpoints" / name
    folder = out / "model"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("model*.safetensors*"):
        stale.unlink()
    model = build_random(v["preset"], LAYERS, IMAGE_SIZE, "bfloat16", seed=0, vocab_size=v["vocab_size"], head=v["head"])
    if not v["hub"]:
        model.config.pop("auto_map")
    files = save_model(model, folder, "bfloat16", max_shard_bytes=v["max_shard_bytes"])
    if v["hub"]:
        write_json(folder / "tokenizer.json", qwen2_tokenizer_json(tokenizer_spec))
    else:
        write_qwen2_files(tokenizer_spec, folder)
    image_path = out / "image.png"
    draw_test_image(image_path)
    built = time.time()
    tensors = reference(model, image_path)
    if not model.config["tie_word_embeddings"]:
        head = "lm_head.weight (untied)"
    elif not model.tied:
        head = "lm_head.weight (stored with tie_word_embeddings true, differs from the embedding)"
    else:
        head = "model.embed_tokens.weight (tied)"
    metadata = {"image": "image.png", "head": head, "files": json.dumps(files), "torch": torch.__version__}
    save_file(tensors, str(out / "reference.safetensors"), metadata=metadata)
    (out / "reference.safetensors").chmod(0o644)
    gaps = tensors["greedy_gaps"]
    print(f"[make_checkpoint_fixtures] {out}: {model.config['hidden_size']} wide, vocab {model.config['vocab_size']}, "
          f"head {head}, files {files}, greedy {tensors['greedy_ids'].tolist()}, min gap {gaps.min():.3g} "
          f"(logits max {tensors['prefill_logits'].abs().max():.3g}), {time.time() - started:.0f} s "
          f"({built - started:.0f} s building and writing)", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--only", choices=sorted(VARIANTS))
    args = parser.parse_args()
    torch.set_num_threads(2)
    tokenizer_spec = json.loads((SOURCE / "tokenizer.json").read_text(encoding="utf-8"))
    check_source(tokenizer_spec)
    for name in [args.only] if args.only else VARIANTS:
        write_variant(args.out, name, VARIANTS[name], tokenizer_spec)


if __name__ == "__main__":
    main()

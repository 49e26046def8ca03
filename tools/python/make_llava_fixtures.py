"""Writes the FastVLM end-to-end parity fixtures under OUT/llava/ and OUT/llava-real/.

  OUT/llava/tiny/          a complete model folder: config.json, model.safetensors, tokenizer.json
                           (Qwen2's, derived from node_modules as make_tokenizer_fixtures.py does)
                           (the `tiny` preset of init_random_checkpoint.py: the real FastViTHD at
                           256 px, 16 image tokens, with a 2-layer 64-wide Qwen2 over the real
                           151936-row vocabulary; seed 0). Weights are stored as float16 and the
                           reference runs those exact values in float64, so an f32 (or f16) load
                           sees bit-identical weights: parity is as tight as with float32 storage,
                           at half the size (250 MB instead of 500 MB).
  OUT/llava/image.png      a 300x200 RGB test image drawn here (gradients and blocks), not square,
                           so the black padding is exercised.
  OUT/llava/reference.safetensors, from the float64 reference (fastvlm_reference), float32 values:
    prompt_ids       i32 [25]           spec section 5's ids for "Describe the image." (-200 = image)
    pixel_values     f32 [256, 256, 3]  channels-last (the NCHW pixel_values permuted)
    vision_features  f32 [16, 3072]     the tower's features (rows over (h, w))
    image_embeds     f32 [16, 64]       the projector's output
    inputs_embeds    f32 [40, 64]       text embeddings with the image rows spliced in
    prefill_logits   f32 [40, 151936]   logits at every position of one causal forward
    greedy_ids       i32 [32]           32 greedy tokens (argmax, EOS stopping off)
    greedy_gaps      f32 [32]           top-1 minus top-2 logit at each greedy step
  The metadata holds how far PyTorch's own float32 run lands from float64 per dump
  (max |f32 - f64| / max |f64|), a baseline for the tolerances.

  OUT/llava-real/          the same files (model folder `model/`, image.png, reference.safetensors)
                           for the `0.5b` preset with `--layers 2` and the tower at 256 px: the real
                           FastViTHD widths, 2 Qwen2-0.5B layers of the real width (hidden 896, 14/2
                           heads, intermediate 4864) over the real vocabulary (seed 0; 580 MB float16).
                           Its dumps: image_embeds [16, 896], inputs_embeds [40, 896], the rest as above.

Usage: python tools/python/make_llava_fixtures.py --out .cache/fixtures [--only tiny|real]
"""
import argparse
import json
import pathlib
import sys
import time

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from fastvlm_reference import load_model, preprocess, save_model  # noqa: E402
from init_random_checkpoint import build_random  # noqa: E402
from make_tokenizer_fixtures import SOURCE, check_source, qwen2_tokenizer_json, write_json  # noqa: E402
PROMPT_IDS = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, -200, 198,
              74785, 279, 2168, 13, 151645, 198, 151644, 77091, 198]
GREEDY_TOKENS = 32


def draw_test_image(path):
    """300x200: a horizontal red ramp, a vertical green ramp, a blue checker and a white block."""
    width, height = 300, 200
    x = np.arange(width)[None, :].repeat(height, 0)
    y = np.arange(height)[:, None].repeat(width, 1)
    rgb = np.stack([x * 255 // (width - 1), y * 255 // (height - 1), ((x // 25 + y // 25) % 2) * 200], -1)
    rgb[60:120, 180:260] = 255
    Image.fromarray(rgb.astype(np.uint8), "RGB").save(path)


@torch.no_grad()
def run(model, image_path):
    """Every dump of the pipeline in the model's dtype."""
    pixels = preprocess(image_path, model.image_size)
    features = model.encode_image(pixels)
    image_embeds = model.project(features)
    inputs_embeds = model.build_inputs_embeds(PROMPT_IDS, image_embeds)
    logits = model.forward_logits(inputs_embeds)
    return {
        "pixel_values": pixels[0].permute(1, 2, 0),
        "vision_features": features[0],
        "image_embeds": image_embeds[0],
        "inputs_embeds": inputs_embeds[0],
        "prefill_logits": logits[0],
    }, inputs_embeds


@torch.no_grad()
def greedy(model, inputs_embeds):
    """Greedy ids and top-1 minus top-2 gaps, with the KV cache, no EOS stop."""
    out = model.llm(inputs_embeds=inputs_embeds, use_cache=True)
    ids, gaps = [], []
    for _ in range(GREEDY_TOKENS):
        top = out.logits[0, -1].topk(2)
        ids.append(int(top.indices[0]))
        gaps.append(float(top.values[0] - top.values[1]))
        out = model.llm(input_ids=torch.tensor([[ids[-1]]]), past_key_values=out.past_key_values, use_cache=True)
    return ids, gaps


# variant: (folder under OUT, model folder name, build_random arguments)
VARIANTS = {
    "tiny": ("llava", "tiny", dict(preset="tiny")),
    "real": ("llava-real", "model", dict(preset="0.5b", layers=2, image_size=256)),
}


def write_variant(root, variant, spec):
    """One variant's model folder, test image and float64 reference dumps."""
    started = time.time()
    folder_name, model_name, build_args = VARIANTS[variant]
    out = root / folder_name
    folder = out / model_name
    folder.mkdir(parents=True, exist_ok=True)
    # build_random's float32 model holds the float16 values exactly: it is the float32 run's model.
    f32_model = build_random(**build_args, dtype="float16", seed=0)
    save_model(f32_model, folder, "float16")
    built = time.time()
    # Qwen2's tokenizer.json derived as make_tokenizer_fixtures.py derives its qwen2-json folder.
    write_json(folder / "tokenizer.json", qwen2_tokenizer_json(spec))
    image_path = out / "image.png"
    draw_test_image(image_path)

    exact64 = load_model(folder, torch.float64)
    exact, embeds64 = run(exact64, image_path)
    single, _ = run(f32_model, image_path)
    baseline = {name: float((single[name].double() - exact[name]).abs().max() / exact[name].abs().max()) for name in exact}
    ids, gaps = greedy(exact64, embeds64)
    ids32, _ = greedy(f32_model, embeds64.float())

    tensors = {name: t.float().contiguous() for name, t in exact.items()}
    tensors["prompt_ids"] = torch.tensor(PROMPT_IDS, dtype=torch.int32)
    tensors["greedy_ids"] = torch.tensor(ids, dtype=torch.int32)
    tensors["greedy_gaps"] = torch.tensor(gaps, dtype=torch.float32)
    logits_max = float(exact["prefill_logits"].abs().max())
    metadata = {"torch_f32_vs_f64": json.dumps(baseline), "torch_f32_greedy_same": str(ids32 == ids), "image": "image.png"}
    save_file(tensors, str(out / "reference.safetensors"), metadata=metadata)
    (out / "reference.safetensors").chmod(0o644)
    print(f"[make_llava_fixtures] {out}: min greedy gap {min(gaps):.3g} (logits max {logits_max:.3g}), "
          f"PyTorch f32 vs f64 {baseline}, f32 greedy same: {ids32 == ids}, "
          f"{time.time() - started:.1f} s ({built - started:.1f} s building and writing the model)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", choices=sorted(VARIANTS), help="write one variant (default: all)")
    args = parser.parse_args()
    spec = json.loads((SOURCE / "tokenizer.json").read_text(encoding="utf-8"))
    check_source(spec)
    for variant in [args.only] if args.only else VARIANTS:
        write_variant(pathlib.Path(args.out), variant, spec)


if __name__ == "__main__":
    main()

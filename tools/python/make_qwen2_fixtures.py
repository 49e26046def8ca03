"""Writes the Qwen2 decoder parity fixtures under OUT/qwen2/.

transformers' own Qwen2ForCausalLM with random weights (seeded; RMSNorm gains in [0.5, 1.5], every
bias non-zero, embeddings scaled so the tied head gives O(1) logits) is the reference. Each variant
is a folder holding what a model folder holds plus what the tests compare with:

  config.json         the transformers config (rope_theta under rope_parameters, as 5.x writes it)
  model.safetensors   the weights, names `model.*` (plus `lm_head.weight` when untied)
  reference.safetensors
    prompt_ids    i32 [T]      the prompt
    logits        f32 [T, V]   logits at every prompt position, one forward pass in float32
    greedy_ids    i32 [32]     model.generate(do_sample=False, max_new_tokens=32), EOS stopping off
    greedy_gaps   f32 [32]     top-1 minus top-2 logit at each greedy step (how robust the ids are)

Variants:
  tiny-f32      hidden 64, 2 layers, 4 heads / 2 KV heads (head_dim 16), MLP 128, vocab 1000, tied
  tiny-f16      the same weights stored as float16; the reference runs the f16-rounded weights in f32
  tiny-untied   another seed, tie_word_embeddings false, an explicit lm_head.weight (f32)
  real-f16      Qwen2-0.5B's widths (896, 14 / 2 heads, head_dim 64, MLP 4864, vocab 151936) with 2
                layers, float16 (the f32 embedding alone would be 545 MB); reference as tiny-f16

Usage: python tools/python/make_qwen2_fixtures.py --out .cache/fixtures [--only NAME]
"""
import argparse
import json
import pathlib
import sys
import time

import torch
from safetensors.torch import save_file

GREEDY_TOKENS = 32


def hide_broken_torchvision():
    """A torchvision wheel built for another torch fails on import, and transformers imports it
    whenever it is installed: hide a broken one (nothing here needs it)."""
    try:
        import torchvision  # noqa: F401
    except Exception:  # RuntimeError: operator torchvision::nms does not exist
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        sys.modules["torchvision"] = None  # find_spec() now reports it absent


TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, vocab_size=1000, max_position_embeddings=512, rope_theta=10000.0)
REAL = dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=2, num_attention_heads=14,
            num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768, rope_theta=1000000.0)

# (name, widths, seed, storage dtype, tied, prompt)
# The real-width prompt is the FastVLM prompt of the spec (section 5) with the image placeholder
# replaced by a text token; the tiny prompts are random ids. Both are longer than 8 tokens, so the
# prefill goes through the multi-row attention path.
SPEC_PROMPT = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 2168, 198,
               74785, 279, 2168, 13, 151645, 198, 151644, 77091, 198]
VARIANTS = [
    ("tiny-f32", TINY, 1, torch.float32, True, ("random", 19)),
    ("tiny-f16", TINY, 1, torch.float16, True, ("random", 19)),
    ("tiny-untied", TINY, 2, torch.float32, False, ("random", 13)),
    ("real-f16", REAL, 3, torch.float16, True, ("ids", SPEC_PROMPT)),
]


def random_tensor(name, shape, generator):
    """Weights under which every part of the layer matters and activations stay O(1)."""
    if name.endswith("norm.weight"):
        return 0.5 + torch.rand(shape, generator=generator)  # RMSNorm gains in [0.5, 1.5]
    if name.endswith(".bias"):
        return 0.1 * torch.randn(shape, generator=generator)
    if name.endswith("embed_tokens.weight") or name.endswith("lm_head.weight"):
        return 2 * shape[1] ** -0.5 * torch.randn(shape, generator=generator)  # O(1) logits
    return shape[1] ** -0.5 * torch.randn(shape, generator=generator)  # linear [out, in]


def build(widths, seed, dtype, tied):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(**widths, tie_word_embeddings=tied, rms_norm_eps=1e-6, bos_token_id=None,
                         eos_token_id=None, pad_token_id=None, attn_implementation="eager")
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():  # a tied lm_head is not listed again
            values = random_tensor(name, tuple(parameter.shape), generator)
            parameter.copy_(values.to(dtype).float())  # what a checkpoint of `dtype` holds, in f32
    return model, config


def prompt_ids(prompt, vocab, seed):
    kind, value = prompt
    if kind == "ids":
        return torch.tensor(value, dtype=torch.int64)
    return torch.randint(0, vocab, (value,), generator=torch.Generator().manual_seed(seed + 100))


@torch.no_grad()
def reference(model, ids):
    logits = model(ids[None]).logits[0].float()  # [T, V]
    model.generation_config.eos_token_id = None  # never stop early
    model.generation_config.pad_token_id = 0
    out = model.generate(ids[None], attention_mask=torch.ones_like(ids[None]), do_sample=False,
                         max_new_tokens=GREEDY_TOKENS, min_new_tokens=GREEDY_TOKENS, output_scores=True,
                         return_dict_in_generate=True)
    greedy = out.sequences[0, ids.numel():]
    gaps = torch.stack([s[0].topk(2).values for s in out.scores])
    return logits, greedy, gaps[:, 0] - gaps[:, 1]


def write_variant(out, name, widths, seed, dtype, tied, prompt):
    started = time.time()
    model, config = build(widths, seed, dtype, tied)
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    weights = {n: p.detach().to(dtype).contiguous() for n, p in model.named_parameters()}
    assert ("lm_head.weight" in weights) == (not tied)
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config_dict = json.loads(config.to_json_string())
    config_dict["torch_dtype"] = str(dtype).removeprefix("torch.")
    (folder / "config.json").write_text(json.dumps(config_dict, indent=2) + "\n")
    ids = prompt_ids(prompt, widths["vocab_size"], seed)
    logits, greedy, gaps = reference(model, ids)
    save_file({
        "prompt_ids": ids.to(torch.int32),
        "logits": logits.contiguous(),
        "greedy_ids": greedy.to(torch.int32).contiguous(),
        "greedy_gaps": gaps.float().contiguous(),
    }, str(folder / "reference.safetensors"))
    print(f"[qwen2 fixtures] {name}: {sum(p.numel() for p in weights.values()) / 1e6:.1f} M weights ({dtype}), "
          f"prompt {ids.numel()}, smallest greedy top-2 gap {gaps.min().item():.2e}, {time.time() - started:.1f} s",
          file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--only", help="one variant name")
    args = parser.parse_args()
    hide_broken_torchvision()
    torch.set_num_threads(2)
    for name, widths, seed, dtype, tied, prompt in VARIANTS:
        if args.only is None or args.only == name:
            write_variant(args.out / "qwen2", name, widths, seed, dtype, tied, prompt)


if __name__ == "__main__":
    main()

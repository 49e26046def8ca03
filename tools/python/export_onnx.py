"""ONNX exports of our PyTorch reference FastVLM, for `npm run bench:peer` (ONNX Runtime Web on the same
checkpoint as ours).

Usage: python tools/python/export_onnx.py MODEL_DIR --out DIR [--parts tower,prefill,decode]
           [--image-size 256] [--positions 280] [--dtype float32|float16]

Writes into DIR (each graph's weights in a `.data` file beside it, ONNX external data, so no graph
meets protobuf's 2 GB limit):
- `tower-{S}.onnx`: FastViTHD, pixel_values [1,3,S,S] f32 -> features [1,(S/64)^2,3072] (the
  tower is convolutional with conditional position encodings, so any S multiple of 64 is the same
  weights and the same per-pixel work as Apple's 1024);
- `prefill-{T}.onnx`: the Qwen2 decoder over T prompt ids, input_ids [1,T] int64 -> the last
  position's logits [1,vocab] and the KV cache `present.{i}.key|value` [1,kv_heads,T,head_dim];
- `decode-{T}.onnx`: one step after a T-position prefill, input_ids [1,1] + the cache `past.{i}.*`
  [1,kv_heads,T,head_dim] -> logits [1,vocab] (positions T).
Shapes are static (the benchmark runs one shape). Prints one JSON object: the files written and
their inputs and outputs.
"""
import argparse
import json
import pathlib
import sys
import warnings

import torch
from torch import nn
from transformers import DynamicCache

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fastvlm_reference import checkpoint  # noqa: E402


class Tower(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values):
        return self.model.encode_image(pixel_values)


class Prefill(nn.Module):
    """ids [1,T] -> (last logits [1,vocab], k0, v0, k1, v1, ...)."""

    def __init__(self, llm):
        super().__init__()
        self.llm = llm

    def forward(self, input_ids):
        out = self.llm(input_ids=input_ids, use_cache=True, logits_to_keep=1)
        cache = out.past_key_values
        flat = []
        for layer in range(len(cache.layers)):
            flat += [cache.layers[layer].keys, cache.layers[layer].values]
        return (out.logits[:, -1], *flat)


class Decode(nn.Module):
    """ids [1,1] + the cache of T positions -> logits [1,vocab] at position T."""

    def __init__(self, llm):
        super().__init__()
        self.llm = llm

    def forward(self, input_ids, *past):
        cache = DynamicCache()
        for layer in range(len(past) // 2):
            cache.update(past[2 * layer], past[2 * layer + 1], layer)
        out = self.llm(input_ids=input_ids, past_key_values=cache, use_cache=True)
        return out.logits[:, -1]


def export(module, args, path, input_names, output_names):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module, args, dynamo=True, input_names=input_names, output_names=output_names, verbose=False
        )
    program.save(str(path), external_data=True)
    return {"file": path.name, "data": path.name + ".data", "inputs": input_names, "outputs": output_names}


def prompt_ids(count, vocab):
    """The same pseudo-random ids as tools/src/bench/peer.ts (and bench_llm_torch.py)."""
    return [(i * 7919 + 13) % (vocab - 1000) for i in range(count)]


@torch.inference_mode()
def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--out", required=True)
    parser.add_argument("--parts", default="tower,prefill,decode")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--positions", type=int, default=280)
    parser.add_argument("--dtype", choices=["float32", "float16"], default="float32")
    args = parser.parse_args()
    parts = args.parts.split(",")
    unknown = set(parts) - {"tower", "prefill", "decode"}
    if unknown:
        parser.error(f"unknown --parts {sorted(unknown)}")
    if args.image_size % 64 != 0 or args.image_size < 64:
        parser.error(f"--image-size must be a multiple of 64, got {args.image_size}")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    model = checkpoint.load_model(args.model, getattr(torch, args.dtype))
    config = model.config
    written = {}
    if "tower" in parts:
        size = args.image_size
        pixels = torch.zeros(1, 3, size, size, dtype=torch.float32)
        written["tower"] = export(Tower(model), (pixels,), out / f"tower-{size}.onnx", ["pixel_values"], ["features"])
        written["tower"]["imageSize"] = size
    llm = model.llm
    llm.config.use_cache = True
    llm.config._attn_implementation = "eager"  # plain MatMul/Softmax graphs every ONNX runtime runs
    t = args.positions
    layers = config["num_hidden_layers"]
    cache_names = [f"past.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    if "prefill" in parts:
        ids = torch.tensor([prompt_ids(t, config["vocab_size"])], dtype=torch.long)
        present = [name.replace("past", "present") for name in cache_names]
        written["prefill"] = export(Prefill(llm), (ids,), out / f"prefill-{t}.onnx", ["input_ids"], ["logits", *present])
        written["prefill"]["positions"] = t
    if "decode" in parts:
        kv_heads = config["num_key_value_heads"]
        head_dim = config["hidden_size"] // config["num_attention_heads"]
        past = [torch.zeros(1, kv_heads, t, head_dim, dtype=model.dtype) for _ in cache_names]
        ids = torch.tensor([[17]], dtype=torch.long)
        written["decode"] = export(
            Decode(llm), (ids, *past), out / f"decode-{t}.onnx", ["input_ids", *cache_names], ["logits"]
        )
        written["decode"]["positions"] = t
    print(json.dumps({"dtype": args.dtype, "torch": torch.__version__, "parts": written}))


if __name__ == "__main__":
    main()

"""PyTorch CPU side of `npm run bench`: our reference FastVLM (FastViTHD + projector + transformers'
Qwen2, tools/python/fastvlm_reference) on the same checkpoint folder, image and prompt ids as the
TypeScript side, fp32, 2 threads (or $TORCH_THREADS); on a GPU machine --device cuda (and
--dtype bfloat16|float16 for the precisions a GPU user would pick).

Usage: python tools/python/bench_fastvlm_torch.py MODEL_DIR --image IMAGE --ids IDS_JSON
           --runs R --new-tokens N [--device cpu|cuda] [--dtype float32|bfloat16|float16]
IDS_JSON is the prompt's ids as a JSON list with one -200 where the image goes. Each run times:
preprocess (PIL + the CLIP processor, as FastVLM's predict.py), vision tower, projector, prefill
(embeddings spliced, all prompt positions, the last logits), time to the first token (from the
start of preprocess), and decode: N - 1 more greedy tokens through the KV cache in a lean loop
(no early stop, so every run decodes the same count). One warm-up run first. Prints one JSON
object: per figure the samples, plus the wall-clock time (ms since the epoch) of the warm-up's first
token (the caller, who started the process, makes it a cold-start figure), peakRssBytes, torch version, threads, device and dtype. On CUDA
every stage boundary waits for the GPU (torch.cuda.synchronize) so each figure is the stage's own.
"""
import argparse
import json
import os
import pathlib
import resource
import sys
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fastvlm_reference import checkpoint  # noqa: E402
from fastvlm_reference.llava_qwen2 import IMAGE_TOKEN_INDEX, preprocess  # noqa: E402


SYNC = [lambda: None]
DEVICE = [torch.device("cpu")]


def now():
    SYNC[0]()
    return time.perf_counter() * 1000


def splice_image(model, ids, image_embeds):
    """The prompt's embeddings with the image's rows where the -200 is (the reference's
    build_inputs_embeds, with the ids on the model's device)."""
    at = ids.index(IMAGE_TOKEN_INDEX)
    embed = model.model.embed_tokens
    before = torch.tensor(ids[:at], dtype=torch.long, device=DEVICE[0])
    after = torch.tensor(ids[at + 1:], dtype=torch.long, device=DEVICE[0])
    return torch.cat([embed(before), image_embeds[0].to(embed.weight.dtype), embed(after)], 0).unsqueeze(0)


@torch.inference_mode()
def run_once(model, image, ids, new_tokens):
    started = now()
    pixels = preprocess(image, model.image_size).to(DEVICE[0])
    t_pre = now()
    features = model.encode_image(pixels)
    t_vision = now()
    image_embeds = model.project(features)
    t_proj = now()
    embeds = splice_image(model, ids, image_embeds)
    out = model.llm(inputs_embeds=embeds, use_cache=True, logits_to_keep=1)
    token = out.logits[:, -1].argmax(-1, keepdim=True)
    int(token)  # the first token is known here
    t_first = now()
    first_token_epoch_ms = time.time() * 1000
    past = out.past_key_values
    for _ in range(new_tokens - 1):
        out = model.llm(input_ids=token, past_key_values=past, use_cache=True)
        past = out.past_key_values
        token = out.logits[:, -1].argmax(-1, keepdim=True)
    int(token)
    t_end = now()
    return {
        "preprocessMs": t_pre - started,
        "visionMs": t_vision - t_pre,
        "projectorMs": t_proj - t_vision,
        "prefillMs": t_first - t_proj,
        "ttftMs": t_first - started,
        "decodeMsPerToken": (t_end - t_first) / max(1, new_tokens - 1),
    }, first_token_epoch_ms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--image", required=True)
    parser.add_argument("--ids", required=True, help="JSON file: the prompt ids, -200 for the image")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default="float32")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    ids = json.loads(pathlib.Path(args.ids).read_text())
    model = checkpoint.load_model(args.model, getattr(torch, args.dtype)).to(args.device)
    DEVICE[0] = torch.device(args.device)
    if args.device == "cuda":
        SYNC[0] = torch.cuda.synchronize
    _, cold_first_token_epoch_ms = run_once(model, args.image, ids, args.new_tokens)  # warm-up
    samples = [run_once(model, args.image, ids, args.new_tokens)[0] for _ in range(args.runs)]
    figures = {name: [s[name] for s in samples] for name in samples[0]}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    report = {"samples": figures, "peakRssBytes": peak, "torch": torch.__version__, "threads": torch.get_num_threads(),
              "device": args.device, "dtype": args.dtype, "coldFirstTokenEpochMs": cold_first_token_epoch_ms}
    if args.device == "cuda":
        report["gpu"] = torch.cuda.get_device_name()
        report["peakGpuBytes"] = torch.cuda.max_memory_allocated()
    print(json.dumps(report))


if __name__ == "__main__":
    main()

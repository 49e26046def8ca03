"""PyTorch CPU side of `npm run bench:llm`: transformers' Qwen2ForCausalLM on the LLM weights of the
same FastVLM checkpoint folder, fp32, 2 threads (or $TORCH_THREADS).

Usage: python tools/python/bench_llm_torch.py MODEL_DIR --prompt-tokens T --decode-tokens D --runs R [--profile-steps S]
Prints one JSON object: {"prefillMs": [...], "decodeMsPerToken": [...], "torch": ..., "threads": n}.
The prompt is the same pseudo-random id sequence the TypeScript side uses.

--profile-steps S: after the timed runs, S more decode steps under torch.profiler; the JSON gains
"decodeProfile": {"steps": S, "ops": [{"name", "shapes", "calls", "ms"}]}, each aten::linear (by
its input shapes) and aten::scaled_dot_product_attention with its inclusive CPU time over the S
steps, for `bench:llm --profile` to put beside ours.
"""
import argparse
import json
import os
import pathlib
import sys
import time

import torch
from safetensors import safe_open

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import fastvlm_reference  # noqa: E402,F401  (hides a broken torchvision before transformers loads)
from transformers import Qwen2Config, Qwen2ForCausalLM  # noqa: E402


def prompt_ids(count: int, vocab: int) -> list[int]:
    return [(i * 7919 + 13) % (vocab - 1000) for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--prompt-tokens", type=int, default=281)
    parser.add_argument("--decode-tokens", type=int, default=32)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--profile-steps", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    folder = pathlib.Path(args.model)
    cfg = json.loads((folder / "config.json").read_text())
    config = Qwen2Config(
        hidden_size=cfg["hidden_size"], intermediate_size=cfg["intermediate_size"], num_hidden_layers=cfg["num_hidden_layers"],
        num_attention_heads=cfg["num_attention_heads"], num_key_value_heads=cfg["num_key_value_heads"], rms_norm_eps=cfg["rms_norm_eps"],
        rope_theta=cfg["rope_theta"], vocab_size=cfg["vocab_size"], tie_word_embeddings=cfg.get("tie_word_embeddings", True),
        max_position_embeddings=cfg["max_position_embeddings"], attn_implementation="sdpa")
    model = Qwen2ForCausalLM(config).eval()
    state = {}
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        for name in f.keys():
            if name.startswith(("model.embed_tokens", "model.layers.", "model.norm", "lm_head")):
                state[name] = f.get_tensor(name).float()
    model.load_state_dict(state, strict=False)
    model.tie_weights()
    ids = torch.tensor([prompt_ids(args.prompt_tokens, cfg["vocab_size"])])
    prefill, decode = [], []
    with torch.inference_mode():
        for run in range(args.runs + 1):  # the first run warms up
            started = time.perf_counter()
            out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
            token = out.logits[:, -1].argmax(-1, keepdim=True)
            prefill_ms = (time.perf_counter() - started) * 1000
            past = out.past_key_values
            started = time.perf_counter()
            for _ in range(args.decode_tokens):
                out = model(input_ids=token, past_key_values=past, use_cache=True)
                past = out.past_key_values
                token = out.logits[:, -1].argmax(-1, keepdim=True)
            decode_ms = (time.perf_counter() - started) * 1000 / args.decode_tokens
            if run > 0:
                prefill.append(prefill_ms)
                decode.append(decode_ms)
    report = {"prefillMs": prefill, "decodeMsPerToken": decode, "torch": torch.__version__, "threads": torch.get_num_threads()}
    if args.profile_steps > 0:
        report["decodeProfile"] = profile_decode(model, ids, args.profile_steps)
    print(json.dumps(report))


PROFILED_OPS = ("aten::linear", "aten::scaled_dot_product_attention")


def profile_decode(model, ids, steps: int) -> dict:
    """The matrix products and attention of `steps` decode steps after a prefill of `ids`, inclusive CPU ms."""
    from torch.profiler import ProfilerActivity, profile

    with torch.inference_mode():
        out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
        token = out.logits[:, -1].argmax(-1, keepdim=True)
        past = out.past_key_values
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            for _ in range(steps):
                out = model(input_ids=token, past_key_values=past, use_cache=True)
                past = out.past_key_values
                token = out.logits[:, -1].argmax(-1, keepdim=True)
            int(token)
    ops = [
        {"name": e.key, "shapes": e.input_shapes, "calls": e.count, "ms": e.cpu_time_total / 1000}
        for e in prof.key_averages(group_by_input_shape=True)
        if e.key in PROFILED_OPS
    ]
    return {"steps": steps, "ops": ops}


if __name__ == "__main__":
    main()

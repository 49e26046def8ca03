"""PyTorch CPU side of `npm run bench:llm`: transformers' Qwen2ForCausalLM on the LLM weights of the
same FastVLM checkpoint folder, fp32, 2 threads (or $TORCH_THREADS).

Usage: python tools/python/bench_llm_torch.py MODEL_DIR --prompt-tokens T --decode-tokens D --runs R
Prints one JSON object: {"prefillMs": [...], "decodeMsPerToken": [...], "torch": ..., "threads": n}.
The prompt is the same pseudo-random id sequence the TypeScript side uses.
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
    print(json.dumps({"prefillMs": prefill, "decodeMsPerToken": decode, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()

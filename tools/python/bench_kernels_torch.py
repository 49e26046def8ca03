"""PyTorch CPU side of `npm run bench:kernels`: times the same ops at the same shapes, fp32.

Reads a JSON list of {"name", "torch": {"op", ...shape params}} on stdin, prints one JSON object
{name: {"minMs", "medianMs", "runs"}} on stdout. Threads: 2 (this machine's cores), or $TORCH_THREADS.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F


def linear(p):
    x = torch.randn(p["M"], p["K"])
    w = torch.randn(p["N"], p["K"])
    b = torch.randn(p["N"])
    return lambda: F.linear(x, w, b)


def conv2d(p):
    # channels_last is PyTorch's fast CPU layout for convolutions
    x = torch.randn(1, p["cin"], p["H"], p["W"]).to(memory_format=torch.channels_last)
    w = torch.randn(p["cout"], p["cin"] // p["groups"], p["k"], p["k"])
    b = torch.randn(p["cout"])
    return lambda: F.conv2d(x, w, b, stride=p["stride"], padding=p["padding"], groups=p["groups"])


def vision_attention(p):
    n, c, heads = p["N"], p["C"], p["heads"]
    qkv = torch.randn(1, n, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    return lambda: F.scaled_dot_product_attention(q, k, v)


def causal_attention(p):
    t, kv_len, heads, kv_heads, hd = p["T"], p["kvLength"], p["heads"], p["kvHeads"], p["headDim"]
    q = torch.randn(1, heads, t, hd)
    k = torch.randn(1, kv_heads, kv_len, hd).repeat_interleave(heads // kv_heads, dim=1)
    v = torch.randn(1, kv_heads, kv_len, hd).repeat_interleave(heads // kv_heads, dim=1)
    mask = torch.ones(t, kv_len, dtype=torch.bool).tril(kv_len - t)
    return lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


def layer_norm(p):
    x = torch.randn(p["rows"], p["C"])
    w, b = torch.randn(p["C"]), torch.randn(p["C"])
    return lambda: F.layer_norm(x, (p["C"],), w, b, 1e-5)


def rms_norm(p):
    x = torch.randn(p["rows"], p["C"])
    w = torch.randn(p["C"])
    return lambda: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w


def softmax(p):
    x = torch.randn(p["rows"], p["N"])
    return lambda: torch.softmax(x, -1)


def unary(p):
    x = torch.randn(p["n"])
    fn = {"gelu": F.gelu, "silu": F.silu, "relu": F.relu, "sigmoid": torch.sigmoid}[p["activation"]]
    return lambda: fn(x)


def embedding(p):
    table = torch.randn(p["V"], p["D"])
    ids = torch.randint(0, p["V"], (p["T"],))
    return lambda: F.embedding(ids, table)


def argmax(p):
    x = torch.randn(p["rows"], p["V"])
    return lambda: torch.argmax(x, -1)


OPS = {
    "linear": linear,
    "conv2d": conv2d,
    "vision_attention": vision_attention,
    "causal_attention": causal_attention,
    "layer_norm": layer_norm,
    "rms_norm": rms_norm,
    "softmax": softmax,
    "unary": unary,
    "embedding": embedding,
    "argmax": argmax,
}


def time_case(fn, min_runs=3, max_runs=20, min_total=0.3):
    with torch.inference_mode():
        fn()
        samples = []
        started = time.perf_counter()
        while len(samples) < min_runs or (time.perf_counter() - started < min_total and len(samples) < max_runs):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {"minMs": samples[0], "medianMs": samples[len(samples) // 2], "runs": len(samples)}


def main():
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    torch.manual_seed(0)
    cases = json.load(sys.stdin)
    results = {}
    for case in cases:
        spec = case.get("torch")
        if not spec or spec["op"] not in OPS:
            continue
        results[case["name"]] = time_case(OPS[spec["op"]](spec))
    results["__meta__"] = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    print(json.dumps(results))


if __name__ == "__main__":
    main()

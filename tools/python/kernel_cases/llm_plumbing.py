"""LLM plumbing: embedding gathers (f32 / f16 / bf16 / int8 tables), splicing the image rows into
the text embeddings, row argmax, and the sampling filters of Hugging Face's generate()."""
import torch
from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from .common import Cases, generator, randn, uniform

NAME = "llm_plumbing"

VOCAB = 151936
# The FastVLM prompt's text ids (the -200 image placeholder left out).
PROMPT_IDS = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 198, 74785, 279, 2168, 13, 151645, 198, 151644, 77091, 198]


def quantize_int8(w: torch.Tensor):
    """Per-row symmetric int8, as packages/tensor/src/int8-weight.ts: scale = fp32(max|row| / 127), q = round(w / scale)."""
    scale = w.abs().amax(dim=1, keepdim=True) / 127
    q = torch.where(scale == 0, torch.zeros_like(w), torch.round(w / scale)).clamp(-127, 127)
    return q.to(torch.int8), scale


def add_embedding(c: Cases, name: str, vocab: int, dim: int, ids: list[int], gen) -> None:
    table = randn((vocab, dim), gen, 0.05)
    table[3] = 0.0  # an all-zero row: int8 scale 0
    table[1, : min(dim, 5)] = torch.tensor([1e-8, -7e-6, 65504.0, -1e-20, 0.5][: min(dim, 5)])  # f16 subnormals, max, underflow to -0
    index = torch.tensor(ids, dtype=torch.int64)
    q, scale = quantize_int8(table)
    c.add(
        f"embedding.{name}",
        {"op": "embedding", "vocab": vocab, "dim": dim},
        table=table,
        ids=index.to(torch.int32),
        y_f32=table[index],
        y_f16=table.half().float()[index],
        y_bf16=table.bfloat16().float()[index],
        y_int8=(q.float() * scale)[index],
    )


def add_argmax(c: Cases, name: str, logits: torch.Tensor) -> None:
    c.add(f"argmax.{name}", {"op": "argmax"}, logits=logits, y=torch.argmax(logits, dim=-1).to(torch.int32))


def warped_probs(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    """softmax of the scores after generate()'s warpers, in its order: temperature, top-k, top-p. The
    warpers run in f32 as in generate(); the final softmax in f64, since PyTorch's f32 softmax over
    151936 tokens is itself off by up to ~2e-5 relative."""
    scores = logits[None].clone()
    ids = torch.zeros((1, 1), dtype=torch.long)
    scores = TemperatureLogitsWarper(float(temperature))(ids, scores)
    if top_k > 0:
        scores = TopKLogitsWarper(top_k=top_k)(ids, scores)
    if top_p < 1.0:
        check_top_p_margin(scores, top_p)
        scores = TopPLogitsWarper(top_p=top_p)(ids, scores)
    return torch.softmax(scores.double(), dim=-1)[0].float()


def check_top_p_margin(scores: torch.Tensor, top_p: float) -> None:
    """The kept set must not hinge on the last bits of a cumulative sum (a flaky case otherwise).
    `scores` are those top-p sees: the cumulative probabilities it compares with 1 - p must be clear of it."""
    probs = torch.softmax(scores, dim=-1).double().sort(descending=False).values
    cumulative = probs.cumsum(-1)
    margin = (cumulative - (1 - top_p)).abs().min().item()
    assert margin > 2e-7, f"top-p boundary within {margin} of 1 - p"


def add_sampling(c: Cases, name: str, logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> None:
    params = {"op": "sampling", "temperature": temperature, "topK": top_k, "topP": top_p}
    c.add(f"sampling.{name}", params, logits=logits, probs=warped_probs(logits, temperature, top_k, top_p))


def lm_like_logits(gen, vocab: int) -> torch.Tensor:
    """A peaked distribution as a language model gives: a broad base and a few dozen strong tokens."""
    logits = randn((vocab,), gen, 2.0)
    strong = torch.randperm(vocab, generator=gen)[:40]
    logits[strong] += uniform((40,), gen, 6.0, 14.0)
    return logits


def make():
    gen = generator(7)
    c = Cases()

    add_embedding(c, "odd", 517, 37, [0, 516, 3, 3, 1, 200, 255, 256, 511, 515, 100, 24, 23, 48], gen)
    add_embedding(c, "small", 1000, 64, [0, 999, 1, 3] + torch.randint(0, 1000, (36,), generator=gen).tolist(), gen)
    add_embedding(c, "real_width", 4099, 896, [i % 4099 for i in PROMPT_IDS] + [4098, 1, 3], gen)

    d = 896
    splices = {"real": (25, 256, d, 14), "odd": (7, 3, 37, 0), "at_end": (5, 4, 10, 4), "one_row": (1, 6, 12, 0)}
    for name, (text_rows, image_rows, width, at) in splices.items():
        text, image = randn((text_rows, width), gen), randn((image_rows, width), gen)
        c.add(f"splice.{name}", {"op": "splice", "at": at}, text=text, image=image, y=torch.cat([text[:at], image, text[at + 1 :]]))
    text, image = randn((6, 12), gen), randn((4, 12), gen)
    c.add("splice.no_placeholder", {"op": "splice", "at": None}, text=text, image=image, y=text)

    add_argmax(c, "real", lm_like_logits(gen, VOCAB)[None])
    add_argmax(c, "odd", randn((5, 1001), gen, 3.0))
    add_argmax(c, "tiny", randn((3, 37), gen))
    ties = torch.round(randn((4, VOCAB), gen, 2.0))  # many equal values; first occurrence wins
    ties[1, :] = 1.0
    ties[2, [5, 70000, 151935]] = 50.0
    ties[3, [151935]] = 50.0
    add_argmax(c, "ties", ties)

    lm = lm_like_logits(gen, VOCAB)
    flat = randn((VOCAB,), gen)
    odd = randn((1001,), gen, 2.0)
    tied = torch.round(randn((1001,), gen, 4.0)) / 4
    for name, logits, temperature, top_k, top_p in [
        ("lm_t07_p09", lm, 0.7, 0, 0.9),
        ("lm_t1_k50_p095", lm, 1.0, 50, 0.95),
        ("lm_t02", lm, 0.2, 0, 1.0),
        ("lm_t1", lm, 1.0, 0, 1.0),
        ("flat_t1_p09", flat, 1.0, 0, 0.9),
        ("flat_t06_k40", flat, 0.6, 40, 1.0),
        ("odd_t07_p09", odd, 0.7, 0, 0.9),
        ("odd_t1_k50", odd, 1.0, 50, 1.0),
        ("odd_t05_k20_p08", odd, 0.5, 20, 0.8),
        ("odd_t13", odd, 1.3, 0, 1.0),
        ("odd_t1_k2000_p05", odd, 1.0, 2000, 0.5),
        ("ties_t1_k10", tied, 1.0, 10, 1.0),
    ]:
        add_sampling(c, name, logits, temperature, top_k, top_p)
    return c.result()

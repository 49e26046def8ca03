"""FastVLM checkpoint folders in Apple's layout: config.json + model.safetensors (or shards + index).

Presets (CHECKPOINTS.md has the facts behind each): `0.5b`, `1.5b`, `7b` are apple/FastVLM-*'s
shapes (tower at 1024 px, Qwen2-0.5B / 1.5B / 7B); `tiny` is the full real FastViTHD at 256 px
(16 image tokens) with a 2-layer, 64-wide Qwen2 and the real vocabulary.
"""
import json
import pathlib

import torch
from safetensors.torch import load_file

from .llava_qwen2 import FastVLM
from .shards import APPLE_MAX_SHARD_BYTES, checkpoint_files, stored_dtype, write_checkpoint

# The LLM of each preset; `sliding_window` and `max_window_layers` are unused (no sliding window)
# but written as the published configs carry them.
PRESETS = {
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True, sliding_window=32768,
                 image_size=1024),
    "1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                 num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True, sliding_window=32768,
                 image_size=1024),
    "7b": dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
               num_key_value_heads=4, vocab_size=152064, tie_word_embeddings=False, sliding_window=131072,
               image_size=1024),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True, sliding_window=32768,
                 image_size=256),
}
# Qwen2's tokenizer: 151643 BPE tokens + <|endoftext|>, <|im_start|>, <|im_end|> (len(tokenizer)).
TOKENIZER_SIZE = 151646
# What remote code needs to find Apple's classes on the Hub (absent from Apple's own zip folders).
HUB_AUTO_MAP = {"AutoConfig": "llava_qwen.LlavaConfig", "AutoModelForCausalLM": "llava_qwen.LlavaQwen2ForCausalLM"}
GENERATION_CONFIG = {"do_sample": True, "temperature": None, "top_p": None, "transformers_version": "4.39.3"}


def make_config(preset="0.5b", layers=None, image_size=None, dtype="bfloat16", vocab_size=None, hub=True):
    """A config.json dict with the fields and values apple/FastVLM-0.5B's carries (CHECKPOINTS.md),
    describing the preset; `hub` adds the Hub's `auto_map` (Apple's llava-fastvithd folders lack it)."""
    shape = dict(PRESETS[preset])
    if layers is not None:
        shape["num_hidden_layers"] = layers
    if vocab_size is not None:
        shape["vocab_size"] = vocab_size
    size = image_size or shape.pop("image_size")
    shape.pop("image_size", None)
    assert size % 64 == 0, f"image size {size} is not a multiple of 64"
    config = {
        "_name_or_path": "./llava-v1.5-13b",
        "architectures": ["LlavaQwen2ForCausalLM"],
        **({"auto_map": HUB_AUTO_MAP} if hub else {}),
        "attention_dropout": 0.0,
        "bos_token_id": 151643,
        "eos_token_id": 151645,
        "freeze_mm_mlp_adapter": False,
        "hidden_act": "silu",
        "image_aspect_ratio": "pad",
        "image_grid_pinpoints": None,
        "initializer_range": 0.02,
        "max_position_embeddings": 32768,
        "max_window_layers": shape["num_hidden_layers"],
        "mm_hidden_size": 3072,
        "mm_patch_merge_type": "flat",
        "mm_projector_lr": None,
        "mm_projector_type": "mlp2x_gelu",
        "mm_use_im_patch_token": False,
        "mm_use_im_start_end": False,
        "mm_vision_select_feature": "patch",
        "mm_vision_select_layer": -2,
        "mm_vision_tower": f"mobileclip_l_{size}",
        "model_type": "llava_qwen2",
        "rms_norm_eps": 1e-06,
        "rope_theta": 1000000.0,
        "tokenizer_model_max_length": 8192,
        "tokenizer_padding_side": "right",
        "torch_dtype": dtype,
        "transformers_version": "4.39.3",
        "tune_mm_mlp_adapter": False,
        "unfreeze_mm_vision_tower": True,
        "use_cache": True,
        "use_mm_proj": True,
        "use_sliding_window": False,
        **shape,
    }
    return dict(sorted(config.items()))


def load_config(folder):
    return json.loads((pathlib.Path(folder) / "config.json").read_text())


def read_tensors(folder):
    """Every tensor of the folder's checkpoint (single file or shards), as stored."""
    tensors = {}
    for path in checkpoint_files(folder):
        tensors.update(load_file(str(path)))
    return tensors


def resolve_head(config, tensors):
    """transformers' rule for a tied config (verified, CHECKPOINTS.md): a stored lm_head equal to the
    embedding is dropped (tied); a different one is kept as a head of its own; a lone lm_head is
    the embedding too. Returns (tensors to load, separate_head)."""
    if not config.get("tie_word_embeddings", False) or "lm_head.weight" not in tensors:
        return tensors, False
    head = tensors.pop("lm_head.weight")
    embed = tensors.get("model.embed_tokens.weight")
    if embed is None:
        tensors["model.embed_tokens.weight"] = head
        return tensors, False
    if torch.equal(head, embed):
        return tensors, False
    tensors["lm_head.weight"] = head
    return tensors, True


def build_model(config, tensors, separate_head=False, dtype=torch.float32):
    """FastVLM holding `tensors` (name -> tensor, strict names) in `dtype`, built without first
    allocating weights of its own (meta device), so a wide model is in memory once."""
    with torch.device("meta"):
        model = FastVLM(config, separate_head=separate_head)
    model.load_state_dict({n: t.to(dtype) if t.is_floating_point() else t for n, t in tensors.items()},
                          strict=True, assign=True)
    if model.tied:  # assign replaced the embedding's Parameter: the head must read the new one
        model.llm.lm_head.weight = model.model.embed_tokens.weight
    # the rotary embedding's inv_freq is a non-persistent buffer, still on the meta device
    model.llm.model.rotary_emb = type(model.llm.model.rotary_emb)(config=model.llm.config)
    return model.eval()


def load_model(folder, dtype=torch.float32):
    """Builds FastVLM from folder/config.json and its checkpoint (strict names), as transformers would."""
    config = load_config(folder)
    tensors, separate_head = resolve_head(config, read_tensors(folder))
    return build_model(config, tensors, separate_head, dtype)


def checkpoint_layout(state_dict, dtype, head=None):
    """[(name, shape, stored dtype)] in module order for a state_dict; `head` 'copy' appends
    lm_head.weight to a tied model's tensors (Apple's files store one although tied)."""
    layout = [(name, tuple(t.shape), stored_dtype(t.dtype, dtype)) for name, t in state_dict.items()]
    if head == "copy" and "lm_head.weight" not in state_dict:
        embed = state_dict["model.embed_tokens.weight"]
        layout.append(("lm_head.weight", tuple(embed.shape), dtype))
    return layout


def write_folder_files(folder, config, hub=True):
    """config.json (and Apple's generation_config.json outside the Hub form)."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    if not hub:
        (folder / "generation_config.json").write_text(json.dumps(GENERATION_CONFIG, indent=2) + "\n")


def save_model(model, folder, dtype="float16", head=None, max_shard_bytes=APPLE_MAX_SHARD_BYTES):
    """Writes config.json (its dtype fields set to `dtype`) and the checkpoint: float tensors in
    `dtype`, num_batches_tracked int64, shards past `max_shard_bytes`. For a tied model, `head`
    'copy' also stores lm_head.weight as a copy of the embedding (as Apple's files do); a model with
    a separate head under a tied config always stores it. Returns the checkpoint file names."""
    config = dict(model.config, torch_dtype=dtype)
    config.pop("dtype", None)
    write_folder_files(folder, config, hub="auto_map" in config)
    state = model.state_dict()
    if model.tied and head == "copy":
        state["lm_head.weight"] = state["model.embed_tokens.weight"]
    layout = checkpoint_layout(state, getattr(torch, dtype))
    return write_checkpoint(folder, layout, state.items(), max_shard_bytes)

"""FastVLM checkpoint folders in Apple's layout: config.json + model.safetensors.

Presets: `0.5b` is apple/FastVLM-0.5B's shape (tower at 1024, Qwen2-0.5B); `tiny` is the full real
FastViTHD at 256 px (16 image tokens) with a 2-layer, 64-wide Qwen2 and the real vocabulary.
"""
import json
import pathlib

import torch
from safetensors.torch import load_file, save_file

from .llava_qwen2 import FastVLM

QWEN2_SHAPES = {
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                 num_attention_heads=14, num_key_value_heads=2, image_size=1024),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, image_size=256),
}


def make_config(preset="0.5b", layers=None, image_size=None, dtype="float16"):
    """A config.json dict with every field FastVLM-0.5B's carries (spec §7), describing the preset."""
    shape = dict(QWEN2_SHAPES[preset])
    if layers is not None:
        shape["num_hidden_layers"] = layers
    default_size = shape.pop("image_size")
    size = image_size or default_size
    assert size % 64 == 0, f"image size {size} is not a multiple of 64"
    return {
        "architectures": ["LlavaQwen2ForCausalLM"],
        "model_type": "llava_qwen2",
        "attention_dropout": 0.0,
        "bos_token_id": 151643,
        "eos_token_id": 151645,
        "hidden_act": "silu",
        **shape,
        "initializer_range": 0.02,
        "max_position_embeddings": 32768,
        "max_window_layers": shape["num_hidden_layers"],
        "rms_norm_eps": 1e-06,
        "rope_scaling": None,
        "rope_theta": 1000000.0,
        "sliding_window": 32768,
        "use_sliding_window": False,
        "tie_word_embeddings": True,
        "use_cache": True,
        "vocab_size": 151936,
        "image_aspect_ratio": "pad",
        "mm_hidden_size": 3072,
        "mm_patch_merge_type": "flat",
        "mm_projector_lr": None,
        "mm_projector_type": "mlp2x_gelu",
        "mm_use_im_patch_token": False,
        "mm_use_im_start_end": False,
        "mm_vision_select_feature": "patch",
        "mm_vision_select_layer": -2,
        "mm_vision_tower": f"mobileclip_l_{size}",
        "tokenizer_model_max_length": 8192,
        "tokenizer_padding_side": "right",
        "tune_mm_mlp_adapter": False,
        "unfreeze_mm_vision_tower": True,
        "use_mm_proj": True,
        "torch_dtype": dtype,
        "dtype": dtype,
    }


def load_config(folder):
    return json.loads((pathlib.Path(folder) / "config.json").read_text())


def load_model(folder, dtype=torch.float32):
    """Builds FastVLM from folder/config.json and loads folder/model.safetensors (strict names)."""
    model = FastVLM(load_config(folder))
    tensors = load_file(str(pathlib.Path(folder) / "model.safetensors"))
    if model.tied and "lm_head.weight" in tensors:
        del tensors["lm_head.weight"]  # tied: the embedding is the output matrix
    model.load_state_dict(tensors, strict=True)
    return model.to(dtype).eval()


def save_model(model, folder, dtype="float16"):
    """Writes config.json (its dtype fields set to `dtype`) and model.safetensors; float tensors in
    `dtype`, num_batches_tracked stays int64."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = dict(model.config, torch_dtype=dtype, dtype=dtype)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    target = getattr(torch, dtype)
    tensors = {name: (t.to(target) if t.is_floating_point() else t).contiguous()
               for name, t in model.state_dict().items()}
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "model.safetensors").chmod(0o644)  # safetensors creates it owner-only

"""PyTorch reference of Apple's FastVLM (FastViTHD + mlp2x_gelu projector + Qwen2), fp32 on CPU.

    from fastvlm_reference import FastVLM, load_model, preprocess
    model = load_model("path/to/checkpoint")          # config.json + model.safetensors
    embeds = model.build_inputs_embeds(ids, model.project(model.encode_image(preprocess(path, 1024))))
    tokens = model.greedy_generate(embeds, max_new_tokens=64)
"""
import sys


def _hide_broken_torchvision():
    """A torchvision wheel built for another torch raises on import ("operator torchvision::nms does
    not exist"), and transformers imports it whenever it is installed. Nothing here needs it, so a
    broken one is made to look absent (importlib.util.find_spec then returns None)."""
    if "torchvision" in sys.modules:
        return
    try:
        import torchvision  # noqa: F401
    except Exception:
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        sys.modules["torchvision"] = None


_hide_broken_torchvision()

from .fastvithd import FastViTHD  # noqa: E402
from .preprocess import preprocess  # noqa: E402
from .llava_qwen2 import FastVLM, IMAGE_TOKEN_INDEX  # noqa: E402
from .checkpoint import load_model, make_config, save_model  # noqa: E402

__all__ = ["FastViTHD", "FastVLM", "IMAGE_TOKEN_INDEX", "preprocess", "load_model", "make_config", "save_model"]

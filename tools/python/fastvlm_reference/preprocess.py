"""Image preprocessing exactly as FastVLM's predict.py does it (spec §1, §6).

PIL decode -> convert('RGB') (alpha dropped, no EXIF rotation) -> pad to a black square, image
centred at ((S-W)//2, (S-H)//2) -> Pillow bicubic resize of the uint8 square to N x N -> x 1/255
(in float64, then float32, as transformers' CLIPImageProcessor.rescale does) -> mean 0 / std 1.
"""
import numpy as np
import torch
from PIL import Image


def expand_to_square(image, background=(0, 0, 0)):
    width, height = image.size
    side = max(width, height)
    square = Image.new(image.mode, (side, side), background)
    square.paste(image, ((side - width) // 2, (side - height) // 2))
    return square


def preprocess(image_path_or_pil, image_size=1024):
    """-> pixel_values [1,3,N,N] float32 in [0,1]."""
    image = image_path_or_pil
    if not isinstance(image, Image.Image):
        image = Image.open(image)
    square = expand_to_square(image.convert("RGB"))
    # The processor resizes the shortest edge to N then centre-crops N: on a square, one resize.
    resized = square.resize((image_size, image_size), resample=Image.BICUBIC)
    pixels = np.asarray(resized, dtype=np.uint8)  # [N,N,3]
    pixels = (pixels.astype(np.float64) * (1 / 255)).astype(np.float32)
    return torch.from_numpy(pixels).permute(2, 0, 1).unsqueeze(0).contiguous()  # [1,3,N,N]

"""The JPEG test images of the preprocess fixtures (make_preprocess_fixtures.py), beyond its first
four: every coding path of the TypeScript decoder, each decoded by PIL as the reference.

pipeline_jpegs(): images checked through the whole pipeline (decode, pad, resize at every size):
progressive 4:2:0 with successive approximation, progressive gray, progressive with restart
markers (end-of-band runs reset), baseline with a restart marker per MCU row and optimized Huffman
tables, 4:4:0 and 4:1:1 (written by jpeg_writer.py: PIL cannot), an Adobe RGB JPEG (APP14
transform 0), CMYK (PIL's own, Adobe inverted) and YCCK.

variant_jpegs(): small images checked for decoding only: tiny and odd sizes around the 8 / 16
pixel MCU edges for 4:4:4 / 4:2:2 / 4:2:0, baseline and progressive (chroma 1 or 2 samples wide
is upsampled by replication, wider by libjpeg's triangle filter), uncommon sampling factors, one
scan per component with restart intervals, colour space from component ids, gray with 2x2
sampling factors, Adobe YCbCr without JFIF, CMYK without an Adobe marker, crafted coefficients
that overflow the IDCT, and scans cut short (restart markers missing, data run out).
"""
import io

import numpy as np
from PIL import Image

from jpeg_writer import encode_baseline


def _saved(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def _planes(rgb: np.ndarray, space: str) -> list:
    """uint8 [H, W, 3] RGB -> the planes of a JPEG colour space: 'rgb', 'ycc' (PIL's YCbCr), and
    4-plane 'cmyk' / 'ycck' (an extra plane as the fourth ink; any values make a valid image)."""
    ycc = np.asarray(Image.fromarray(rgb).convert("YCbCr"))
    first = [(rgb if space in ("rgb", "cmyk") else ycc)[..., i] for i in range(3)]
    return first + [rgb.max(-1).astype(np.uint8)] if space in ("cmyk", "ycck") else first


def pipeline_jpegs(card) -> dict:
    """name -> JPEG bytes. card(width, height, seed) -> uint8 [H, W, 3] test card."""
    images = {}
    odd = Image.fromarray(card(517, 301, 20))
    images["progressive420_sa.jpg"] = _saved(odd, quality=88, subsampling=2, progressive=True)
    images["progressive_gray.jpg"] = _saved(Image.fromarray(card(301, 203, 21)[..., 0], "L"), quality=85, progressive=True)
    images["progressive422_restart.jpg"] = _saved(Image.fromarray(card(250, 170, 22)), quality=80, subsampling=1,
                                                  progressive=True, restart_marker_blocks=7)
    images["baseline420_restart_optimized.jpg"] = _saved(Image.fromarray(card(333, 211, 23)), quality=70, subsampling=2,
                                                         optimize=True, restart_marker_rows=1)
    rgb = card(203, 131, 24)
    images["subsampling440.jpg"] = encode_baseline(_planes(rgb, "ycc"), [(1, 2), (1, 1), (1, 1)], quality=85)
    images["subsampling411.jpg"] = encode_baseline(_planes(rgb, "ycc"), [(4, 1), (1, 1), (1, 1)], quality=85)
    images["adobe_rgb.jpg"] = encode_baseline(_planes(rgb, "rgb"), [(1, 1)] * 3, quality=90, jfif=False, adobe_transform=0)
    images["cmyk.jpg"] = _saved(Image.fromarray(card(64, 40, 18)).convert("CMYK"), quality=90)
    images["ycck.jpg"] = encode_baseline(_planes(card(97, 61, 25), "ycck"), [(2, 2), (1, 1), (1, 1), (2, 2)],
                                         quality=90, jfif=False, adobe_transform=2)
    return images


def variant_jpegs(card) -> dict:
    images = {}
    for width, height in [(1, 1), (2, 3), (4, 4), (5, 5), (6, 7), (17, 9), (33, 31)]:
        image = Image.fromarray(card(width, height, width * 100 + height))
        for subsampling in (0, 1, 2):
            images[f"tiny_{width}x{height}_s{subsampling}.jpg"] = _saved(image, quality=90, subsampling=subsampling)
        images[f"tiny_{width}x{height}_progressive420.jpg"] = _saved(image, quality=90, subsampling=2, progressive=True)
    rgb = card(75, 45, 30)
    ycc = _planes(rgb, "ycc")
    samplings = {
        "h2v1": [(2, 1), (1, 1), (1, 1)],
        "h4v2": [(4, 2), (1, 1), (1, 1)],
        "h1v4": [(1, 4), (1, 1), (1, 1)],
        "h3v1": [(3, 1), (1, 1), (1, 1)],
        "chroma_finer": [(1, 1), (2, 2), (2, 2)],
        "mixed": [(2, 2), (1, 2), (2, 1)],
    }
    for name, sampling in samplings.items():
        images[f"sampling_{name}.jpg"] = encode_baseline(ycc, sampling, quality=85)
        images[f"sampling_{name}_scans_restarts.jpg"] = encode_baseline(ycc, sampling, quality=85, separate_scans=True,
                                                                        restart_interval=3)
    images["ids_rgb.jpg"] = encode_baseline(_planes(rgb, "rgb"), [(1, 1)] * 3, jfif=False, ids=[82, 71, 66])
    images["ids_other.jpg"] = encode_baseline(ycc, [(2, 1), (1, 1), (1, 1)], jfif=False, ids=[5, 9, 200])
    images["adobe_ycc.jpg"] = encode_baseline(ycc, [(2, 2), (1, 1), (1, 1)], jfif=False, adobe_transform=1)
    images["adobe_rgb_subsampled.jpg"] = encode_baseline(_planes(rgb, "rgb"), [(1, 1), (2, 2), (1, 2)], jfif=False,
                                                         adobe_transform=0)
    images["gray_sampling2x2.jpg"] = encode_baseline(ycc[:1], [(2, 2)])
    images["cmyk_no_adobe.jpg"] = encode_baseline(_planes(rgb, "cmyk"), [(1, 1)] * 4, jfif=False)
    images["cmyk_progressive.jpg"] = _saved(Image.fromarray(rgb).convert("CMYK"), quality=90, progressive=True)
    images["gray_progressive_restart.jpg"] = _saved(Image.fromarray(rgb[..., 1], "L"), quality=85, progressive=True,
                                                    restart_marker_blocks=3)
    images["quality100_444.jpg"] = _saved(Image.fromarray(rgb), quality=100, subsampling=0)
    images["quality5_420.jpg"] = _saved(Image.fromarray(rgb), quality=5, subsampling=2)
    images["extreme_coefficients.jpg"] = encode_baseline(ycc, [(1, 1)] * 3, quality=1, coefficient_hook=_extreme)
    restarts = _saved(Image.fromarray(card(96, 64, 31)), quality=90, subsampling=2, restart_marker_blocks=2)
    for share in (40, 75):  # the scan cut short, then the end-of-image marker: libjpeg fills in grey
        images[f"restarts_cut_at_{share}.jpg"] = restarts[:len(restarts) * share // 100] + b"\xff\xd9"
    return images


def _extreme(component: int, coefficients: np.ndarray):
    """Coefficients no encoder makes, whose IDCT overflows 16 bits: PIL's output then shows the
    arithmetic of libjpeg-turbo's SIMD IDCT (wrapping and saturating lanes)."""
    rng = np.random.default_rng(component)
    coefficients[...] = 0
    coefficients[::2, ::2, 0] = 1000 if component == 0 else -900
    coefficients[1::2, :, 0] = rng.integers(-200, 200, coefficients[1::2, :, 0].shape)
    coefficients[1::2, ::2, 1] = rng.integers(-1023, 1023, coefficients[1::2, ::2, 1].shape)
    coefficients[::2, 1::2, 9] = rng.integers(-1023, 1023, coefficients[::2, 1::2, 9].shape)
    coefficients[1::2, 1::2, 3] = rng.integers(-60, 60, coefficients[1::2, 1::2, 3].shape)

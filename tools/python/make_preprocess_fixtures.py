"""Writes the image preprocessing parity fixtures under OUT/preprocess/.

FastVLM preprocesses an image with PIL (spec sections 1 and 6): decode and convert('RGB') (alpha
dropped, not composited; no EXIF rotation), pad to a black square with the image centred at
((S-W)//2, (S-H)//2), resize the uint8 square to N x N with Pillow's BICUBIC, then x 1/255.

This script makes test images of many kinds (16-bit, palette + tRNS, RGBA, gray, 1- and 4-bit,
interlaced, baseline/progressive/gray JPEGs, odd and extreme aspect ratios, a large one, and the
JPEGs of preprocess_jpeg_cases.py: successive approximation, restart markers, 4:4:0, 4:1:1,
Adobe RGB, CMYK, YCCK) and two photo-like JPEGs (photo_like.py: a 1000x667 progressive and a
570x380 baseline landscape) under OUT/preprocess/images/, and for each image writes
OUT/preprocess/<name>.safetensors
holding, as uint8 [H, W, 3]:

  decoded          PIL's convert('RGB') of the file
  padded           the black square canvas with the image pasted
  resized_<N>      the square resized to N x N (N = 1024, 256 and the odd 97)
  decoded_resized_<W>x<H>  the decoded image resized to W x H (non-square, 150x200 and 1000x20)
  pixel_values_256 float32 [1, 3, 256, 256]: transformers' CLIPImageProcessor output on the square

It asserts that CLIPImageProcessor configured Apple's way (shortest edge N, BICUBIC, crop N,
rescale 1/255, mean 0, std 1) gives resized_<N> / 255 exactly, and that the project's PyTorch
reference (fastvlm_reference.preprocess) agrees. OUT/preprocess/index.json lists the images.

Small JPEG variants (tiny sizes, every sampling layout, separate scans...) are checked for decoding
only: they go to OUT/preprocess/images/variants/, their PIL decodings to
OUT/preprocess/jpeg_variants.safetensors (one uint8 [H, W, 3] tensor per file name stem).

Usage: python tools/python/make_preprocess_fixtures.py --out .cache/fixtures
"""
import argparse
import io
import json
import pathlib
import struct
import sys
import time
import warnings
import zlib

import numpy as np
import PIL
from PIL import Image
from safetensors.numpy import save_file

from photo_like import fixture_photos
from preprocess_jpeg_cases import pipeline_jpegs, variant_jpegs

SIZES = [1024, 256, 97]
# Non-square resizes of the decoded image (width, height): the resize on its own, off FastVLM's path.
FREE_RESIZES = [(150, 200), (1000, 20)]
CHECK_SIZE = 256  # the size whose CLIPImageProcessor pixel_values are stored


def smooth_rgb(width: int, height: int, seed: int) -> np.ndarray:
    """A photo-like test card: gradients, a few sharp edges and some noise, float in [0, 1]."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = x / max(width - 1, 1), y / max(height - 1, 1)
    red = 0.5 + 0.5 * np.sin(6.0 * u + 2.0 * v)
    green = v
    blue = ((x // 16 + y // 16) % 2) * 0.8 + 0.1
    image = np.stack([red, green, blue], -1)
    image[(u - 0.6) ** 2 + (v - 0.4) ** 2 < 0.04] = [1.0, 1.0, 0.2]
    return np.clip(image + rng.normal(0, 0.04, image.shape), 0, 1)


def to_uint(image: np.ndarray, bits: int) -> np.ndarray:
    return np.round(image * (2**bits - 1)).astype(np.uint16 if bits > 8 else np.uint8)


def png_bytes(width: int, height: int, color_type: int, depth: int, rows: np.ndarray,
              extra_chunks: bytes = b"", interlace: bool = False) -> bytes:
    """A PNG written by hand (PIL cannot write 16-bit RGB/RGBA/LA or interlaced PNGs).

    rows: [H, W * channels] samples (uint8 for depth 8, uint16 for depth 16), filter type 0."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    samples = rows.astype(">u2") if depth == 16 else rows.astype(np.uint8)
    channels = samples.shape[1] // width
    pixels = samples.reshape(height, width, channels)
    if interlace:  # Adam7: seven sub-images, each with its own filtered scanlines
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        raw = b"".join(b"\x00" + row.tobytes()
                       for x0, y0, dx, dy in passes
                       for row in pixels[y0::dy, x0::dx] if row.size)
    else:
        raw = b"".join(b"\x00" + row.tobytes() for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 1 if interlace else 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra_chunks
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def saved(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **options)
    return buffer.getvalue()


def make_images() -> dict:
    """name -> file bytes of each generated test image."""
    images = {}
    card = smooth_rgb(301, 203, 1)
    rgb16 = to_uint(card, 16)
    images["rgb16.png"] = png_bytes(301, 203, 2, 16, rgb16.reshape(203, -1))
    alpha16 = to_uint(smooth_rgb(150, 151, 2)[..., :1], 16)
    rgba16 = np.concatenate([to_uint(smooth_rgb(150, 151, 3), 16), alpha16], -1)
    images["rgba16_interlaced.png"] = png_bytes(150, 151, 6, 16, rgba16.reshape(151, -1), interlace=True)
    # 16-bit gray: PIL opens it as I;16 and convert('RGB') clips values above 255 (not v >> 8).
    gray16 = (smooth_rgb(120, 90, 4)[..., 1] * 400).astype(np.uint16)
    images["gray16.png"] = png_bytes(120, 90, 0, 16, gray16)
    la16 = np.stack([to_uint(smooth_rgb(64, 48, 5)[..., 0], 16), alpha16[:48, :64, 0]], -1)
    images["gray_alpha16.png"] = png_bytes(64, 48, 4, 16, la16.reshape(48, -1))

    palette_image = Image.fromarray(to_uint(smooth_rgb(257, 130, 6), 8)).quantize(colors=200)
    transparency = bytes((index * 7) % 256 for index in range(200))  # per palette entry alpha
    images["palette_trns.png"] = saved(palette_image, format="PNG", transparency=transparency)
    four_bit = Image.fromarray(to_uint(smooth_rgb(75, 33, 7), 8)).quantize(colors=16)
    images["palette4.png"] = saved(four_bit, format="PNG", bits=4)
    rgba = np.concatenate([to_uint(smooth_rgb(333, 77, 8), 8), to_uint(smooth_rgb(333, 77, 9)[..., :1], 8)], -1)
    images["rgba_333x77.png"] = saved(Image.fromarray(rgba, "RGBA"), format="PNG")
    gray = to_uint(smooth_rgb(40, 500, 10)[..., 0], 8)
    gray[::7, :] = 20  # the colour made transparent below
    images["gray_trns_40x500.png"] = saved(Image.fromarray(gray, "L"), format="PNG", transparency=20)
    rgb_trns = to_uint(smooth_rgb(97, 61, 11), 8)
    rgb_trns[10:20, 10:20] = [1, 2, 3]
    images["rgb_trns.png"] = saved(Image.fromarray(rgb_trns), format="PNG", transparency=(1, 2, 3))
    bilevel = Image.fromarray(smooth_rgb(50, 31, 12)[..., 2] > 0.5)
    images["bilevel.png"] = saved(bilevel, format="PNG")
    images["tiny_1x1.png"] = saved(Image.new("RGB", (1, 1), (200, 30, 99)), format="PNG")
    images["square_1024.png"] = saved(Image.fromarray(to_uint(smooth_rgb(1024, 1024, 13), 8)), format="PNG")

    photo = Image.fromarray(to_uint(smooth_rgb(2000, 1500, 14), 8))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation "rotate 90": must be ignored, as PIL's open() ignores it
    images["baseline420_2000x1500.jpg"] = saved(photo, format="JPEG", quality=85, subsampling=2, exif=exif)
    images["progressive444.jpg"] = saved(Image.fromarray(to_uint(smooth_rgb(640, 427, 15), 8)), format="JPEG",
                                         quality=92, subsampling=0, progressive=True)
    images["baseline422_odd.jpg"] = saved(Image.fromarray(to_uint(smooth_rgb(333, 77, 16), 8)), format="JPEG",
                                          quality=90, subsampling=1)
    images["gray.jpg"] = saved(Image.fromarray(to_uint(smooth_rgb(200, 151, 17)[..., 0], 8), "L"), format="JPEG",
                               quality=90)
    images.update(pipeline_jpegs(test_card))
    return images


def test_card(width: int, height: int, seed: int) -> np.ndarray:
    return to_uint(smooth_rgb(width, height, seed), 8)


def write_jpeg_variants(out: pathlib.Path) -> list:
    """Writes the decode-only JPEG variants and PIL's decodings of them; returns their index entries."""
    variant_dir = out / "images" / "variants"
    variant_dir.mkdir(parents=True, exist_ok=True)
    decoded, index = {}, []
    for name, data in variant_jpegs(test_card).items():
        (variant_dir / name).write_bytes(data)
        with Image.open(variant_dir / name) as image:
            mode = image.mode
            rgb = np.asarray(image.convert("RGB"))
        stem = name.rsplit(".", 1)[0]
        decoded[stem] = rgb
        index.append({"name": stem, "file": f"images/variants/{name}", "mode": mode,
                      "width": rgb.shape[1], "height": rgb.shape[0]})
    save_file(decoded, str(out / "jpeg_variants.safetensors"))
    return index


def expand_to_square(image: Image.Image) -> Image.Image:
    side = max(image.size)
    square = Image.new("RGB", (side, side), (0, 0, 0))
    square.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return square


def clip_processor(size: int):
    """transformers' CLIPImageProcessor configured as Apple's FastVLM preprocessor_config.json.

    Apple's code ran the PIL implementation (transformers 4.x's only one); transformers 5 names it
    CLIPImageProcessorPil and would otherwise pick a torchvision backend when one is installed."""
    try:
        import torchvision  # noqa: F401  (a broken torchvision makes 'import transformers' fail)
    except Exception:
        sys.modules["torchvision"] = None
    try:
        from transformers import CLIPImageProcessorPil as Processor
    except ImportError:
        from transformers import CLIPImageProcessor as Processor
    return Processor(do_resize=True, size={"shortest_edge": size}, resample=Image.BICUBIC,
                     do_center_crop=True, crop_size={"height": size, "width": size},
                     do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
                     image_mean=[0.0, 0.0, 0.0], image_std=[1.0, 1.0, 1.0], do_convert_rgb=True)


def tensors_for(path: pathlib.Path, processor) -> dict:
    with Image.open(path) as image:
        source_mode = image.mode
        decoded = image.convert("RGB")
    square = expand_to_square(decoded)
    tensors = {"decoded": np.asarray(decoded), "padded": np.asarray(square)}
    for size in SIZES:
        tensors[f"resized_{size}"] = np.asarray(square.resize((size, size), resample=Image.BICUBIC))
    for width, height in FREE_RESIZES:
        tensors[f"decoded_resized_{width}x{height}"] = np.asarray(decoded.resize((width, height), resample=Image.BICUBIC))
    pixel_values = processor(square, return_tensors="np")["pixel_values"].astype(np.float32)
    from_resize = (tensors[f"resized_{CHECK_SIZE}"].astype(np.float64) * (1 / 255)).astype(np.float32)
    assert np.array_equal(pixel_values[0].transpose(1, 2, 0), from_resize), f"{path.name}: CLIPImageProcessor differs"
    tensors[f"pixel_values_{CHECK_SIZE}"] = np.ascontiguousarray(pixel_values)
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    from fastvlm_reference.preprocess import preprocess as reference_preprocess
    reference = reference_preprocess(str(path), image_size=CHECK_SIZE).numpy()
    assert np.array_equal(reference, pixel_values), f"{path.name}: fastvlm_reference.preprocess differs"
    return tensors, source_mode


def main() -> None:
    # PIL's advice to convert palette + tRNS images to RGBA: convert('RGB') is what FastVLM does.
    warnings.filterwarnings("ignore", message="Palette images with Transparency")
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    started = time.time()
    out = pathlib.Path(args.out) / "preprocess"
    image_dir = out / "images"
    image_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, data in {**make_images(), **fixture_photos()}.items():
        (image_dir / name).write_bytes(data)
        paths[name] = image_dir / name

    processor = clip_processor(CHECK_SIZE)
    index = []
    total = 0
    for name, path in paths.items():
        tensors, mode = tensors_for(path, processor)
        stem = name.rsplit(".", 1)[0]
        save_file(tensors, str(out / f"{stem}.safetensors"))
        total += sum(t.nbytes for t in tensors.values())
        height, width = tensors["decoded"].shape[:2]
        index.append({"name": stem, "file": f"images/{name}",
                      "format": name.rsplit(".", 1)[1], "mode": mode, "width": width, "height": height})
    meta = {"pillow": PIL.__version__, "sizes": SIZES, "check_size": CHECK_SIZE, "images": index,
            "free_resizes": FREE_RESIZES, "jpeg_variants": write_jpeg_variants(out)}
    (out / "index.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"[fixtures] preprocess: {len(index)} images, {total / 2**20:.1f} MiB, {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()

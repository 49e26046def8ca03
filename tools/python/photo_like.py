"""Photo-like test images drawn from a seed: the fixture scripts' stand-ins for real photographs.

The repository ships no photographs, yet the preprocessing and tower fixtures want what a photo
has and a test card lacks: smooth regions next to fine texture, soft and hard edges at every
angle, colour gradients, detail at many scales (fractal noise) and sensor-like noise. `scene()`
paints a landscape (sky with clouds, a sun, ridges of mountains, a lake with a blurred reflection,
grass, a few "objects") from a seed, reproducibly, in a fraction of a second per megapixel.

    python tools/python/photo_like.py OUT_DIR   # writes the two fixture photos, for a look
"""
import io
import pathlib
import sys

import numpy as np
from PIL import Image, ImageFilter


def fractal_noise(height: int, width: int, rng: np.random.Generator, octaves: int = 6, base: int = 4,
                  persistence: float = 0.55) -> np.ndarray:
    """Sum of bilinearly upsampled random grids, finest last: values roughly in [-1, 1]."""
    total = np.zeros((height, width), np.float64)
    amplitude, norm = 1.0, 0.0
    for octave in range(octaves):
        cells = base * 2**octave
        grid = rng.uniform(-1.0, 1.0, (cells + 1, cells + 1)).astype(np.float32)
        layer = Image.fromarray(grid, mode="F").resize((width, height), resample=Image.BILINEAR)
        total += amplitude * np.asarray(layer, np.float64)
        norm += amplitude
        amplitude *= persistence
    return total / norm


def ridge(width: int, rng: np.random.Generator, roughness: float) -> np.ndarray:
    """A mountain skyline by midpoint displacement: heights in [0, 1] for each column."""
    size = 1
    while size < width:
        size *= 2
    line = np.zeros(size + 1)
    line[0], line[-1] = rng.uniform(0.3, 0.7, 2)
    step, scale = size, 0.5
    while step > 1:
        half = step // 2
        mids = (line[0:-1:step] + line[step::step]) / 2 + rng.normal(0, scale, len(line[0:-1:step]))
        line[half::step] = mids
        step, scale = half, scale * roughness
    line = line[:width]
    return (line - line.min()) / max(line.max() - line.min(), 1e-9)


def scene(width: int, height: int, seed: int) -> np.ndarray:
    """A landscape photograph's stand-in: uint8 [height, width, 3]."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = x / max(width - 1, 1), y / max(height - 1, 1)
    horizon = 0.55 + rng.uniform(-0.08, 0.08)

    # Sky: a vertical gradient, clouds from thresholded fractal noise, a sun with a halo.
    sky_top, sky_low = np.array([0.18, 0.35, 0.72]), np.array([0.75, 0.83, 0.93])
    image = sky_top + (sky_low - sky_top) * np.clip(v / horizon, 0, 1)[..., None]
    clouds = np.clip((fractal_noise(height, width, rng, octaves=7) + 0.15) * 2.2, 0, 1) ** 1.5
    image = image * (1 - 0.85 * clouds[..., None]) + 0.97 * 0.85 * clouds[..., None]
    sun_x, sun_y = rng.uniform(0.15, 0.85), rng.uniform(0.08, 0.3)
    sun = np.hypot((u - sun_x) * width / height, v - sun_y)
    image += (np.exp(-((sun / 0.05) ** 2)) * 0.9 + np.exp(-sun / 0.12) * 0.25)[..., None] * np.array([1.0, 0.9, 0.6])

    # Two ridges of mountains, the far one hazier; rock texture from fractal noise.
    for depth, (colour, haze) in enumerate([(np.array([0.42, 0.45, 0.55]), 0.45), (np.array([0.25, 0.3, 0.22]), 0.1)]):
        top = horizon - (0.28 - 0.1 * depth) * ridge(width, rng, 0.55 + 0.05 * depth) - 0.02
        mask = (v >= top[None, :]) & (v < horizon)
        rock = fractal_noise(height, width, rng, octaves=7, base=8)
        shade = colour * (0.75 + 0.35 * rock[..., None]) * (1 - haze) + sky_low * haze
        image = np.where(mask[..., None], shade, image)
        snow = mask & (v < top[None, :] + 0.04) & (rock > 0.05)
        image = np.where(snow[..., None], np.array([0.9, 0.92, 0.95]) * (0.85 + 0.15 * rock[..., None]), image)

    # A lake: the scene above mirrored, darkened, blurred, with ripples; then a grass shore.
    lake_end = horizon + rng.uniform(0.15, 0.25)
    mirror_rows = np.clip((2 * horizon - v) * (height - 1), 0, height - 1).astype(int)
    ripples = (np.sin(v * 900 + fractal_noise(height, width, rng, octaves=4) * 6) * 0.5 + 0.5) * 0.08
    reflection = image[mirror_rows, x.astype(int)] * (0.55 + ripples[..., None]) + np.array([0.02, 0.05, 0.08])
    blurred = np.asarray(Image.fromarray(to_uint8(reflection)).filter(ImageFilter.GaussianBlur(1.5)), np.float64) / 255
    lake = (v >= horizon) & (v < lake_end)
    image = np.where(lake[..., None], blurred, image)
    grass_noise = fractal_noise(height, width, rng, octaves=8, base=16)
    grass = np.array([0.22, 0.42, 0.12]) * (0.7 + 0.5 * grass_noise[..., None]) * (0.8 + 0.3 * v[..., None])
    blades = rng.random((height, width)) < 0.04
    grass[blades] *= 1.5
    image = np.where((v >= lake_end)[..., None], grass, image)

    # A few objects with hard edges: a red-roofed hut, a post, a round bush.
    hut_x, hut_w = rng.uniform(0.1, 0.7), rng.uniform(0.1, 0.16)
    hut_base = lake_end + 0.12
    wall = (u > hut_x) & (u < hut_x + hut_w) & (v > hut_base - 0.12) & (v < hut_base)
    image = np.where(wall[..., None], np.array([0.85, 0.78, 0.62]) * (0.9 + 0.1 * grass_noise[..., None]), image)
    roof = (v <= hut_base - 0.12) & (v > hut_base - 0.12 - (hut_w / 2 - np.abs(u - hut_x - hut_w / 2)) * 0.9)
    image = np.where((roof & (u > hut_x) & (u < hut_x + hut_w))[..., None], np.array([0.7, 0.12, 0.08]), image)
    post = (np.abs(u - hut_x - hut_w - 0.08) < 0.004) & (v > lake_end + 0.02) & (v < hut_base + 0.05)
    image = np.where(post[..., None], np.array([0.3, 0.2, 0.12]), image)
    bush = np.hypot((u - hut_x + 0.07) * width / height, v - hut_base + 0.03) < 0.05 + 0.01 * grass_noise
    image = np.where(bush[..., None], np.array([0.1, 0.3, 0.08]) * (0.7 + 0.6 * grass_noise[..., None]), image)

    # A lens vignette and sensor noise.
    image *= (1 - 0.25 * (((u - 0.5) ** 2 + (v - 0.5) ** 2) / 0.5))[..., None]
    image += rng.normal(0, 0.012, image.shape)
    return to_uint8(image)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def jpeg_bytes(pixels: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def fixture_photos() -> dict:
    """The two JPEGs the fixtures use in place of real photos, shaped like LLaVA's two examples:
    a 1000x667 progressive photo and a 570x380 baseline one (4:2:0, as cameras write them)."""
    return {
        "lake_1000x667_progressive.jpg": jpeg_bytes(scene(1000, 667, 101), quality=88, subsampling=2,
                                                    progressive=True, dpi=(72, 72)),
        "valley_570x380.jpg": jpeg_bytes(scene(570, 380, 202), quality=90, subsampling=2, dpi=(96, 96)),
    }


if __name__ == "__main__":
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    for name, data in fixture_photos().items():
        (out / name).write_bytes(data)
        print(out / name)

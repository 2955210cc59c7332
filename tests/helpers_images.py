"""Generated test images of varied sizes (no downloads), in memory or as an image folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def textured_image(rng: np.random.Generator, height: int, width: int) -> Image.Image:
    """An RGB image of ``height x width`` pixels: smooth random colour blobs plus noise."""
    low = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    image = np.asarray(Image.fromarray(low).resize((width, height), Image.BILINEAR), dtype=np.int16)
    noise = rng.integers(-20, 21, (height, width, 3), dtype=np.int16)
    return Image.fromarray(np.clip(image + noise, 0, 255).astype(np.uint8))


def varied_images(n: int, lo: int = 64, hi: int = 96, seed: int = 0) -> list[Image.Image]:
    """``n`` RGB images whose height and width are drawn independently, uniformly in ``[lo, hi]``."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(lo, hi + 1, (n, 2))
    return [textured_image(rng, int(h), int(w)) for h, w in sizes]


def write_varied_image_folder(root: Path, n: int, lo: int = 64, hi: int = 96, seed: int = 0, classes: int = 2) -> Path:
    """``n`` PNGs of varied sizes under ``root/class_k/`` (the layout ``LightlyDataset`` reads); returns ``root``."""
    for i, image in enumerate(varied_images(n, lo, hi, seed)):
        folder = root / f"class_{i % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        image.save(folder / f"img_{i:04d}.png")
    return root


def write_copies(root: Path, image: Image.Image, n: int) -> Path:
    """``n`` copies of one image as PNGs under ``root/all/``; returns ``root``."""
    folder = root / "all"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        image.save(folder / f"copy_{i:04d}.png")
    return root


def coordinate_image(height: int = 192, width: int = 256) -> Image.Image:
    """Red = column and green = row (in pixels, both < 256): a crop of it shows where it came from."""
    y, x = np.mgrid[0:height, 0:width]
    return Image.fromarray(np.stack([x, y, np.zeros_like(x)], axis=-1).astype(np.uint8))

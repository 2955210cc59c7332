"""Generated test images (no downloads): deterministic random-texture RGB images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_image(seed: int, size: tuple[int, int] = (48, 64)) -> Image.Image:
    """An RGB image of ``size = (height, width)`` with smooth colour blobs, deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    low = rng.integers(0, 255, (4, 4, 3), dtype=np.uint8)
    image = Image.fromarray(low).resize((size[1], size[0]), Image.BILINEAR)
    noise = rng.integers(-20, 20, (size[0], size[1], 3))
    return Image.fromarray(np.clip(np.asarray(image, dtype=np.int64) + noise, 0, 255).astype(np.uint8))


def write_image_folder(root: Path, n: int, size: tuple[int, int] = (48, 64), classes: int = 2) -> Path:
    """``n`` PNG images under ``root/class_k/`` (an ImageFolder layout); returns ``root``."""
    for i in range(n):
        folder = root / f"class_{i % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        make_image(i, size).save(folder / f"img_{i:04d}.png")
    return root

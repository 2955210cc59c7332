"""Images for previews and measurements: the embedded defaults, or the user's files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def default_images() -> list[Image.Image]:
    """scikit-learn's two sample photographs (china.jpg, flower.jpg; 427 x 640, RGB).

    They ship inside the scikit-learn package, so no download is needed.
    """
    try:
        from sklearn.datasets import load_sample_images
    except ImportError as err:  # pragma: no cover - scikit-learn is in the demo/dev extras
        raise ImportError(
            "the default images come from scikit-learn: pip install 'jointaug-plugins[tools]' or pass image paths"
        ) from err
    return [Image.fromarray(array).convert("RGB") for array in load_sample_images().images]


def load_images(paths: Sequence[str | Path]) -> list[Image.Image]:
    """Open image files as RGB; a directory stands for every image file inside it (sorted, recursive).

    Raises:
        FileNotFoundError: a path does not exist.
        ValueError: no image was found.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"image path does not exist: {path}")
    if not files:
        raise ValueError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) found in {', '.join(map(str, paths))}")
    images = []
    for file in files:
        with Image.open(file) as image:
            images.append(image.convert("RGB"))
    return images

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


# The photographs inside scikit-image's wheel (skimage.data loads them from the package, no download): natural
# and microscope / telescope images; synthetic ones (checkerboard, logo, colour wheel, phantom, binary blobs,
# the horse silhouette) and scikit-image's `cat` (the same photo as `chelsea`) are left out.
SKIMAGE_PHOTOGRAPHS = (
    "astronaut", "brick", "camera", "chelsea", "cell", "clock", "coffee", "coins", "grass", "gravel",
    "hubble_deep_field", "immunohistochemistry", "microaneurysms", "moon", "page", "retina", "rocket", "text",
)  # fmt: skip


def shipped_photographs() -> list[tuple[str, Image.Image]]:
    """The photographs that ship inside installed packages, named: scikit-image's data module (18) and
    scikit-learn's samples (2, ``china`` and ``flower``), as RGB PIL images (grayscale ones converted).

    Raises:
        ImportError: scikit-image or scikit-learn is missing (both come with the ``tools`` extra).
    """
    try:
        import skimage.data
        from sklearn.datasets import load_sample_images
    except ImportError as err:  # pragma: no cover - both are in the tools extra
        raise ImportError(
            "the shipped photographs come from scikit-image and scikit-learn: pip install 'jointaug-plugins[tools]'"
        ) from err
    named = [(name, getattr(skimage.data, name)()) for name in SKIMAGE_PHOTOGRAPHS]
    samples = load_sample_images()
    named += [(Path(file).stem, array) for file, array in zip(samples.filenames, samples.images)]
    return [(name, Image.fromarray(array).convert("RGB")) for name, array in named]


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

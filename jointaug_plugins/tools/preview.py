"""Pictures of positive pairs: independent draws against joint draws, side by side."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.utils import make_grid

from .._checks import check_choice
from ..draw import DrawRecord
from ..transforms import JointColorJitter, JointGaussianBlur, JointRandomResizedCrop, JointViews

AUGS = ("crop", "blur", "color")
_TITLES = {"crop": "JointCrop", "blur": "JointBlur", "color": "JointColor"}


def preview_view(aug: str, size: int) -> T.Compose:
    """The single-view pipeline shown for ``aug``: only that augmentation, so its effect is visible."""
    check_choice(aug, "aug", AUGS)
    if aug == "crop":
        ops = [JointRandomResizedCrop(size)]
    elif aug == "blur":
        ops = [T.Resize(size), T.CenterCrop(size), JointGaussianBlur(sigma=(0.1, 2.0), p=1.0)]
    else:
        # SimCLR's strength-1 jitter; hue is coupled by difference.
        ops = [T.Resize(size), T.CenterCrop(size), JointColorJitter(0.8, 0.8, 0.8, 0.2)]
    return T.Compose([*ops, T.PILToTensor()])


def describe_pair(aug: str, records: Sequence[DrawRecord]) -> str:
    """A short label of what the pair drew (areas, sigmas or brightness factors)."""
    mine = [r for r in records if r.kind == aug]
    if aug == "crop":
        a, b = (r.params["area"] for r in mine[:2])
        return f"s={a:.2f}/{b:.2f}  r={max(a, b) / min(a, b):.1f}"
    if aug == "blur":
        a, b = (r.params["sigma"] for r in mine[:2])
        return f"σ={a:.2f}/{b:.2f}"
    a, b = (r.params["factors"][0] for r in mine[:2])
    return f"bright={a:.2f}/{b:.2f}"


def render_preview(
    images: Sequence[Image.Image],
    aug: str = "crop",
    beta: float = 0.0,
    pairs_per_image: int = 4,
    size: int = 128,
    seed: int = 0,
    path: str | Path = "preview.png",
) -> Path:
    """Write a PNG grid: for each image, a row of independent pairs above a row of joint pairs.

    Args:
        images: PIL images (converted to RGB).
        aug: ``"crop"``, ``"blur"`` or ``"color"``.
        beta: β of the joint row.
        pairs_per_image: Pairs per row, ``>= 1``.
        size: Side of each shown view in pixels, ``>= 8``.
        seed: Seed of both rows' draws.
        path: Output PNG file.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    check_choice(aug, "aug", AUGS)
    if not images:
        raise ValueError("images must hold at least one image")
    if pairs_per_image < 1:
        raise ValueError(f"pairs_per_image must be >= 1, got {pairs_per_image}")
    if size < 8:
        raise ValueError(f"size must be >= 8, got {size}")
    rows = [("independent", None), (f"{_TITLES[aug]}(β={beta:g})", beta)]
    fig, axes = plt.subplots(
        len(images) * len(rows),
        pairs_per_image,
        figsize=(2.6 * pairs_per_image, 1.55 * len(images) * len(rows)),
        squeeze=False,
    )
    for i, image in enumerate(images):
        image = image.convert("RGB")
        for k, (label, row_beta) in enumerate(rows):
            coordinator = JointViews([preview_view(aug, size)] * 2, **{"crop": None, aug: row_beta}, seed=seed + i)
            for j in range(pairs_per_image):
                views, records = coordinator.apply(image, records=True)
                ax = axes[i * len(rows) + k, j]
                grid = make_grid(torch.stack(views), nrow=2, padding=4, pad_value=255)
                ax.imshow(grid.permute(1, 2, 0).numpy())
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(describe_pair(aug, records), fontsize=7)
                if j == 0:
                    ax.set_ylabel(label, fontsize=8)
    fig.suptitle(f"Positive pairs: independent draws (upper row) vs {_TITLES[aug]} (lower row)", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

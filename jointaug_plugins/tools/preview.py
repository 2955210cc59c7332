"""Pictures of positive pairs: independent draws against joint draws, side by side; and where crops land under
the ``position`` option, against the default placement."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.utils import make_grid

from .._checks import check_choice
from ..draw import DrawRecord
from ..placement import Position
from ..transforms import JointColorJitter, JointGaussianBlur, JointRandomResizedCrop, JointViews
from .stats import save_figure

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
        figsize=(2.6 * pairs_per_image, 1.8 * len(images) * len(rows)),
        squeeze=False,
    )
    for i, image in enumerate(images):
        image = image.convert("RGB")
        for k, (label, row_beta) in enumerate(rows):
            kinds: dict[str, Any] = {"crop": None, aug: row_beta}  # the kind previewed, and no other
            coordinator = JointViews([preview_view(aug, size)] * 2, **kinds, seed=seed + i)
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
    return save_figure(fig, path)


_POSITION_EXAMPLE = "alpha=0.6,box=0.1:0.1:0.9:0.9,correlation=0.5 or a JSON dict"


def _scalar(text: str) -> Any:
    if text.lower() in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text  # a word (boxes=semantic); Position.parse says whether the key takes one


def position_from_text(text: str, name: str = "--position") -> Position:
    """The ``position`` option from a command line: ``key=value`` items joined by commas, a box's four numbers
    joined by colons (``alpha=0.6,box=0.1:0.1:0.9:0.9,correlation=0.5``), or a JSON dict.

    Raises:
        ValueError, TypeError: malformed text, or :meth:`Position.parse`'s own error naming the key and its range;
            semantic boxes (they come from a trained model, per dataset image, so a preview cannot draw them).
    """
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{name}: not a JSON dict ({err.msg}): {text!r}") from None
    else:
        value = {}
        for item in (part.strip() for part in text.split(",")):
            key, equals, raw = (piece.strip() for piece in item.partition("="))
            if not equals or not key:
                raise ValueError(f"{name}: {item!r} is not key=value; write e.g. {_POSITION_EXAMPLE}")
            if key in value:
                raise ValueError(f"{name}: key {key!r} is given twice")
            value[key] = tuple(_scalar(x.strip()) for x in raw.split(":")) if ":" in raw else _scalar(raw)
    position = Position.parse(value, name)
    if position is None:
        raise ValueError(f"{name} must describe a placement, e.g. {_POSITION_EXAMPLE}")
    if position.semantic:
        raise ValueError(
            f"{name}: boxes='semantic' are set per image from a trained model during training; a preview shows a "
            "fixed box (box=h0:w0:h1:w1)"
        )
    return position


def middle_share(boxes: torch.Tensor, height: int, width: int) -> float:
    """The fraction of crop centres (``boxes``: ``(..., 4)`` top, left, height, width) in the image's middle
    ninth (its central third along both axes): lower under ContrastiveCrop's centre suppression."""
    b = boxes.reshape(-1, 4).double()
    cy, cx = b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2
    inside = (cy >= height / 3) & (cy < 2 * height / 3) & (cx >= width / 3) & (cx < 2 * width / 3)
    return float(inside.double().mean())


def render_placement(
    images: Sequence[Image.Image],
    position: Position | dict[str, Any],
    beta: float | None = 0.0,
    pairs_per_image: int = 4,
    n: int = 2000,
    seed: int = 0,
    path: str | Path = "placement.png",
) -> Path:
    """Write a PNG: per image, where crops land by default (left) and under ``position`` (right).

    Each panel shows a heat map of the centres of ``n`` pairs' crops over the image (the same colour scale in
    both panels of a row), and outlines of the first ``pairs_per_image`` pairs (a pair's two views in one colour,
    the second dashed, a line joining their centres). Both panels draw from the same seed, so the outlined pairs
    have the same sizes and only the placement differs.

    Args:
        images: PIL images.
        position: The ``position`` option (fixed boxes only; :func:`position_from_text` parses a command line).
        beta: JointCrop's β for the areas (``None``: independent areas).
        pairs_per_image: Outlined pairs per panel, an int in [0, 10].
        n: Pairs drawn for the heat map, an int ``>= 1``.
        seed: Seed of the draws.
        path: Output PNG file.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from .distance import center_distances, draw_pair_boxes

    position = Position.parse(position)
    if position is None:
        raise ValueError("position must describe a placement, e.g. dict(alpha=0.6)")
    if not images:
        raise ValueError("images must hold at least one image")
    if not 0 <= pairs_per_image <= 10:
        raise ValueError(f"pairs_per_image must be in [0, 10] (outlines stay readable), got {pairs_per_image}")
    panels = [("default placement (position=None)", None), (f"position: {position.describe()}", position)]
    fig, axes = plt.subplots(len(images), 2, figsize=(10, 4.0 * len(images)), squeeze=False)
    colors = plt.cm.tab10(np.arange(10))
    for i, image in enumerate(images):
        image = image.convert("RGB")
        height, width = image.height, image.width
        boxes = [draw_pair_boxes(height, width, n, crop_beta=beta, position=p, seed=seed + i) for _, p in panels]
        bins = (24, max(1, round(24 * width / height)))
        heats = []
        for b in boxes:
            centres = (b[..., :2] + b[..., 2:] / 2).reshape(-1, 2).double().numpy()
            heats.append(np.histogram2d(centres[:, 0], centres[:, 1], bins=bins, range=[[0, height], [0, width]])[0])
        # A few bins (the image's centre, where crops as large as the image all land) would dwarf the rest.
        top = max(float(np.quantile(np.concatenate([h[h > 0] for h in heats]), 0.98)), 1.0)
        for (label, _), b, heat, ax in zip(panels, boxes, heats, axes[i]):
            ax.imshow((np.asarray(image) * 0.7).astype(np.uint8))  # dimmed, so the heat map and outlines show
            ax.imshow(heat, extent=(0, width, height, 0), cmap="inferno", alpha=0.55, vmin=0, vmax=top)
            for k in range(min(pairs_per_image, n)):
                ends = []
                for v in range(2):
                    t, left, h, w = (float(x) for x in b[k, v])
                    style = "-" if v == 0 else "--"
                    ax.add_patch(Rectangle((left, t), w, h, fill=False, ec=colors[k], lw=1.4, ls=style))
                    ends.append((left + w / 2, t + h / 2))
                ax.plot(*zip(*ends), color=colors[k], lw=1, marker="o", ms=3)
            ax.set_xlim(0, width)
            ax.set_ylim(height, 0)
            ax.set_xticks([])
            ax.set_yticks([])
            distance = float(center_distances(b, height, width).mean())
            share = middle_share(b, height, width)
            ax.set_title(
                f"{label}\nmean pair distance {distance:.3f} diag, centres in middle ninth {share:.0%}", fontsize=8
            )
    fig.suptitle(
        f"Crop centres of {n} pairs (heat map) and {pairs_per_image} pairs outlined (second view dashed)", fontsize=10
    )
    return save_figure(fig, path)

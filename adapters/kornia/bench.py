"""``jointaug bench`` figures of the kornia adapter (hook ``jointaug_bench_suites``; kornia imported inside).

On one uint8 batch of ``BATCH`` 256 x 256 images (scikit-learn's photographs, cut and resized), on this machine's
CPU, each figure the median over rounds of the ratio of two runs interleaved in one process:

- ``batched_joint_vs_kornia``: seconds of the joint SimCLR recipe (:class:`SimCLRBatchViews`, 224 px) over kornia's
  own independent pipeline with the same ops, batch and device (goal close to 1: the joint draw costs little).
- ``batched_vs_per_image``: images/s of the batched recipe over the per-image path (the core's ``JointViews`` over
  torchvision's SimCLR pipeline on PIL images, one process), both making two 224-px views per image.
"""

from __future__ import annotations

import statistics
from typing import Any

from jointaug_plugins.hookspecs import hookimpl

BATCH = 32
SIZE = 224
SOURCE = 256


def photo_batch(n: int = BATCH, side: int = SOURCE):
    """``n`` uint8 ``(3, side, side)`` crops of scikit-learn's photographs as a batch, and the same as PIL images."""
    import numpy as np
    import torch
    from PIL import Image

    from jointaug_plugins.tools.images import default_images

    photos = default_images()
    pils = []
    for i in range(n):
        photo = photos[i % len(photos)]
        left, top = (i * 11) % (photo.width - 300), (i * 7) % (photo.height - 300)
        pils.append(photo.crop((left, top, left + 300, top + 300)).resize((side, side), Image.BILINEAR))
    batch = torch.from_numpy(np.stack([np.asarray(p) for p in pils])).permute(0, 3, 1, 2).contiguous()
    return batch, pils


def per_image_simclr(size: int = SIZE):
    """The per-image path: torchvision's SimCLR view pipeline (lightly's defaults) made joint by the core."""
    from torchvision.transforms import v2 as T

    from jointaug_plugins import jointify

    def view():
        return T.Compose([
            T.RandomResizedCrop(size, scale=(0.08, 1.0)), T.RandomHorizontalFlip(),
            T.RandomApply([T.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8), T.RandomGrayscale(0.2),
            T.RandomApply([T.GaussianBlur(23, (0.1, 2.0))], p=0.5), T.PILToTensor(),
        ])  # fmt: skip

    return jointify([view(), view()], crop=0.0, seed=0)


def _median_ratio(times: list[list[float]]) -> float:
    return statistics.median(a / b for a, b in zip(*times))


def kornia_figures(rounds: int, bar: Any = None, device: str = "cpu") -> dict[str, Any]:
    """The figures of the module docstring as a flat dict (``device``: where the batched runs go)."""
    import torch

    from jointaug_plugins.tools.bench import interleaved_rounds

    from .recipes import SimCLRBatchViews

    batch, pils = photo_batch()
    batch = batch.to(device)
    joint = SimCLRBatchViews(SIZE, seed=0).to(device)
    own = [view for view in joint.augmentations]  # kornia's own pipelines: the same ops, independent draws
    per_image = per_image_simclr()

    def run_joint() -> None:
        joint(batch)
        if device != "cpu":
            torch.cuda.synchronize()

    def run_own() -> None:
        x = batch.float() / 255
        for view in own:
            view(x)
        if device != "cpu":
            torch.cuda.synchronize()

    def run_per_image() -> None:
        for image in pils:
            per_image(image)

    joint_s, own_s = interleaved_rounds([run_joint, run_own], rounds, bar)
    batched_s, single_s = interleaved_rounds([run_joint, run_per_image], rounds, bar)
    return {
        "batched_joint_vs_kornia": _median_ratio([joint_s, own_s]),
        "batched_vs_per_image": _median_ratio([single_s, batched_s]),
        "batched_images_per_s": BATCH / statistics.median(batched_s),
        "kornia_own_images_per_s": BATCH / statistics.median(own_s),
        "per_image_images_per_s": BATCH / statistics.median(single_s),
    }


@hookimpl
def jointaug_bench_suites() -> dict[str, Any]:
    """``{"kornia": run}`` where kornia is installed, else ``{}``."""
    import importlib.util

    if importlib.util.find_spec("kornia") is None:
        return {}
    return {"kornia": kornia_figures}

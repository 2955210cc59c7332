"""solo-learn's view layout: per-dataset normalisation and the views per augmentation entry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .options import get

_IMAGENET_STATS = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
# Per-dataset normalisation solo-learn applies; other datasets use the entry's mean/std.
_DATASET_STATS = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "stl10": ((0.4914, 0.4823, 0.4466), (0.247, 0.243, 0.261)),
    "imagenet100": _IMAGENET_STATS,
    "imagenet": _IMAGENET_STATS,
}


def dataset_stats(dataset: str | None, aug_cfg: Any) -> tuple[Any, Any]:
    """The ``(mean, std)`` solo normalises an entry's views with: per dataset, else the entry's own."""
    return _DATASET_STATS.get(
        dataset or "", (get(aug_cfg, "mean", _IMAGENET_STATS[0]), get(aug_cfg, "std", _IMAGENET_STATS[1]))
    )


def layout_of(augmentations: Sequence[Any]) -> list[int]:
    """solo's view layout: ``num_crops`` per augmentation entry, in order (views are flattened entry by entry).

    ``[2]`` for a symmetric recipe (SimCLR), ``[1, 1]`` for BYOL's two entries, ``[2, 6]`` for multi-crop; the
    joint pairs are :meth:`JointOptions.pairs_for(layout) <jointaug_plugins.JointOptions.pairs_for>`, the one
    default policy of every entry point.
    """
    return [int(get(aug, "num_crops", 1)) for aug in augmentations]

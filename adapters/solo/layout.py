"""solo-learn's view layout: per-dataset normalisation and which of its flattened views pair."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...transforms.multicrop import multicrop_pairs
from ...transforms.views import consecutive_pairs
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
        dataset, (get(aug_cfg, "mean", _IMAGENET_STATS[0]), get(aug_cfg, "std", _IMAGENET_STATS[1]))
    )


def view_pairs(num_crops: Sequence[int], multicrop: str | None) -> list[tuple[int, int]]:
    """Joint pairs for solo's flattened views (entry 1's crops, then entry 2's ...).

    Without ``multicrop`` views pair consecutively: one entry with ``num_crops: 2`` gives (0, 1), two
    entries with one crop each give (0, 1) across the entries. With ``multicrop`` the first entry holds
    the global crops and the second the local ones.
    """
    if multicrop is None:
        return consecutive_pairs(sum(num_crops))
    if len(num_crops) != 2:
        raise ValueError(
            f"jointaug.multicrop: {multicrop} needs two augmentation entries, global then local; "
            f"got {len(num_crops)} entries"
        )
    return multicrop_pairs(num_crops[0], num_crops[1], multicrop)

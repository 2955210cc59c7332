"""Run a ``jointaug verify`` target's views on the probe image and read each view's crop area back.

:func:`as_views` finds the list of views in what a library's multi-view transform returns; :func:`measure` runs the
views ``n`` times (in forked DataLoader workers where it can) and reads, per view, the crop's area from the cycles
of the probe it shows, and whether the view could be read at all (:mod:`jointaug_plugins.tools.verify_probe`). The
statistics on those areas are :mod:`jointaug_plugins.tools.verify_stats`'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from ..indexed import sample_index
from .verify_probe import (
    ProbeDesign,
    band_consistency,
    band_profiles,
    coordinate_image,
    estimate_cycles,
    profiles,
)

__all__ = ["MIN_BAND_CONSISTENCY", "as_views", "measure"]

MIN_BAND_CONSISTENCY = 0.9  # views whose bands disagree more (verify_probe.band_consistency) are not read

# (view count, per measured view: x profile, y profile, x bands, y bands)
Run = tuple[int, list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]]


def as_views(output: Any) -> list[Any]:
    """The list of views in what a multi-view transform returned: a list, tuple or batch tensor, an mm results
    dict with ``inputs`` / ``img``, or a DINO recipe's dict (DINO, DINOv2, DINOv3 and their drop-ins): its
    ``global_crops`` then its ``local_crops``, the order of the recipe's views (teacher and gram-teacher copies
    are not views of their own)."""
    if isinstance(output, dict):
        for key in ("inputs", "img", "views"):
            if key in output:
                return as_views(output[key])
        if "global_crops" in output:
            return [*as_views(output["global_crops"]), *as_views(output.get("local_crops", []))]
        raise ValueError(
            f"the transform returned a dict without inputs/img/views/global_crops: keys {sorted(map(str, output))}"
        )
    if isinstance(output, torch.Tensor) and output.ndim == 4:
        return list(output)
    if isinstance(output, (list, tuple)):
        return [v["img"] if isinstance(v, dict) else v for v in output]
    raise ValueError(f"the transform returned a {type(output).__name__}, not a list of views")


class _Runs(torch.utils.data.Dataset):
    """Run ``i`` of the views on the probe image -> ``(view count, [(x profile, y profile, x bands, y bands) of
    each measured view])``."""

    def __init__(self, views: Callable[[Any], Any], image: Any, n: int, measured: list[int]) -> None:
        self.views, self.image, self.n, self.measured = views, image, n, measured

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> Run:
        # Run i stands for dataset image i: views with reproducible=True key their draw on it.
        with sample_index(index):
            views = as_views(self.views(self.image))
        return len(views), [(*profiles(views[v]), *band_profiles(views[v])) for v in self.measured]


def _identity(item: Any) -> Any:
    return item


def _seed_worker(worker_id: int) -> None:
    # torch seeds its own and Python's generator per worker; numpy's (mmcv's transforms draw from it) is not.
    np.random.seed(torch.initial_seed() % 2**32)


def _runs(dataset: _Runs, workers: int) -> Iterable[Run]:
    if workers <= 0 or "fork" not in torch.multiprocessing.get_all_start_methods():
        return (dataset[i] for i in range(len(dataset)))
    # fork: the target is inherited, never pickled (it may hold lambdas, temp files, registries).
    return torch.utils.data.DataLoader(
        dataset, batch_size=None, num_workers=workers, collate_fn=_identity, worker_init_fn=_seed_worker,
        multiprocessing_context="fork",
    )  # fmt: skip


def measure(
    views: Callable[[Any], Any],
    design: ProbeDesign,
    n: int,
    n_views: int,
    measured: list[int],
    progress: Callable[..., Iterable[Run]] | None,
    workers: int,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Run ``views`` (image -> views) ``n`` times on the probe image of ``design`` and read the views back.

    Args:
        views: The target's ``image -> views``.
        design: The probe (:func:`jointaug_plugins.tools.verify_probe.design_probe`).
        n: Runs, ``>= 1``; run ``i`` stands for dataset image ``i`` (:func:`jointaug_plugins.sample_index`).
        n_views: Views each run must return, ``>= 1``.
        measured: Indices (in ``[0, n_views)``) of the views to read.
        progress: A ``tqdm``-like wrapper of the run loop, or ``None``.
        workers: Forked processes running the views, ``>= 0`` (``0``, or no fork: this process).

    Returns:
        ``(areas, readable, unread)``: crop areas as fractions of the image and whether each view was read, each
        ``(n, n_views)`` (views not in ``measured``: area 1, readable); per reason a view was not read, how many
        views of each index.

    Raises:
        ValueError: A run returned another number of views.
    """
    signals: dict[tuple[int, int], list[np.ndarray]] = {(v, axis): [] for v in measured for axis in (0, 1)}
    bands: dict[tuple[int, int], list[np.ndarray]] = {(v, axis): [] for v in measured for axis in (0, 1)}
    iterator = _runs(_Runs(views, coordinate_image(design), n, measured), workers)
    if progress is not None:
        iterator = progress(iterator, total=n, desc="verify", unit="img", leave=False)
    for count, read in iterator:
        if count != n_views:
            raise ValueError(f"the transform returned {count} views, earlier {n_views}")
        for v, (x, y, x_bands, y_bands) in zip(measured, read):
            for axis, (profile, band) in enumerate(((x, x_bands), (y, y_bands))):
                signals[(v, axis)].append(np.asarray(profile))
                bands[(v, axis)].append(np.asarray(band))
    areas = np.ones((n, n_views))
    fits = np.ones((n, n_views), dtype=bool)
    agree = np.ones((n, n_views), dtype=bool)
    for (v, axis), rows in signals.items():
        k, r2 = estimate_cycles(np.stack(rows), design)
        areas[:, v] *= k / design.cycles
        fits[:, v] &= r2 >= 0.15 + 10.0 / len(rows[0])
        agree[:, v] &= band_consistency(k, np.stack(bands[(v, axis)]), design) >= MIN_BAND_CONSISTENCY
    unread = {
        "showed no probe signal": (~fits).sum(axis=0),
        "showed a rotated, sheared, shifted or partly erased probe": (fits & ~agree).sum(axis=0),
    }
    return areas, fits & agree, unread

"""Checks that the views a trainer built carry the ``position`` option (shared by the config tests).

Two kinds of evidence, both read from the trainer's own :class:`~jointaug_plugins.JointViews`:

* the draws it made while training (caught by :func:`record_draws`: the real ``draw`` runs, its results are kept)
  and the crop boxes it cut from them (its ``draw_sink`` records): every crop slice holds the box, and every cut
  box is the one :func:`~jointaug_plugins.boxes.crop_box` gives for that slice;
* many fresh draws of the same object: the placement fractions follow ``Beta(alpha, alpha)`` (KS per axis, and
  far from uniform), and the crop-area ratio of the pair follows JC(0) or, with ``crop=None``, independent areas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from scipy import stats

from jointaug_plugins import JointSpec
from jointaug_plugins.boxes import crop_box, crop_boxes_batch
from jointaug_plugins.draw import CropDraw, ImageDraw
from jointaug_plugins.sampling import independent_ratio_sf, joint_ratio_sf

WHOLE = (0.0, 0.0, 1.0, 1.0)
N_FRESH = 3000  # fresh draws per statistical check
SIZE = (96, 128)  # image size the fresh draws are cut for (height, width)


def record_draws(views: Any) -> tuple[list[ImageDraw], list[list]]:
    """Keep every draw ``views`` makes from now on, and the records of what its views cut from them.

    The instance's ``draw`` is wrapped (the real method runs; ``apply`` looks it up on the instance), and its
    ``draw_sink`` collects the records. Only draws made in this process are seen: train with ``num_workers=0``.
    """
    draws: list[ImageDraw] = []
    records: list[list] = []
    real = views.draw

    def draw(*args: Any, **kwargs: Any) -> ImageDraw:
        made = real(*args, **kwargs)
        draws.append(made)
        return made

    views.draw = draw
    views.draw_sink = records.append
    return draws, records


def crop_slices(views: Any, draw: ImageDraw) -> list[tuple[Any, CropDraw]]:
    """Per view, ``(the view's joint crop transform, its crop slice in draw)``."""
    out = []
    for slots, view in zip(views.slots, draw.views):
        (index,) = [i for i, t in enumerate(slots) if t.kind == "crop"]
        out.append((slots[index], view.slices[index]))
    return out


def check_position_option(views: Any, alpha: float) -> None:
    """The views' options hold ContrastiveCrop's placement with ``alpha`` in the whole image."""
    position = views.options.position
    assert position is not None and position.alpha == alpha, views.options
    assert position.box is None and not position.semantic and not position.coupled


def check_trained_draws(
    views: Any,
    draws: list[ImageDraw],
    records: list[list],
    joint: bool,
    size: tuple[int, int],
    box: Callable[[ImageDraw], Any] = lambda draw: WHOLE,
) -> None:
    """The draws made in training: each view's crop slice places in ``box(draw)`` (default the whole image,
    ``(0, 0, 1, 1)``), is (or, ``joint=False``, is not) drawn jointly in pair 0, and the box each view was cut with
    is the one the slice gives for an image of ``size = (height, width)``."""
    assert draws and len(draws) == len(records), (len(draws), len(records))
    for draw, made in zip(draws, records):
        cut = [r for r in made if r.kind == "crop"]
        assert len(cut) == len(draw.views)
        for (crop, part), record in zip(crop_slices(views, draw), cut):
            assert part.box == box(draw) and part.pair == 0 and bool(part.joint) is joint, (part, box(draw))
            (top, left, height, width), _ = crop_box(part, size[0], size[1], crop.ratio)
            p = record.params
            assert (p["top"], p["left"], p["height"], p["width"]) == (top, left, height, width)
            assert record.joint is joint


def check_fresh_draws(views: Any, alpha: float, joint: bool) -> dict[str, float]:
    """``N_FRESH`` draws of ``views``: per view and axis the placement fractions follow ``Beta(alpha, alpha)``
    (KS p > 0.001) and not the uniform of torchvision's placement (p < 1e-6, where ``alpha != 1``); the pair's
    crop-area ratio ``P(a2/a1 > 2)`` is JC(0)'s (``joint``) or that of independent areas, within 0.03.

    Returns the figures (KS p-values, the ratio probability and its expected value)."""
    draw = views.draw_batch(N_FRESH, torch.Generator().manual_seed(0))
    figures: dict[str, float] = {}
    areas = []
    for view, (crop, part) in enumerate(crop_slices(views, draw)):
        assert part.box == WHOLE, part.box
        for axis in ("top", "left"):
            fractions = getattr(part, axis).double().numpy()
            figures[f"ks_beta_{axis}{view}"] = p = stats.kstest(fractions, stats.beta(alpha, alpha).cdf).pvalue
            assert p > 1e-3, (axis, view, p)
            if alpha != 1.0:
                assert stats.kstest(fractions, "uniform").pvalue < 1e-6
        boxes, _ = crop_boxes_batch(part, SIZE[0], SIZE[1], crop.ratio)
        areas.append((boxes[:, 2] * boxes[:, 3]).double().numpy())
    lo, hi = crop_slices(views, draw)[0][0].scale
    expected = joint_ratio_sf(2, lo, hi, JointSpec(0.0)) if joint else independent_ratio_sf(2, lo, hi)
    figures["p_ratio_gt_2"] = measured = float(np.mean(areas[1] / areas[0] > 2))
    figures["expected"] = expected
    assert abs(measured - expected) < 0.03, figures
    return figures

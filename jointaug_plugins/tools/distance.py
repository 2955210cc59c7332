"""``jointaug stats --distance``: how the ``position`` option's distance knob moves the two crop centres.

The knob (``position=dict(correlation=ρ)``, :mod:`jointaug_plugins.placement`) couples the two views' placement
uniforms by a Gaussian copula; its documented property is that the mean distance between the two crop centres
falls monotonically as ρ rises, with independent placement (ρ = 0, close to torchvision's own placement) in
between. This module measures that with the batched path training uses (``JointViews.draw_batch`` and
``crop_boxes_batch``), for a sweep of ρ and the baseline ``position=None``, and checks the property.

Every condition draws from the same seed (common random numbers): the conditions then differ only by the
placement rule, so the comparison between them is much less noisy than the spread of the distances themselves.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._checks import check_int, check_range, check_real
from ..boxes import crop_boxes_batch
from ..draw import CropDraw, slice_of
from ..placement import Position
from ..transforms import JointRandomResizedCrop, JointViews
from .stats import STATS_IMAGE, save_figure

__all__ = [
    "CLOSE",
    "DEFAULT_CORRELATIONS",
    "center_distances",
    "check_knob",
    "correlation_sweep",
    "distance_summary",
    "draw_pair_boxes",
    "plot_correlation_sweep",
    "report_lines",
]

DEFAULT_CORRELATIONS = (-1.0, -0.5, 0.0, 0.5, 1.0)
#: A pair counts as "close" below this distance (a fraction of the image diagonal).
CLOSE = 0.1
# Pairs drawn per batched call: bounds the memory of one call (the uniforms are float64) and paces the bar.
_CHUNK = 50_000
BASELINE = "baseline"


def draw_pair_boxes(
    height: int,
    width: int,
    n: int,
    *,
    crop_beta: float | None = 0.0,
    position: Position | dict[str, Any] | None = None,
    scale: Sequence[float] = (0.08, 1.0),
    ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0),
    seed: int = 0,
    step: Callable[[], Any] | None = None,
) -> torch.Tensor:
    """The crop boxes of ``n`` positive pairs on a ``height`` x ``width`` image, drawn with the batched path.

    Args:
        height, width: Image size in pixels, ints ``>= 1``.
        n: Number of pairs, an int ``>= 1``.
        crop_beta: JointCrop's β for the two areas (any finite real; 0 is the published JointCrop), or ``None``
            for independent areas as torchvision draws them.
        position: The ``position`` option (``None``: torchvision's placement); semantic boxes are refused (they
            come from a trained model, per dataset image).
        scale: Crop area range as a fraction of the image area, ``0 < lo < hi <= 1``.
        ratio: Aspect-ratio range ``w/h``, ``0 < lo <= hi``.
        seed: Seed of the draws, an int ``>= 0``; the same seed gives the same uniforms whatever ``position`` is.
        step: Called once per batched chunk (a progress bar's ``update``).

    Returns:
        An ``(n, 2, 4)`` int64 tensor of ``(top, left, height, width)`` boxes, the two views of each pair.
    """
    check_int(height, "height", 1)
    check_int(width, "width", 1)
    check_int(n, "n", 1)
    check_int(seed, "seed", 0)
    position = Position.parse(position)
    if position is not None and position.semantic:
        raise ValueError(
            "position boxes='semantic' come from a trained model per dataset image; measure a fixed box instead "
            "(box=(h0, w0, h1, w1))"
        )
    # The output size plays no part in the boxes (only apply() resizes); the draw and the box function are all.
    crop = JointRandomResizedCrop(224, scale=scale, ratio=ratio)
    views = JointViews([crop, crop], crop=crop_beta, position=position)
    generator = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, n, _CHUNK):
        draw = views.draw_batch(min(_CHUNK, n - start), generator)
        crops = [slice_of(draw.views[v].slices[0], CropDraw, "the distance sweep") for v in range(2)]
        boxes = [crop_boxes_batch(c, height, width, crop.ratio)[0] for c in crops]
        out.append(torch.stack(boxes, dim=1))
        if step is not None:
            step()
    return torch.cat(out)


def center_distances(boxes: torch.Tensor, height: int, width: int) -> np.ndarray:
    """Distances between the two crop centres of each pair in ``boxes`` (``(n, 2, 4)``, as
    :func:`draw_pair_boxes` gives them), divided by the image diagonal: 0 is the same centre, 1 opposite corners."""
    boxes = boxes.double()
    centres = boxes[..., :2] + boxes[..., 2:] / 2
    return ((centres[:, 0] - centres[:, 1]).norm(dim=-1) / math.hypot(height, width)).numpy()


def distance_summary(values: np.ndarray) -> dict[str, float]:
    """Mean (and its standard error), median, 10 / 90 % quantiles and ``P(d < CLOSE)`` of normalised distances."""
    return {
        "mean": float(values.mean()),
        "sem": float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan,
        "median": float(np.median(values)),
        "p_close": float(np.mean(values < CLOSE)),
        "q10": float(np.quantile(values, 0.1)),
        "q90": float(np.quantile(values, 0.9)),
    }


def _label(rho: float) -> str:
    return f"{rho:g}"


def correlation_sweep(
    correlations: Sequence[float] = DEFAULT_CORRELATIONS,
    *,
    size: Sequence[int] = STATS_IMAGE,
    n: int = 200_000,
    alpha: float = 1.0,
    box: Sequence[float] | None = None,
    crop_beta: float | None = 0.0,
    scale: Sequence[float] = (0.08, 1.0),
    seed: int = 0,
    progress: Callable[..., Any] | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Crop-centre distances of positive pairs for each correlation ρ of the distance knob, and the baseline.

    Args:
        correlations: At least two distinct ρ in [-1, 1]; measured in ascending order.
        size: ``(height, width)`` of the image the crops are drawn on (default 375 x 500, as the other
            ``jointaug stats`` measurements).
        n: Pairs drawn per condition, an int ``>= 2``.
        alpha: ContrastiveCrop's ``Beta(alpha, alpha)`` placement, ``> 0`` (1 uniform).
        box: A fixed box ``(h0, w0, h1, w1)`` in [0, 1] the crops land in, or ``None`` for the whole image.
        crop_beta: JointCrop's β of the areas, or ``None`` for independent areas.
        scale: Crop area range, ``0 < lo < hi <= 1``.
        seed: Seed of every condition's draws (the same one: common random numbers), an int ``>= 0``.
        progress: A ``tqdm``-like bar factory, called as ``progress(total=..., desc=..., leave=False)``; its
            ``update()`` is called once per batched chunk.

    Returns:
        ``(summary, values)``: the JSON-able summary (settings, ``baseline`` and ``correlation`` per ρ label, each
        :func:`distance_summary`, then ``monotone``, ``baseline_inside`` and ``warnings`` from :func:`check_knob`),
        and the raw distances per condition (``"baseline"``, ``"-1"`` ...), for plotting.
    """
    if isinstance(size, (str, bytes)) or not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(f"size must be (height, width), two ints >= 1, got {size!r}")
    height, width = (check_int(s, "size", 1) for s in size)
    check_int(n, "n", 2)
    scale = check_range(scale, "scale", lower=0.0, upper=1.0, lower_open=True, allow_equal=False)
    # Checked as the position option checks ρ (check_real refuses None); + 0.0 turns -0.0 into 0.0, so "0" labels
    # the independent condition whichever zero the user typed.
    parsed = [Position.parse({"correlation": r}).correlation for r in correlations]
    rhos = sorted({check_real(r, "a correlation") + 0.0 for r in parsed})
    if len(rhos) < 2:
        raise ValueError(f"correlations must hold at least two distinct values in [-1, 1], got {list(correlations)}")
    placed = Position.parse({"alpha": alpha, "box": box})  # the checks, naming alpha or box, before any draw
    conditions: dict[str, Position | None] = {BASELINE: None}
    conditions.update({_label(r): dataclasses.replace(placed, correlation=r) for r in rhos})
    total = len(conditions) * math.ceil(n / _CHUNK)
    bar = None if progress is None else progress(total=total, desc="centre distances", leave=False)
    values = {}
    try:
        for label, position in conditions.items():
            step = None if bar is None else bar.update
            boxes = draw_pair_boxes(
                height, width, n, crop_beta=crop_beta, position=position, scale=scale, seed=seed, step=step
            )
            values[label] = center_distances(boxes, height, width)
    finally:
        if bar is not None:
            bar.close()
    summary: dict[str, Any] = {
        "n": n,
        "size": [height, width],
        "scale": list(scale),
        "alpha": placed.alpha,
        "box": None if placed.box is None else list(placed.box),
        "crop_beta": crop_beta,
        "seed": seed,
        "close": CLOSE,
        "unit": f"distance between the two crop centres / image diagonal ({height} x {width} image)",
        "baseline": distance_summary(values[BASELINE]),
        "correlation": {label: distance_summary(v) for label, v in values.items() if label != BASELINE},
    }
    summary.update(check_knob(summary))
    return summary, values


def check_knob(summary: dict[str, Any]) -> dict[str, Any]:
    """The knob's documented property, checked on a :func:`correlation_sweep` summary: the mean distance falls
    strictly as ρ rises, and the baseline's mean lies between the means at the lowest and highest ρ.

    Returns:
        ``{"monotone": bool, "baseline_inside": bool, "warnings": [str, ...]}`` (no warnings when both hold).
    """
    means = sorted((float(k), v["mean"]) for k, v in summary["correlation"].items())
    baseline = summary["baseline"]["mean"]
    warnings = []
    broken = [(a, b) for a, b in itertools.pairwise(means) if not a[1] > b[1]]
    for (r1, m1), (r2, m2) in broken:
        warnings.append(
            f"the mean centre distance does not fall from correlation {r1:g} ({m1:.4f}) to {r2:g} ({m2:.4f}); the "
            "knob should move it monotonically (too few pairs? raise --n)"
        )
    low, high = means[-1][1], means[0][1]
    inside = low <= baseline <= high
    if not inside:
        warnings.append(
            f"the baseline's mean centre distance {baseline:.4f} lies outside [{low:.4f}, {high:.4f}], the means "
            f"at correlation {means[-1][0]:g} and {means[0][0]:g}; a sweep from -1 to 1 should contain it"
        )
    return {"monotone": not broken, "baseline_inside": inside, "warnings": warnings}


def report_lines(summary: dict[str, Any]) -> list[str]:
    """The summary as a printed table, closed by the line that says whether the means are monotone."""
    h, w = summary["size"]
    areas = "independent areas" if summary["crop_beta"] is None else f"JointCrop(β={summary['crop_beta']:g}) areas"
    where = "whole image" if summary["box"] is None else f"box {tuple(summary['box'])}"
    lines = [
        f"crop-centre distance / image diagonal: {h} x {w} image, n = {summary['n']} pairs each, {areas}, "
        f"scale {summary['scale'][0]:g}-{summary['scale'][1]:g}, alpha = {summary['alpha']:g}, {where}",
        f"{'placement':<26} {'mean':>7} {'median':>7} {'P(d<' + format(summary['close'], 'g') + ')':>9} "
        f"{'q10':>7} {'q90':>7}",
    ]
    rows = [("position=None (baseline)", summary["baseline"])]
    rows += [(f"correlation={k}", v) for k, v in sorted(summary["correlation"].items(), key=lambda kv: float(kv[0]))]
    for name, s in rows:
        lines.append(
            f"{name:<26} {s['mean']:>7.4f} {s['median']:>7.4f} {s['p_close']:>9.4f} {s['q10']:>7.4f} {s['q90']:>7.4f}"
        )
    means = ", ".join(f"{r[0].split('=')[1]}: {r[1]['mean']:.4f}" for r in rows[1:])
    verdict = "fall monotonically" if summary["monotone"] else "do NOT fall monotonically"
    inside = "inside" if summary["baseline_inside"] else "OUTSIDE"
    lines.append(
        f"means by correlation ({means}) {verdict}; baseline {summary['baseline']['mean']:.4f} {inside} their range"
    )
    return lines


def plot_correlation_sweep(summary: dict[str, Any], values: dict[str, np.ndarray], path: str | Path) -> Path:
    """PNG: the distance densities per correlation and the baseline (left), the means against ρ with the
    baseline's as a line and each mean printed (right). Returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rhos = sorted(summary["correlation"], key=float)
    colors = dict(zip(rhos, plt.cm.plasma(np.linspace(0.0, 0.85, len(rhos)))))
    fig, (ax, trend) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    top = max(float(np.quantile(v, 0.999)) for v in values.values())
    bins = np.linspace(0.0, top, 81)
    for label in rhos:
        ax.hist(values[label], bins=bins, density=True, histtype="step", color=colors[label], label=f"ρ={label}")
    ax.hist(values[BASELINE], bins=bins, density=True, histtype="step", color="black", ls="--", lw=1.6)
    ax.plot([], [], color="black", ls="--", label="position=None")
    ax.axvline(summary["close"], color="grey", lw=0.6)
    ax.set_xlabel("distance between the two crop centres / image diagonal")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    h, w = summary["size"]
    ax.set_title(f"Centre distance of positive pairs, {h} x {w} image, alpha={summary['alpha']:g}", fontsize=10)
    x = [float(r) for r in rhos]
    means = [summary["correlation"][r]["mean"] for r in rhos]
    trend.plot(x, means, "o-", color="tab:purple")
    trend.margins(x=0.08, y=0.15)  # room for the printed means
    for xi, m in zip(x, means):
        trend.annotate(f"{m:.3f}", (xi, m), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    baseline = summary["baseline"]["mean"]
    trend.axhline(baseline, color="black", ls="--", lw=1, label=f"position=None: {baseline:.3f}")
    trend.set_xlabel("correlation ρ")
    trend.set_ylabel("mean normalised distance")
    title = "means fall monotonically" if summary["monotone"] else "WARNING: means do not fall monotonically"
    if not summary["baseline_inside"]:
        title += "; WARNING: baseline outside their range"
    trend.set_title(title, fontsize=9, color="black" if "WARNING" not in title else "tab:red")
    trend.legend(fontsize=8)
    return save_figure(fig, path)

"""Monte Carlo statistics of the parameter ratio of positive pairs, and their closed forms."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._checks import check_choice, check_int, check_range
from ..boxes import sample_crop_box_pairs
from ..sampling import half_width, independent_ratio_pdf, independent_ratio_sf, joint_ratio_sf, sample_pairs
from ..spec import JointSpec

AUGS = ("crop", "blur", "color")
# The default range per augmentation: crop area fraction, blur sigma, brightness factor (SimCLR's 0.8).
DEFAULT_RANGES = {"crop": (0.08, 1.0), "blur": (0.1, 2.0), "color": (0.2, 1.8)}
# The crop statistics use boxes drawn on an image of this size (ImageNet's typical 500 x 375).
STATS_IMAGE = (375, 500)


def draw_ratios(
    aug: str = "crop",
    beta: float | None = 0.0,
    lo: float | None = None,
    hi: float | None = None,
    n: int = 100_000,
    seed: int = 0,
    margin: float = 0.1,
    sigma: float | None = None,
) -> np.ndarray:
    """``n`` ratios ``r = p2/p1`` of drawn pairs; ``beta=None`` is the independent baseline.

    For ``crop`` the parameters are the drawn crop-area fractions of boxes on a 500 x 375 image (the
    areas torchvision's attempt loop settles on); for ``blur`` and ``color`` the sigma and brightness
    factor of :func:`~jointaug_plugins.sample_pairs`.
    """
    check_choice(aug, "aug", AUGS)
    _check_n(n)
    lo, hi = _range(aug, lo, hi)
    generator = torch.Generator().manual_seed(seed)
    spec = None if beta is None else JointSpec(beta=beta, margin=margin, sigma=sigma)
    if aug == "crop":
        _, pairs = sample_crop_box_pairs(
            *STATS_IMAGE, n, scale=(lo, hi), spec=spec, generator=generator, return_areas=True
        )
    else:
        pairs = sample_pairs(lo, hi, beta, n, margin=margin, sigma=sigma, generator=generator)
    return (pairs[:, 1] / pairs[:, 0]).numpy()


def _range(aug: str, lo: float | None, hi: float | None) -> tuple[float, float]:
    default = DEFAULT_RANGES[aug]
    lo, hi = (default[0] if lo is None else lo, default[1] if hi is None else hi)
    name = "scale" if aug == "crop" else "range"
    upper = 1.0 if aug == "crop" else math.inf
    return check_range((lo, hi), name, lower=0.0, upper=upper, lower_open=True, allow_equal=False)


def _check_n(n: int) -> int:
    return check_int(n, "n", 1)


def summarize(ratios: np.ndarray) -> dict[str, float]:
    """P(r > 2), P(r < 1/2), and the mean and quantiles of ``|ln r|``."""
    log_r = np.abs(np.log(ratios))
    return {
        "p_ratio_gt_2": float(np.mean(ratios > 2)),
        "p_ratio_lt_half": float(np.mean(ratios < 0.5)),
        "mean_abs_log_ratio": float(log_r.mean()),
        "median_abs_log_ratio": float(np.median(log_r)),
        "q90_abs_log_ratio": float(np.quantile(log_r, 0.9)),
    }


def ratio_stats(
    aug: str = "crop",
    beta: float = 0.0,
    lo: float | None = None,
    hi: float | None = None,
    n: int = 100_000,
    seed: int = 0,
    margin: float = 0.1,
    sigma: float | None = None,
) -> dict[str, Any]:
    """Independent baseline against JointX(β): Monte Carlo summaries and the closed forms.

    Args:
        aug: ``"crop"`` (area fraction), ``"blur"`` (sigma) or ``"color"`` (brightness factor).
        beta: β of the joint draws, any finite real.
        lo, hi: The parameter range (defaults: crop 0.08–1.0, blur 0.1–2.0, colour 0.2–1.8).
        n: Pairs drawn for each of the two, ``>= 1``.
        seed: Seed of the draws.
        margin, sigma: As for :class:`~jointaug_plugins.JointSpec`.

    Returns:
        A JSON-able dict: ``aug, n, beta, scale, independent, joint, analytic``. The analytic joint
        value ``P(t > ln 2)`` is exact for every β; the crop's Monte Carlo values also include the
        effect of torchvision's attempt loop, which they match closely.
    """
    check_choice(aug, "aug", AUGS)
    _check_n(n)
    lo, hi = _range(aug, lo, hi)
    spec = JointSpec(beta=beta, margin=margin, sigma=sigma)
    half_width(lo, hi, "ratio", margin, name="scale" if aug == "crop" else "range")
    independent = draw_ratios(aug, None, lo, hi, n, seed)
    joint = draw_ratios(aug, beta, lo, hi, n, seed + 1, margin, sigma)
    return {
        "aug": aug,
        "n": n,
        "beta": beta,
        "scale": [lo, hi],
        "margin": margin,
        "independent": summarize(independent),
        "joint": summarize(joint),
        "analytic": {
            "independent_p_ratio_gt_2": independent_ratio_sf(2.0, lo, hi) if hi / lo > 2 else 0.0,
            "joint_p_ratio_gt_2": joint_ratio_sf(2.0, lo, hi, spec) if hi / lo > 2 else 0.0,
        },
    }


def plot_ratio_density(
    aug: str = "crop",
    beta: float = 0.0,
    lo: float | None = None,
    hi: float | None = None,
    n: int = 100_000,
    seed: int = 0,
    path: str | Path = "ratio_density.png",
    margin: float = 0.1,
    sigma: float | None = None,
) -> Path:
    """PNG of the densities of ``r = p2/p1`` (log axis): independent and joint Monte Carlo histograms,
    and the closed-form independent density."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    check_choice(aug, "aug", AUGS)
    lo, hi = _range(aug, lo, hi)
    independent = draw_ratios(aug, None, lo, hi, n, seed)
    joint = draw_ratios(aug, beta, lo, hi, n, seed + 1, margin, sigma)
    edges = np.geomspace(lo / hi, hi / lo, 121)
    widths = np.diff(edges)
    centers = np.sqrt(edges[:-1] * edges[1:])
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label, ratios, color in (
        ("independent (Monte Carlo)", independent, "tab:blue"),
        (f"joint β={beta:g} (Monte Carlo)", joint, "tab:red"),
    ):
        counts, _ = np.histogram(ratios, bins=edges)
        ax.step(centers, counts / (len(ratios) * widths), where="mid", color=color, label=label)
    fine = np.geomspace(lo / hi, hi / lo, 600)
    ax.plot(fine, independent_ratio_pdf(fine, lo, hi), "k--", lw=1, label="independent (closed form)")
    ax.axvline(2.0, color="grey", lw=0.6)
    ax.axvline(0.5, color="grey", lw=0.6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("r = p2 / p1")
    ax.set_ylabel("density")
    names = {"crop": "crop area fraction", "blur": "blur sigma", "color": "brightness factor"}
    ax.set_title(f"{names[aug]} ratio of positive pairs, range {lo:g}–{hi:g}")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def crop_center_distances(
    beta: float | None, n: int = 100_000, seed: int = 0, scale: tuple[float, float] = (0.08, 1.0)
) -> np.ndarray:
    """Distances between the two crop centres of ``n`` pairs on a 500 x 375 image, divided by the
    image diagonal (the paper's appendix E); ``beta=None`` is the independent baseline.

    Centres are ``(top + height / 2, left + width / 2)`` of torchvision-style boxes (scale ``scale``,
    aspect ratio 3/4-4/3); 0 means the same centre, 1 would be opposite corners.
    """
    _check_n(n)
    scale = _range("crop", *scale)
    generator = torch.Generator().manual_seed(seed)
    spec = None if beta is None else JointSpec(beta=beta)
    boxes = sample_crop_box_pairs(*STATS_IMAGE, n, scale=scale, spec=spec, generator=generator).double()
    centers = boxes[..., :2] + boxes[..., 2:] / 2
    distance = (centers[:, 0] - centers[:, 1]).norm(dim=-1)
    return (distance / math.hypot(*STATS_IMAGE)).numpy()


DISTANCE_BETAS = (2.0, 1.0, 0.0, -1.0, -2.0)
DISTANCE_QUANTILES = (0.1, 0.25, 0.75, 0.9)


def distance_summary(values: np.ndarray) -> dict[str, float]:
    """Mean, median and the 10/25/75/90 % quantiles (``q10`` ...) of normalised centre distances."""
    out = {"mean": float(values.mean()), "median": float(np.median(values))}
    for q in DISTANCE_QUANTILES:
        out[f"q{round(q * 100)}"] = float(np.quantile(values, q))
    return out


def distance_stats(
    betas: Sequence[float] = DISTANCE_BETAS,
    n: int = 100_000,
    seed: int = 0,
    scale: tuple[float, float] = (0.08, 1.0),
    progress: Callable[..., Any] | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Crop-centre distances of the independent baseline and JointCrop(β) for each β.

    Returns:
        ``(summary, values)``: the JSON-able summary ``{"n", "scale", "unit", "independent": {mean,
        median, q10, q25, q75, q90}, "beta": {"2": {...}, ...}}`` and the raw distances per condition
        (``"independent"``, ``"2"`` ...), for plotting.
    """
    runs: dict[str, float | None] = {"independent": None, **{f"{JointSpec(beta=b).beta:g}": b for b in betas}}
    items = runs.items() if progress is None else progress(runs.items(), desc="centre distances", leave=False)
    values = {label: crop_center_distances(beta, n=n, seed=seed, scale=scale) for label, beta in items}
    summary = {
        "n": n,
        "scale": list(scale),
        "unit": "distance between the two crop centres / image diagonal (500 x 375 image)",
        "independent": distance_summary(values["independent"]),
        "beta": {k: distance_summary(v) for k, v in values.items() if k != "independent"},
    }
    return summary, values


def plot_center_distances(
    values: dict[str, np.ndarray], path: str | Path, scale: tuple[float, float] = (0.08, 1.0)
) -> Path:
    """PNG of the densities of the normalised crop-centre distance per condition (:func:`distance_stats`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, box) = plt.subplots(1, 2, figsize=(10, 4.0), gridspec_kw={"width_ratios": [3, 2]})
    bins = np.linspace(0, 0.8, 81)
    colors = plt.cm.plasma(np.linspace(0.0, 0.85, max(len(values) - 1, 1)))
    labels = []
    for i, (label, v) in enumerate(values.items()):
        name = "independent" if label == "independent" else f"β={label}"
        color = "black" if label == "independent" else colors[i - 1]
        ax.hist(v, bins=bins, density=True, histtype="step", color=color, lw=1.8 if i == 0 else 1.2, label=name)
        labels.append(name)
    ax.set_xlabel("distance between crop centres / image diagonal")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    ax.set_title(f"Crop-centre distance of positive pairs (scale {scale[0]:g}-{scale[1]:g})", fontsize=10)
    box.boxplot(list(values.values()), showfliers=False)
    box.set_xticks(range(1, len(labels) + 1), labels, rotation=30, fontsize=8)
    box.set_ylabel("normalised distance")
    box.set_title("quartiles, 1.5 IQR whiskers", fontsize=10)
    return save_figure(fig, path)


def save_figure(fig: Any, path: str | Path) -> Path:
    """Lay ``fig`` out, write it to ``path`` as a PNG (making its folder), close it; returns the path."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

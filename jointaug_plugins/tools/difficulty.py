"""Pair difficulty as the paper measures it, at small scale: its Figs. 4 and 5 on the shipped photographs.

For every seed and every condition (torchvision's independent crops, then JointCrop(β) for each β) the
measurement trains SimSiam / ResNet-18 from scratch on the images and records its training loss
(Fig. 5: smaller β, harder pairs, higher loss). It then measures the SDF of each condition's positive pairs,
the mean cosine similarity of the two views' pooled features, under the seed's encoder trained with
independent crops, the same fixed encoder for every condition (Fig. 4: the SDF falls as β falls). Each
number is reported per seed and as the mean over seeds with a 95 % interval (Student's t); the conditions
of one seed share their initialisation, image picks and, for the joint ones, their uniforms.

With ``encoder=PATH`` nothing is trained: the SDF of each condition's pairs is measured under that
checkpoint (:func:`~jointaug_plugins.tools.encoders.load_encoder`), each seed drawing other pairs.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from .._checks import check_int
from ..spec import JointSpec
from .encoders import CROP_SCALE, Progress, load_encoder, no_progress
from .simsiam import canvas_tensor, pair_similarities, train_simsiam

DEFAULT_BETAS = (2.0, 1.0, 0.0, -1.0, -2.0)
# Default: a few minutes on 2 CPU cores. LONG: the same measurement at a GPU's scale.
# Mixed values (ints, and lr a float), read by key; Any keeps each key's own type at the use.
DEFAULT: dict[str, Any] = {"size": 32, "steps": 50, "batch_pairs": 32, "seeds": 3, "sdf_pairs": 512, "lr": 0.02}
LONG: dict[str, Any] = {"size": 64, "steps": 600, "batch_pairs": 256, "seeds": 5, "sdf_pairs": 4096, "lr": 0.05}
CURVE_POINTS = 100  # loss curves in the JSON are averaged into at most this many points


def _half_width(values: np.ndarray) -> np.ndarray:
    """The half-width of the 95 % Student-t interval of the mean over axis 0 (at least 2 values)."""
    from scipy import stats

    n = values.shape[0]
    return stats.t.ppf(0.975, n - 1) * values.std(axis=0, ddof=1) / math.sqrt(n)


def interval(values: Sequence[float]) -> dict[str, Any]:
    """``{"mean", "ci95", "per_seed"}``: the mean and the half-width of its 95 % Student-t interval (``None``
    for a single value)."""
    array = np.asarray(values, dtype=np.float64)
    half = float(_half_width(array)) if array.size > 1 else None
    return {"mean": float(array.mean()), "ci95": half, "per_seed": array.tolist()}


def _curve(losses: np.ndarray) -> dict[str, list[float]]:
    """Mean and 95 % band over seeds of ``(seeds, steps)`` losses, averaged into at most CURVE_POINTS points."""
    seeds, steps = losses.shape
    edges = np.unique(np.linspace(0, steps, min(steps, CURVE_POINTS) + 1).round().astype(int))
    binned = np.stack([losses[:, a:b].mean(axis=1) for a, b in itertools.pairwise(edges)], axis=1)
    mean = binned.mean(axis=0)
    half = _half_width(binned) if seeds > 1 else 0 * mean
    return {
        "step": ((edges[:-1] + edges[1:] - 1) / 2).tolist(),
        "mean": mean.tolist(),
        "low": (mean - half).tolist(),
        "high": (mean + half).tolist(),
    }


def _paired(per_condition: dict[str, list[float]], labels: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per β label, the seed-by-seed difference from the independent baseline (conditions of one seed share
    their initialisation and images, so these intervals are narrower than those of the levels)."""
    base = np.asarray(per_condition["independent"])
    return {k: interval((np.asarray(per_condition[k]) - base).tolist()) for k in labels}


def _strictly_ordered(values: Sequence[float], rising: bool) -> bool:
    return all((b > a) if rising else (b < a) for a, b in itertools.pairwise(values))


def measure_difficulty(
    images: Sequence[Image.Image] | None = None,
    betas: Sequence[float] = DEFAULT_BETAS,
    seeds: int = DEFAULT["seeds"],
    steps: int = DEFAULT["steps"],
    batch_pairs: int = DEFAULT["batch_pairs"],
    size: int = DEFAULT["size"],
    sdf_pairs: int = DEFAULT["sdf_pairs"],
    lr: float = DEFAULT["lr"],
    device: str = "cpu",
    encoder: str | None = None,
    progress: Progress = no_progress,
) -> dict[str, Any]:
    """Training loss (Fig. 5) and SDF (Fig. 4) of the independent baseline and JointCrop(β), over seeds.

    Args:
        images: PIL images; default the photographs that ship in scikit-image and scikit-learn (20).
        betas: The β values, each finite, at least one.
        seeds: Number of seeds (0, 1, ...), ``>= 1``; intervals need ``>= 2``, the paper's claims ``>= 3``.
        steps: SimSiam steps per seed and condition, ``>= 1``.
        batch_pairs: Pairs per step, ``>= 2``.
        size: View size in pixels, ``>= 16``; the images are squares of ``3 * size`` pixels.
        sdf_pairs: Pairs per seed and condition for the SDF, ``>= 2``.
        lr: SimSiam's learning rate, ``> 0``.
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        encoder: ``None`` (train as above) or a ResNet checkpoint path: only the SDF, under that encoder.
        progress: A tqdm-like wrapper.

    Returns:
        A JSON-able dict: ``conditions`` (``"independent"``, then ``"2"``, ``"1"`` ... per β), ``loss``
        (``curves`` per condition: steps, mean and 95 % band over seeds; ``second_half``: per condition the
        mean loss over the second half of training, per seed and as mean ± 95 % interval;
        ``second_half_minus_independent``: per β the same, paired with the baseline seed by seed), ``sdf``
        and ``sdf_minus_independent`` (likewise), ``p_area_ratio_gt_2`` (of the SDF pairs), ``ordering``
        (whether the paper's predictions hold for the means, as measured), ``settings`` and ``seconds``.
    """
    from .images import shipped_photographs

    start = time.perf_counter()
    for value, name, minimum in ((seeds, "seeds", 1), (steps, "steps", 1), (batch_pairs, "batch_pairs", 2),
                                 (size, "size", 16), (sdf_pairs, "sdf_pairs", 2)):  # fmt: skip
        check_int(value, name, minimum)
    betas = [JointSpec(beta=b).beta for b in betas]
    if not betas:
        raise ValueError("betas must hold at least one β")
    names: list[str] | None = None
    if images is None:
        names, images = map(list, zip(*shipped_photographs()))
    images = list(images)
    if not images:
        raise ValueError("images must hold at least one image")
    torch_device = torch.device(device)
    if torch_device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}, but torch sees no CUDA device here; use device='cpu'")
    canvas = canvas_tensor(images, 3 * size, torch_device)
    conditions: list[tuple[str, float | None]] = [("independent", None)] + [(f"{b:g}", b) for b in betas]
    labels = [label for label, _ in conditions]
    losses: dict[str, list[list[float]]] = {label: [] for label in labels}
    sdf: dict[str, list[float]] = {label: [] for label in labels}
    ratios: dict[str, list[np.ndarray]] = {label: [] for label in labels}
    loaded = load_encoder(encoder)[0].to(torch_device) if encoder is not None else None
    for seed in progress(range(seeds), desc="seeds"):
        reference = loaded
        if loaded is None:
            for label, beta in conditions:
                backbone, curve = train_simsiam(
                    canvas, beta, size, steps, batch_pairs, lr, seed, progress=progress,
                    description=f"seed {seed}, {label if beta is None else f'β={label}'}",
                )  # fmt: skip
                losses[label].append(curve)
                if beta is None:
                    reference = backbone  # the seed's encoder trained with independent crops
        if reference is None:  # conditions start with the independent one, whose training sets it
            raise RuntimeError("measure_difficulty: no encoder for the SDF (neither loaded nor trained)")
        for label, beta in conditions:
            sims, drawn = pair_similarities(reference, canvas, beta, size, sdf_pairs, seed=1000 + seed)
            sdf[label].append(float(sims.mean()))
            ratios[label].append(drawn)
    sdf_summary = {label: interval(sdf[label]) for label in labels}
    joint_labels = [f"{b:g}" for b in sorted(betas, reverse=True)]
    ordering = {
        "sdf_falls_as_beta_falls": _strictly_ordered([sdf_summary[k]["mean"] for k in joint_labels], rising=False),
        "sdf_every_beta_below_independent": all(
            sdf_summary[k]["mean"] < sdf_summary["independent"]["mean"] for k in joint_labels
        ),
    }
    result: dict[str, Any] = {"conditions": labels, "betas": betas}
    if loaded is None:
        half = steps // 2
        second_half = {label: interval([float(np.mean(c[half:])) for c in losses[label]]) for label in labels}
        result["loss"] = {
            "curves": {label: _curve(np.asarray(losses[label])) for label in labels},
            "second_half": second_half,
            "second_half_minus_independent": _paired({k: v["per_seed"] for k, v in second_half.items()}, joint_labels),
        }
        means = [second_half[k]["mean"] for k in joint_labels]
        ordering["loss_rises_as_beta_falls"] = _strictly_ordered(means, rising=True)
        ordering["loss_every_beta_above_independent"] = all(m > second_half["independent"]["mean"] for m in means)
    result["sdf"] = sdf_summary
    result["sdf_minus_independent"] = _paired(sdf, joint_labels)
    result["p_area_ratio_gt_2"] = {label: float(np.mean(np.concatenate(ratios[label]) > 2)) for label in labels}
    result["ordering"] = ordering
    result["settings"] = {
        "images": len(images),
        "image_names": names,
        "size": size,
        "canvas": 3 * size,
        "seeds": seeds,
        "steps": steps if loaded is None else 0,
        "batch_pairs": batch_pairs,
        "lr": lr,
        "sdf_pairs": sdf_pairs,
        "device": str(torch_device),
        "encoder": encoder or "SimSiam / ResNet-18 trained per seed and condition; SDF under the independent one",
        "view": f"crop scale {CROP_SCALE[0]}-{CROP_SCALE[1]} at {size} px + horizontal flip, no colour",
    }
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result

"""Pair difficulty: mean cosine similarity of positive pairs under an encoder (the paper's SDF).

The paper measures how hard its positive pairs are with a trained encoder: the lower the mean
cosine similarity of the two views' representations (its "statistical difficulty factor", SDF),
the harder the pairs. :func:`measure_difficulty` does the same for the independent baseline and
for JointCrop(β) at several β, with pairs made by one view recipe in which only the crop draw
differs: ``RandomResizedCrop(size, scale=(0.08, 1.0))`` + horizontal flip, no colour operations.
Every condition uses the same images, the same number of pairs and the same seed.

Encoders (``encoder=``):

* ``"torchvision:resnet18"`` (default; also ``resnet34``, ``resnet50``): no weights can be
  downloaded here, so the command trains one itself, from scratch, with SimCLR on the measured
  images (:func:`~jointaug_plugins.tools.encoders.train_simclr_encoder`): seeded, a minute on two
  CPU cores, at ``size`` 64 px.
* a path: a checkpoint of a torchvision-style ResNet (:func:`~jointaug_plugins.tools.encoders.load_encoder`).

The representation is the ResNet's pooled feature (the input of ``fc``, 512-d for ResNet-18),
taken in eval mode on ImageNet-normalised views.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torchvision.transforms import v2

from ..spec import JointSpec
from ..transforms.crop import JointRandomResizedCrop
from ..transforms.views import JointViews
from .encoders import (
    CROP_SCALE,
    IMAGENET_MEAN,
    IMAGENET_STD,
    TRAIN_SIZE,
    TRAIN_STEPS,
    TRAINABLE,
    Progress,
    check_int,
    load_encoder,
    no_progress,
    prepare_images,
    train_simclr_encoder,
)

DEFAULT_BETAS = (2.0, 1.0, 0.0, -1.0, -2.0)
DEFAULT_ENCODER = "torchvision:resnet18"


def view_recipe(size: int) -> v2.Compose:
    """The view of the measurement: joint-capable crop (scale 0.08-1.0) + flip, normalised; no colour."""
    return v2.Compose(
        [
            JointRandomResizedCrop(size, scale=CROP_SCALE, antialias=True),
            v2.RandomHorizontalFlip(),
            v2.PILToTensor(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


@torch.no_grad()
def pair_similarities(
    encoder: nn.Module,
    images: Sequence[Image.Image],
    beta: float | None,
    pairs_per_image: int,
    size: int,
    seed: int = 0,
    batch_size: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarities of ``pairs_per_image`` positive pairs per image, and their area ratios.

    Args:
        encoder: Maps ``(B, 3, size, size)`` normalised views to ``(B, D)`` features.
        images: RGB PIL images (:func:`prepare_images`).
        beta: JointCrop's β, or ``None`` for independent crops.
        pairs_per_image: ``>= 1``.
        size: View size in pixels.
        seed: Seed of the crops (joint draws) and the flips; the same for every condition.
        batch_size: Views per forward pass.

    Returns:
        ``(similarities, ratios)``: arrays of ``len(images) * pairs_per_image`` cosine similarities and
        drawn area ratios ``s2 / s1``, image by image.
    """
    recipe = view_recipe(size)
    views = JointViews([recipe, recipe], crop=beta, seed=seed)
    torch.manual_seed(seed)  # the flips draw from torch's global generator
    similarities, ratios = [], []
    for image in images:
        firsts, seconds = [], []
        for _ in range(pairs_per_image):
            (a, b), records = views.call_with_draw(image)
            firsts.append(a)
            seconds.append(b)
            areas = [r.params["area"] for r in records if r.kind == "crop"]
            ratios.append(areas[1] / areas[0])
        for start in range(0, pairs_per_image, batch_size // 2):
            chunk = slice(start, start + batch_size // 2)
            n = len(firsts[chunk])
            features = encoder(torch.stack(firsts[chunk] + seconds[chunk]))
            similarities.append(F.cosine_similarity(features[:n], features[n:], dim=1))
    return torch.cat(similarities).numpy().astype(np.float64), np.asarray(ratios)


def _encoder_from_spec(
    encoder: str | nn.Module,
    images: Sequence[Image.Image],
    size: int | None,
    train_steps: int,
    seed: int,
    progress: Progress,
) -> tuple[nn.Module, int, str, dict[str, Any] | None]:
    if isinstance(encoder, nn.Module):
        return encoder.eval(), size or 224, type(encoder).__name__, None
    if not isinstance(encoder, str):
        raise TypeError(f"encoder must be 'torchvision:<resnet>', a checkpoint path or an nn.Module, got {encoder!r}")
    if encoder.startswith("torchvision:"):
        arch = encoder.split(":", 1)[1]
        if arch not in TRAINABLE:
            raise ValueError(f"encoder: torchvision:{arch} is not supported; use one of {', '.join(TRAINABLE)}")
        size = size or TRAIN_SIZE
        model, info = train_simclr_encoder(images, arch, size, train_steps, seed=seed, progress=progress)
        described = f"{encoder}, SimCLR from scratch on the measured images: {train_steps} steps, seed {seed}"
        return model, size, described, info
    model, described = load_encoder(encoder)
    return model, size or 224, described, None


def measure_difficulty(
    images: Sequence[Image.Image] | None = None,
    encoder: str | nn.Module = DEFAULT_ENCODER,
    betas: Sequence[float] = DEFAULT_BETAS,
    pairs_per_image: int = 256,
    seed: int = 0,
    size: int | None = None,
    train_steps: int = TRAIN_STEPS,
    progress: Progress = no_progress,
) -> dict[str, Any]:
    """SDF (mean cosine similarity of positive pairs) of the independent baseline and JointCrop(β).

    Args:
        images: PIL images; default the embedded scikit-learn photographs (china, flower).
        encoder: ``"torchvision:resnet18|34|50"`` (trained here with SimCLR, see
            :func:`train_simclr_encoder`), a checkpoint path (:func:`load_encoder`), or a module.
        betas: The β values, each finite.
        pairs_per_image: Pairs per image and condition, ``>= 2``.
        seed: Seed of the encoder training and of every condition's draws (the same for all).
        size: View size in pixels, ``>= 16``; default 64 for a self-trained encoder, 224 otherwise.
        train_steps: SimCLR steps of a self-trained encoder, ``>= 0``.
        progress: A tqdm-like wrapper.

    Returns:
        A JSON-able dict: ``independent`` and ``beta`` (``{"2": sdf, ...}``), the standard error of each
        (``stderr``), the drawn ``P(s2/s1 > 2)`` of each condition (``p_area_ratio_gt_2``), whether the
        paper's predictions hold (``ordering``), and what was measured (``encoder``, ``size``, ...).
    """
    from .images import default_images

    check_int(pairs_per_image, "pairs_per_image", 2)
    check_int(seed, "seed", 0)
    if size is not None:
        check_int(size, "size", 16)
    betas = [JointSpec(beta=b).beta for b in betas]
    if not betas:
        raise ValueError("betas must hold at least one β")
    start = time.perf_counter()
    images = default_images() if images is None else list(images)
    if not images:
        raise ValueError("images must hold at least one image")
    model, size, described, training = _encoder_from_spec(encoder, images, size, train_steps, seed, progress)
    prepared = prepare_images(images, size)
    conditions: list[tuple[str, float | None]] = [("independent", None)] + [(f"{b:g}", b) for b in betas]
    sdf, stderr, p_gt2 = {}, {}, {}
    for label, beta in progress(conditions, desc="measuring pair similarity", leave=False):
        sims, ratios = pair_similarities(model, prepared, beta, pairs_per_image, size, seed)
        sdf[label] = float(sims.mean())
        stderr[label] = float(sims.std(ddof=1) / math.sqrt(len(sims)))
        p_gt2[label] = float(np.mean(ratios > 2))
    joint = {f"{b:g}": sdf[f"{b:g}"] for b in betas}
    ordered = [sdf[f"{b:g}"] for b in sorted(betas, reverse=True)]
    return {
        "independent": sdf["independent"],
        "beta": joint,
        "stderr": {"independent": stderr["independent"], "beta": {k: stderr[k] for k in joint}},
        "p_area_ratio_gt_2": {"independent": p_gt2["independent"], "beta": {k: p_gt2[k] for k in joint}},
        "ordering": {
            "sdf_falls_as_beta_falls": all(a > b for a, b in itertools.pairwise(ordered)),
            "every_beta_below_independent": all(v < sdf["independent"] for v in joint.values()),
        },
        "encoder": described,
        "training": training,
        "representation": "pooled ResNet features (input of fc), eval mode",
        "view": f"crop scale {CROP_SCALE[0]}-{CROP_SCALE[1]} at {size} px + horizontal flip, no colour",
        "size": size,
        "images": len(images),
        "pairs_per_image": pairs_per_image,
        "seed": seed,
        "seconds": round(time.perf_counter() - start, 1),
    }


def plot_difficulty(result: dict[str, Any], path: str | Path) -> Path:
    """PNG of a :func:`measure_difficulty` result: SDF against β with 95% intervals and the independent
    baseline (left), and the drawn ``P(s2/s1 > 2)`` (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(result["beta"])
    xs = [float(k) for k in labels]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.8))
    ys = [result["beta"][k] for k in labels]
    errs = [1.96 * result["stderr"]["beta"][k] for k in labels]
    left.errorbar(xs, ys, yerr=errs, fmt="o-", color="tab:red", capsize=3, label="JointCrop(β)")
    base, base_err = result["independent"], 1.96 * result["stderr"]["independent"]
    left.axhline(base, color="tab:blue", label="independent crops")
    left.axhspan(base - base_err, base + base_err, color="tab:blue", alpha=0.15)
    left.set_xlabel("β")
    left.set_ylabel("mean cosine similarity of positive pairs (SDF)")
    left.invert_xaxis()
    left.legend(fontsize=8)
    left.set_title("pair similarity (lower = harder)", fontsize=10)
    right.plot(
        xs, [result["p_area_ratio_gt_2"]["beta"][k] for k in labels], "o-", color="tab:red", label="JointCrop(β)"
    )
    right.axhline(result["p_area_ratio_gt_2"]["independent"], color="tab:blue", label="independent crops")
    right.set_xlabel("β")
    right.set_ylabel("P(s2 / s1 > 2) of the drawn areas")
    right.invert_xaxis()
    right.legend(fontsize=8)
    right.set_title("area ratio of the same pairs", fontsize=10)
    fig.suptitle(
        f"{result['images']} images x {result['pairs_per_image']} pairs per condition, {result['size']} px; "
        f"encoder: {result['encoder'].split(',')[0]}",
        fontsize=9,
    )
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

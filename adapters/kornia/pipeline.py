"""One view of an SSL recipe as a kornia pipeline, with lightly's argument names and meanings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from jointaug_plugins._checks import check_probability

IMAGENET_NORMALIZE = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def blur_kernel(size: int) -> int:
    """The fixed blur kernel a batch needs (kornia takes one per op): odd, about 10 % of the view's size as in
    SimCLR, at least 3."""
    k = max(3, int(0.1 * size))
    return k + 1 if k % 2 == 0 else k


def _pair(value: Sequence[float], name: str) -> tuple[float, float]:
    """``value`` as the ``(min, max)`` tuple kornia takes."""
    if len(value) != 2:
        raise ValueError(f"{name} must be (min, max), two numbers, got {value!r}")
    return value[0], value[1]


def recipe_view(
    size: int,
    scale: Sequence[float],
    *,
    hf_prob: float = 0.5,
    cj_prob: float = 0.8,
    cj_strength: float = 1.0,
    cj: Sequence[float] = (0.8, 0.8, 0.8, 0.2),
    gray: float = 0.2,
    blur: float = 0.5,
    sigmas: Sequence[float] = (0.1, 2.0),
    kernel_size: int | None = None,
    solarize: float = 0.0,
    normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
):
    """An ``AugmentationSequential``: random resized crop, horizontal flip, colour jitter (``cj_prob``), grayscale,
    Gaussian blur, solarize, normalise; an op whose probability is 0 is left out.

    Args:
        size: Output side in pixels, ``>= 1``.
        scale: Crop area range as a fraction of the image, ``0 < min < max <= 1``.
        hf_prob, cj_prob, gray, blur, solarize: Probabilities in [0, 1] of flip, colour jitter, grayscale, blur and
            solarize (threshold 0.5, lightly's 128 of 255).
        cj_strength, cj: Jitter strengths: brightness, contrast, saturation, hue are ``cj_strength * cj[k]``.
        sigmas: Blur sigma range, ``0 < min <= max``.
        kernel_size: Blur kernel (odd), default :func:`blur_kernel` of ``size``.
        normalize: ``{"mean": [...], "std": [...]}`` or ``None`` for no normalisation.
    """
    import kornia.augmentation as K

    for name, p in (("hf_prob", hf_prob), ("cj_prob", cj_prob), ("gray", gray), ("blur", blur), ("solarize", solarize)):
        check_probability(p, name)
    ops: list[Any] = [K.RandomResizedCrop((size, size), scale=_pair(scale, "scale"))]
    if hf_prob > 0:
        ops.append(K.RandomHorizontalFlip(p=hf_prob))
    if cj_prob > 0:
        b, c, s, h = (cj_strength * x for x in cj)
        ops.append(K.ColorJitter(b, c, s, h, p=cj_prob))
    if gray > 0:
        ops.append(K.RandomGrayscale(p=gray))
    if blur > 0:
        k = blur_kernel(size) if kernel_size is None else kernel_size
        ops.append(K.RandomGaussianBlur((k, k), _pair(sigmas, "sigmas"), p=blur))
    if solarize > 0:
        ops.append(K.RandomSolarize(0.0, 0.0, p=solarize))
    if normalize is not None:
        ops.append(K.Normalize(mean=torch.tensor(normalize["mean"]), std=torch.tensor(normalize["std"])))
    return K.AugmentationSequential(*ops)

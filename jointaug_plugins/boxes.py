"""Crop boxes for the views of one image, in torchvision's ``RandomResizedCrop`` conventions.

A box is ``(top, left, height, width)`` in pixels. For a joint pair the two crop areas come from one
joint draw (:mod:`jointaug_plugins.sampling`); each view then draws its own aspect ratio, log-uniform
in ``ratio``, keeping its area, for up to 10 attempts as torchvision does, and its own uniform
position. A view whose attempts all fail takes torchvision's fallback: the centre crop with the
aspect ratio clamped into ``ratio``.

Uniform layout of one joint pair (``JOINT_UNIFORMS`` numbers): ``[t, p1, ratio attempts of view 1
(10), ratio attempts of view 2 (10), top and left of view 1, top and left of view 2]``. The
independent baseline uses torchvision's own loop, a new area per attempt: ``INDEPENDENT_UNIFORMS``
numbers per view, ``[(area, ratio) x 10, top, left]``.
"""

from __future__ import annotations

import math

import torch

from .sampling import half_width, jc_from_uniform, jc_from_uniform_batch
from .spec import JointSpec

ATTEMPTS = 10
JOINT_UNIFORMS = 2 + 2 * ATTEMPTS + 4
INDEPENDENT_UNIFORMS = 2 * ATTEMPTS + 2

Box = tuple[int, int, int, int]


def fallback_box(height: int, width: int, ratio: tuple[float, float]) -> Box:
    """torchvision's fallback: the centre crop with the image's aspect ratio clamped into ``ratio``."""
    in_ratio = width / height
    # At least one pixel: torchvision's rounding gives an empty crop on tiny images with extreme ratios.
    if in_ratio < ratio[0]:
        w, h = width, max(1, round(width / ratio[0]))
    elif in_ratio > ratio[1]:
        w, h = max(1, round(height * ratio[1])), height
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def _fit(area: float, u_ratios, log_ratio: tuple[float, float], height: int, width: int):
    for u in u_ratios:
        aspect = math.exp(log_ratio[0] + u * (log_ratio[1] - log_ratio[0]))
        w = round(math.sqrt(area * aspect))
        h = round(math.sqrt(area / aspect))
        if 0 < w <= width and 0 < h <= height:
            return h, w
    return None


def _place(size, u_top: float, u_left: float, height: int, width: int, ratio) -> Box:
    if size is None:
        return fallback_box(height, width, ratio)
    h, w = size
    top = min(int(u_top * (height - h + 1)), height - h)
    left = min(int(u_left * (width - w + 1)), width - w)
    return top, left, h, w


def joint_boxes_from_uniforms(
    u: list[float],
    height: int,
    width: int,
    scale: tuple[float, float],
    ratio: tuple[float, float],
    spec: JointSpec,
    half: float | None = None,
) -> tuple[Box, Box, tuple[float, float]]:
    """Two boxes of a joint pair and their drawn area fractions, from ``JOINT_UNIFORMS`` uniforms."""
    lo, hi = scale
    if half is None:
        half = half_width(lo, hi, "ratio", spec.margin, name="scale")
    t = jc_from_uniform(u[0], spec.beta, half, spec.sigma)
    r = math.exp(t)
    first_lo, first_hi = max(lo, lo / r), min(hi, hi / r)
    s1 = first_lo + u[1] * (first_hi - first_lo)
    s2 = min(max(r * s1, lo), hi)
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    image_area = height * width
    fit1 = _fit(s1 * image_area, u[2 : 2 + ATTEMPTS], log_ratio, height, width)
    fit2 = _fit(s2 * image_area, u[2 + ATTEMPTS : 2 + 2 * ATTEMPTS], log_ratio, height, width)
    k = 2 + 2 * ATTEMPTS
    box1 = _place(fit1, u[k], u[k + 1], height, width, ratio)
    box2 = _place(fit2, u[k + 2], u[k + 3], height, width, ratio)
    return box1, box2, (s1, s2)


def independent_box_from_uniforms(
    u: list[float], height: int, width: int, scale: tuple[float, float], ratio: tuple[float, float]
) -> tuple[Box, float]:
    """One box as torchvision's ``RandomResizedCrop`` draws it, and its drawn area fraction (the box's
    own area fraction for the fallback), from ``INDEPENDENT_UNIFORMS`` uniforms."""
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    image_area = height * width
    size = None
    for k in range(ATTEMPTS):
        fraction = scale[0] + u[2 * k] * (scale[1] - scale[0])
        size = _fit(fraction * image_area, (u[2 * k + 1],), log_ratio, height, width)
        if size is not None:
            break
    box = _place(size, u[2 * ATTEMPTS], u[2 * ATTEMPTS + 1], height, width, ratio)
    if size is None:
        fraction = box[2] * box[3] / image_area
    return box, fraction


def _select_first_fit(area: torch.Tensor, u_ratios: torch.Tensor, log_ratio, height: int, width: int):
    """Batched attempt loop: ``area`` (...,), ``u_ratios`` (..., ATTEMPTS) -> h, w, fitted (...,)."""
    aspect = torch.exp(log_ratio[0] + u_ratios * (log_ratio[1] - log_ratio[0]))
    area = area.unsqueeze(-1)
    w = torch.round(torch.sqrt(area * aspect))
    h = torch.round(torch.sqrt(area / aspect))
    ok = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    first = ok.to(torch.uint8).argmax(dim=-1, keepdim=True)
    return h.gather(-1, first).squeeze(-1), w.gather(-1, first).squeeze(-1), ok.any(dim=-1)


def _place_batch(h, w, fitted, u_top, u_left, height: int, width: int, ratio) -> torch.Tensor:
    fb_top, fb_left, fb_h, fb_w = fallback_box(height, width, ratio)
    h = torch.where(fitted, h, torch.full_like(h, fb_h))
    w = torch.where(fitted, w, torch.full_like(w, fb_w))
    top = torch.minimum(torch.floor(u_top * (height - h + 1)), height - h)
    left = torch.minimum(torch.floor(u_left * (width - w + 1)), width - w)
    top = torch.where(fitted, top, torch.full_like(top, fb_top))
    left = torch.where(fitted, left, torch.full_like(left, fb_left))
    return torch.stack((top, left, h, w), dim=-1).to(torch.int64)


def sample_crop_box_pairs(
    height: int,
    width: int,
    n: int,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0),
    spec: JointSpec | None = None,
    generator: torch.Generator | None = None,
    return_areas: bool = False,
):
    """Draw ``n`` pairs of crop boxes on a ``height`` x ``width`` image in one vectorised call.

    Args:
        height, width: Image size in pixels, ``>= 1``.
        n: Number of pairs, ``>= 0``.
        scale: Range of the crop area as a fraction of the image area, ``0 < min < max <= 1``.
        ratio: Range of the crop aspect ratio ``w/h``, ``0 < min <= max``.
        spec: The joint options; ``None`` draws each view independently as torchvision does.
        generator: Source of randomness; ``None`` uses torch's default generator.
        return_areas: Also return the drawn area fractions ``(n, 2)`` (joint draws only; for the
            independent baseline the area of the successful attempt).

    Returns:
        An ``(n, 2, 4)`` int64 tensor of ``(top, left, height, width)`` boxes, and the areas if asked.
    """
    from ._checks import check_range

    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    for value, name in ((height, "height"), (width, "width")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    scale = check_range(scale, "scale", lower=0.0, upper=1.0, lower_open=True)
    ratio = check_range(ratio, "ratio", lower=0.0, lower_open=True)
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    image_area = float(height * width)
    if spec is None:
        u = torch.rand(n, 2, INDEPENDENT_UNIFORMS, generator=generator, dtype=torch.float64)
        attempts = u[..., : 2 * ATTEMPTS].reshape(n, 2, ATTEMPTS, 2)
        area_frac = scale[0] + attempts[..., 0] * (scale[1] - scale[0])
        aspect = torch.exp(log_ratio[0] + attempts[..., 1] * (log_ratio[1] - log_ratio[0]))
        w = torch.round(torch.sqrt(area_frac * image_area * aspect))
        h = torch.round(torch.sqrt(area_frac * image_area / aspect))
        ok = (w > 0) & (w <= width) & (h > 0) & (h <= height)
        first = ok.to(torch.uint8).argmax(dim=-1, keepdim=True)
        fitted = ok.any(dim=-1)
        _, _, fb_h, fb_w = fallback_box(height, width, ratio)
        areas = torch.where(fitted, area_frac.gather(-1, first).squeeze(-1), fb_h * fb_w / image_area)
        boxes = _place_batch(
            h.gather(-1, first).squeeze(-1),
            w.gather(-1, first).squeeze(-1),
            fitted,
            u[..., 2 * ATTEMPTS],
            u[..., 2 * ATTEMPTS + 1],
            height,
            width,
            ratio,
        )
    else:
        lo, hi = scale
        half = half_width(lo, hi, "ratio", spec.margin, name="scale")
        u = torch.rand(n, JOINT_UNIFORMS, generator=generator, dtype=torch.float64)
        t = jc_from_uniform_batch(u[:, 0], spec.beta, half, spec.sigma)
        r = torch.exp(t)
        first_lo = torch.clamp(lo / r, min=lo)
        first_hi = torch.clamp(hi / r, max=hi)
        s1 = first_lo + u[:, 1] * (first_hi - first_lo)
        areas = torch.stack((s1, (r * s1).clamp_(lo, hi)), dim=-1)
        u_ratios = u[:, 2 : 2 + 2 * ATTEMPTS].reshape(n, 2, ATTEMPTS)
        h, w, fitted = _select_first_fit(areas * image_area, u_ratios, log_ratio, height, width)
        positions = u[:, 2 + 2 * ATTEMPTS :].reshape(n, 2, 2)
        boxes = _place_batch(h, w, fitted, positions[..., 0], positions[..., 1], height, width, ratio)
    return (boxes, areas) if return_areas else boxes

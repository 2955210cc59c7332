"""Crop draws and crop boxes, in torchvision's ``RandomResizedCrop`` conventions.

A crop draw (:class:`~jointaug_plugins.draw.CropDraw`) is size-free: area fractions, aspect ratios and
two position uniforms. A box ``(top, left, height, width)`` in pixels is a pure function of a draw
and the image size (:func:`crop_box`). For a joint pair the two areas come from one joint draw
(:func:`jointaug_plugins.sampling.pair_from_uniforms`); each view then tries its own aspect ratios,
log-uniform in ``ratio``, keeping its area, for up to 10 attempts as torchvision does, and takes its
own uniform position. A view whose attempts all fail takes torchvision's fallback, the centre crop
with the aspect ratio clamped into ``ratio``; with the crop option ``fallback="whole"`` (the published
JointCrop's rule, preset ``crop="published"``) it takes the whole image instead.

Uniform layout of one joint pair (``JOINT_UNIFORMS`` numbers): ``[t, p1, aspect attempts of view 1
(10), aspect attempts of view 2 (10), top and left of view 1, top and left of view 2]``. The
independent baseline uses torchvision's own loop, a new area per attempt: ``INDEPENDENT_UNIFORMS``
numbers per view, ``[(area, aspect) x 10, top, left]``. Every function has a scalar form (Python
floats, for the per-image path) and a batched one (tensors with a leading ``n``), equal on the same
uniforms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ._checks import check_int, check_range
from .draw import CropDraw, Number
from .sampling import pair_from_uniforms, pairs_from_uniforms_batch
from .spec import JointSpec

ATTEMPTS = 10
JOINT_UNIFORMS = 2 + 2 * ATTEMPTS + 4
INDEPENDENT_UNIFORMS = 2 * ATTEMPTS + 2

Box = tuple[int, int, int, int]


def _aspects(u: Sequence[float], ratio: tuple[float, float]) -> tuple[float, ...]:
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    span, exp = log_hi - log_lo, math.exp
    return tuple([exp(log_lo + x * span) for x in u])


def _aspects_batch(u: torch.Tensor, ratio: tuple[float, float]) -> torch.Tensor:
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    return torch.exp(log_lo + u * (log_hi - log_lo))


def joint_crop_draws(
    u: Sequence[float], scale: tuple[float, float], ratio: tuple[float, float], spec: JointSpec, pair: int | None = None
) -> tuple[CropDraw, CropDraw]:
    """The two crop draws of a joint pair from ``JOINT_UNIFORMS`` uniforms."""
    s1, s2 = pair_from_uniforms(u[0], u[1], scale[0], scale[1], spec, "ratio")
    k = 2 + 2 * ATTEMPTS
    whole = whole_fallback(spec)
    first = CropDraw(pair, True, (s1,) * ATTEMPTS, _aspects(u[2 : 2 + ATTEMPTS], ratio), u[k], u[k + 1], whole)
    second = CropDraw(pair, True, (s2,) * ATTEMPTS, _aspects(u[2 + ATTEMPTS : k], ratio), u[k + 2], u[k + 3], whole)
    return first, second


def joint_crop_draws_batch(
    u: torch.Tensor, scale: tuple[float, float], ratio: tuple[float, float], spec: JointSpec, pair: int | None = None
) -> tuple[CropDraw, CropDraw]:
    """Batched :func:`joint_crop_draws`: ``u`` is ``(n, JOINT_UNIFORMS)`` float64."""
    areas = pairs_from_uniforms_batch(u[:, 0], u[:, 1], scale[0], scale[1], spec, "ratio")
    k = 2 + 2 * ATTEMPTS
    aspects = _aspects_batch(u[:, 2:k], ratio)
    joint = torch.ones(u.shape[0], dtype=torch.bool)
    whole = torch.full((u.shape[0],), whole_fallback(spec))
    views = []
    for v in range(2):
        view_areas = areas[:, v : v + 1].expand(-1, ATTEMPTS)
        view_aspects = aspects[:, v * ATTEMPTS : (v + 1) * ATTEMPTS]
        views.append(CropDraw(pair, joint, view_areas, view_aspects, u[:, k + 2 * v], u[:, k + 2 * v + 1], whole))
    return views[0], views[1]


def independent_crop_draw(
    u: Sequence[float], scale: tuple[float, float], ratio: tuple[float, float], pair: int | None = None
) -> CropDraw:
    """One view's crop draw as torchvision's ``RandomResizedCrop`` makes it, from ``INDEPENDENT_UNIFORMS``."""
    lo, hi = scale
    areas = tuple(lo + x * (hi - lo) for x in u[0 : 2 * ATTEMPTS : 2])
    return CropDraw(pair, False, areas, _aspects(u[1 : 2 * ATTEMPTS : 2], ratio), u[2 * ATTEMPTS], u[2 * ATTEMPTS + 1])


def independent_crop_draw_batch(
    u: torch.Tensor, scale: tuple[float, float], ratio: tuple[float, float], pair: int | None = None
) -> CropDraw:
    """Batched :func:`independent_crop_draw`: ``u`` is ``(n, INDEPENDENT_UNIFORMS)`` float64."""
    lo, hi = scale
    areas = lo + u[:, 0 : 2 * ATTEMPTS : 2] * (hi - lo)
    aspects = _aspects_batch(u[:, 1 : 2 * ATTEMPTS : 2], ratio)
    joint = torch.zeros(u.shape[0], dtype=torch.bool)
    return CropDraw(pair, joint, areas, aspects, u[:, 2 * ATTEMPTS], u[:, 2 * ATTEMPTS + 1], joint.clone())


def whole_fallback(spec: JointSpec) -> bool:
    """Whether views drawn under ``spec`` fall back to the whole image (option ``fallback="whole"``, the
    published JointCrop) rather than torchvision's centre crop (``"center"``, the default)."""
    return spec.options.get("fallback", "center") == "whole"


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


def _offset_in_box(fraction: Number, lo: Number, hi: Number, size: int, extent: int) -> int:
    """ContrastiveCrop's offset on one axis: between the box edges ``lo``, ``hi`` (in [0, 1]) less half the crop,
    each clamped into the image, ``fraction`` of the way."""
    first = min(max(int(size * lo) - extent // 2, 0), size - extent)
    last = min(max(int(size * hi) - extent // 2, 0), size - extent)
    return first + int((last - first) * fraction)


def crop_box(draw: CropDraw, height: int, width: int, ratio: tuple[float, float]) -> tuple[Box, Number]:
    """The box a crop draw gives on a ``height`` x ``width`` image, and its area fraction (the drawn one,
    or the fallback box's own when every attempt fails: the whole image if ``draw.fallback_whole``, else
    torchvision's centre crop). Placed as torchvision does, or in ``draw.box`` by ContrastiveCrop's rule."""
    image_area = height * width
    for area, aspect in zip(draw.areas, draw.aspects):
        w = round(math.sqrt(area * image_area * aspect))
        h = round(math.sqrt(area * image_area / aspect))
        if 0 < w <= width and 0 < h <= height:
            if draw.box is None:
                top = min(int(draw.top * (height - h + 1)), height - h)
                left = min(int(draw.left * (width - w + 1)), width - w)
            else:
                h0, w0, h1, w1 = draw.box
                top = _offset_in_box(draw.top, h0, h1, height, h)
                left = _offset_in_box(draw.left, w0, w1, width, w)
            return (top, left, h, w), area
    if draw.fallback_whole:
        return (0, 0, height, width), 1.0
    box = fallback_box(height, width, ratio)
    return box, box[2] * box[3] / image_area


def _offsets_in_box(
    fraction: Number, lo: torch.Tensor, hi: torch.Tensor, size: torch.Tensor, extent: torch.Tensor
) -> torch.Tensor:
    """Batched :func:`_offset_in_box` (float64 tensors holding integers; ``int()`` of a value >= 0 is a floor)."""
    room = size - extent
    half = torch.div(extent, 2, rounding_mode="floor")
    first = torch.minimum(torch.clamp(torch.floor(size * lo) - half, min=0.0), room)
    last = torch.minimum(torch.clamp(torch.floor(size * hi) - half, min=0.0), room)
    return first + torch.floor((last - first) * fraction)


def fallback_boxes_batch(height: torch.Tensor, width: torch.Tensor, ratio: tuple[float, float]) -> torch.Tensor:
    """Batched :func:`fallback_box` for per-image sizes: ``(n, 4)`` float64 boxes ``(top, left, h, w)``."""
    height, width = height.to(torch.float64), width.to(torch.float64)
    in_ratio = width / height
    # Python's round() and torch.round() both round half to even, so the two forms agree exactly.
    narrow_h = torch.clamp(torch.round(width / ratio[0]), min=1.0)
    wide_w = torch.clamp(torch.round(height * ratio[1]), min=1.0)
    h = torch.where(in_ratio < ratio[0], narrow_h, height)
    w = torch.where(in_ratio > ratio[1], wide_w, width)
    top = torch.div(height - h, 2, rounding_mode="floor")
    left = torch.div(width - w, 2, rounding_mode="floor")
    return torch.stack((top, left, h, w), -1)


def crop_boxes_batch(
    draw: CropDraw, height: int | torch.Tensor, width: int | torch.Tensor, ratio: tuple[float, float]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Batched :func:`crop_box`: ``(n, 4)`` int64 boxes and ``(n,)`` float64 area fractions.

    ``height`` and ``width`` are one size for the whole batch (ints) or one per image (``(n,)`` tensors,
    as DALI reads them from each encoded image's header).
    """
    if not isinstance(draw.areas, torch.Tensor) or not isinstance(draw.aspects, torch.Tensor):
        raise TypeError(
            "crop_boxes_batch needs a batched CropDraw (areas and aspects (n, attempts) tensors), got areas of type "
            f"{type(draw.areas).__name__}; crop_box takes a single draw"
        )
    n = draw.areas.shape[0]
    height = torch.as_tensor(height, dtype=torch.float64).expand(n)
    width = torch.as_tensor(width, dtype=torch.float64).expand(n)
    image_area = (height * width).unsqueeze(-1)
    w = torch.round(torch.sqrt(draw.areas * image_area * draw.aspects))
    h = torch.round(torch.sqrt(draw.areas * image_area / draw.aspects))
    ok = (w > 0) & (w <= width.unsqueeze(-1)) & (h > 0) & (h <= height.unsqueeze(-1))
    first = ok.to(torch.uint8).argmax(dim=-1, keepdim=True)
    fitted = ok.any(dim=-1)
    fallback = fallback_boxes_batch(height, width, ratio)
    whole = torch.as_tensor(draw.fallback_whole, dtype=torch.bool).expand(n)
    if whole.any():
        zero = torch.zeros_like(height)
        fallback = torch.where(whole.unsqueeze(-1), torch.stack((zero, zero, height, width), -1), fallback)
    fb_top, fb_left, fb_h, fb_w = fallback.unbind(-1)
    h = torch.where(fitted, h.gather(-1, first).squeeze(-1), fb_h)
    w = torch.where(fitted, w.gather(-1, first).squeeze(-1), fb_w)
    if draw.box is None:
        top = torch.minimum(torch.floor(draw.top * (height - h + 1)), height - h)
        left = torch.minimum(torch.floor(draw.left * (width - w + 1)), width - w)
    else:
        h0, w0, h1, w1 = (torch.as_tensor(edge, dtype=torch.float64).expand(n) for edge in draw.box)
        top = _offsets_in_box(draw.top, h0, h1, height, h)
        left = _offsets_in_box(draw.left, w0, w1, width, w)
    top = torch.where(fitted, top, fb_top)
    left = torch.where(fitted, left, fb_left)
    areas = torch.where(fitted, draw.areas.gather(-1, first).squeeze(-1), fb_h * fb_w / image_area.squeeze(-1))
    return torch.stack((top, left, h, w), dim=-1).to(torch.int64), areas


def sample_crop_box_pairs(
    height: int,
    width: int,
    n: int,
    scale: Sequence[float] = (0.08, 1.0),
    ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0),
    spec: JointSpec | None = None,
    generator: torch.Generator | None = None,
    return_areas: bool = False,
):
    """Draw ``n`` pairs of crop boxes on a ``height`` x ``width`` image in one vectorised call.

    Args:
        height, width: Image size in pixels, ints ``>= 1``.
        n: Number of pairs, an int ``>= 0``.
        scale: Range of the crop area as a fraction of the image area, ``0 < min < max <= 1``.
        ratio: Range of the crop aspect ratio ``w/h``, ``0 < min <= max``.
        spec: The joint options; ``None`` draws each view independently as torchvision does.
        generator: Source of randomness; ``None`` uses torch's default generator.
        return_areas: Also return the area fractions ``(n, 2)``: the drawn ones, or a fallback box's own.

    Returns:
        An ``(n, 2, 4)`` int64 tensor of ``(top, left, height, width)`` boxes, and the areas if asked.
    """
    check_int(n, "n", 0)
    check_int(height, "height", 1)
    check_int(width, "width", 1)
    scale = check_range(scale, "scale", lower=0.0, upper=1.0, lower_open=True)
    ratio = check_range(ratio, "ratio", lower=0.0, lower_open=True)
    draws: Sequence[CropDraw]
    if spec is None:
        u = torch.rand(n, 2, INDEPENDENT_UNIFORMS, generator=generator, dtype=torch.float64)
        draws = [independent_crop_draw_batch(u[:, v], scale, ratio) for v in range(2)]
    else:
        u = torch.rand(n, JOINT_UNIFORMS, generator=generator, dtype=torch.float64)
        draws = joint_crop_draws_batch(u, scale, ratio, spec)
    per_view = [crop_boxes_batch(d, height, width, ratio) for d in draws]
    boxes, areas = torch.stack([b for b, _ in per_view], dim=1), torch.stack([a for _, a in per_view], dim=1)
    return (boxes, areas) if return_areas else boxes

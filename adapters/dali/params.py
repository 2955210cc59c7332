"""The per-batch numbers a DALI graph needs, made from the core's batched draw and each image's size.

:func:`batch_params` runs on the CPU inside the pipeline (DALI's ``python_function``), once per batch:
one batched draw of the coordinator (:meth:`JointViews.draw_batch
<jointaug_plugins.JointViews.draw_batch>`), boxes from each image's own height and width (read from
its header by ``fn.peek_image_shape``), the region to decode (the union of the image's view boxes),
and per view the operator arguments: the crop box inside the decoded region, the colour twist, the
blur's sigma and window, the solarise and flip flags. It imports no DALI and is tested on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ...boxes import crop_boxes_batch
from ...draw import ColorDraw, CropDraw, ImageDraw, ScalarDraw
from .view import DALIView, blur_window

# Independent per-view coins drawn after the joint draw: colour applied, grayscale, solarise, flip.
COINS = 4


@dataclass
class ViewParams:
    """One view's operator arguments for a batch of ``n`` images (numpy, one row per image).

    Attributes:
        boxes: ``(n, 4)`` crop boxes ``(top, left, h, w)`` in the image's pixels.
        roi_start, roi_end: ``(n, 2)`` float32 ``(y, x)`` corners of the box inside the decoded region.
        twist: ``(n, 4)`` float32 ``(brightness, contrast, saturation, hue in degrees)`` (neutral when
            the jitter is not applied; saturation 0 makes grayscale).
        factors: ``(n, 4)`` the jitter factors drawn, torchvision's units (hue a fraction of the circle).
        jittered, gray: ``(n,)`` whether the jitter / the grayscale conversion is applied.
        sigma, window: ``(n,)`` float32 blur sigma and int32 odd window (``0`` and ``1`` when not blurred).
        solarize, flip: ``(n,)`` flags.
    """

    boxes: np.ndarray
    roi_start: np.ndarray
    roi_end: np.ndarray
    twist: np.ndarray
    factors: np.ndarray
    jittered: np.ndarray
    gray: np.ndarray
    sigma: np.ndarray
    window: np.ndarray
    solarize: np.ndarray
    flip: np.ndarray


@dataclass
class BatchParams:
    """What one batch needs: the region each image decodes, and every view's :class:`ViewParams`."""

    region_anchor: np.ndarray  # (n, 2) int32 (y, x)
    region_shape: np.ndarray  # (n, 2) int32 (h, w)
    views: list[ViewParams]
    draw: ImageDraw


def _slice(draw: ImageDraw, slots: Sequence[Sequence[object]], view: int, kind: str):
    for transform, part in zip(slots[view], draw.views[view].slices):
        if getattr(transform, "kind", None) == kind:
            return part
    return None


def _crop_boxes(view: DALIView, part: CropDraw | None, heights: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
    if part is None:  # crop=False: the whole image is resized
        zeros = torch.zeros_like(heights)
        return torch.stack((zeros, zeros, heights, widths), -1)
    return crop_boxes_batch(part, heights, widths, view.ratio)[0]


def batch_params(
    views: Sequence[DALIView],
    slots: Sequence[Sequence[object]],
    draw: ImageDraw,
    shapes: np.ndarray,
    coins: torch.Tensor,
    decode: str = "union",
) -> BatchParams:
    """Operator arguments of one batch.

    Args:
        views: The recipe's views.
        slots: Per view, the coordinator's joint transforms in draw order (``JointViews.slots``).
        draw: The batched draw of ``n`` images (``JointViews.draw_batch(n)``).
        shapes: ``(n, >= 2)`` ints, each image's ``(height, width, ...)`` as ``fn.peek_image_shape`` gives.
        coins: ``(n, len(views), COINS)`` uniforms in [0, 1) for the independent per-view coins.
        decode: ``"union"`` decodes the union of an image's view boxes, ``"full"`` the whole image.
    """
    sizes = torch.as_tensor(np.asarray(shapes, dtype=np.int64).reshape(len(shapes), -1)[:, :2])
    heights, widths = sizes[:, 0], sizes[:, 1]
    boxes = [_crop_boxes(view, _slice(draw, slots, v, "crop"), heights, widths) for v, view in enumerate(views)]
    stacked = torch.stack(boxes, 1)  # (n, V, 4) top, left, h, w
    if decode == "union":
        top = stacked[..., 0].amin(1)
        left = stacked[..., 1].amin(1)
        bottom = (stacked[..., 0] + stacked[..., 2]).amax(1)
        right = (stacked[..., 1] + stacked[..., 3]).amax(1)
    else:
        top, left, bottom, right = torch.zeros_like(heights), torch.zeros_like(widths), heights, widths
    anchor = torch.stack((top, left), -1)
    out = []
    for v, view in enumerate(views):
        box = boxes[v]
        start = box[:, :2] - anchor
        end = start + box[:, 2:]
        out.append(_view_params(view, draw, slots, v, box, start, end, coins[:, v]))
    return BatchParams(
        region_anchor=anchor.numpy().astype(np.int32),
        region_shape=torch.stack((bottom - top, right - left), -1).numpy().astype(np.int32),
        views=out,
        draw=draw,
    )


def _view_params(
    view: DALIView,
    draw: ImageDraw,
    slots: Sequence[Sequence[object]],
    v: int,
    box: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
    coins: torch.Tensor,
) -> ViewParams:
    n = box.shape[0]
    color: ColorDraw | None = _slice(draw, slots, v, "color")
    blur: ScalarDraw | None = _slice(draw, slots, v, "blur")
    jittered = coins[:, 0] < view.color_prob if color is not None else torch.zeros(n, dtype=torch.bool)
    gray = coins[:, 1] < view.grayscale
    neutral = torch.tensor([1.0, 1.0, 1.0, 0.0], dtype=torch.float64)
    factors = torch.as_tensor(color.factors, dtype=torch.float64).reshape(n, 4) if color is not None else neutral
    factors = factors.expand(n, 4)
    twist = torch.where(jittered[:, None], factors, neutral).clone()
    twist[:, 3] *= 360.0  # torchvision's hue is a fraction of the circle; DALI's is in degrees
    twist[:, 2] = torch.where(gray, 0.0, twist[:, 2])  # saturation 0 keeps the luma: the grayscale image
    if blur is not None:
        applied = torch.as_tensor(blur.apply, dtype=torch.bool).expand(n)
        sigma = torch.where(applied, torch.as_tensor(blur.value, dtype=torch.float64), 0.0)
        window = torch.tensor([blur_window(s) if s > 0 else 1 for s in sigma.tolist()], dtype=torch.int32)
    else:
        sigma, window = torch.zeros(n, dtype=torch.float64), torch.ones(n, dtype=torch.int32)
    return ViewParams(
        boxes=box.numpy(),
        roi_start=start.numpy().astype(np.float32),
        roi_end=end.numpy().astype(np.float32),
        twist=twist.numpy().astype(np.float32),
        factors=factors.numpy(),
        jittered=jittered.numpy(),
        gray=gray.numpy(),
        sigma=sigma.numpy().astype(np.float32),
        window=window.numpy(),
        solarize=(coins[:, 2] < view.solarize).numpy(),
        flip=(coins[:, 3] < view.hflip).numpy().astype(np.int32),
    )

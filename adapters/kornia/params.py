"""A view's kornia parameters from its share of a batched draw (pure functions of the draw and the input sizes).

Crop, blur and colour parameters are the core's joint draw turned into kornia's names (a crop box becomes
kornia's ``src`` corners, a blur slice its ``sigma`` and apply coins its ``batch_prob``, a colour slice its four
factors). What the core does not draw (apply coins of flips, grayscale and colour jitter, uniform parameters
such as solarize thresholds) comes from per-image uniforms generated from each image's view seed
(:attr:`ViewDraw.seed <jointaug_plugins.draw.ViewDraw.seed>`), so an image's view does not depend on the rest of
its batch. Ops kornia must draw itself run under a generator seeded from the whole view's seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from jointaug_plugins.boxes import crop_boxes_batch
from jointaug_plugins.draw import ColorDraw, CropDraw, ScalarDraw, ViewDraw, slice_of

from .mirror import Op

Params = dict[str, torch.Tensor]
COLOR_KEYS = ("brightness_factor", "contrast_factor", "saturation_factor", "hue_factor")


def seed_uniforms(seeds: Sequence[int] | torch.Tensor, count: int) -> torch.Tensor:
    """``(n, count)`` float64 uniforms in [0, 1), row ``i`` from a generator seeded by ``seeds[i]`` alone."""
    rows = [torch.rand(count, generator=torch.Generator().manual_seed(int(s)), dtype=torch.float64) for s in seeds]
    return torch.stack(rows) if rows else torch.zeros(0, count, dtype=torch.float64)


def view_seed(seeds: Sequence[int] | torch.Tensor) -> int:
    """One seed in [0, 2**63) for the ops kornia draws over the whole batch: a function of every image's seed."""
    return hash(tuple(int(s) for s in seeds)) & (2**63 - 1)


def corners(boxes: torch.Tensor) -> torch.Tensor:
    """kornia's ``(n, 4, 2)`` corners ``(x, y)`` (clockwise from top-left, inclusive pixels) of ``(top, left, h, w)``
    boxes."""
    top, left, h, w = boxes.to(torch.float64).unbind(-1)
    right, bottom = left + w - 1, top + h - 1
    xs = torch.stack((left, right, right, left), -1)
    ys = torch.stack((top, top, bottom, bottom), -1)
    return torch.stack((xs, ys), -1)


def view_params(
    ops: Sequence[Op],
    view: ViewDraw,
    heights: torch.Tensor,
    widths: torch.Tensor,
    channels: int = 3,
) -> list[Params | None]:
    """The kornia parameters of each op of one view, on the CPU (``None`` for fixed ops such as ``Normalize``).

    Args:
        ops: The view's classified ops (:func:`~jointaug_plugins.adapters.kornia.mirror.classify_view`).
        view: The view's share of a batched draw (``n`` images): its slices and seeds.
        heights, widths: ``(n,)`` int64 input sizes (one per image: a list input may vary).
        channels: The number of channels of the input, for ``forward_input_shape``.
    """
    if channels != 3:
        # As on the per-image path: brightness and contrast work on any band count, saturation and hue need RGB.
        for op in ops:
            for name in ("saturation", "hue") if op.role == "color" else ():
                if getattr(op.mirror, name) is not None:
                    raise ValueError(
                        f"JointColorJitter: {name} is defined for RGB images only, got an image with {channels} "
                        f"channels; set {name}=0 in {type(op.module).__name__} (brightness and contrast work on any "
                        "number of channels)"
                    )
    seeds = view.seed if isinstance(view.seed, torch.Tensor) else torch.as_tensor(view.seed)
    n = heights.shape[0]
    u = seed_uniforms(seeds.tolist(), sum(op.uniforms for op in ops))
    slices = iter(view.slices)
    column = 0
    out: list[Params | None] = []
    for op in ops:
        shape = torch.tensor([n, channels, int(heights.max()) if n else 0, int(widths.max()) if n else 0])
        mine, column = u[:, column : column + op.uniforms], column + op.uniforms
        if op.role == "fixed":
            out.append(None)
            continue
        params: Params = {"forward_input_shape": shape}
        if op.role == "crop":
            crop = slice_of(next(slices), CropDraw, "the kornia crop")
            boxes, _ = crop_boxes_batch(crop, heights, widths, op.mirror.ratio)
            oh, ow = op.mirror.size
            params["src"] = corners(boxes).float()
            dst = torch.tensor([[0, 0], [ow - 1, 0], [ow - 1, oh - 1], [0, oh - 1]], dtype=torch.float32)
            params["dst"] = dst.expand(n, 4, 2).clone()
            params["input_size"] = torch.stack((heights, widths), -1).to(torch.int64)
            params["output_size"] = torch.tensor([oh, ow]).expand(n, 2).clone()
            params["batch_prob"] = torch.ones(n)
            heights, widths = torch.full((n,), oh), torch.full((n,), ow)
        elif op.role == "blur":
            slice_ = slice_of(next(slices), ScalarDraw, "the kornia blur")
            params["sigma"] = torch.as_tensor(slice_.value).float().reshape(n)
            params["batch_prob"] = torch.as_tensor(slice_.apply).float().reshape(n)
        elif op.role == "color":
            color = slice_of(next(slices), ColorDraw, "the kornia colour jitter")
            factors = color.factors  # batched: an (n, 4) tensor; by hand: four numbers or tensors
            columns: Sequence[torch.Tensor]
            if isinstance(factors, torch.Tensor):
                columns = factors.reshape(n, 4).unbind(-1)
            else:
                columns = [torch.as_tensor(f).expand(n) for f in factors]
            for key, factor in zip(COLOR_KEYS, columns):
                params[key] = factor.float().clone()
            # kornia takes one order per batch; the core draws one per image: rows are grouped by order at run time.
            params["order"] = torch.as_tensor(color.order, dtype=torch.int64).reshape(n, 4)
            params["batch_prob"] = (mine[:, 0] < op.p).float()
        elif op.role in ("coin", "uniform"):
            params["batch_prob"] = (mine[:, 0] < op.p).float()
            for k, (key, (lo, hi)) in enumerate((op.ranges or {}).items()):
                params[key] = (lo + mine[:, 1 + k] * (hi - lo)).float()
        else:  # kornia draws it, from a generator the draw fixes
            cuda = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
            with torch.random.fork_rng(devices=cuda):
                torch.manual_seed(view_seed(seeds.tolist()))
                drawn = op.module.forward_parameters(tuple(shape.tolist()))
            params = {k: v.cpu() if isinstance(v, torch.Tensor) else v for k, v in drawn.items()}
        out.append(params)
    return out


def to_device(params: Params | None, device: torch.device, dtype: torch.dtype) -> Any:
    """``params`` on ``device``, floating tensors in ``dtype`` (the input's), integer ones unchanged."""
    if params is None:
        return None
    moved = {}
    for key, value in params.items():
        if isinstance(value, torch.Tensor):
            value = value.to(device=device, dtype=dtype if value.is_floating_point() else value.dtype)
        moved[key] = value
    return moved

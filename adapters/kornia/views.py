"""JointKorniaViews: kornia augmentation pipelines whose parameters come from the core's batched joint draw."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from jointaug_plugins.draw import ImageDraw
from jointaug_plugins.options import JointOptions
from jointaug_plugins.transforms.views import JointViews

from .mirror import Op, classify_view, mirror_pipeline
from .params import COLOR_KEYS, Params, to_device, view_params

Images = torch.Tensor | Sequence[torch.Tensor]


class JointKorniaViews(torch.nn.Module):
    """Views of a whole batch made by kornia's own ops, paired views drawn jointly.

    Each view is a kornia augmentation or an ``AugmentationSequential`` (applied in order, images only). Its
    ``RandomResizedCrop``, ``RandomGaussianBlur`` and ``ColorJitter`` / ``ColorJiggle`` are mirrored by the core's
    joint transforms with the same ranges and apply probabilities, handed to one core
    :class:`~jointaug_plugins.JointViews` (the one option parser: ``crop``, ``blur``, ``color``, ``pairs``,
    ``multicrop``, ``position``, ``seed``, ``reproducible``, β schedules). A batch's draw is
    :meth:`JointViews.draw_batch <jointaug_plugins.JointViews.draw_batch>`; its slices become kornia's parameters
    (crop boxes as ``src`` corners, sigmas, colour factors, apply coins as ``batch_prob``), and everything else
    random (flips, grayscale, colour apply coins, solarize, kornia ops it does not know) is drawn from each image's
    view seed in the draw. So the views are a function of the draw: :meth:`apply` replays it, and
    ``forward(x, params=...)`` replays kornia parameters as kornia's own ``forward`` does.

    Args:
        views: The per-view kornia pipelines, at least one.
        options, ``**more``: The joint options, as for :class:`~jointaug_plugins.JointViews` (default JointCrop(0)).
        layout: View groups, as for :class:`~jointaug_plugins.JointViews` (``[2, k]``: multi-crop).
        joint: A coordinator already built over the mirrored pipelines (``jointify`` builds it); else one is made.

    Input: an ``(N, C, H, W)`` integer (uint8 read as ``x / 255``, uint16 as ``x / 65535``) or float tensor in
    [0, 1], any number of channels, on any device, or a list of ``(C, H, W)`` tensors of different sizes (then
    every view must start with a ``RandomResizedCrop``: each image is cropped to its own box, then resized).
    Output: per view an ``(N, C, h, w)`` float tensor on the input's device.
    """

    def __init__(
        self,
        views: Sequence[Any],
        options: JointOptions | Mapping[str, Any] | None = None,
        /,
        *,
        layout: Sequence[int] | None = None,
        joint: JointViews | None = None,
        **more: Any,
    ) -> None:
        super().__init__()
        if isinstance(views, torch.nn.Module) or not isinstance(views, Sequence) or len(views) == 0:
            raise TypeError("views must be a non-empty list of kornia augmentations (one per view)")
        self.augmentations = torch.nn.ModuleList(views)
        self.ops: list[list[Op]] = [classify_view(v, f"views[{i}]") for i, v in enumerate(views)]
        if joint is None:
            joint = JointViews([mirror_pipeline(ops) for ops in self.ops], options, layout=layout, **more)
        elif options is not None or more or layout is not None:
            raise TypeError("pass either joint= or the options, not both")
        mirrored = [[op for op in ops if op.mirror is not None] for ops in self.ops]
        if [len(m) for m in mirrored] != [len(s) for s in joint.slots]:
            raise ValueError("joint does not hold one joint transform per mirrored kornia op")
        for ops, slots in zip(mirrored, joint.slots):
            for op, slot in zip(ops, slots):
                op.mirror = slot  # the coordinator's own objects (copies, when jointify built it)
        self.joint = joint
        self.last_draw: ImageDraw | None = None
        self.last_params: list[list[Params | None]] | None = None

    # --- the draw -----------------------------------------------------------------------------------------

    def draw(
        self,
        n: int,
        generator: torch.Generator | None = None,
        *,
        indices: Sequence[int] | torch.Tensor | None = None,
        epoch: int | None = None,
    ) -> ImageDraw:
        """The batched draw of ``n`` images (:meth:`JointViews.draw_batch`; ``indices`` with ``reproducible``)."""
        return self.joint.draw_batch(n, generator, indices=indices, epoch=epoch)

    def params(self, draw: ImageDraw, images: Images) -> list[list[Params | None]]:
        """Per view, per op, the kornia parameters (CPU tensors) that ``draw`` gives on ``images``."""
        _, heights, widths, channels = _sizes(images)
        return [view_params(ops, v, heights, widths, channels) for ops, v in zip(self.ops, draw.views)]

    # --- making the views ---------------------------------------------------------------------------------

    # Also nn.Module.apply(fn) (see the docstring): a wider signature than Module's, which mypy cannot express.
    def apply(self, images: Images, draw: ImageDraw | None = None) -> Any:  # type: ignore[override]
        """The views of ``images`` made with a batched ``draw`` (from :meth:`draw`, recorded or not).

        Called with a function and no draw it is ``nn.Module.apply(fn)`` (mmengine's ``BaseModel.to`` calls that on
        every submodule), so the module still moves with the model it sits in."""
        if draw is None:
            if callable(images):
                return super().apply(images)
            raise TypeError("apply(images, draw) needs the batched draw to replay (see draw()); to draw anew, call it")
        self.last_draw = draw
        return self.run(images, self.params(draw, images))

    def forward(
        self,
        images: Images,
        params: list[list[Params | None]] | None = None,
        *,
        indices: Sequence[int] | torch.Tensor | None = None,
        epoch: int | None = None,
    ) -> list[torch.Tensor]:
        """The views of ``images``: with ``params`` (``last_params`` of an earlier run), those kornia parameters
        replayed; else a new draw (``indices``: the images' dataset indices, needed with ``reproducible=True``;
        ``epoch``: default the one :func:`~jointaug_plugins.set_epoch` set)."""
        if params is not None:
            return self.run(images, params)
        n = _sizes(images)[0]
        return self.apply(images, self.draw(n, indices=indices, epoch=epoch))

    def run(self, images: Images, params: list[list[Params | None]]) -> list[torch.Tensor]:
        """Run every view's kornia ops with ``params`` (per view, per op)."""
        if len(params) != len(self.ops) or any(len(p) != len(o) for p, o in zip(params, self.ops)):
            raise ValueError("params must hold, per view, one entry per kornia op (as last_params does)")
        self.last_params = params
        batch = _as_float(images)
        return [_run_view(ops, batch, view) for ops, view in zip(self.ops, params)]

    def __len__(self) -> int:
        return len(self.ops)


def _sizes(images: Images) -> tuple[int, torch.Tensor, torch.Tensor, int]:
    if isinstance(images, torch.Tensor):
        if images.ndim != 4:
            raise TypeError(f"images must be an (N, C, H, W) tensor or a list of (C, H, W), got {tuple(images.shape)}")
        n, c, h, w = images.shape
        return n, torch.full((n,), h), torch.full((n,), w), c
    if not isinstance(images, Sequence) or any(not isinstance(x, torch.Tensor) or x.ndim != 3 for x in images):
        raise TypeError("images must be an (N, C, H, W) tensor or a list of (C, H, W) tensors")
    heights = torch.tensor([x.shape[-2] for x in images], dtype=torch.int64)
    widths = torch.tensor([x.shape[-1] for x in images], dtype=torch.int64)
    return len(images), heights, widths, images[0].shape[0] if images else 3


def _to_float(x: torch.Tensor) -> torch.Tensor:
    # Integer images are read as fractions of their dtype's maximum (uint8: / 255, uint16: / 65535), as torchvision's
    # to_dtype(..., scale=True) reads them.
    return x if x.is_floating_point() else x.float() / float(torch.iinfo(x.dtype).max)


def _as_float(images: Images) -> Images:
    return _to_float(images) if isinstance(images, torch.Tensor) else [_to_float(x) for x in images]


def _crop_list(images: Sequence[torch.Tensor], op: Op, params: Params) -> torch.Tensor:
    """kornia's slice-mode crop, one image at a time: each cropped to its own box, then resized."""
    src = params["src"].round().to(torch.int64).tolist()
    flags = op.module.flags
    mode = flags["resample"].name.lower()
    align = None if mode.startswith("nearest") else flags["align_corners"]
    size = list(op.mirror.size)
    out = []
    for image, box in zip(images, src):
        (x0, y0), _, (x1, y1), _ = box
        crop = image[None, :, y0 : y1 + 1, x0 : x1 + 1]
        out.append(torch.nn.functional.interpolate(crop, size=size, mode=mode, align_corners=align))
    return torch.cat(out)


def _run_color(op: Op, x: torch.Tensor, params: Params) -> torch.Tensor:
    """kornia's colour jitter, one call per group of images sharing an order (kornia takes one per batch)."""
    order = params["order"]
    out = torch.empty_like(x)
    keys = (order * torch.tensor([64, 16, 4, 1], device=order.device)).sum(-1)
    for key in torch.unique(keys).tolist():
        rows = (keys == key).nonzero().squeeze(-1)
        sub = {k: (v[rows] if k in (*COLOR_KEYS, "batch_prob") else v) for k, v in params.items()}
        sub["order"] = order[rows[0]]
        out[rows] = op.module(x[rows], params=sub)
    return out


def _run_view(ops: list[Op], batch: Images, view: list[Params | None]) -> torch.Tensor:
    x = batch
    for op, params in zip(ops, view):
        device = x.device if isinstance(x, torch.Tensor) else x[0].device
        dtype = x.dtype if isinstance(x, torch.Tensor) else x[0].dtype
        params = to_device(params, device, dtype)
        if not isinstance(x, torch.Tensor):
            if op.role != "crop":
                raise TypeError("a list of images needs every view to start with a RandomResizedCrop")
            x = _crop_list(x, op, params)
        elif op.role == "fixed":
            x = op.module(x)
        elif op.role == "color":
            x = _run_color(op, x, params)
        else:
            # A copy: kornia's forward may add keys to the dict it is given.
            x = op.module(x, params=copy.copy(params))
    if not isinstance(x, torch.Tensor):
        raise TypeError("a list of images needs every view to start with a RandomResizedCrop")
    return x

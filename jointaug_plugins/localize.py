"""ContrastiveCrop's semantic-aware localization: per-image boxes from the model's own feature map.

With ``position=dict(alpha=..., boxes="semantic", warmup=20, interval=20, threshold=0.1)`` the crops of image ``i``
are placed inside a box ``(h0, w0, h1, w1)`` (fractions of the image, in [0, 1]) that the model computes every
``interval`` epochs after a ``warmup`` (Peng et al., CVPR 2022; the rule of their ``update_box``):

1. the encoder, in eval mode and without gradients, runs over the whole training set without augmentation (each
   image resized to the training crop size, normalised as in training), in index order, none dropped;
2. the feature map ``(N, C, h, w)`` of one module (:func:`feature_module`) is summed over channels, min-max
   normalised per image, upsampled bilinearly to the input size ``(Hi, Wi)``;
3. the rows whose maximum exceeds ``threshold`` give ``h0 = first / Hi`` and ``h1 = last / Hi``, the columns
   ``w0`` and ``w1`` (:func:`boxes_from_feature_maps`);
4. under ``torch.distributed`` each rank computes its share and the boxes are all-gathered, so every rank's
   :func:`~jointaug_plugins.boxtable.box_table` holds all of them, in dataset-index order.

Who runs it: the Lightning callback and the mmengine hook that the switches register (see
:func:`due` for when); :func:`update_semantic_boxes` with :func:`localization_loader` in a plain loop.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sized
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as nnf
from torch import nn

from ._checks import check_int, check_real
from .boxtable import box_table
from .localize_data import LocalizationLoader, PlainImage, collate_plain, localization_loader, localizing_views
from .localize_site import FeatureSite, feature_map, feature_module

__all__ = [
    "FeatureSite",
    "LocalizationLoader",
    "PlainImage",
    "boxes_from_feature_maps",
    "collate_plain",
    "due",
    "feature_module",
    "localization_loader",
    "localizing_views",
    "update_semantic_boxes",
]

WHOLE_IMAGE = (0.0, 0.0, 1.0, 1.0)


def _check_threshold(threshold: Any) -> float:
    value = check_real(threshold, "threshold")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"threshold must lie in [0, 1) (a fraction of the normalised feature map), got {value}")
    return value


def boxes_from_feature_maps(
    features: torch.Tensor, size: int | tuple[int, int], threshold: float = 0.1
) -> torch.Tensor:
    """ContrastiveCrop's box of each image from its feature map.

    Args:
        features: ``(N, C, h, w)`` feature maps.
        size: The input images' size ``(Hi, Wi)`` (or one int for a square), each ``>= 1``: the maps are upsampled
            to it, so a box is exact to one input pixel.
        threshold: In [0, 1): a row (column) belongs to the box when its maximum over the normalised map exceeds it.

    Returns:
        ``(N, 4)`` float64 ``(h0, w0, h1, w1)``, ``h0 = first row / Hi``, ``h1 = last row / Hi`` (so a box covering
        every row has ``h1 = (Hi - 1) / Hi``, as in ContrastiveCrop), the same with columns for ``w0``, ``w1``. A map
        with no value above the threshold (a constant or non-finite map) keeps the whole image ``(0, 0, 1, 1)``.
    """
    if not isinstance(features, torch.Tensor) or features.ndim != 4:
        raise ValueError(f"features must be a (N, C, h, w) tensor, got {getattr(features, 'shape', features)!r}")
    height, width = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    check_int(height, "size[0]", 1)
    check_int(width, "size[1]", 1)
    threshold = _check_threshold(threshold)
    n = features.shape[0]
    maps = features.detach().float().sum(dim=1).reshape(n, -1)
    low = maps.min(dim=1, keepdim=True).values
    span = maps.max(dim=1, keepdim=True).values - low
    # A constant map has no salient part: all zeros after normalising, so nothing passes and the image stays whole.
    maps = torch.where(span > 0, (maps - low) / span.clamp_min(torch.finfo(maps.dtype).tiny), torch.zeros_like(maps))
    maps = maps.reshape(n, 1, *features.shape[-2:])
    maps = nnf.interpolate(maps, size=(height, width), mode="bilinear", align_corners=False)[:, 0]
    rows = maps.amax(dim=2) > threshold  # (N, Hi)
    cols = maps.amax(dim=1) > threshold  # (N, Wi)

    def edges(mask: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        hits = mask.to(torch.int8)
        first = hits.argmax(dim=1)
        last = length - 1 - hits.flip(1).argmax(dim=1)
        return first.double() / length, last.double() / length

    h0, h1 = edges(rows, height)
    w0, w1 = edges(cols, width)
    boxes = torch.stack([h0, w0, h1, w1], dim=1)
    empty = ~(rows.any(dim=1) & cols.any(dim=1))
    boxes[empty] = torch.tensor(WHOLE_IMAGE, dtype=torch.float64, device=boxes.device)
    return boxes.cpu()


def due(epoch: int, position: Any, max_epochs: int | None = None) -> bool:
    """Whether the boxes are updated after training epoch ``epoch`` (0-based, as Lightning and mmengine count).

    ContrastiveCrop counts epochs from 1: after epoch ``E`` it updates when ``E >= warmup``, ``E % interval == 0``
    and ``E`` is not the last epoch. Here ``E = epoch + 1``, so with ``warmup=20, interval=20`` the first update
    follows the 0-based epoch 19 and the boxes are used from epoch 20 on; before the first update the table is
    empty and crops are placed as in warm-up.

    Args:
        epoch: The 0-based epoch just trained, an int ``>= 0``.
        position: The parsed ``position`` option (``JointOptions.position``); ``None`` or one without semantic
            boxes: never due.
        max_epochs: The run's number of epochs (no update after the last one); ``None`` or ``<= 0``: unbounded.
    """
    check_int(epoch, "epoch", 0)
    if position is None or not getattr(position, "semantic", False):
        return False
    finished = epoch + 1
    if max_epochs is not None and 0 < max_epochs <= finished:
        return False
    return finished >= position.warmup and finished % position.interval == 0


class _Captured(Exception):
    """Raised by the forward hook once it holds the feature map: the rest of the forward is not needed."""


def _default_forward(site: FeatureSite) -> Callable[[nn.Module, torch.Tensor], Any]:
    """Run the model's top-level part that holds the feature module (``backbone`` of ``backbone.layer4``) on the
    images, so that heads, losses and odd ``forward`` signatures never run; the model itself where the feature
    module is a direct child or that part is a container."""
    head, _, rest = site.name.partition(".")

    def run(model: nn.Module, images: torch.Tensor) -> Any:
        owner = getattr(model, head, None) if rest else None
        if isinstance(owner, nn.Module) and type(owner).forward is not nn.Module.forward:
            return owner(images)
        return model(images)

    return run


def _first_parameter(model: nn.Module) -> torch.Tensor | None:
    return next((p for p in model.parameters() if p.is_floating_point()), None)


def _gather(boxes: torch.Tensor, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """All ranks' boxes and indices (shares of unequal length padded for ``all_gather``, then trimmed)."""
    on = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")
    count = torch.tensor([len(indices)], device=on)
    counts = [torch.zeros_like(count) for _ in range(dist.get_world_size())]
    dist.all_gather(counts, count)
    longest = int(max(c.item() for c in counts))
    padded_boxes = torch.zeros(longest, 4, dtype=torch.float64, device=on)
    padded_indices = torch.zeros(longest, dtype=torch.int64, device=on)
    padded_boxes[: len(indices)] = boxes.to(on)
    padded_indices[: len(indices)] = indices.to(on)
    all_boxes = [torch.zeros_like(padded_boxes) for _ in counts]
    all_indices = [torch.zeros_like(padded_indices) for _ in counts]
    dist.all_gather(all_boxes, padded_boxes)
    dist.all_gather(all_indices, padded_indices)
    kept = [(b[: int(c.item())].cpu(), i[: int(c.item())].cpu()) for b, i, c in zip(all_boxes, all_indices, counts)]
    return torch.cat([b for b, _ in kept]), torch.cat([i for _, i in kept])


def _progress(loader: Iterable, show: bool) -> Iterable:
    if not show:
        return loader
    try:
        from tqdm.auto import tqdm  # the `tools` extra; without it the pass runs without a bar
    except ImportError:
        return loader
    total = len(loader) if isinstance(loader, Sized) else None
    return tqdm(loader, total=total, desc="[jointaug] semantic boxes", file=sys.stderr, leave=False)


def update_semantic_boxes(
    model: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    layer: str | None = None,
    threshold: float = 0.1,
    device: torch.device | str | None = None,
    progress: bool = True,
    num_samples: int | None = None,
    forward: Callable[[nn.Module, torch.Tensor], Any] | None = None,
) -> torch.Tensor:
    """Run the localization pass and set this process's box table (every rank's, under ``torch.distributed``).

    In a plain loop::

        loader = localization_loader(indexed(train_set), batch_size=256, num_workers=8)
        for epoch in range(epochs):
            train_one_epoch(...)
            if due(epoch, views.options.position, epochs):
                update_semantic_boxes(model.encoder_q, loader, layer="layer4")

    Args:
        model: The encoder (or the whole model holding it); it runs in eval mode without gradients and its
            modules' train/eval modes are restored afterwards.
        loader: Yields ``(images (B, 3, S, S), indices (B,))``: a :func:`localization_loader`, or any loader of
            plain images and their dataset indices.
        layer: The module giving the feature map (see :func:`feature_module`); ``None``: the default search.
        threshold: In [0, 1), see :func:`boxes_from_feature_maps`.
        device: Where the model runs; default the device of its first parameter.
        progress: Show a progress bar (rank 0 only; needs ``tqdm``).
        num_samples: The dataset's length ``N``; default the loader's (``num_samples`` or ``len(loader.dataset)``).
        forward: How to run the model on a batch, ``forward(model, images)``; default: the model's top-level part
            that holds the feature module (``model.backbone(images)`` for ``"backbone.layer4"``), or
            ``model(images)`` where the feature module is a direct child. Only the part up to the feature map runs:
            the pass stops each forward there.

    Returns:
        The ``(N, 4)`` float64 boxes ``(h0, w0, h1, w1)`` in dataset-index order (also set in
        :func:`~jointaug_plugins.boxtable.box_table`).

    Raises:
        ValueError: the feature module never ran, an index is outside ``N``, or some image got no box.
    """
    threshold = _check_threshold(threshold)
    site = feature_module(model, layer)
    parameter = _first_parameter(model)
    device = torch.device(device) if device is not None else (parameter.device if parameter is not None else None)
    dtype = parameter.dtype if parameter is not None else torch.float32
    run = forward or _default_forward(site)
    captured: list[torch.Tensor] = []

    def hook(module: nn.Module, inputs: Any, output: Any) -> None:
        captured.append(feature_map(output, site))
        raise _Captured

    distributed = dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
    rank0 = not distributed or dist.get_rank() == 0
    modes = {module: module.training for module in model.modules()}
    handle = site.module.register_forward_hook(hook)
    found_boxes, found_indices = [], []
    model.eval()
    try:
        with torch.no_grad():
            for images, indices in _progress(loader, progress and rank0):
                images = images.to(device=device, dtype=dtype, non_blocking=True)
                try:
                    run(model, images)
                except _Captured:
                    pass
                if not captured:
                    raise ValueError(f"the forward pass never reached module {site.name!r}: pass layer= or forward=")
                found_boxes.append(boxes_from_feature_maps(captured.pop(), tuple(images.shape[-2:]), threshold))
                found_indices.append(torch.as_tensor(indices, dtype=torch.int64).reshape(-1).cpu())
    finally:
        handle.remove()
        for module, training in modes.items():
            module.training = training
    boxes = torch.cat(found_boxes) if found_boxes else torch.zeros(0, 4, dtype=torch.float64)
    indices = torch.cat(found_indices) if found_indices else torch.zeros(0, dtype=torch.int64)
    if distributed:
        boxes, indices = _gather(boxes, indices)
    return _in_index_order(boxes, indices, _length(loader, num_samples, indices))


def _length(loader: Any, num_samples: int | None, indices: torch.Tensor) -> int:
    if num_samples is not None:
        return check_int(num_samples, "num_samples", 1)
    if isinstance(loader, LocalizationLoader):
        return loader.num_samples
    dataset = getattr(loader, "dataset", None)
    if dataset is not None and hasattr(dataset, "__len__"):
        return len(dataset)
    return int(indices.max()) + 1 if len(indices) else 0


def _in_index_order(boxes: torch.Tensor, indices: torch.Tensor, n: int) -> torch.Tensor:
    """The boxes put at their indices (a padded share repeats some: same image, same box); set in the table."""
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= n):
        raise ValueError(f"the localization pass saw dataset index {int(indices.max())} outside the N={n} images")
    table = torch.full((n, 4), float("nan"), dtype=torch.float64)
    table[indices] = boxes
    missing = torch.isnan(table[:, 0])
    if n == 0 or missing.any():
        first = int(missing.nonzero()[0]) if n else 0
        raise ValueError(
            f"the localization pass gave no box to {int(missing.sum()) if n else 'any'} of the N={n} images (first: "
            f"{first}): its loader must read every image of the training dataset once (no drop_last, no subset)"
        )
    box_table().set(table)
    return table

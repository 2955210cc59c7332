"""The data side of the localization pass: the training dataset read once, in order, without augmentation.

While a pass runs, the box table's shared ``localizing`` flag is set, and each :class:`~jointaug_plugins.JointViews`
hands back, for each of its views, a :class:`PlainImage` (the image resized to the training crop size, as a
normalised float tensor, with its dataset index) instead of making views. The dataset's own code around the
transform runs as in training (targets, tuples, dicts); :func:`collate_plain` finds the markers anywhere in an item
and stacks them. So the pass reads the very dataset object training reads, with no second pipeline to keep in step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import PIL.Image
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler, SequentialSampler
from torchvision.transforms.v2 import functional as F

from ._checks import check_int
from .boxtable import BoxTable, box_table
from .indexed import current_sample_index
from .walk import iter_transforms

__all__ = ["LocalizationLoader", "PlainImage", "collate_plain", "localization_loader", "localizing_views"]


class PlainImage:
    """One dataset image as the localization pass reads it (a marker the collate function finds).

    Attributes:
        tensor: The image, ``(3, S, S)`` float, resized to the training crop size and normalised as view 0 is.
        index: The image's dataset index, an int ``>= 0``.
    """

    __slots__ = ("index", "tensor")

    def __init__(self, tensor: torch.Tensor, index: int) -> None:
        self.tensor = tensor
        self.index = index

    def __repr__(self) -> str:
        return f"PlainImage(index={self.index}, shape={tuple(self.tensor.shape)})"


def _crop_size(views: Any) -> tuple[int, int]:
    """The output size of view 0's joint crop (found by kind, so the core need not import the transforms here)."""
    for joint in views.slots[0]:
        size = getattr(joint, "size", None)
        if getattr(joint, "kind", None) == "crop" and size is not None:
            height, width = (size, size) if isinstance(size, int) else (int(size[0]), int(size[-1]))
            if height > 1 and width > 1:
                return height, width
    raise ValueError(
        "the localization pass resizes each image to the training crop size, but view 0 of these JointViews holds "
        "no JointRandomResizedCrop with an output size: semantic boxes need the views' crop to be a joint crop"
    )


def _normalize(views: Any) -> tuple[list[float], list[float]] | None:
    """The mean and std of the first torchvision ``Normalize`` in view 0's pipeline (``None``: there is none)."""
    for transform in iter_transforms(views.view_transforms[0]):
        if type(transform).__name__ == "Normalize" and hasattr(transform, "mean") and hasattr(transform, "std"):
            return list(transform.mean), list(transform.std)
    return None


def _as_tensor(image: Any) -> torch.Tensor:
    """A PIL image, an ``(H, W[, C])`` uint8 array or a ``(C, H, W)`` tensor as a ``(3, H, W)`` float tensor in
    [0, 1] (uint8) or as it was (float). A tuple of inputs (lightly's transforms-v2 views: image, masks ...) gives
    its first image."""
    if isinstance(image, tuple):
        image = next((x for x in image if isinstance(x, (PIL.Image.Image, np.ndarray, torch.Tensor))), image)
    if isinstance(image, PIL.Image.Image):
        tensor = F.pil_to_tensor(image.convert("RGB"))
    elif isinstance(image, np.ndarray):
        array = image[..., None] if image.ndim == 2 else image
        tensor = torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)
    elif isinstance(image, torch.Tensor) and image.ndim == 3:
        tensor = image
    else:
        raise TypeError(
            f"the localization pass takes PIL images, (H, W, C) arrays or (C, H, W) tensors, got {type(image).__name__}"
            " (mmengine pipelines are read by the mm adapter's JointSemanticBoxHook instead)"
        )
    if tensor.shape[0] == 1:
        tensor = tensor.expand(3, -1, -1)
    if tensor.dtype == torch.uint8:
        return tensor.float().div_(255.0)
    return tensor.float()


def localizing_views(views: Any, image: Any) -> list[PlainImage]:
    """What :class:`~jointaug_plugins.JointViews` returns while a localization pass runs: for each view the same
    :class:`PlainImage` of ``image`` (resized to view 0's crop size, converted to a float tensor, normalised with
    the first ``Normalize`` of view 0's pipeline if it has one) and its dataset index.

    Args:
        views: The ``JointViews`` being called.
        image: The image it was called with (PIL, ``(H, W, C)`` array or ``(C, H, W)`` tensor).

    Raises:
        ValueError: no dataset index reached the transform (the dataset is not wrapped with
            :func:`~jointaug_plugins.indexed`), or view 0 holds no joint crop.
    """
    index = current_sample_index()
    if index is None:
        raise ValueError(
            "semantic boxes: the localization pass needs each image's dataset index, and none reached the "
            "transform: wrap the training dataset with jointaug_plugins.indexed(dataset) (mmengine's datasets pass "
            "sample_idx themselves)"
        )
    height, width = _crop_size(views)
    tensor = _as_tensor(image)
    tensor = F.resize(tensor, [height, width], interpolation=F.InterpolationMode.BILINEAR, antialias=True)
    statistics = _normalize(views)
    if statistics is not None:
        tensor = F.normalize(tensor, mean=statistics[0], std=statistics[1])
    plain = PlainImage(tensor.contiguous(), int(index))
    return [plain] * len(views)


def _first_marker(item: Any) -> PlainImage | None:
    if isinstance(item, PlainImage):
        return item
    children = item.values() if isinstance(item, Mapping) else item if isinstance(item, (list, tuple)) else ()
    for child in children:
        found = _first_marker(child)
        if found is not None:
            return found
    return None


class _PlainCollate:
    """The collate function of a localization loader; it holds the box table so that a spawned worker shares the
    parent's (its ``localizing`` flag included)."""

    def __init__(self, table: BoxTable) -> None:
        self.table = table

    def __call__(self, items: list[Any]) -> tuple[torch.Tensor, torch.Tensor]:
        return collate_plain(items)


def collate_plain(items: list[Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack the :class:`PlainImage` of each dataset item (found anywhere in it: lists, tuples, dicts) into
    ``(images (B, 3, S, S), indices (B,) int64)``.

    Raises:
        ValueError: an item holds no :class:`PlainImage` (its transform did not pass through joint views).
    """
    markers = []
    for position, item in enumerate(items):
        marker = _first_marker(item)
        if marker is None:
            raise ValueError(
                f"localization pass: dataset item {position} of the batch holds no PlainImage, so its transform "
                f"did not pass through JointViews while localizing (item: {type(item).__name__})"
            )
        markers.append(marker)
    images = torch.stack([m.tensor for m in markers])
    return images, torch.tensor([m.index for m in markers], dtype=torch.int64)


class LocalizationLoader:
    """A sequential ``DataLoader`` over the training dataset that sets the box table's ``localizing`` flag while
    it is iterated (and clears it when the iteration ends, is abandoned or fails). Yields ``(images, indices)``.
    ``len()`` is the number of batches of this rank; :attr:`num_samples` the dataset's length."""

    def __init__(self, loader: DataLoader, table: BoxTable, num_samples: int) -> None:
        self.loader = loader
        self.table = table
        self.num_samples = num_samples

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.table.localizing = True
        try:
            yield from self.loader
        finally:
            self.table.localizing = False

    def __len__(self) -> int:
        return len(self.loader)


def localization_loader(
    dataset: Any, batch_size: int = 64, num_workers: int = 0, *, multiprocessing_context: Any = None
) -> LocalizationLoader:
    """A loader of the localization pass over ``dataset`` (the training dataset itself, with its ``JointViews``).

    Every image once, in index order, none dropped. Under ``torch.distributed`` each rank reads its share
    (``DistributedSampler(shuffle=False)``, which pads the last share with the first images; the pass puts the
    boxes back by index).

    Args:
        dataset: The map-style training dataset, wrapped with :func:`~jointaug_plugins.indexed` (or any dataset
            whose transform sees its index).
        batch_size: Images per batch, an int ``>= 1``.
        num_workers: DataLoader worker processes, an int ``>= 0``.
        multiprocessing_context: As for ``DataLoader`` (``None``: the default start method).
    """
    check_int(batch_size, "batch_size", 1)
    check_int(num_workers, "num_workers", 0)
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        sampler: Any = DistributedSampler(dataset, shuffle=False, drop_last=False)
    else:
        sampler = SequentialSampler(dataset)
    table = box_table()
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=_PlainCollate(table),
        drop_last=False,
        multiprocessing_context=multiprocessing_context if num_workers else None,
    )
    return LocalizationLoader(loader, table, len(dataset))

"""Joint views made on the model's device, a batch at a time, in a training step or Lightning's hook.

The data loader yields single, un-augmented images of one size (``uint8`` or float, ``(N, C, H, W)``); a batch
views module (``JointResizedCropBatch`` or a recipe module of ``jointaug_plugins.adapters.kornia``: any
callable ``views(images) -> [view_1, view_2, ...]`` whose ``.options``, ``.views.options`` or ``.joint.options``
holds the parsed :class:`~jointaug_plugins.JointOptions`) makes the joint views after the batch reached the accelerator.

:func:`views_on_device` finds the image tensor in the usual batch shapes and puts the views in its place:

* a bare tensor ``images`` -> ``[v1, v2]``
* ``(images, targets)`` -> ``([v1, v2], targets)``
* ``(images, targets, names)`` (lightly's ``LightlyDataset``) -> ``([v1, v2], targets, names)``
* ``(idx, [images], targets)`` (solo-learn) -> ``(idx, [v1, v2], targets)``
* a mapping with one of the keys ``image``, ``images``, ``img``, ``inputs`` -> the same mapping, views there

so the training step reads the views exactly where the library's own loader put them. In Lightning, add
:class:`JointBatchViews` before ``LightningModule`` (or write the hook yourself)::

    class SimCLR(JointBatchViews, pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.joint_views = JointResizedCropBatch(32, crop=0.0)  # or SimCLRBatchViews(...)

    # or, without the mixin:
        def on_after_batch_transfer(self, batch, dataloader_idx):
            return views_on_device(batch, self.joint_views) if self.trainer.training else batch

Nothing here imports Lightning: the mixin only cooperates with ``LightningModule`` through ``super()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from ..options import JointOptions

__all__ = ["IMAGE_KEYS", "JointBatchViews", "joint_options_of", "views_on_device"]

#: The keys under which :func:`views_on_device` looks for the images of a mapping batch.
IMAGE_KEYS = ("image", "images", "img", "inputs")

_Views = Callable[..., Sequence[torch.Tensor]]  # views(images) or, reproducible, views(images, indices=...)


def joint_options_of(views: Any) -> JointOptions:
    """The parsed joint options of a batch views module: its ``.options``, ``.views.options`` (the core's
    ``JointResizedCropBatch``) or ``.joint.options`` (the kornia recipes' coordinator).

    Raises:
        TypeError: ``views`` carries no ``JointOptions`` (e.g. a kornia pipeline of its own): nothing says its
            views are joint, so it is refused rather than trained as if it were.
    """
    for holder in (views, getattr(views, "views", None), getattr(views, "joint", None)):
        options = getattr(holder, "options", None)
        if isinstance(options, JointOptions):
            return options
    raise TypeError(
        f"views must be a jointaug batch views module (JointResizedCropBatch, a recipe of "
        f"jointaug_plugins.adapters.kornia, or jointify([...]) of kornia augmentations), whose .options, "
        f".views.options or .joint.options holds its JointOptions; got {type(views).__name__}, which has none"
    )


def _is_images(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.ndim == 4


def _locate(batch: Any) -> tuple[Any, ...]:
    """Where the images are: ``()`` for a bare tensor, ``(i,)`` for ``batch[i]``, ``(i, 0)`` for solo's
    one-element list ``batch[i] = [images]``, ``(key,)`` for a mapping."""
    if _is_images(batch):
        return ()
    if isinstance(batch, Mapping):
        keys = [k for k in IMAGE_KEYS if k in batch and _is_images(batch[k])]
        if len(keys) == 1:
            return (keys[0],)
        raise ValueError(
            f"cannot tell which entry of the batch holds the images: the keys {list(IMAGE_KEYS)} give "
            f"{keys or 'none'} with an (N, C, H, W) tensor (batch keys: {list(batch)}); pass where= the key"
        )
    if isinstance(batch, (list, tuple)):
        found: list[tuple[int, ...]] = [(i,) for i, item in enumerate(batch) if _is_images(item)]
        lists = [
            (i, len(item))
            for i, item in enumerate(batch)
            if isinstance(item, (list, tuple)) and item and all(_is_images(x) for x in item)
        ]
        found += [(i, 0) for i, n in lists if n == 1]
        made = [i for i, n in lists if n > 1]
        if made and not found:
            raise ValueError(
                f"batch[{made[0]}] already holds {dict(lists)[made[0]]} views: the data loader makes views, and "
                "making joint views of them again would augment twice. Let the loader return single images (one "
                "fixed-size, un-augmented image per sample) or drop the batch views"
            )
        if len(found) == 1:
            return found[0]
        shapes = [type(x).__name__ if not isinstance(x, torch.Tensor) else tuple(x.shape) for x in batch]
        raise ValueError(
            f"cannot tell which entry of the batch holds the images: {len(found)} candidates (a 4-D tensor, or a "
            f"one-element list of one) among {shapes}; pass where= its position"
        )
    raise TypeError(
        f"batch must be an (N, C, H, W) tensor, a tuple / list (images, targets, ...), or a mapping with one of "
        f"the keys {list(IMAGE_KEYS)}; got {type(batch).__name__}"
    )


def _put(batch: Any, where: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``batch``'s containers with ``value`` at ``where`` (the other entries are the same objects)."""
    if not where:
        return value
    head, rest = where[0], where[1:]
    if isinstance(batch, Mapping):
        return {**batch, head: _put(batch[head], rest, value)}
    items = list(batch)
    items[head] = value if rest == (0,) else _put(items[head], rest, value)
    return items if isinstance(batch, list) else tuple(items)


def _get(batch: Any, where: tuple[Any, ...]) -> Any:
    for step in where:
        batch = batch[step]
    return batch


def views_on_device(
    batch: Any,
    views: _Views,
    where: int | str | None = None,
    *,
    indices: Sequence[int] | torch.Tensor | None = None,
) -> Any:
    """The batch with its images replaced by the list of joint views that ``views`` makes of them.

    Args:
        batch: A batch as the data loader (or Lightning, after the transfer) gives it; shapes in the module
            docstring. The images must be one ``(N, C, H, W)`` tensor (a fixed size: the loader resizes).
        views: The batch views module; it must carry its ``JointOptions`` (see :func:`joint_options_of`).
        where: Position (int) or key (str) of the images in ``batch`` where the default search is ambiguous
            (two 4-D tensors, e.g. images and masks); ``None`` to search.
        indices: The images' dataset indices, passed to ``views(images, indices=...)``; needed where the views
            are ``reproducible=True`` (each image's views a function of seed, epoch and index), e.g. solo's
            ``batch[0]``. ``None``: not passed.

    Returns:
        The batch's structure with the list ``[view_1, view_2, ...]`` where the images were (solo's ``[x]``
        becomes the list of views); the other entries are passed through untouched.

    Raises:
        TypeError: ``views`` carries no joint options, or the batch has no image tensor.
        ValueError: ambiguous or missing images, a batch that already holds several views (the loader
            augmented already: never augment twice), or ``views`` returning fewer than two views or views
            of another batch size.
    """
    joint_options_of(views)
    if where is None:
        path = _locate(batch)
    else:
        item = batch[where]
        if isinstance(item, (list, tuple)) and len(item) == 1:
            path = (where, 0)
        elif _is_images(item):
            path = (where,)
        else:
            raise ValueError(f"where={where!r} must point at an (N, C, H, W) tensor, found {type(item).__name__}")
    images = _get(batch, path)
    made = list(views(images) if indices is None else views(images, indices=indices))
    if len(made) < 2 or not all(isinstance(v, torch.Tensor) and v.shape[0] == images.shape[0] for v in made):
        shapes = [tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__ for v in made]
        raise ValueError(
            f"views must return a list of >= 2 view batches of {images.shape[0]} images each, got {shapes}"
        )
    return _put(batch, path, made)


class JointBatchViews:
    """Mixin for a ``LightningModule``: joint views made in ``on_after_batch_transfer`` (on the model's device).

    Put it before ``LightningModule`` in the bases and set ``self.joint_views`` (a batch views module, see
    :func:`views_on_device`) in ``__init__``. While the trainer trains, every batch's images are replaced by
    the list of views (``training_step`` receives ``[v1, v2]`` where the loader had put the images);
    validation, test and predict batches pass through unchanged (single images, e.g. for a kNN monitor).

    Attributes:
        joint_views: The batch views module (an ``nn.Module`` attribute moves to the model's device with it).
        joint_views_where: ``None`` to find the images, or their position / key (see :func:`views_on_device`).
    """

    joint_views: _Views
    joint_views_where: int | str | None = None

    def joint_views_indices(self, batch: Any) -> Sequence[int] | torch.Tensor | None:
        """The dataset indices of the batch's images, for ``reproducible=True`` views; ``None`` by default.
        Override it where the batch carries them (solo-learn: ``return batch[0]``)."""
        return None

    @property
    def joint_options(self) -> JointOptions:
        """The joint options of ``self.joint_views`` (what the views draw jointly)."""
        return joint_options_of(self._joint_views_module())

    def _joint_views_module(self) -> _Views:
        views = getattr(self, "joint_views", None)
        if views is None:
            raise AttributeError(f"{type(self).__name__} uses JointBatchViews but sets no self.joint_views")
        return views

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """Lightning's hook, after the batch reached the device: the joint views while training."""
        # A mixin: the LightningModule it is mixed into has the hook (Lightning's ModelHooks).
        batch = super().on_after_batch_transfer(batch, dataloader_idx)  # type: ignore[misc]
        # Lightning raises when no trainer is attached; outside fit there is nothing to augment.
        trainer = getattr(self, "_trainer", None)
        if trainer is None or not trainer.training:
            return batch
        views = self._joint_views_module()
        return views_on_device(batch, views, self.joint_views_where, indices=self.joint_views_indices(batch))

"""``JointSemanticBoxHook``: the mmengine Runner updates ContrastiveCrop's semantic boxes and keeps them in checkpoints.

With ``jointaug = dict(..., position=dict(alpha=0.6, boxes="semantic", ...))`` the Runner switch registers it
beside :class:`~jointaug_plugins.adapters.mm.epoch.JointEpochHook` (through :func:`with_semantic_hook`). After each
train epoch that :func:`~jointaug_plugins.localize.due` names (``runner.epoch`` is 0-based; an iteration-based loop
counts passes through the train dataloader as epochs, as ``JointEpochHook`` does) it runs the localization pass
(:func:`~jointaug_plugins.localize.update_semantic_boxes`) with the model's backbone over the train dataset: each
image read by the pipeline's steps before the ``JointMultiView`` (loading), resized to view 0's crop size, converted
and normalised by the model's ``data_preprocessor`` (its ``mean``, ``std`` and channel order), in ``sample_idx``
order (``DistributedSampler(shuffle=False)`` under DDP, the boxes all-gathered). The boxes are stored in checkpoints
under ``checkpoint['jointaug_boxes']`` and restored when a run resumes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmengine.runner import IterBasedTrainLoop
from torch.utils.data import DataLoader, DistributedSampler, SequentialSampler

from ...boxtable import box_table
from ...localize import due, update_semantic_boxes
from ...transforms.views import JointViews

__all__ = ["CHECKPOINT_KEY", "JointSemanticBoxHook", "with_semantic_hook"]

CHECKPOINT_KEY = "jointaug_boxes"


def _is_semantic(views: Any) -> bool:
    return isinstance(views, JointViews) and getattr(views.options.position, "semantic", False)


def _base_dataset(dataset: Any) -> Any:
    """The dataset whose ``sample_idx`` the views see, through index-preserving wrappers (``RepeatDataset``,
    ``ClassBalancedDataset``: they hand the base dataset's own index on)."""
    while not hasattr(dataset, "pipeline") and hasattr(dataset, "dataset"):
        dataset = dataset.dataset
    if not hasattr(dataset, "pipeline") or not hasattr(dataset, "get_data_info"):
        raise ValueError(
            f"semantic boxes: the train dataset {type(dataset).__name__} is no mmengine BaseDataset (or a wrapper "
            "of one, such as RepeatDataset): its images cannot be read in sample_idx order. A ConcatDataset numbers "
            "each part from 0, so one box table cannot serve it"
        )
    return dataset


def _crop_size(multiview: Any) -> tuple[int, int]:
    """``(height, width)`` of view 0's crop: mmselfsup's ``RandomResizedCrop.size``, mmcls' / mmpretrain's
    ``scale`` (both ``(h, w)`` or an int)."""
    for step in getattr(multiview.pipelines[0], "transforms", []):
        if getattr(getattr(step, "joint_source", None), "kind", None) == "crop":
            size = getattr(step, "size", None) or step.scale
            return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    raise ValueError("semantic boxes: view 0 of the JointMultiView holds no joint RandomResizedCrop")


class PlainMMDataset(torch.utils.data.Dataset):
    """The train dataset's images as the localization pass reads them: ``get_data_info(i)`` through the pipeline's
    steps before the ``JointMultiView``, then ``results['img']`` resized to ``size``; items ``(uint8 (3, H, W) image
    in the pipeline's channel order, sample_idx)``."""

    def __init__(self, dataset: Any, steps: Sequence[Any], size: tuple[int, int]) -> None:
        self.dataset, self.steps, self.size = dataset, list(steps), size

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        import mmcv

        results = self.dataset.get_data_info(index)
        for step in self.steps:
            results = step(results)
            if results is None:
                raise ValueError(f"semantic boxes: the pipeline step {step} dropped image {index}")
        image = mmcv.imresize(results["img"], (self.size[1], self.size[0]), interpolation="bilinear")
        image = image[..., None] if image.ndim == 2 else image
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
        return tensor.expand(3, -1, -1) if tensor.shape[0] == 1 else tensor, int(results.get("sample_idx", index))


def _normalised_forward(model: Any) -> Any:
    """Run the backbone on uint8 images converted as the model's ``data_preprocessor`` converts its inputs."""
    preprocessor = getattr(model, "data_preprocessor", None)

    def forward(module: Any, images: torch.Tensor) -> Any:
        x = images.float()
        if getattr(preprocessor, "_channel_conversion", False):
            x = x[:, [2, 1, 0]]
        if getattr(preprocessor, "_enable_normalize", False):
            x = (x - preprocessor.mean.to(x)) / preprocessor.std.to(x)
        backbone = getattr(module, "backbone", None)
        return backbone(x) if backbone is not None else module(x, mode="tensor")

    return forward


@HOOKS.register_module()
class JointSemanticBoxHook(Hook):
    """Update ContrastiveCrop's semantic boxes between epochs (see the module's docstring); inert unless the train
    pipeline's ``JointMultiView`` has ``position`` with ``boxes="semantic"``.

    Args:
        batch_size: Images per batch of the localization pass, an int >= 1; default the train loader's.
        num_workers: Its DataLoader workers, an int >= 0; default the train loader's.
        progress: Show a progress bar on rank 0 (needs ``tqdm``).
    """

    priority = "NORMAL"

    def __init__(self, batch_size: int | None = None, num_workers: int | None = None, progress: bool = True) -> None:
        self.batch_size, self.num_workers, self.progress = batch_size, num_workers, progress
        self._multiview: Any = None
        self._dataset: Any = None

    def before_train(self, runner: Any) -> None:
        self._multiview = self._dataset = None
        dataset = _base_dataset(runner.train_dataloader.dataset)
        for step in getattr(dataset.pipeline, "transforms", []):
            if _is_semantic(getattr(step, "joint_views", None)):
                self._multiview, self._dataset = step, dataset
                return

    def after_train_epoch(self, runner: Any) -> None:
        if self._multiview is not None and not isinstance(runner.train_loop, IterBasedTrainLoop):
            self._update_if_due(runner, runner.epoch, runner.max_epochs)

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        if self._multiview is None or not isinstance(runner.train_loop, IterBasedTrainLoop):
            return
        try:
            passes = len(runner.train_dataloader)
        except TypeError:  # no length: passes through the data cannot be counted
            return
        done = runner.iter + 1  # runner.iter is the iteration just trained (0-based)
        if done % passes == 0:
            self._update_if_due(runner, done // passes - 1, runner.max_iters // passes)

    def _update_if_due(self, runner: Any, epoch: int, max_epochs: int | None) -> None:
        position = self._multiview.joint_views.options.position
        if not due(epoch, position, max_epochs):
            return
        train = runner.train_dataloader
        steps = self._dataset.pipeline.transforms
        plain = PlainMMDataset(self._dataset, steps[: steps.index(self._multiview)], _crop_size(self._multiview))
        distributed = dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
        workers = getattr(train, "num_workers", 0) if self.num_workers is None else self.num_workers
        loader = DataLoader(
            plain,
            batch_size=self.batch_size or getattr(train, "batch_size", None) or 64,
            sampler=DistributedSampler(plain, shuffle=False) if distributed else SequentialSampler(plain),
            num_workers=workers,
            multiprocessing_context=getattr(train, "multiprocessing_context", None) if workers else None,
            drop_last=False,
        )
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        boxes = update_semantic_boxes(
            model,
            loader,
            layer=position.layer,
            threshold=position.threshold,
            progress=self.progress and runner.rank == 0,
            num_samples=len(plain),
            forward=_normalised_forward(model),
        )
        if runner.rank == 0:
            area = float(((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).mean())
            runner.logger.info(
                f"[jointaug] semantic boxes updated (epoch {epoch}, {len(boxes)} boxes, mean area {area:.3f})"
            )

    def before_save_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        boxes = box_table().get() if self._multiview is not None else None
        if boxes is not None:
            checkpoint[CHECKPOINT_KEY] = {"boxes": boxes}

    def after_load_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        if checkpoint.get(CHECKPOINT_KEY) is not None:
            box_table().load_state_dict(checkpoint[CHECKPOINT_KEY])


def with_semantic_hook(hooks: Any, views: Sequence[Any]) -> list:
    """``custom_hooks`` plus one :class:`JointSemanticBoxHook` where one of ``views`` (the ``JointMultiView``
    objects the switch built) has semantic boxes and the hooks hold none yet; else the hooks as they are."""
    hooks = list(hooks or [])
    if not any(_is_semantic(getattr(v, "joint_views", None)) for v in views):
        return hooks
    for hook in hooks:
        kind = hook.get("type") if isinstance(hook, Mapping) else type(hook)
        name = kind.rsplit(".", 1)[-1] if isinstance(kind, str) else getattr(kind, "__name__", "")
        if name == "JointSemanticBoxHook":
            return hooks
    return [*hooks, JointSemanticBoxHook()]

"""Lightning callback: ContrastiveCrop's semantic boxes, updated by the model between epochs and kept in checkpoints.

Every Lightning ``Trainer`` loads one from this package's entry point (with the epoch callback, see
:mod:`jointaug_plugins.adapters.solo.guard`), so lightly's examples, solo-learn's ``main_pretrain.py`` or any
LightningModule get the updates without a line of code. It is inert unless the train dataloader holds a
:class:`~jointaug_plugins.JointViews` whose ``position`` has ``boxes="semantic"``. Then, after each training epoch
that :func:`~jointaug_plugins.localize.due` names (0-based: ``warmup=20, interval=20`` updates after epoch 19, 39
...), it runs the localization pass (:func:`~jointaug_plugins.localize.update_semantic_boxes`) with the
LightningModule over the training dataset (a new sequential loader, ``DistributedSampler(shuffle=False)`` under
DDP, the boxes all-gathered), sets the box table every DataLoader worker reads, and logs on rank 0::

    [jointaug] semantic boxes updated (epoch 19, 1281167 boxes, mean area 0.612)

The boxes are saved in Lightning checkpoints (``checkpoint["callbacks"]``) and restored when a run resumes.

``JointSemanticBoxes`` subclasses the ``Callback`` of whichever of ``pytorch_lightning`` and ``lightning.pytorch``
is installed (of both when both are); Lightning is imported when the class is first used. Pass one yourself only to
choose the pass's batch size or workers (the automatic one then stands aside).
"""

from __future__ import annotations

import functools
import importlib
import sys
import warnings
from collections.abc import Mapping
from typing import Any

from ..boxtable import box_table
from ..drawlog import find_joint_views
from ..localize import due, localization_loader, update_semantic_boxes

__all__ = ["JointSemanticBoxes", "semantic_box_callbacks", "semantic_views"]  # noqa: F822 - made by __getattr__

STATE_KEY = "JointSemanticBoxes"


def semantic_views(obj: Any) -> list[Any]:
    """The :class:`~jointaug_plugins.JointViews` reachable from ``obj`` whose ``position`` has semantic boxes."""
    return [v for v in find_joint_views(obj) if getattr(getattr(v.options, "position", None), "semantic", False)]


def _loaders(train_dataloader: Any) -> list[Any]:
    """The loaders inside Lightning's ``trainer.train_dataloader`` (one loader, or a list / dict of them)."""
    if isinstance(train_dataloader, Mapping):
        return [x for value in train_dataloader.values() for x in _loaders(value)]
    if isinstance(train_dataloader, (list, tuple)):
        return [x for value in train_dataloader for x in _loaders(value)]
    return [] if train_dataloader is None else [train_dataloader]


class _SemanticLogic:
    """Update ContrastiveCrop's semantic boxes between epochs (Lightning callback; see the module's docstring).

    Args:
        batch_size: Images per batch of the localization pass, an int >= 1; default the train loader's.
        num_workers: Its DataLoader workers, an int >= 0; default the train loader's.
        progress: Show a progress bar on rank 0 (needs ``tqdm``).
    """

    def __init__(
        self,
        batch_size: int | None = None,
        num_workers: int | None = None,
        progress: bool = True,
        *,
        auto: bool = False,
    ) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.progress = progress
        # The instance Lightning loads from the entry point stands aside for one the user passed.
        self.auto = auto
        self._views: list[Any] = []
        self._loader: Any = None

    @property
    def state_key(self) -> str:
        # Distinct keys, so that the automatic instance and one passed by the user can both be in a Trainer.
        return f"{STATE_KEY}[auto]" if self.auto else STATE_KEY

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._views, self._loader = [], None
        if self.auto and any(isinstance(c, _SemanticLogic) and not c.auto for c in trainer.callbacks):
            return
        for loader in _loaders(trainer.train_dataloader):
            views = semantic_views(getattr(loader, "dataset", None))
            if views:
                self._views, self._loader = views, loader
                break
        else:
            if semantic_views(trainer.train_dataloader):
                warnings.warn(
                    "position boxes='semantic' is set, but the train dataloader is no DataLoader with a dataset: "
                    "the semantic boxes cannot be updated by the Lightning callback",
                    stacklevel=2,
                )
        positions = {v.options.position for v in self._views}
        if len(positions) > 1:
            raise ValueError(
                f"the train data holds joint views with different semantic-box settings {sorted(map(repr, positions))}"
                ": one box table serves them all, so give them one position"
            )

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if not self._views:
            return
        position = self._views[0].options.position
        epoch = trainer.current_epoch
        if not due(epoch, position, trainer.max_epochs):
            return
        train = self._loader
        loader = localization_loader(
            train.dataset,
            self.batch_size or getattr(train, "batch_size", None) or 64,
            getattr(train, "num_workers", 0) if self.num_workers is None else self.num_workers,
            multiprocessing_context=getattr(train, "multiprocessing_context", None),
        )
        boxes = update_semantic_boxes(
            pl_module,
            loader,
            layer=position.layer,
            threshold=position.threshold,
            device=pl_module.device,
            progress=self.progress and trainer.is_global_zero,
        )
        if trainer.is_global_zero:
            area = float(((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).mean())
            print(
                f"[jointaug] semantic boxes updated (epoch {epoch}, {len(boxes)} boxes, mean area {area:.3f})",
                file=sys.stderr,
            )

    def state_dict(self) -> dict[str, Any]:
        boxes = box_table().get() if self._views else None
        return {} if boxes is None else {"boxes": boxes}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        # The table is the process's: whichever instance holds the saved boxes restores them.
        if state_dict.get("boxes") is not None:
            box_table().load_state_dict({"boxes": state_dict["boxes"]})


def _callback_bases() -> tuple[type, ...]:
    bases = []
    for module in ("pytorch_lightning", "lightning.pytorch"):
        try:
            bases.append(importlib.import_module(module).Callback)
        except ImportError:
            pass
    if not bases:
        raise ImportError("JointSemanticBoxes needs Lightning: pip install pytorch-lightning (or lightning)")
    return tuple(bases)


@functools.cache
def _semantic_class(module_name: str | None) -> type:
    bases = _callback_bases() if module_name is None else (importlib.import_module(module_name).Callback,)
    return type(
        "JointSemanticBoxes",
        (_SemanticLogic, *bases),
        {"__module__": __name__, "__qualname__": "JointSemanticBoxes", "__doc__": _SemanticLogic.__doc__},
    )


def semantic_box_callbacks(module_name: str) -> list[Any]:
    """The automatic instance for Lightning's callbacks factory of ``module_name`` (``"lightning.pytorch"`` or
    ``"pytorch_lightning"``): a list of one callback, inert unless the train data has semantic boxes."""
    return [_semantic_class(module_name)(auto=True)]


def __getattr__(name: str) -> Any:
    if name != "JointSemanticBoxes":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    cls = _semantic_class(None)
    globals()["JointSemanticBoxes"] = cls
    return cls

"""Lightning guard: a ``jointaug`` block that did not make the train views joint stops training; and the epoch.

Registered in ``pyproject.toml`` under Lightning's external-callback entry-point groups
(``lightning.pytorch.callbacks_factory`` and ``pytorch_lightning.callbacks_factory``), which every
``Trainer`` loads when it is built. It does two things:

* **The epoch.** In a process whose joint views use the epoch (a β schedule, reproducible draws), it sets
  it (:func:`jointaug_plugins.epoch.sync_epoch`) when ``fit`` is set up, before the first epoch's DataLoader
  workers start, and at every train epoch start, on every rank. So any Lightning trainer (lightly's
  examples, solo-learn's ``main_pretrain.py``) moves β schedules without a line of user code; rank 0 prints
  the β in force at each epoch start (``[jointaug] epoch 3: crop β=1.25``). Elsewhere it does nothing.
* **The guard**, inert unless the LightningModule carries a solo-style ``cfg`` whose ``jointaug`` block
  switches something on; then, at train start, it walks
``trainer.train_dataloader`` (dataset, ``transform`` ...) and raises unless it finds this package's joint
views with at least one pair. That catches a ``jointaug:`` block written into a solo YAML without the
``- jointaug: crop`` group line (or the hydra callback): solo-learn ignores the key and would otherwise
train with independent views.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from ...drawlog import find_joint_views
from ...epoch import sync_epoch
from .options import GROUP_LINE, get, parse_block


class JointAugMissingError(RuntimeError):
    """The config asks for joint views but the trainer's train dataloader does not make them."""


def check_views(cfg: Any, views: Sequence[Any]) -> None:
    """The guard's check: raise :class:`JointAugMissingError` if ``cfg``'s ``jointaug`` block switches something on
    but none of ``views`` (the :class:`~jointaug_plugins.JointViews` found in the train data) is joint.

    Inert (returns) when ``cfg`` has no ``jointaug`` block, or the block switches nothing on (``crop``, ``blur``
    and ``color`` all null: the explicit opt-out). The block is parsed only when no joint views were found (the
    hydra callback parsed it where they were).
    """
    block = get(cfg, "jointaug") if cfg is not None else None
    if block is None:
        return
    switched_on = [v for v in views if v.options.has_effect]
    # Joint pairs, or crops placed by `position` alone (ContrastiveCrop without JointCrop).
    joint = [v for v in switched_on if v.pairs or not v.options.switched_on]
    if joint:
        pairs = joint[0].pairs if len(joint) == 1 else [v.pairs for v in joint]
        described = joint[0].options.describe()
        print(f"[jointaug] guard: train views are joint ({described}), pairs {pairs}", file=sys.stderr)
        return
    options = parse_block(block)
    if options is None or not options.has_effect:
        return
    found = "jointaug's, with no joint pair" if switched_on else "not jointaug's JointFullTransformPipeline"
    raise JointAugMissingError(
        f"jointaug: the config has a `jointaug:` block ({options.describe()}) but the train dataloader's transform "
        f"is {found}, so training would use independent views: solo-learn ignores a `jointaug:` block by itself. "
        f"Fix: add the line `{GROUP_LINE}` to the YAML's `defaults:` list, above `- _self_` (the block may stay; its "
        "values then win over the group's). To train without joint views, delete the block (or set jointaug.crop, "
        "jointaug.blur and jointaug.color to null)."
    )


def check_trainer(trainer: Any, pl_module: Any) -> None:
    """Raise :class:`JointAugMissingError` if ``pl_module.cfg.jointaug`` is on but the views are not joint
    (:func:`check_views` on the joint views of the train dataloader, else of the datamodule)."""
    cfg = getattr(pl_module, "cfg", None)
    if cfg is None or get(cfg, "jointaug") is None:
        return
    # Under data.format: dali the loader is DALI's iterator; the joint views sit in solo's datamodule.
    views = find_joint_views(trainer.train_dataloader) or find_joint_views(getattr(trainer, "datamodule", None))
    check_views(cfg, views)


def scheduled_views(trainer: Any) -> list[Any]:
    """The ``JointViews`` with a β schedule in the trainer's train data (dataloader, else datamodule)."""
    views = find_joint_views(trainer.train_dataloader) or find_joint_views(getattr(trainer, "datamodule", None))
    return [v for v in views if v.plan.scheduled]


class _GuardLogic:
    """The guard's hooks; mixed into the ``Callback`` class of the Lightning package that loads it."""

    _scheduled: list[Any] | None = None

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        # Before the fit loop starts the first epoch's workers (Lightning creates that iterator before
        # on_train_epoch_start); a resumed run's epoch is set again at its first epoch start.
        if stage == "fit":
            sync_epoch(trainer.current_epoch)

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        check_trainer(trainer, pl_module)

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        epoch = trainer.current_epoch
        if not sync_epoch(epoch) or not trainer.is_global_zero:
            return
        if self._scheduled is None:
            self._scheduled = scheduled_views(trainer)
        # One line per epoch where a schedule moves β: the run's log shows what each epoch draws with.
        for views in self._scheduled:
            betas = ", ".join(f"{kind} β={spec.beta:g}" for kind, spec in views.plan.specs_at(epoch).items())
            print(f"[jointaug] epoch {epoch}: {betas}", file=sys.stderr)


@functools.cache
def _guard_class(module_name: str) -> type:
    base = importlib.import_module(module_name).Callback
    return type("JointAugGuard", (_GuardLogic, base), {"__doc__": _GuardLogic.__doc__, "__module__": __name__})


def lightning_guard() -> list[Any]:
    """Entry point of ``lightning.pytorch.callbacks_factory``: the guard as a ``lightning.pytorch`` callback."""
    from ..semantic_lightning import semantic_box_callbacks  # inert unless views use semantic boxes

    return [_guard_class("lightning.pytorch")(), *semantic_box_callbacks("lightning.pytorch")]


def pytorch_lightning_guard() -> list[Any]:
    """Entry point of ``pytorch_lightning.callbacks_factory``: the guard as a ``pytorch_lightning`` callback."""
    from ..semantic_lightning import semantic_box_callbacks

    return [_guard_class("pytorch_lightning")(), *semantic_box_callbacks("pytorch_lightning")]

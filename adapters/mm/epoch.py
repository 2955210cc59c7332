"""``JointEpochHook``: the mmengine Runner tells joint views the training epoch (β schedules, reproducible draws).

The Runner switch registers it on every Runner it builds, beside the config's own ``custom_hooks`` (so
mmengine's hook table lists it, and the config's list is not replaced), with the line saying what is joint
that it logs when training starts. It sets the epoch through :func:`jointaug_plugins.epoch.sync_epoch`, so it
does nothing in a process whose joint views use no epoch. Epoch-based loops: ``runner.epoch`` before each
train epoch (before the loop iterates its DataLoader). Iteration-based loops have no epochs: one pass
through the train DataLoader counts as one (``runner.iter // len(train_dataloader)``).
"""

from __future__ import annotations

from typing import Any

from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop

from ...epoch import sync_epoch


class JointEpochHook(Hook):
    """Set the epoch of joint views before each train epoch (or pass through the data)."""

    priority = "VERY_HIGH"  # before any hook that might touch the data of the epoch

    def __init__(self, announce: str | None = None) -> None:
        #: A line logged (rank 0) when training starts: what is joint (the Runner switch sets it).
        self.announce = announce

    def before_train(self, runner: Any) -> None:
        if self.announce and runner.rank == 0:
            runner.logger.info(self.announce)
        sync_epoch(self._epoch_of(runner))

    def before_train_epoch(self, runner: Any) -> None:
        sync_epoch(runner.epoch)

    def before_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None) -> None:
        if isinstance(runner.train_loop, IterBasedTrainLoop):
            sync_epoch(self._epoch_of(runner))

    @staticmethod
    def _epoch_of(runner: Any) -> int:
        if not isinstance(runner.train_loop, IterBasedTrainLoop):
            return runner.epoch
        try:
            passes = len(runner.train_dataloader)
        except TypeError:  # a DataLoader without a length: iterations cannot be counted in passes
            return 0
        return runner.iter // max(passes, 1)

"""Lightning callback that logs what the joint transforms drew in each training epoch.

``JointDrawLogger`` subclasses the ``Callback`` of whichever of ``pytorch_lightning`` and
``lightning.pytorch`` is installed (of both when both are), so it works with either trainer. The
Lightning package is imported when the class is first used, not when this module is imported.

Usage::

    from jointaug_plugins.adapters.lightning import JointDrawLogger

    trainer = pl.Trainer(callbacks=[JointDrawLogger()], logger=TensorBoardLogger("logs"))

At each train epoch end it logs, per augmentation kind and for joint / independent pairs,
``jointaug/{kind}/{group}/{n, p_ratio_gt_2, p_ratio_lt_half, mean_abs_log_ratio, rms_log_ratio}`` and, for
joint pairs, ``jointaug/{kind}/joint/beta`` (the mean β in force: a β schedule's value)
through ``pl_module.log_dict`` (so every logger and ``trainer.callback_metrics`` get them) and, for
loggers whose ``experiment`` has ``add_histogram_raw`` (TensorBoard), the histogram of
``ln(p2 / p1)``. Under DDP the ranks' counts are summed before logging. The epoch that moves a β schedule
needs no callback of its own: every Lightning ``Trainer`` loads this package's epoch callback from its
entry point (:mod:`jointaug_plugins.adapters.solo.guard`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..drawlog import DrawLogSession, raw_histograms
from ..drawlog.session import SessionReadouts

__all__ = ["JointDrawLogger"]  # noqa: F822 - made on first access by __getattr__


def _callback_bases() -> tuple[type, ...]:
    bases = []
    try:
        import pytorch_lightning

        bases.append(pytorch_lightning.Callback)
    except ImportError:
        pass
    try:
        import lightning.pytorch

        bases.append(lightning.pytorch.Callback)
    except ImportError:
        pass
    if not bases:
        raise ImportError("JointDrawLogger needs Lightning: pip install pytorch-lightning (or lightning)")
    return tuple(bases)


class _DrawLoggerLogic(SessionReadouts):
    """Log the joint draws of each training epoch (Lightning callback).

    Args:
        source: Where the ``JointViews`` are (a transform, dataset, DataLoader, or a list of them).
            Default: searched in the LightningModule, the datamodule and the dataloaders given to
            ``fit`` at setup, else in ``trainer.train_dataloader`` at train start (too late for the
            first epoch's workers, which are already running: a warning says so).
        directory: Where the worker processes write their summaries; default a temporary directory
            removed at the end of ``fit``. Each rank uses ``directory/rank-<global rank>``.
        quantities: See :class:`~jointaug_plugins.drawlog.DrawLogSink`.
        prefix: Prefix of the logged names.
        log_histogram: Also log the histograms of ``ln(p2/p1)`` to loggers that support it.
        flush_every, flush_seconds: See :class:`~jointaug_plugins.drawlog.DrawLogSink`.
    """

    def __init__(
        self,
        source: Any = None,
        directory: str | Path | None = None,
        quantities: Mapping[str, str | None] | None = None,
        prefix: str = "jointaug",
        log_histogram: bool = True,
        flush_every: int = 64,
        flush_seconds: float = 1.0,
    ) -> None:
        super().__init__()
        self.source = source
        self.prefix = prefix
        self.log_histogram = log_histogram
        self.session = DrawLogSession(directory, quantities, flush_every, flush_seconds)

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if stage != "fit" or self.session.attached:
            return
        if self.source is not None:
            if not self.session.attach([self.source], trainer.global_rank):
                raise ValueError(f"JointDrawLogger: no JointViews found in source={type(self.source).__name__}")
            return
        data_source = getattr(getattr(trainer, "fit_loop", None), "_data_source", None)
        candidates = [pl_module, trainer.datamodule, getattr(data_source, "instance", None)]
        self.session.attach(candidates, trainer.global_rank)

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if self.session.attached:
            return
        if self.session.attach([trainer.train_dataloader], trainer.global_rank):
            warnings.warn(
                "JointDrawLogger found the JointViews only in the running train dataloader: draws made by DataLoader "
                "workers already started are not logged (the first epoch's, or every epoch's with persistent "
                "workers). Pass JointDrawLogger(source=<dataset or transform>) to log from the start.",
                stacklevel=2,
            )
        else:
            warnings.warn("JointDrawLogger: no JointViews found in the model or its data; nothing to log", stacklevel=2)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if not self.session.attached:
            return

        def sum_ranks(tensor):
            return trainer.strategy.reduce(tensor.to(pl_module.device), reduce_op="sum")

        summary = self.session.end_period(sum_ranks if getattr(trainer, "world_size", 1) > 1 else None)
        if summary.empty:
            return
        pl_module.log_dict(summary.metrics(self.prefix), on_step=False, on_epoch=True)
        if self.log_histogram and trainer.is_global_zero:
            for logger in getattr(trainer, "loggers", []):
                add = getattr(getattr(logger, "experiment", None), "add_histogram_raw", None)
                if add is not None:
                    for histogram in raw_histograms(summary, self.prefix):
                        add(**histogram, global_step=trainer.global_step)

    def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if stage == "fit":
            self.session.close()


_CLASS: type | None = None


def __getattr__(name: str) -> Any:
    global _CLASS
    if name != "JointDrawLogger":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _CLASS is None:
        _CLASS = type(
            "JointDrawLogger",
            (_DrawLoggerLogic, *_callback_bases()),
            {"__module__": __name__, "__qualname__": "JointDrawLogger", "__doc__": _DrawLoggerLogic.__doc__},
        )
        globals()["JointDrawLogger"] = _CLASS
    return _CLASS

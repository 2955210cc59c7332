"""Lightning callback that logs what the joint transforms drew in each training epoch.

``JointDrawLogger`` subclasses the ``Callback`` of whichever of ``pytorch_lightning`` and
``lightning.pytorch`` is installed (of both when both are), so it works with either trainer. The
Lightning package is imported when the class is first used, not when this module is imported.

Usage::

    from jointaug_plugins.adapters.lightning import JointDrawLogger

    trainer = pl.Trainer(callbacks=[JointDrawLogger()], logger=TensorBoardLogger("logs"))

At each train epoch end it logs, per augmentation kind and for joint / independent pairs,
``jointaug/{kind}/{group}/{n, p_ratio_gt_2, p_ratio_lt_half, mean_abs_log_ratio, rms_log_ratio}``
through ``pl_module.log_dict`` (so every logger and ``trainer.callback_metrics`` get them) and, for
loggers whose ``experiment`` has ``add_histogram_raw`` (TensorBoard), the histogram of
``ln(p2 / p1)``. Under DDP the ranks' counts are summed before logging.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..drawlog import LOG_RATIO_EDGES, DrawLogSink, DrawSummary, attach_draw_log, find_joint_views, reduce_summary

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


class _DrawLoggerLogic:
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
        self.directory = None if directory is None else Path(directory)
        self.quantities = quantities
        self.prefix = prefix
        self.log_histogram = log_histogram
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self.sink: DrawLogSink | None = None
        self.last_summary: DrawSummary | None = None  # the last epoch's, summed over ranks
        self.rank_summary: DrawSummary | None = None  # the last epoch's, this rank's own
        self._own_directory: Path | None = None
        self._views: list[Any] = []
        self._previous_sinks: list[Any] = []

    def _attach(self, trainer: Any, candidates: list[Any]) -> bool:
        candidates = [c for c in candidates if c is not None]
        if not candidates or not find_joint_views(candidates):
            return False
        if self.directory is None:
            self._own_directory = Path(tempfile.mkdtemp(prefix="jointaug-draws-"))
            directory = self._own_directory
        else:
            directory = self.directory / f"rank-{trainer.global_rank}"
        self._views = find_joint_views(candidates)
        self._previous_sinks = [jv.draw_sink for jv in self._views]
        self.sink = attach_draw_log(
            candidates,
            directory=directory,
            quantities=self.quantities,
            flush_every=self.flush_every,
            flush_seconds=self.flush_seconds,
        )
        return True

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if stage != "fit" or self.sink is not None:
            return
        if self.source is not None:
            if not self._attach(trainer, [self.source]):
                raise ValueError(f"JointDrawLogger: no JointViews found in source={type(self.source).__name__}")
            return
        data_source = getattr(getattr(trainer, "fit_loop", None), "_data_source", None)
        self._attach(trainer, [pl_module, trainer.datamodule, getattr(data_source, "instance", None)])

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if self.sink is not None:
            return
        if self._attach(trainer, [trainer.train_dataloader]):
            warnings.warn(
                "JointDrawLogger found the JointViews only in the running train dataloader: draws made by DataLoader "
                "workers already started are not logged (the first epoch's, or every epoch's with persistent "
                "workers). Pass JointDrawLogger(source=<dataset or transform>) to log from the start.",
                stacklevel=2,
            )
        else:
            warnings.warn("JointDrawLogger: no JointViews found in the model or its data; nothing to log", stacklevel=2)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self.sink is None:
            return
        summary = self.sink.collect()
        self.rank_summary = summary
        world = getattr(trainer, "world_size", 1)

        def sum_ranks(tensor):
            return trainer.strategy.reduce(tensor.to(pl_module.device), reduce_op="sum")

        summary = reduce_summary(summary, self.sink.quantities, sum_ranks if world > 1 else None)
        self.last_summary = summary
        if summary.empty:
            return
        metrics = summary.metrics(self.prefix)
        pl_module.log_dict(metrics, on_step=False, on_epoch=True)
        if self.log_histogram and trainer.is_global_zero:
            self._log_histograms(trainer, summary)

    def _log_histograms(self, trainer: Any, summary: DrawSummary) -> None:
        import numpy as np

        limits = LOG_RATIO_EDGES[1:].tolist()
        for logger in getattr(trainer, "loggers", []):
            experiment = getattr(logger, "experiment", None)
            add = getattr(experiment, "add_histogram_raw", None)
            if add is None:
                continue
            for key, g in summary.groups.items():
                if g["n"] == 0:
                    continue
                counts = np.asarray(g["hist"], dtype=np.float64)
                filled = np.nonzero(counts)[0]
                add(
                    tag=f"{self.prefix}/{key}/log_ratio",
                    min=float(LOG_RATIO_EDGES[filled[0]]),
                    max=float(LOG_RATIO_EDGES[filled[-1] + 1]),
                    num=int(g["n"]),
                    sum=float((counts * (LOG_RATIO_EDGES[:-1] + LOG_RATIO_EDGES[1:]) / 2).sum()),
                    sum_squares=float(g["sum_sq"]),
                    bucket_limits=limits,
                    bucket_counts=counts.tolist(),
                    global_step=trainer.global_step,
                )

    def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if stage != "fit":
            return
        for jv, previous in zip(self._views, self._previous_sinks):
            jv.draw_sink = previous
        self._views, self._previous_sinks, self.sink = [], [], None
        if self._own_directory is not None:
            shutil.rmtree(self._own_directory, ignore_errors=True)
            self._own_directory = None


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

"""mmengine hook that logs what the joint transforms drew during training.

Registered as ``JointDrawLoggerHook`` in mmengine's root ``HOOKS`` registry and, when installed, in
mmselfsup's and mmpretrain's ``HOOKS`` (children of the root, so ``default_scope='mmselfsup'`` or
``'mmpretrain'`` finds it either way). In a config::

    custom_imports = dict(imports=['jointaug_plugins.adapters.mmengine_hooks'], allow_failed_imports=False)
    custom_hooks = [dict(type='JointDrawLoggerHook', interval=50)]

``JointEpochHook`` (registered here too) tells joint views the epoch (β schedules, reproducible draws); the
mmselfsup / mmpretrain switch adds it to every Runner itself, so it is only needed with joint views built
some other way: ``custom_hooks = [dict(type='JointEpochHook')]``.

At each train epoch end (for iteration-based loops: at the end of training, and every ``interval``
iterations) the hook sums the draws of the epoch over workers and ranks and writes
``jointaug/{kind}/{group}/{n, p_ratio_gt_2, p_ratio_lt_half, mean_abs_log_ratio, rms_log_ratio}``
(``group``: ``joint`` or ``independent``; ratios ``p2/p1`` of crop area, blur sigma, brightness) and
``jointaug/{kind}/joint/beta`` (the mean β in force: a β schedule's value):

* to the message hub: ``runner.message_hub.get_info('jointaug_draws')`` holds the epoch summary
  (metrics, counts and histogram of ``ln(p2/p1)``); every ``interval`` iterations the metrics of
  the epoch so far are also updated as ``train/jointaug/...`` scalars, which the ``LoggerHook``
  prints with its regular lines and sends to the visualizer;
* to the visualizer backends (``add_scalars`` at step = epochs done; histograms to backends whose
  ``experiment`` has ``add_histogram_raw``, i.e. TensorBoard);
* to the log: one line per epoch.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from typing import Any

try:
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS
except ImportError as err:  # pragma: no cover - only without mmengine
    raise ImportError(
        "jointaug_plugins.adapters.mmengine_hooks needs mmengine: pip install 'jointaug-plugins[mmpretrain]'"
    ) from err

from .._checks import check_int
from ..drawlog import LOG_RATIO_EDGES, DrawLogSession, DrawSummary, raw_histograms
from ..drawlog.session import SessionReadouts
from .mm.epoch import JointEpochHook

__all__ = ["JointDrawLoggerHook", "JointEpochHook"]


class JointDrawLoggerHook(SessionReadouts, Hook):
    """Log the joint draws of each training epoch (mmengine hook).

    Args:
        interval: Every ``interval`` training iterations, update the ``train/{prefix}/...`` scalars of
            the message hub with the epoch so far (``None`` or 0: only at epoch end).
        source: Where the ``JointViews`` are; default the runner's train dataloader (its dataset's
            pipeline, searched recursively: ``JointMultiView``, any transform holding a ``JointViews``).
        directory: Where the DataLoader workers write their summaries; default a temporary directory
            removed after the run. Each rank uses ``directory/rank-<rank>``.
        quantities: See :class:`~jointaug_plugins.drawlog.DrawLogSink`.
        prefix: Prefix of the logged names.
        log_histogram: Also write histograms of ``ln(p2/p1)`` to visualizer backends that support it.
        flush_every, flush_seconds: See :class:`~jointaug_plugins.drawlog.DrawLogSink`.
    """

    priority = "NORMAL"  # before LoggerHook (BELOW_NORMAL), so its lines carry the updated scalars

    def __init__(
        self,
        interval: int | None = None,
        source: Any = None,
        directory: str | None = None,
        quantities: Mapping[str, str | None] | None = None,
        prefix: str = "jointaug",
        log_histogram: bool = True,
        flush_every: int = 64,
        flush_seconds: float = 1.0,
    ) -> None:
        check_int(interval, "interval", 0, optional=True)
        self.interval = interval or 0
        self.source = source
        self.prefix = prefix
        self.log_histogram = log_histogram
        self.session = DrawLogSession(directory, quantities, flush_every, flush_seconds)

    def before_train(self, runner) -> None:
        if self.session.attached:
            return
        target = self.source if self.source is not None else runner.train_dataloader
        if not self.session.attach([target], runner.rank):
            runner.logger.warning(
                f"JointDrawLoggerHook: no JointViews found in {type(target).__name__}; nothing to log"
            )
            return
        self._restart_started_workers(runner)

    @staticmethod
    def _restart_started_workers(runner) -> None:
        """Iteration-based loops start their DataLoader workers when the loop is built, before any hook
        runs: restart them so that they copy the transform with the sink (no batch has been used yet)."""
        loop = runner.train_loop
        old = getattr(loop, "dataloader_iterator", None)
        dataloader = getattr(loop, "dataloader", None)
        if old is None or getattr(dataloader, "num_workers", 0) == 0:
            return
        try:
            inner = getattr(old, "_iterator", None)
            if inner is not None:
                inner._shutdown_workers()
                # Closing the old index stream now (not whenever it is collected) keeps the order below.
                getattr(inner, "_sampler_iter", None).close()
                if getattr(dataloader, "_iterator", None) is inner:  # persistent workers
                    dataloader._iterator = None
            sampler = dataloader.sampler
            if hasattr(sampler, "_indices_of_rank") and hasattr(sampler, "indices"):
                # mmengine's InfiniteSampler shares one index generator between its iterators, and
                # closing the old iterator closed it: start it again (same seed, same order).
                sampler.indices = sampler._indices_of_rank()
            loop.dataloader_iterator = type(old)(dataloader)
        except Exception as err:  # an unknown loop: keep it running, say what is lost
            runner.logger.warning(
                f"JointDrawLoggerHook: could not restart the running DataLoader workers ({err!r}); "
                "draws of their first pass through the data are not logged"
            )

    @staticmethod
    def _sum_ranks(runner):
        if runner.world_size <= 1:
            return None
        from mmengine import dist

        def sum_ranks(tensor):
            dist.all_reduce(tensor, op="sum")
            return tensor

        return sum_ranks

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        if not self.session.attached or not self.interval or not self.every_n_train_iters(runner, self.interval):
            return
        self.session.collect()
        summary = self.session.reduced(self._sum_ranks(runner))
        if not summary.empty:
            runner.message_hub.update_scalars({f"train/{k}": v for k, v in summary.metrics(self.prefix).items()})

    def after_train_epoch(self, runner) -> None:
        if not self.session.attached:
            return
        summary = self.session.end_period(self._sum_ranks(runner))
        if summary.empty:
            return
        metrics = summary.metrics(self.prefix)
        step = runner.epoch + 1
        runner.message_hub.update_info(
            f"{self.prefix}_draws",
            {
                "epoch": step,
                "metrics": metrics,
                "summary": summary.to_json(),
                "log_ratio_edges": LOG_RATIO_EDGES.tolist(),
            },
        )
        runner.visualizer.add_scalars(metrics, step=step)
        if self.log_histogram and runner.rank == 0:
            self._histograms(runner, summary, step)
        parts = [f"{self.prefix} draws, epoch {step}: {summary.images} images"]
        for key in sorted(summary.groups):
            g = summary.groups[key]
            if g["n"]:
                base = f"{self.prefix}/{key}"
                beta = f" β={metrics[base + '/beta']:g}" if base + "/beta" in metrics else ""
                parts.append(
                    f"{key}: n={g['n']} P(r>2)={metrics[base + '/p_ratio_gt_2']:.4f} "
                    f"mean|ln r|={metrics[base + '/mean_abs_log_ratio']:.4f}{beta}"
                )
        runner.logger.info("; ".join(parts))

    def _histograms(self, runner, summary: DrawSummary, step: int) -> None:
        backends = getattr(runner.visualizer, "_vis_backends", {}) or {}
        for backend in backends.values():
            try:
                add = getattr(backend.experiment, "add_histogram_raw", None)
            except Exception:  # a backend that cannot start: skip its histograms
                add = None
            if add is not None:
                for histogram in raw_histograms(summary, self.prefix):
                    add(**histogram, global_step=step)

    def after_run(self, runner) -> None:
        self.session.close()


def _register() -> None:
    hooks = {"JointDrawLoggerHook": JointDrawLoggerHook, "JointEpochHook": JointEpochHook}
    for name, hook in hooks.items():
        HOOKS.register_module(name=name, module=hook, force=True)
    # The libraries' own registries are children of mmengine's: lookups from them reach the root
    # anyway; registering there too makes scoped names ('mmselfsup.JointDrawLoggerHook') work.
    for package in ("mmselfsup", "mmpretrain"):
        if importlib.util.find_spec(package) is None:
            continue
        try:
            registry = importlib.import_module(f"{package}.registry").HOOKS
        except Exception:  # a broken optional install must not break mmengine users
            continue
        for name, hook in hooks.items():
            registry.register_module(name=name, module=hook, force=True)


_register()

"""One training run's draw logging, shared by the trainer adapters (Lightning callback, mmengine hook).

A :class:`DrawLogSession` attaches a :class:`~jointaug_plugins.drawlog.sink.DrawLogSink` to every
``JointViews`` of the run's data, gathers each period's draws from the worker processes
(:meth:`~DrawLogSession.collect`), sums them over distributed ranks (:func:`reduce_summary`, through a
``tensor -> tensor`` sum the adapter passes in), and at the end restores the sinks it found and removes
its temporary directory. It imports no trainer library; the adapters only map their trainer's events
onto it and write the results to their trainer's loggers.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from .attach import find_joint_views, set_sink
from .ratios import DEFAULT_QUANTITIES
from .sink import DrawLogSink, check_flush
from .summary import GROUPS, DrawSummary

SumAcrossRanks = Callable[[torch.Tensor], Any]


def summary_keys(summary: DrawSummary, kinds: Iterable[str] = DEFAULT_QUANTITIES) -> list[str]:
    """A sorted list of ``kind/group`` keys covering ``kinds`` and whatever ``summary`` holds; under
    ``torch.distributed`` the union over all ranks (every rank must use the same list)."""
    import torch.distributed as dist

    keys = {f"{k}/{g}" for k in kinds for g in GROUPS} | set(summary.groups)
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        gathered: list[Any] = [None] * dist.get_world_size()
        dist.all_gather_object(gathered, sorted(keys))
        keys = set().union(*map(set, gathered))
    return sorted(keys)


def reduce_summary(
    summary: DrawSummary, kinds: Iterable[str], sum_across_ranks: SumAcrossRanks | None = None
) -> DrawSummary:
    """The sum of every rank's ``summary``.

    Args:
        summary: This rank's summary.
        kinds: The kinds every rank logs (e.g. the sink's ``quantities`` keys).
        sum_across_ranks: ``tensor -> tensor`` summing over ranks (Lightning's
            ``trainer.strategy.reduce(t, reduce_op="sum")``, ``mmengine.dist.all_reduce``); ``None``
            when not distributed.
    """
    if sum_across_ranks is None:
        return summary
    keys = summary_keys(summary, kinds)
    vector = torch.as_tensor(summary.to_vector(keys), dtype=torch.float64)
    reduced = sum_across_ranks(vector)
    return DrawSummary.from_vector(torch.as_tensor(reduced).detach().cpu().double().numpy(), keys)


class DrawLogSession:
    """The draw logging of one training run on one rank.

    Args:
        directory: Where the worker processes write their summaries; default a temporary directory
            removed by :meth:`close`. Given a directory, rank ``r`` writes into ``directory/rank-<r>``.
        quantities: See :class:`~jointaug_plugins.drawlog.DrawLogSink`.
        flush_every: Images after which a process appends its pending summary, ``>= 1``.
        flush_seconds: Seconds between a DataLoader worker's background flushes, ``> 0``.

    Attributes:
        sink: The attached sink, ``None`` before :meth:`attach` succeeds and after :meth:`close`.
        period: This rank's draws collected since the last :meth:`end_period`.
        rank_summary: The last ended period's draws of this rank alone.
        last_summary: The last ended period's draws summed over ranks.
    """

    def __init__(
        self,
        directory: str | Path | None = None,
        quantities: Mapping[str, str | None] | None = None,
        flush_every: int = 64,
        flush_seconds: float = 1.0,
    ) -> None:
        check_flush(flush_every, flush_seconds)
        self.directory = None if directory is None else Path(directory)
        self.quantities = quantities
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self.sink: DrawLogSink | None = None
        self.period = DrawSummary()
        self.rank_summary: DrawSummary | None = None
        self.last_summary: DrawSummary | None = None
        self._own_directory: Path | None = None
        self._views: list[Any] = []
        self._previous_sinks: list[Any] = []

    @property
    def attached(self) -> bool:
        """A sink is attached (:meth:`attach` found joint views)."""
        return self.sink is not None

    def attach(self, candidates: Sequence[Any], rank: int = 0) -> bool:
        """Attach a new sink to every ``JointViews`` inside ``candidates`` (``None`` entries are skipped);
        ``False`` when there is none (nothing changes). ``rank``: this process's global rank."""
        candidates = [c for c in candidates if c is not None]
        views = find_joint_views(candidates) if candidates else []
        if not views:
            return False
        if self.directory is None:
            self._own_directory = Path(tempfile.mkdtemp(prefix="jointaug-draws-"))
            directory = self._own_directory
        else:
            directory = self.directory / f"rank-{rank}"
        self._views = views
        self._previous_sinks = [jv.draw_sink for jv in views]
        self.sink = DrawLogSink(
            directory, quantities=self.quantities, flush_every=self.flush_every, flush_seconds=self.flush_seconds
        )
        set_sink(views, self.sink)
        return True

    def collect(self) -> DrawSummary:
        """Add the draws that reached the directory since the last call to :attr:`period`; returns it."""
        if self.sink is not None:
            self.period.merge(self.sink.collect())
        return self.period

    def reduced(self, sum_across_ranks: SumAcrossRanks | None = None) -> DrawSummary:
        """:attr:`period` summed over ranks (every rank must call this together when ``sum_across_ranks`` is set)."""
        kinds = self.sink.quantities if self.sink is not None else DEFAULT_QUANTITIES
        return reduce_summary(self.period, kinds, sum_across_ranks)

    def end_period(self, sum_across_ranks: SumAcrossRanks | None = None) -> DrawSummary:
        """Collect, sum over ranks and close the period (an epoch): sets and returns :attr:`last_summary`."""
        self.collect()
        self.rank_summary = self.period
        self.last_summary = self.reduced(sum_across_ranks)
        self.period = DrawSummary()
        return self.last_summary

    def close(self) -> None:
        """Give every ``JointViews`` back the sink it had before :meth:`attach`; remove the temporary directory."""
        for jv, previous in zip(self._views, self._previous_sinks):
            jv.draw_sink = previous
        self._views, self._previous_sinks, self.sink = [], [], None
        if self._own_directory is not None:
            shutil.rmtree(self._own_directory, ignore_errors=True)
            self._own_directory = None


class SessionReadouts:
    """What a trainer's draw logger exposes of its :class:`DrawLogSession` (``self.session``): the Lightning
    callback and the mmengine hook both inherit it."""

    session: DrawLogSession

    @property
    def sink(self) -> DrawLogSink | None:
        """The attached sink (``None`` outside the run)."""
        return self.session.sink

    @property
    def last_summary(self) -> DrawSummary | None:
        """The last epoch's draws, summed over ranks."""
        return self.session.last_summary

    @property
    def rank_summary(self) -> DrawSummary | None:
        """The last epoch's draws of this rank alone."""
        return self.session.rank_summary

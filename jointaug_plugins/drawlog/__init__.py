"""Training-time logging of what the joint transforms draw.

The draws happen wherever the views are made: in DataLoader worker processes (started by ``fork``
or ``spawn``), in several distributed ranks, or in the main process. :class:`DrawLogSink` is set as
:attr:`JointViews.draw_sink <jointaug_plugins.JointViews>`; every copy of it (one per process)
turns each image's :class:`~jointaug_plugins.draw.DrawRecord` list into the log-ratios
``t = ln(p2 / p1)`` of its pairs (crop area, blur sigma, brightness factor), aggregates them in a
small :class:`DrawSummary`, and now and then appends that summary as one JSON line to its own file
``<directory>/draws-<host>-<pid>-<id>.jsonl``. The main process (a trainer callback or hook) calls
:meth:`DrawLogSink.collect`, which reads the lines added since its last call from every file of the
directory. Files and append-only lines need nothing shared between processes but the directory, so
this works the same under ``fork``, ``spawn``, persistent workers and DDP (a directory per rank;
the trainer adapters sum the ranks' summaries with an all-reduce).

A worker flushes after ``flush_every`` images, every ``flush_seconds`` (a background thread), and
when it exits. So an epoch's summary holds the draws that reached the directory by the epoch's end:
the draws of the last ``flush_seconds`` before it (mostly batches prefetched for later steps) are
counted in the next epoch's summary, and after the last epoch they are not logged.

:func:`attach_draw_log` finds every :class:`JointViews` inside a transform, dataset, DataLoader or
any object holding one (lightly's ``MultiViewTransform`` subclasses, mm pipelines) and sets the sink.

Modules: :mod:`.ratios` (what of a draw record is counted), :mod:`.summary` (the counts, histograms,
their JSON and vector forms), :mod:`.sink` (the per-process sink), :mod:`.attach` (finding the
coordinators), :mod:`.session` (a training run's logging, shared by the trainer adapters
``jointaug_plugins.adapters.lightning`` and ``jointaug_plugins.adapters.mmengine_hooks``).
"""

from .attach import attach_draw_log, find_joint_views
from .ratios import DEFAULT_QUANTITIES, pair_log_ratios
from .session import DrawLogSession, reduce_summary, summary_keys
from .sink import ChainedSink, DrawLogSink
from .summary import GROUPS, LOG_RATIO_EDGES, N_BINS, DrawSummary, raw_histograms

__all__ = [
    "DEFAULT_QUANTITIES",
    "GROUPS",
    "LOG_RATIO_EDGES",
    "N_BINS",
    "ChainedSink",
    "DrawLogSession",
    "DrawLogSink",
    "DrawSummary",
    "attach_draw_log",
    "find_joint_views",
    "pair_log_ratios",
    "raw_histograms",
    "reduce_summary",
    "summary_keys",
]

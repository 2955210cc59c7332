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
"""

from __future__ import annotations

import json
import math
import multiprocessing.util
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType
from typing import Any

import numpy as np
import torch

from .draw import DrawRecord

# Fixed bins of the log-ratio t = ln(p2/p1): 0.1 wide on [-4, 4]; values outside go to the end bins.
# (Crop 0.08-1.0 reaches |t| = 2.53, blur 0.1-2.0 reaches 3.0.)
LOG_RATIO_EDGES = np.linspace(-4.0, 4.0, 81)
N_BINS = len(LOG_RATIO_EDGES) - 1
GROUPS = ("joint", "independent")
# What each kind's ratio is taken of: a key of the record's params, or "key.index" for a list entry.
DEFAULT_QUANTITIES: dict[str, str] = {"crop": "area", "blur": "sigma", "color": "factors.0"}
_SKIP_KEYS = frozenset({"top", "left", "height", "width", "apply", "order"})
_STATS = ("n", "sum_abs", "sum_sq", "gt2", "lt_half")


class DrawSummary:
    """Counts of the log-ratios ``t = ln(p2/p1)`` of drawn pairs, per ``kind/group``.

    ``group`` is ``"joint"`` (the pair was drawn jointly) or ``"independent"`` (a pair of views
    drawn independently, e.g. a kind that is off, or turned off for the pair by ``crop_or_blur``).
    Summaries add up (:meth:`merge`) and travel as JSON (:meth:`to_json`) or as a flat vector for an
    all-reduce (:meth:`to_vector`).
    """

    def __init__(self) -> None:
        self.images = 0
        self.groups: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _empty_group() -> dict[str, Any]:
        return {"n": 0, "sum_abs": 0.0, "sum_sq": 0.0, "gt2": 0, "lt_half": 0, "hist": np.zeros(N_BINS, np.int64)}

    def group(self, key: str) -> dict[str, Any]:
        """The counts of ``key`` (``"crop/joint"`` ...), created empty if absent."""
        if key not in self.groups:
            self.groups[key] = self._empty_group()
        return self.groups[key]

    def add(self, kind: str, joint: bool, log_ratio: float) -> None:
        """Count one pair of ``kind`` with log-ratio ``log_ratio``."""
        g = self.group(f"{kind}/{'joint' if joint else 'independent'}")
        g["n"] += 1
        g["sum_abs"] += abs(log_ratio)
        g["sum_sq"] += log_ratio * log_ratio
        g["gt2"] += log_ratio > math.log(2.0)
        g["lt_half"] += log_ratio < -math.log(2.0)
        index = int(np.searchsorted(LOG_RATIO_EDGES, log_ratio, side="right")) - 1
        g["hist"][min(max(index, 0), N_BINS - 1)] += 1

    def merge(self, other: DrawSummary) -> DrawSummary:
        """Add ``other``'s counts to this summary (in place); returns ``self``."""
        self.images += other.images
        for key, theirs in other.groups.items():
            mine = self.group(key)
            for stat in _STATS:
                mine[stat] += theirs[stat]
            mine["hist"] = mine["hist"] + theirs["hist"]
        return self

    @property
    def empty(self) -> bool:
        """No image was counted."""
        return self.images == 0

    def to_json(self) -> dict[str, Any]:
        """JSON-able form; histograms are sparse ``{bin index: count}``."""
        groups = {}
        for key, g in self.groups.items():
            entry = {stat: g[stat] for stat in _STATS}
            entry["n"] = int(entry["n"])
            entry["gt2"] = int(entry["gt2"])
            entry["lt_half"] = int(entry["lt_half"])
            entry["hist"] = {str(i): int(c) for i, c in enumerate(g["hist"]) if c}
            groups[key] = entry
        return {"images": self.images, "groups": groups}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DrawSummary:
        """Inverse of :meth:`to_json`."""
        summary = cls()
        summary.images = int(data.get("images", 0))
        for key, entry in data.get("groups", {}).items():
            g = summary.group(key)
            for stat in _STATS:
                g[stat] = entry[stat]
            for i, c in entry.get("hist", {}).items():
                g["hist"][int(i)] = int(c)
        return summary

    def to_vector(self, keys: Sequence[str]) -> np.ndarray:
        """``[images, then for each key: n, sum_abs, sum_sq, gt2, lt_half, hist...]`` as float64."""
        parts = [np.array([self.images], np.float64)]
        for key in keys:
            g = self.groups.get(key) or self._empty_group()
            parts.append(np.array([g[s] for s in _STATS], np.float64))
            parts.append(g["hist"].astype(np.float64))
        return np.concatenate(parts)

    @classmethod
    def from_vector(cls, vector: Sequence[float], keys: Sequence[str]) -> DrawSummary:
        """Inverse of :meth:`to_vector` (e.g. after summing the vectors of all ranks)."""
        v = np.asarray(vector, np.float64)
        width = len(_STATS) + N_BINS
        if v.shape != (1 + width * len(keys),):
            raise ValueError(f"vector of length {v.size} does not match {len(keys)} keys")
        summary = cls()
        summary.images = int(np.rint(v[0]))
        for k, key in enumerate(keys):
            chunk = v[1 + k * width : 1 + (k + 1) * width]
            if chunk[0] == 0:
                continue
            g = summary.group(key)
            for i, stat in enumerate(_STATS):
                g[stat] = chunk[i] if stat.startswith("sum") else int(np.rint(chunk[i]))
            g["hist"] = np.rint(chunk[len(_STATS) :]).astype(np.int64)
        return summary

    def metrics(self, prefix: str = "jointaug") -> dict[str, float]:
        """Flat scalars per group: ``{prefix}/{kind}/{group}/`` + ``n`` (pairs), ``p_ratio_gt_2``,
        ``p_ratio_lt_half``, ``mean_abs_log_ratio``, ``rms_log_ratio``; and ``{prefix}/images``."""
        out = {f"{prefix}/images": float(self.images)}
        for key in sorted(self.groups):
            g = self.groups[key]
            n = g["n"]
            if n == 0:
                continue
            base = f"{prefix}/{key}"
            out[f"{base}/n"] = float(n)
            out[f"{base}/p_ratio_gt_2"] = g["gt2"] / n
            out[f"{base}/p_ratio_lt_half"] = g["lt_half"] / n
            out[f"{base}/mean_abs_log_ratio"] = g["sum_abs"] / n
            out[f"{base}/rms_log_ratio"] = math.sqrt(g["sum_sq"] / n)
        return out

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}: n={g['n']}" for k, g in sorted(self.groups.items()))
        return f"DrawSummary(images={self.images}, {inner})"


def _quantity(params: Mapping[str, Any], key: str | None) -> float | None:
    if key is None:  # the first real-valued parameter that is not a box coordinate or a flag
        for name, value in params.items():
            if name not in _SKIP_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        return None
    name, _, index = key.partition(".")
    value = params.get(name)
    if index and isinstance(value, (list, tuple)):
        value = value[int(index)] if int(index) < len(value) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def pair_log_ratios(
    records: Iterable[DrawRecord], quantities: Mapping[str, str | None] | None = None
) -> list[tuple[str, bool, float]]:
    """``(kind, joint, ln(p_b / p_a))`` for every pair of views in one image's records.

    Views ``a < b`` of a pair are matched per kind and per occurrence (a view holding two crops pairs
    its first crop with the other view's first crop). Kinds absent from ``quantities`` use their first
    real-valued parameter; pairs whose values are missing or not positive are skipped.
    """
    quantities = DEFAULT_QUANTITIES if quantities is None else quantities
    occurrence: dict[tuple[int, str], int] = {}
    slots: dict[tuple[int, str, int], list[tuple[int, float | None, bool]]] = {}
    for record in records:
        n = occurrence.get((record.view, record.kind), 0)
        occurrence[(record.view, record.kind)] = n + 1
        if record.pair is None:
            continue
        value = _quantity(record.params, quantities.get(record.kind))
        slots.setdefault((record.pair, record.kind, n), []).append((record.view, value, record.joint))
    out = []
    for (_, kind, _), entries in slots.items():
        if len(entries) != 2:
            continue
        (_, first, joint_a), (_, second, joint_b) = sorted(entries, key=lambda e: e[0])
        if first is None or second is None or first <= 0 or second <= 0:
            continue
        out.append((kind, joint_a and joint_b, math.log(second / first)))
    return out


class DrawLogSink:
    """A picklable :attr:`JointViews.draw_sink` that aggregates draws per process into ``directory``.

    Args:
        directory: Where each process appends its summaries; created if missing. Give each
            distributed rank its own directory (the trainer adapters do).
        quantities: ``kind -> params key`` whose ratio is logged (``"key.i"``: entry ``i`` of a list);
            default crop ``area``, blur ``sigma``, color ``factors.0`` (brightness). Other kinds use
            their first real-valued parameter.
        flush_every: Images after which a process appends its pending summary, ``>= 1``.
        flush_seconds: In DataLoader workers a background thread appends the pending summary every
            ``flush_seconds`` (``> 0``), so draws reach the directory even while a worker waits.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        quantities: Mapping[str, str | None] | None = None,
        flush_every: int = 64,
        flush_seconds: float = 1.0,
    ) -> None:
        if isinstance(flush_every, bool) or not isinstance(flush_every, int) or flush_every < 1:
            raise ValueError(f"flush_every must be an int >= 1, got {flush_every!r}")
        if not isinstance(flush_seconds, (int, float)) or not flush_seconds > 0:
            raise ValueError(f"flush_seconds must be a number > 0, got {flush_seconds!r}")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.quantities = dict(DEFAULT_QUANTITIES if quantities is None else quantities)
        self.flush_every = flush_every
        self.flush_seconds = float(flush_seconds)
        self.token = uuid.uuid4().hex[:8]
        self._reset_process()
        self._offsets: dict[str, int] = {}

    def _reset_process(self) -> None:
        self._pid = os.getpid()
        self._pending = DrawSummary()
        self._lock = threading.Lock()
        self._finalizer: Any = None
        self._flusher: threading.Thread | None = None

    def _ensure_process(self) -> None:
        # A forked copy starts with the parent's pending counts, which belong to the parent.
        if self._pid != os.getpid():
            self._reset_process()
        if self._finalizer is None and multiprocessing.parent_process() is not None:
            # Run at a multiprocessing child's exit (DataLoader workers end this way): flush the rest.
            self._finalizer = multiprocessing.util.Finalize(self, self.flush, exitpriority=10)
        if self._flusher is None and torch.utils.data.get_worker_info() is not None:
            # Only in workers: the main process flushes in collect(), and forking a process that runs
            # threads is best avoided.
            self._flusher = threading.Thread(target=self._flush_loop, name="jointaug-draw-log", daemon=True)
            self._flusher.start()

    def _flush_loop(self) -> None:
        while True:
            time.sleep(self.flush_seconds)
            self.flush()

    @property
    def path(self) -> Path:
        """This process's file."""
        return self.directory / f"draws-{socket.gethostname()}-{os.getpid()}-{self.token}.jsonl"

    def __call__(self, records: list[DrawRecord]) -> None:
        self._ensure_process()
        ratios = pair_log_ratios(records, self.quantities)
        with self._lock:
            self._pending.images += 1
            for kind, joint, log_ratio in ratios:
                self._pending.add(kind, joint, log_ratio)
            if self._pending.images >= self.flush_every:
                self._write_pending()

    def flush(self) -> None:
        """Append this process's pending summary to its file (one JSON line, one write)."""
        if self._pid != os.getpid():
            self._reset_process()
            return
        with self._lock:
            self._write_pending()

    def _write_pending(self) -> None:
        if self._pending.empty:
            return
        line = json.dumps(self._pending.to_json(), separators=(",", ":")) + "\n"
        self._pending = DrawSummary()
        try:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
        except OSError:  # the directory was removed under us (training over): nothing to log into
            pass

    def collect(self) -> DrawSummary:
        """The draws appended by every process since the previous ``collect`` (main process only)."""
        self.flush()
        total = DrawSummary()
        for file in sorted(self.directory.glob("draws-*.jsonl")):
            start = self._offsets.get(file.name, 0)
            try:
                with open(file, "rb") as f:
                    f.seek(start)
                    data = f.read()
            except OSError:
                continue
            end = data.rfind(b"\n") + 1  # a line still being written is read next time
            for line in data[:end].splitlines():
                if line.strip():
                    total.merge(DrawSummary.from_json(json.loads(line)))
            self._offsets[file.name] = start + end
        return total

    def __getstate__(self) -> dict[str, Any]:
        return {
            "directory": self.directory,
            "quantities": self.quantities,
            "flush_every": self.flush_every,
            "flush_seconds": self.flush_seconds,
            "token": self.token,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset_process()
        self._offsets = {}

    def __repr__(self) -> str:
        return f"DrawLogSink(directory={str(self.directory)!r}, quantities={self.quantities})"


class ChainedSink:
    """Call several draw sinks in turn (picklable if they are)."""

    def __init__(self, *sinks: Any) -> None:
        self.sinks = list(sinks)

    def __call__(self, records: list[DrawRecord]) -> None:
        for sink in self.sinks:
            sink(records)


_ATOMS = (
    str,
    bytes,
    bytearray,
    int,
    float,
    complex,
    bool,
    type,
    ModuleType,
    FunctionType,
    BuiltinFunctionType,
    MethodType,
    np.ndarray,
    Path,
)
_MAX_CHILDREN = 256  # longer containers are data (a dataset's sample list), not pipelines


def _children(obj: Any) -> Iterable[Any]:
    if isinstance(obj, Mapping):
        return list(obj.values()) if len(obj) <= _MAX_CHILDREN else ()
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj) if len(obj) <= _MAX_CHILDREN else ()
    module = type(obj).__module__ or ""
    if module.split(".")[0] in ("multiprocessing", "threading", "queue", "_thread", "socket", "io", "logging"):
        return ()
    try:
        attributes = vars(obj)
    except TypeError:
        return ()
    return list(attributes.values())


def find_joint_views(obj: Any, max_depth: int = 10) -> list[Any]:
    """Every :class:`~jointaug_plugins.JointViews` reachable from ``obj`` through attributes, lists,
    tuples and dicts (at most ``max_depth`` steps; containers longer than 256 entries are skipped).

    Works without knowing the library: a DataLoader's ``dataset``, a dataset's ``transform`` or
    ``pipeline``, lightly's ``MultiViewTransform``, an mm ``Compose`` holding a joint multi-view ...
    """
    from .transforms.views import JointViews

    found, seen = [], set()
    stack = [(obj, 0)]
    while stack:
        item, depth = stack.pop()
        if id(item) in seen or item is None:
            continue
        seen.add(id(item))
        if isinstance(item, JointViews):
            found.append(item)
        if depth >= max_depth or isinstance(item, (*_ATOMS, torch.Tensor, torch.Generator)):
            continue
        for child in reversed(list(_children(item))):
            stack.append((child, depth + 1))
    return found


def attach_draw_log(
    target: Any,
    sink: DrawLogSink | None = None,
    directory: str | os.PathLike[str] | None = None,
    **sink_options: Any,
) -> DrawLogSink:
    """Set a :class:`DrawLogSink` on every ``JointViews`` inside ``target``.

    Attach before the DataLoader starts its workers: workers copy the transform when they start.

    Args:
        target: A transform, dataset, DataLoader, or anything holding them (searched recursively),
            or a list of such objects.
        sink: The sink to set; default a new one writing into ``directory``.
        directory: For a new sink; default a new temporary directory.
        **sink_options: More arguments of :class:`DrawLogSink`.

    Returns:
        The sink; call its ``collect()`` to read the draws made since the previous call.

    Raises:
        ValueError: ``target`` holds no ``JointViews``.
    """
    views = find_joint_views(target)
    if not views:
        raise ValueError(
            f"attach_draw_log: no JointViews found in {type(target).__name__}; pass the transform, dataset or "
            "DataLoader whose views are made by JointViews (jointify, the adapters' Joint* transforms)"
        )
    if sink is None:
        if directory is None:
            directory = tempfile.mkdtemp(prefix="jointaug-draws-")
        sink = DrawLogSink(directory, **sink_options)
    elif sink_options or directory is not None:
        raise ValueError("attach_draw_log: give either sink or directory/options for a new sink, not both")
    for jv in views:
        current = jv.draw_sink
        if current is None or isinstance(current, DrawLogSink) or current is sink:
            jv.draw_sink = sink
        elif isinstance(current, ChainedSink):
            current.sinks = [s for s in current.sinks if not isinstance(s, DrawLogSink)] + [sink]
        else:
            jv.draw_sink = ChainedSink(current, sink)
    return sink


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


def reduce_summary(summary: DrawSummary, kinds: Iterable[str], sum_across_ranks: Any = None) -> DrawSummary:
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

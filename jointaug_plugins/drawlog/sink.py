"""The draw sink: set as ``JointViews.draw_sink``, it aggregates draws per process into one file each.

Every copy of a :class:`DrawLogSink` (one per process: DataLoader workers started by ``fork`` or
``spawn``, distributed ranks, the main process) turns each image's draw records into pair log-ratios,
adds them to a pending :class:`~jointaug_plugins.drawlog.summary.DrawSummary`, and now and then appends
that summary as one JSON line to its own file ``<directory>/draws-<host>-<pid>-<id>.jsonl``. The main
process reads the lines added since its last call from every file with :meth:`DrawLogSink.collect`.
"""

from __future__ import annotations

import json
import multiprocessing.util
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from .._checks import check_int
from ..draw import DrawRecord
from .ratios import DEFAULT_QUANTITIES, pair_log_ratios
from .summary import DrawSummary


def check_flush(flush_every: Any, flush_seconds: Any) -> None:
    """Raise ``ValueError`` unless ``flush_every`` is an int ``>= 1`` and ``flush_seconds`` a number ``> 0``."""
    check_int(flush_every, "flush_every", 1)
    if isinstance(flush_seconds, bool) or not isinstance(flush_seconds, (int, float)) or not flush_seconds > 0:
        raise ValueError(f"flush_seconds must be a number > 0, got {flush_seconds!r}")


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
        check_flush(flush_every, flush_seconds)
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
            for kind, joint, log_ratio, beta in ratios:
                self._pending.add(kind, joint, log_ratio, beta)
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

"""The training epoch, set on the trainer's side and read wherever views are drawn.

β schedules and reproducible draws depend on the epoch, but the draws happen in DataLoader workers
(started by ``fork`` or ``spawn``, persistent or not) and in several distributed ranks, while the epoch is
known to the trainer. One small mechanism carries it: an int64 in shared memory
(``multiprocessing.RawValue``), made once per process. A coordinator that needs the epoch holds it, so it
travels with the transform: a forked worker shares the parent's memory, a spawned one receives the same
memory while it is being started (multiprocessing passes shared memory to a child it spawns), and a
persistent worker reads the new value at its next draw. Each rank's trainer sets its own process's value
(the Lightning callback, the mmengine hook and solo's switch do it at every train epoch start;
:func:`set_epoch` in a plain loop).

Pickled any other way (``copy.deepcopy``, ``pickle.dumps``) the channel stands for the process's own one.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.context
import threading
from typing import Any

from ._checks import check_int

UNSET = -1
_LOCK = threading.Lock()
_CHANNEL: EpochChannel | None = None


class EpochChannel:
    """A process-shared epoch (an int64 in shared memory; ``None`` until set)."""

    def __init__(self, shared: Any = None) -> None:
        # Whether this process received the memory from the process that spawned it.
        self.inherited = shared is not None
        self._shared = shared if shared is not None else multiprocessing.RawValue(ctypes.c_int64, UNSET)

    @property
    def epoch(self) -> int | None:
        """The epoch last set (in this process or the one that shares this memory), else ``None``."""
        value = self._shared.value
        return None if value == UNSET else value

    def set(self, epoch: int | None) -> None:
        """Set the epoch (``None`` unsets it)."""
        self._shared.value = UNSET if epoch is None else epoch

    def __reduce__(self) -> tuple:
        if multiprocessing.context.get_spawning_popen() is not None:
            # A process being spawned receives the shared memory itself (multiprocessing's own reduction).
            return (_attached, (self._shared,))
        return (epoch_channel, ())

    def __repr__(self) -> str:
        return f"EpochChannel(epoch={self.epoch})"


def _attached(shared: Any) -> EpochChannel:
    """The channel of a spawned process: the parent's shared memory, which also becomes this process's own
    (unless the process already holds a parent's)."""
    global _CHANNEL
    channel = EpochChannel(shared)
    with _LOCK:
        if _CHANNEL is None or not _CHANNEL.inherited:
            _CHANNEL = channel
    return channel


def epoch_channel() -> EpochChannel:
    """This process's channel, made on first use (a forked child keeps its parent's)."""
    global _CHANNEL
    with _LOCK:
        if _CHANNEL is None:
            _CHANNEL = EpochChannel()
        return _CHANNEL


def set_epoch(epoch: int) -> None:
    """Tell every coordinator of this process, and the DataLoader workers it starts or has started, the epoch.

    Call it at the start of each epoch of a plain PyTorch loop, as one calls ``sampler.set_epoch``; the
    Lightning callback, the mmengine hook and solo-learn's switch call it for you.

    Args:
        epoch: The epoch about to be trained, an int ``>= 0``.
    """
    epoch_channel().set(check_int(epoch, "epoch", 0))


def current_epoch() -> int | None:
    """The epoch last set by :func:`set_epoch` (or a trainer adapter), ``None`` if it never was."""
    return None if _CHANNEL is None else _CHANNEL.epoch


def sync_epoch(epoch: int) -> bool:
    """:func:`set_epoch`, but only in a process where a coordinator uses the epoch (a β schedule or reproducible
    draws); elsewhere nothing happens. The trainer adapters call it at every train epoch start, so they stay
    inert for users of neither. Returns whether the epoch was set."""
    if _CHANNEL is None:
        return False
    set_epoch(epoch)
    return True

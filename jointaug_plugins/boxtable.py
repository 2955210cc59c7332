"""The per-image box table of ContrastiveCrop's semantic-aware localization, shared with every DataLoader worker.

With ``position=dict(boxes="semantic", ...)`` each crop of image ``i`` is placed inside a box
``(h0, w0, h1, w1)`` (fractions of the image height and width, in [0, 1]) that the model computed from its own
feature map (:mod:`jointaug_plugins.localize`). The boxes are computed in the trainer's process every few epochs,
while the crops are drawn in DataLoader workers (``fork`` or ``spawn``, persistent or not): the table must reach
workers that were started before the boxes changed. It works as the epoch does (:mod:`jointaug_plugins.epoch`):

* a **generation counter** and a **localizing flag** in shared memory (``multiprocessing.RawValue``), made once
  per process; a forked worker shares the parent's memory, a spawned one receives it while being started (the
  table's ``__reduce__`` hands multiprocessing the memory itself), so every worker sees a new generation at its
  next draw;
* a **directory** (under the system's temporary directory, named once per table) that holds the boxes of the
  current generation as ``boxes-<generation>.npy``, written to a temporary name and renamed into place
  (``os.replace``) *before* the counter moves, and read with ``np.load(mmap_mode="r")`` by a reader whose cached
  generation is stale. The process that made the directory removes it when it exits.

So a draw costs one shared-memory read and one array index when nothing changed. Each distributed rank has its
own table; the updaters all-gather the boxes, so every rank sets the same ones. Pickled any other way than to a
process being spawned (``copy.deepcopy``, ``pickle.dumps``) a table stands for the unpickling process's own one.
"""

from __future__ import annotations

import atexit
import ctypes
import multiprocessing
import multiprocessing.context
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

__all__ = ["BoxTable", "box_table", "check_boxes"]

_LOCK = threading.Lock()
_TABLE: BoxTable | None = None


def check_boxes(boxes: Any, name: str = "boxes") -> np.ndarray:
    """``boxes`` as a C-contiguous ``(N, 4)`` float64 array, checked.

    Args:
        boxes: A tensor or array (or nested sequence) of shape ``(N, 4)``, ``N >= 1``: per image
            ``(h0, w0, h1, w1)``, each finite and in [0, 1], with ``h0 <= h1`` and ``w0 <= w1``.
        name: The argument's name in error messages.

    Raises:
        ValueError: a wrong shape, a value that is not finite or outside [0, 1], or an unordered box (the first
            offending row is named).
    """
    if isinstance(boxes, torch.Tensor):
        boxes = boxes.detach().to("cpu", torch.float64).numpy()
    array = np.ascontiguousarray(np.asarray(boxes, dtype=np.float64))
    if array.ndim != 2 or array.shape[1] != 4 or array.shape[0] < 1:
        raise ValueError(f"{name} must have shape (N, 4) with N >= 1 (h0, w0, h1, w1 per image), got {array.shape}")
    finite = np.isfinite(array).all(axis=1)
    inside = ((array >= 0.0) & (array <= 1.0)).all(axis=1)
    ordered = (array[:, 0] <= array[:, 2]) & (array[:, 1] <= array[:, 3])
    for ok, what in ((finite, "finite"), (inside, "in [0, 1]"), (ordered, "ordered as h0 <= h1, w0 <= w1")):
        if not ok.all():
            row = int(np.flatnonzero(~ok)[0])
            raise ValueError(f"{name}[{row}] = {array[row].tolist()} is not {what} (box = (h0, w0, h1, w1))")
    return array


class BoxTable:
    """A process-shared table of one box ``(h0, w0, h1, w1)`` per dataset image, or no boxes (warm-up).

    Get this process's table with :func:`box_table`; the core reads it on every draw (:meth:`lookup`,
    :meth:`lookup_batch`), the updaters (:func:`jointaug_plugins.localize.update_semantic_boxes`, the Lightning
    callback, the mmengine hook) write it (:meth:`set`).
    """

    def __init__(
        self, shared: tuple[ctypes.c_int64, ctypes.c_int64] | None = None, directory: str | None = None
    ) -> None:
        # Whether this process received the memory from the process that spawned it.
        self.inherited = shared is not None
        if shared is None:
            shared = (multiprocessing.RawValue(ctypes.c_int64, 0), multiprocessing.RawValue(ctypes.c_int64, 0))
        self._generation, self._localizing = shared
        # Named now, made at the first set(): workers forked before the first update must know where to look.
        self.directory = directory or os.path.join(
            tempfile.gettempdir(), f"jointaug-boxes-{os.getpid()}-{secrets.token_hex(4)}"
        )
        self._cached = 0  # the generation of self._array (0: no boxes)
        self._array: np.ndarray | None = None

    # --- the readers (every draw) -------------------------------------------------------------------

    def _path(self, generation: int) -> str:
        return os.path.join(self.directory, f"boxes-{generation}.npy")

    def _current(self) -> np.ndarray | None:
        generation = self._generation.value
        if generation == self._cached:
            return self._array
        while generation:
            try:
                array = np.load(self._path(generation), mmap_mode="r")
                break
            except FileNotFoundError:
                # Either a newer set() removed this generation's file (read the counter again), or clear() made a
                # generation without a file (no boxes).
                newer = self._generation.value
                if newer == generation:
                    array = None
                    break
                generation = newer
        else:
            array = None
        self._cached, self._array = generation, array
        return array

    @staticmethod
    def _out_of_range(index: int, n: int) -> IndexError:
        return IndexError(
            f"sample index {index} is outside the box table, which holds boxes for N={n} images (indices 0..{n - 1}): "
            "the boxes were computed over a dataset of another length than the one being drawn from"
        )

    def lookup(self, index: int) -> tuple[float, float, float, float] | None:
        """The box of dataset image ``index`` (``0 <= index < N``), or ``None`` when there are no boxes (warm-up).

        Raises:
            IndexError: ``index`` is outside the ``N`` images the boxes were computed for.
        """
        array = self._current()
        if array is None:
            return None
        if not 0 <= index < len(array):
            raise self._out_of_range(index, len(array))
        h0, w0, h1, w1 = array[index].tolist()
        return h0, w0, h1, w1

    def lookup_batch(self, indices: torch.Tensor) -> torch.Tensor | None:
        """The boxes of the images ``indices`` (a 1-D integer tensor) as an ``(n, 4)`` float64 tensor, or ``None``
        when there are no boxes (warm-up).

        Raises:
            IndexError: an index outside the ``N`` images the boxes were computed for.
        """
        array = self._current()
        if array is None:
            return None
        rows = torch.as_tensor(indices).reshape(-1).to("cpu", torch.int64).numpy()
        if rows.size and (rows.min() < 0 or rows.max() >= len(array)):
            bad = int(rows[(rows < 0) | (rows >= len(array))][0])
            raise self._out_of_range(bad, len(array))
        return torch.from_numpy(np.array(array[rows], dtype=np.float64))

    @property
    def localizing(self) -> bool:
        """Whether a localization pass runs: joint views then hand back the plain image
        (:func:`jointaug_plugins.localize.localizing_views`) instead of making views. Shared with the workers."""
        return bool(self._localizing.value)

    @localizing.setter
    def localizing(self, value: bool) -> None:
        self._localizing.value = 1 if value else 0

    @property
    def generation(self) -> int:
        """How many times the boxes were set or cleared (0: never); it moves at every :meth:`set` / :meth:`clear`."""
        return int(self._generation.value)

    # --- the writers (the updaters) ---------------------------------------------------------------------

    def _make_directory(self) -> None:
        if not os.path.isdir(self.directory):
            os.makedirs(self.directory, exist_ok=True)
            atexit.register(_remove_directory, self.directory, os.getpid())

    def _publish(self, array: np.ndarray | None) -> None:
        """Write ``array`` (``None``: no boxes) as the next generation, then move the counter and drop old files."""
        generation = self._generation.value + 1
        self._make_directory()
        if array is not None:
            temporary = os.path.join(self.directory, f".boxes-{generation}-{os.getpid()}.tmp")
            with open(temporary, "wb") as handle:
                np.save(handle, array)
            os.replace(temporary, self._path(generation))  # readers see the whole file or none of it
        self._generation.value = generation
        self._cached, self._array = generation, array
        for name in os.listdir(self.directory):
            # Earlier generations: a reader that holds one memory-mapped keeps it (the file lives while mapped).
            stem = name.removeprefix("boxes-").removesuffix(".npy")
            if name.startswith("boxes-") and stem.isdigit() and int(stem) < generation:
                try:
                    os.remove(os.path.join(self.directory, name))
                except FileNotFoundError:
                    pass

    def set(self, boxes: torch.Tensor | np.ndarray) -> None:
        """Make ``boxes`` the table: an ``(N, 4)`` tensor or array, per dataset image ``(h0, w0, h1, w1)`` in
        [0, 1] with ``h0 <= h1``, ``w0 <= w1`` (checked, see :func:`check_boxes`). Every process sharing the table
        (the DataLoader workers, started or not) reads them at its next draw."""
        self._publish(check_boxes(boxes))

    def get(self) -> torch.Tensor | None:
        """A copy of the boxes as an ``(N, 4)`` float64 tensor, or ``None`` when there are none."""
        array = self._current()
        return None if array is None else torch.from_numpy(np.array(array, dtype=np.float64))

    def clear(self) -> None:
        """Remove the boxes: draws are placed as in warm-up again."""
        self._publish(None)

    def state_dict(self) -> dict[str, Any]:
        """``{"boxes": (N, 4) float64 tensor or None}``, for a checkpoint."""
        return {"boxes": self.get()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (``boxes`` ``None`` clears the table)."""
        if not isinstance(state, Mapping) or "boxes" not in state:
            raise ValueError(f"a box table state is a mapping with the key 'boxes', got {state!r:.200}")
        if state["boxes"] is None:
            self.clear()
        else:
            self.set(state["boxes"])

    # --- travelling to workers --------------------------------------------------------------------------

    def __reduce__(self) -> tuple:
        if multiprocessing.context.get_spawning_popen() is not None:
            # A process being spawned receives the shared memory itself (multiprocessing's own reduction).
            return (_attached, (self._generation, self._localizing, self.directory))
        return (box_table, ())

    def __repr__(self) -> str:
        array = self._current()
        held = "no boxes" if array is None else f"{len(array)} boxes"
        return f"BoxTable({held}, generation={self.generation}, localizing={self.localizing})"


def _remove_directory(directory: str, owner: int) -> None:
    # Only the process that made it (a forked child inherits the atexit list but must not remove it).
    if os.getpid() == owner:
        shutil.rmtree(directory, ignore_errors=True)


def _attached(generation: Any, localizing: Any, directory: str) -> BoxTable:
    """The table of a spawned process: the parent's memory and directory, which also become this process's own
    (unless the process already holds a parent's)."""
    global _TABLE
    table = BoxTable((generation, localizing), directory)
    with _LOCK:
        if _TABLE is None or not _TABLE.inherited:
            _TABLE = table
    return table


def box_table() -> BoxTable:
    """This process's box table, made on first use (a forked child keeps its parent's, a spawned DataLoader
    worker receives it with the transform or collate function that holds it)."""
    global _TABLE
    with _LOCK:
        if _TABLE is None:
            _TABLE = BoxTable()
        return _TABLE

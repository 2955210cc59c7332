"""Per-process random generators that differ across DataLoader workers and distributed ranks.

A transform object is copied into every DataLoader worker (by ``fork`` or by pickling under
``spawn``) and into every distributed rank. If each copy kept the generator it was built with, all
workers and ranks would draw the same stream. :class:`GeneratorSource` instead makes its generator
lazily, in the process that draws, from

* in a DataLoader worker: ``(seed, rank, torch.initial_seed())``; torch sets a worker's initial
  seed to the loader's base seed plus the worker id, new for every epoch and reproducible whenever
  torch is seeded (as Lightning's ``seed_everything`` and mmengine's ``randomness.seed`` do);
* elsewhere: ``(seed, rank)``, or ``(rank, torch.initial_seed())`` without a seed.

Without a seed, the source's creation number in its process is mixed in too, so two transforms built
in one process never share a stream, and a run reproduces whenever torch is seeded (the creation
order being the same). Building a source never consumes torch's global generator, so switching
joint views on does not shift the user's model initialisation.

The rank is read from ``torch.distributed`` when it is initialised, else from the ``RANK``
environment variable that torchrun, Lightning and mmengine set, and is recorded when the object is
pickled so that ``spawn`` workers, where neither exists, still know it.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import random
import sys
from typing import Any

import numpy as np
import torch

from ._checks import check_int

# Creation numbers of unseeded sources in this process (a copy in a worker keeps the number it had).
_CREATED = itertools.count(1)


def current_rank() -> int:
    """The distributed rank of this process (0 when not distributed)."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


class GeneratorSource:
    """A picklable holder of a ``torch.Generator`` made anew in each process.

    Args:
        seed: ``None`` derives the stream from torch's own seeding; an int (>= 0) makes the stream of
            each (rank, worker) reproducible and distinct from other seeds.
        rank: ``None`` reads the distributed rank; an int (>= 0) is used instead (a DALI pipeline's shard).
    """

    def __init__(self, seed: int | None = None, rank: int | None = None) -> None:
        check_int(seed, "seed", 0, optional=True)
        check_int(rank, "rank", 0, optional=True)
        self.seed = seed
        self.rank = rank
        # Without a seed, the creation number keeps two transforms of one process apart; it is not drawn
        # from torch's global generator, which would shift the user's own random stream.
        self._instance = 0 if seed is not None else next(_CREATED)
        self._rank_hint: int | None = None
        self._generator: torch.Generator | None = None
        self._owner: tuple[int, int] | None = None

    def _entropy(self) -> list[int]:
        rank = self._rank_hint if self._rank_hint is not None and not torch.distributed.is_initialized() else None
        if self.rank is not None:
            rank = self.rank
        elif rank is None:
            rank = current_rank()
        # Without a seed, the creation number keeps two transforms of one process apart; with one, the
        # same seed must give the same stream.
        own = [self.seed] if self.seed is not None else [0, self._instance]
        worker = torch.utils.data.get_worker_info()
        if worker is not None:
            return [*own, rank, torch.initial_seed()]
        if self.seed is not None:
            return [*own, rank]
        return [*own, rank, torch.initial_seed()]

    @property
    def generator(self) -> torch.Generator:
        """This process's generator, created on first use after a fork, a pickle or a new worker."""
        worker = torch.utils.data.get_worker_info()
        owner = (os.getpid(), -1 if worker is None else worker.id)
        if self._generator is None or self._owner != owner:
            state = np.random.SeedSequence(self._entropy()).generate_state(1, dtype=np.uint64)[0]
            self._generator = torch.Generator().manual_seed(int(state) & ((1 << 63) - 1))
            self._owner = owner
        return self._generator

    def __getstate__(self) -> dict[str, Any]:
        rank = current_rank() if self._rank_hint is None else self._rank_hint
        return {"seed": self.seed, "rank": self.rank, "_instance": self._instance, "_rank_hint": rank}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.seed = state["seed"]
        self.rank = state.get("rank")
        self._instance = state["_instance"]
        self._rank_hint = state["_rank_hint"]
        self._generator = None
        self._owner = None

    def __repr__(self) -> str:
        return f"GeneratorSource(seed={self.seed})"


# Reproducible draws: a counter-based generator (Philox 4x64) keyed by the seed, with the epoch and the dataset
# index in the counter, so the numbers of image i in epoch e are a pure function of (seed, e, i), whatever
# process, worker, rank or order draws them. The key's second word sets these streams apart from others.
_PHILOX_TAG = 0x6A6F696E74617567  # "jointaug"
_TWO_TO_MINUS_53 = 1.0 / (1 << 53)


def _philox(seed: int, epoch: int, index: int) -> np.random.Philox:
    key = np.array([seed, _PHILOX_TAG], dtype=np.uint64)
    return np.random.Philox(key=key, counter=np.array([0, 0, index, epoch], dtype=np.uint64))


def check_sample_key(seed: Any, epoch: Any, index: Any) -> tuple[int, int, int]:
    """``(seed, epoch, index)`` as ints in [0, 2**64), or a ``ValueError`` naming the bad one."""
    out = []
    for value, name in ((seed, "seed"), (epoch, "epoch"), (index, "index")):
        if isinstance(value, (np.integer, torch.Tensor)) and not isinstance(value, bool):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 64:
            raise ValueError(f"{name} must be an int in [0, 2**64) for a reproducible draw, got {value!r}")
        out.append(value)
    return out[0], out[1], out[2]


def sample_uniforms(seed: int, epoch: int, index: int, n: int) -> list[float]:
    """``n`` uniforms in [0, 1) that depend on ``(seed, epoch, index)`` alone (53-bit floats from Philox 4x64)."""
    raw = _philox(seed, epoch, index).random_raw(n)
    return ((raw >> np.uint64(11)).astype(np.float64) * _TWO_TO_MINUS_53).tolist()


# Forking the global generators: a view's other random transforms (flips, apply coins, a library's own ops) draw
# from torch's default CPU generator, numpy's global RandomState and Python's ``random``. The coordinator runs each
# view under its own seed and puts the three states back afterwards. numpy's ``get_state`` / ``set_state`` copy the
# 624-word MT19937 key word by word (~30 us each), so where the state behind numpy's documented
# ``BitGenerator.ctypes.state_address`` reads back as ``get_state()``'s (checked once per process) it is saved and
# restored as raw bytes; elsewhere, and for Python's ``random`` (~11 us), the documented calls are used.
#: The global generators a coordinator forks: torch's default CPU generator, numpy's global one, Python's ``random``.
GLOBAL_GENERATORS = frozenset({"torch", "numpy", "python"})
_MT_BYTES = 4 * 624 + 4  # numpy's mt19937_state: uint32 key[624], int pos
_UNSET: Any = object()
_state_views: Any = _UNSET  # per process: numpy's MT19937 state as writable bytes, or None


def _raw(address: int) -> memoryview:
    return memoryview((ctypes.c_char * _MT_BYTES).from_address(address)).cast("B")


def _numpy_state_view() -> memoryview | None:
    """The MT19937 state behind numpy's global RandomState (at its documented ``ctypes.state_address``), if its
    bytes are the documented state."""
    try:
        bit_generator = np.random.mtrand._rand._bit_generator
        view, state = _raw(bit_generator.ctypes.state_address), bit_generator.state
        key, pos = np.frombuffer(view, dtype=np.uint32, count=624), int.from_bytes(view[-4:], sys.byteorder)
        if state["bit_generator"] == "MT19937" and np.array_equal(key, state["state"]["key"]):
            return view if pos == state["state"]["pos"] else None
    except Exception:  # any surprise means: use the documented calls
        pass
    return None


class forked_global_rngs:  # lower case: used like a function, `with forked_global_rngs() as fork:`
    """Fork torch's default CPU generator, numpy's global generator and Python's ``random`` for a block.

    Entering saves their states, :meth:`seed` seeds them (once per view), leaving puts the saved states back
    (Gaussian caches included), so code outside the block sees its streams untouched. CUDA generators are not
    touched. Like any use of the global generators, not safe against other threads drawing meanwhile.

    Args:
        generators: Which to fork, among :data:`GLOBAL_GENERATORS` (default all three).
    """

    __slots__ = (
        "_generators", "_numpy", "_numpy_gauss", "_numpy_state", "_numpy_view", "_python", "_torch"
    )  # fmt: skip
    # numpy's saved state: raw key bytes plus the cached Gaussian where a raw view exists, else get_state()'s value.
    _numpy: bytes
    _numpy_gauss: float | None
    _numpy_state: dict[str, Any] | tuple[str, np.ndarray, int, int, float]
    _numpy_view: memoryview | None

    def __init__(self, generators: frozenset[str] = GLOBAL_GENERATORS) -> None:
        self._generators = generators

    def __enter__(self) -> forked_global_rngs:
        global _state_views
        if _state_views is _UNSET:
            _state_views = _numpy_state_view()
        self._numpy_view = _state_views
        if "torch" in self._generators:
            self._torch = torch.default_generator.get_state()
        if "python" in self._generators:
            self._python = random.getstate()
        if "numpy" in self._generators:
            self._save_numpy()
        return self

    def seed(self, seed: int, generators: frozenset[str] | None = None) -> None:
        """Seed the forked generators (or those of ``generators`` among them) with ``seed``, an int in [0, 2**63)
        (numpy's takes its two halves xor-ed)."""
        generators = self._generators if generators is None else generators & self._generators
        if "torch" in generators:
            torch.default_generator.manual_seed(seed)
        if "numpy" in generators:
            np.random.seed((seed ^ (seed >> 32)) & 0xFFFFFFFF)
        if "python" in generators:
            random.seed(seed)

    def __exit__(self, *exc: object) -> None:
        if "torch" in self._generators:
            torch.default_generator.set_state(self._torch)
        if "python" in self._generators:
            random.setstate(self._python)
        if "numpy" in self._generators:
            self._restore_numpy()

    def _save_numpy(self) -> None:
        view = self._numpy_view
        if view is None:
            self._numpy_state = np.random.get_state()
            return
        self._numpy = bytes(view)
        # No cheap reader of the Gaussian cache: a legacy normal draw returns the cached value without touching the
        # key (there was one), or draws from the key (there was none).
        value = np.random.mtrand._rand.standard_normal()
        self._numpy_gauss = value if bytes(view) == self._numpy else None

    def _restore_numpy(self) -> None:
        view = self._numpy_view
        if view is None:
            np.random.set_state(self._numpy_state)
        elif self._numpy_gauss is None:
            # Leave no Gaussian cached: a legacy normal draw uses up a cached one (the key unchanged), or draws and
            # caches one, which a second draw uses up. Then the saved key.
            drawn = bytes(view)
            np.random.mtrand._rand.standard_normal()
            if bytes(view) != drawn:
                np.random.mtrand._rand.standard_normal()
            view[:] = self._numpy
        else:  # rare: a cached Gaussian to put back, which only set_state can
            key = np.frombuffer(self._numpy, dtype=np.uint32, count=624)
            pos = int.from_bytes(self._numpy[-4:], sys.byteorder)
            np.random.set_state(("MT19937", key, pos, 1, self._numpy_gauss))

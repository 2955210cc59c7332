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

import contextlib
import itertools
import os
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

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
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValueError(f"seed must be None or an int >= 0, got {seed!r}")
        if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int) or rank < 0):
            raise ValueError(f"rank must be None or an int >= 0, got {rank!r}")
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


def _philox(seed: int, epoch: int, index: int, purpose: int) -> np.random.Philox:
    key = np.array([seed, _PHILOX_TAG ^ purpose], dtype=np.uint64)
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
    raw = _philox(seed, epoch, index, 0).random_raw(n)
    return ((raw >> np.uint64(11)).astype(np.float64) * _TWO_TO_MINUS_53).tolist()


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """A 63-bit seed that depends on ``(seed, epoch, index)`` alone, apart from :func:`sample_uniforms`' stream
    (seeds the other random transforms of a reproducible image's views)."""
    return int(_philox(seed, epoch, index, 1).random_raw()) >> 1


@contextlib.contextmanager
def seeded_global_rngs(seed: int) -> Iterator[None]:
    """Seed torch's default CPU generator, numpy's and Python's global generators with ``seed`` for the block,
    then put back the states they had: code outside the block sees its streams untouched."""
    torch_state = torch.default_generator.get_state()
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    torch.default_generator.manual_seed(seed)
    np.random.seed(seed & 0xFFFFFFFF)
    random.seed(seed)
    try:
        yield
    finally:
        torch.default_generator.set_state(torch_state)
        np.random.set_state(numpy_state)
        random.setstate(python_state)

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

import itertools
import os
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

"""β schedules: pair difficulty that changes with the training epoch.

A schedule is plain data (a frozen dataclass) that gives the β in force at each epoch. It is accepted
wherever a β is: ``crop={"beta": {"start": 2.0, "end": -1.0, "shape": "linear", "epochs": 100}}``.
The epoch reaches every DataLoader worker and rank through :mod:`jointaug_plugins.epoch`.

Shapes (``f = min(epoch / epochs, 1)``, so β reaches ``end`` at epoch ``epochs`` and stays there):

* ``linear``: ``β = start + (end - start) f``;
* ``cosine``: ``β = end + (start - end) (1 + cos(π f)) / 2`` (slow at both ends, as in cosine learning-rate
  schedules);
* ``step``: ``β = start`` until the first milestone, then changes at each milestone. ``steps`` is either
  a list of milestone epochs, with ``end`` given (β moves from ``start`` to ``end`` in equal jumps, one
  per milestone), or a list of ``[epoch, β]`` pairs, without ``end`` (β becomes that value at that epoch).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._checks import check_choice, check_int, check_real

SHAPES = ("linear", "cosine", "step")
SCHEDULE_KEYS = ("start", "end", "shape", "epochs", "steps")


@dataclass(frozen=True)
class BetaSchedule:
    """The β in force at each training epoch.

    Args:
        start: β at epoch 0, any finite real.
        end: β reached at epoch ``epochs`` (``linear``, ``cosine``) or after the last milestone (``step``
            with milestone epochs); not given for ``step`` with ``[epoch, β]`` pairs.
        shape: ``"linear"``, ``"cosine"`` or ``"step"``.
        epochs: For ``linear`` and ``cosine``: the epoch at which β reaches ``end``, an int ``>= 1``.
        steps: For ``step``: strictly increasing milestone epochs (ints ``>= 1``) or ``(epoch, β)`` pairs.
    """

    start: float
    end: float | None = None
    shape: str = "linear"
    epochs: int | None = None
    steps: tuple[tuple[int, float], ...] = ()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "start", check_real(self.start, "beta.start"))
        check_choice(self.shape, "beta.shape", SHAPES)
        if self.end is not None:
            set_(self, "end", check_real(self.end, "beta.end"))
        if self.shape in ("linear", "cosine"):
            if self.end is None or self.epochs is None:
                raise ValueError(
                    f"a {self.shape} β schedule needs start, end and epochs (the epoch at which β reaches end), e.g. "
                    f"{{'start': 2.0, 'end': -1.0, 'shape': '{self.shape}', 'epochs': 100}}"
                )
            check_int(self.epochs, "beta.epochs", 1)
            if self.steps:
                raise ValueError(f"beta.steps is for shape 'step'; a {self.shape} schedule takes start, end, epochs")
            return
        if self.epochs is not None:
            raise ValueError("beta.epochs is for linear and cosine schedules; a step schedule takes steps")
        set_(self, "steps", self._parse_steps(self.steps, self.start, self.end))
        set_(self, "end", self.steps[-1][1])

    @staticmethod
    def _parse_steps(steps: Any, start: float, end: float | None) -> tuple[tuple[int, float], ...]:
        if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence) or not steps:
            raise ValueError(
                "a step β schedule needs steps: milestone epochs with end (e.g. steps=[10, 20], end=-1.0) or "
                f"[epoch, beta] pairs (e.g. steps=[[10, 1.0], [20, -1.0]]); got {steps!r}"
            )
        pairs = all(isinstance(s, Sequence) and not isinstance(s, (str, bytes)) for s in steps)
        if pairs:
            parsed = []
            for i, step in enumerate(steps):
                if len(step) != 2:
                    raise ValueError(f"beta.steps[{i}] must be [epoch, beta], got {step!r}")
                epoch = check_int(step[0], f"beta.steps[{i}] epoch", 1)
                parsed.append((epoch, check_real(step[1], f"beta.steps[{i}] beta")))
            # end is the last step's β; given as well (a copy of a parsed schedule), it must agree.
            if end is not None and end != parsed[-1][1]:
                raise ValueError(
                    f"beta.end={end:g} conflicts with the last step's β {parsed[-1][1]:g}: with [epoch, beta] steps "
                    "leave end out"
                )
        else:
            if end is None:
                raise ValueError(
                    "a step β schedule with milestone epochs needs end (β moves from start to end in equal jumps, "
                    "one per milestone); or give steps as [epoch, beta] pairs"
                )
            epochs = [check_int(s, f"beta.steps[{i}]", 1) for i, s in enumerate(steps)]
            jump = (end - start) / len(epochs)
            parsed = [(e, end if k == len(epochs) - 1 else start + jump * (k + 1)) for k, e in enumerate(epochs)]
        milestones = [e for e, _ in parsed]
        if any(b <= a for a, b in itertools.pairwise(milestones)):
            raise ValueError(f"beta.steps epochs must be strictly increasing, got {milestones}")
        return tuple(parsed)

    @classmethod
    def parse(cls, value: Any, name: str = "beta") -> BetaSchedule:
        """A schedule from a mapping with keys ``start``, ``end``, ``shape``, ``epochs``, ``steps`` (or a schedule)."""
        if isinstance(value, BetaSchedule):
            return value
        if not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a finite real or a schedule dict, got {value!r}")
        unknown = sorted(str(k) for k in value if k not in SCHEDULE_KEYS)
        if unknown:
            raise ValueError(
                f"{name} schedule has unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(SCHEDULE_KEYS)}"
            )
        if "start" not in value:
            raise ValueError(f"{name} schedule needs start (the β at epoch 0); got {dict(value)!r}")
        steps = value.get("steps") or ()
        try:
            return cls(
                start=value["start"],
                end=value.get("end"),
                shape=value.get("shape", "linear"),
                epochs=value.get("epochs"),
                steps=tuple(tuple(s) if isinstance(s, Sequence) and not isinstance(s, str) else s for s in steps),
            )
        except (TypeError, ValueError) as err:
            raise type(err)(f"{name}: {err}") from None

    def at(self, epoch: int) -> float:
        """The β in force at ``epoch`` (an int ``>= 0``)."""
        check_int(epoch, "epoch", 0)
        if self.shape == "step":
            beta = self.start
            for milestone, value in self.steps:
                if epoch >= milestone:
                    beta = value
            return beta
        end, epochs = self.end, self.epochs
        if end is None or epochs is None:  # __post_init__ refuses this; a schedule built around it is broken
            raise ValueError(f"a {self.shape} β schedule needs end and epochs, got end={end!r}, epochs={epochs!r}")
        fraction = min(epoch / epochs, 1.0)
        if self.shape == "linear":
            return self.start + (end - self.start) * fraction
        return end + (self.start - end) * (1.0 + math.cos(math.pi * fraction)) / 2.0

    def to_dict(self) -> dict[str, Any]:
        """The schedule as the dict a user writes (JSON-able)."""
        if self.shape == "step":
            return {"start": self.start, "shape": "step", "steps": [list(s) for s in self.steps]}
        return {"start": self.start, "end": self.end, "shape": self.shape, "epochs": self.epochs}

    def __str__(self) -> str:
        if self.shape == "step":
            steps = ", ".join(f"{b:g} at {e}" for e, b in self.steps)
            return f"step {self.start:g}, then {steps}"
        return f"{self.shape} {self.start:g}→{self.end:g} over {self.epochs} epochs"

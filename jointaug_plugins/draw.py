"""The draw of one image: the parameters of all its views, made jointly where views are paired.

:class:`ImageDraw` is created by the coordinator (:class:`~jointaug_plugins.JointViews`) for each
image. While view ``i``'s pipeline runs, a context variable points at ``(draw, i)``; each joint
transform in that pipeline asks the draw for its parameters instead of drawing them itself. The
first view of a pair to ask makes the pair's draw, the second takes its half. This lets joint
transforms sit anywhere in any container (``Compose``, ``RandomApply``, lightly's or mmcv's
pipelines) and keeps them stateless: the coordinator is the only place that knows about pairs.
The records are plain data (``records``), which the statistics and logging tools read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from .spec import JointSpec

if TYPE_CHECKING:
    from .transforms.base import JointTransform


@dataclass
class DrawRecord:
    """What one joint transform of one view received (plain data)."""

    view: int
    kind: str
    params: dict[str, Any]
    joint: bool
    pair: int | None = None


@dataclass
class _PairEntry:
    key: tuple
    size: tuple[int, int]
    params: tuple[dict[str, Any], dict[str, Any]]


@dataclass
class ImageDraw:
    """All draws for the views of one image.

    Args:
        specs: Joint options per augmentation kind; a kind absent or ``None`` draws independently.
        pair_of_view: ``view -> (pair id, slot 0 or 1)`` for the paired views; others draw alone.
        generator: Where every draw comes from.
        disabled: ``(pair id, kind)`` combinations drawn independently for this image (the
            "crop or blur" policy turns one of the two off per pair).
    """

    specs: Mapping[str, JointSpec | None]
    pair_of_view: Mapping[int, tuple[int, int]]
    generator: torch.Generator
    disabled: frozenset[tuple[int, str]] = frozenset()
    records: list[DrawRecord] = field(default_factory=list)
    _pairs: dict[tuple[str, int, int], _PairEntry] = field(default_factory=dict)
    _occurrence: dict[tuple[int, str], int] = field(default_factory=dict)

    def params_for(self, transform: JointTransform, view: int, size: tuple[int, int]) -> dict[str, Any]:
        kind = transform.kind
        count = self._occurrence.get((view, kind), 0)
        self._occurrence[(view, kind)] = count + 1
        spec = self.specs.get(kind)
        pair = self.pair_of_view.get(view)
        if spec is None or pair is None or (pair[0], kind) in self.disabled:
            params = transform.make_single_params(size, self.generator)
            self.records.append(DrawRecord(view, kind, params, joint=False, pair=None if pair is None else pair[0]))
            return params
        pair_id, slot = pair
        slot_key = (kind, pair_id, count)
        key = transform.pairing_key()
        entry = self._pairs.get(slot_key)
        if entry is None:
            params = transform.make_pair_params(size, spec, self.generator)
            entry = self._pairs[slot_key] = _PairEntry(key, size, params)
        elif entry.key != key:
            raise ValueError(
                f"views of pair {pair_id} use {type(transform).__name__} with different settings "
                f"({entry.key} and {key}); paired views need the same range to be drawn jointly"
            )
        elif entry.size != size:
            raise ValueError(
                f"views of pair {pair_id} reach {type(transform).__name__} with different image sizes "
                f"{entry.size} and {size}; paired views must see the same input to be drawn jointly"
            )
        params = transform.view_params(entry.params[slot])
        self.records.append(DrawRecord(view, kind, params, joint=True, pair=pair_id))
        return params


_ACTIVE: ContextVar[tuple[ImageDraw, int] | None] = ContextVar("jointaug_active_view", default=None)


def active_view() -> tuple[ImageDraw, int] | None:
    """``(draw, view index)`` while a coordinator runs a view's pipeline, else ``None``."""
    return _ACTIVE.get()


@contextlib.contextmanager
def running_view(draw: ImageDraw, view: int) -> Iterator[None]:
    token = _ACTIVE.set((draw, view))
    try:
        yield
    finally:
        _ACTIVE.reset(token)

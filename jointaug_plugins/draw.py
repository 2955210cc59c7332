"""The draw: everything random about the views of one image, made before any view runs.

A draw is plain, size-free data (frozen dataclasses of floats, ints and bools, picklable and
``dataclasses.asdict``-able). :meth:`JointViews.draw <jointaug_plugins.JointViews.draw>` makes it:
per pair the coupled values (two crop areas, two sigmas, colour factors), per view what stays
independent (aspect-ratio attempts, position, apply coins) and a seed. Each joint transform turns its
slice into pixel parameters with a pure function of (slice, the size it sees), so a Resize before the
crop works; everything else in the view (flips, ``RandomApply`` coins, grayscale, a library's own random
ops) runs with torch's default CPU generator, numpy's and Python's global generators seeded by the view's
seed and restored afterwards. So the draw is the whole of a view's randomness: a recorded draw replays the
views exactly (:meth:`JointViews.apply`), and making views never moves the global streams.

Batched draws (:meth:`JointViews.draw_batch`) are the same classes with a tensor of leading size
``n`` in place of every number; :func:`unbatch` turns one into ``n`` scalar draws.

While the coordinator runs view ``i``'s pipeline, a context variable points at the view's
:class:`ActiveView`; a joint transform finds its slice there. This module imports no transform.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch

from .rng import forked_global_rngs

Number = float | torch.Tensor
Flag = bool | torch.Tensor


@dataclass(frozen=True)
class SliceDraw:
    """What one joint transform of one view receives.

    Attributes:
        pair: The index in the coordinator's ``pairs`` of the pair this view belongs to, else ``None``.
        joint: Whether these values were drawn jointly with the partner view's.
    """

    pair: int | None
    joint: Flag


SliceT = TypeVar("SliceT", bound="SliceDraw")


def slice_of(draw: SliceDraw, kind: type[SliceT], owner: str) -> SliceT:
    """``draw`` as the slice class ``kind`` that ``owner`` (the name of a joint transform class or a function) takes;
    a ``TypeError`` naming both if another kind of slice reached it. ``params_from_draw`` overrides take any
    :class:`SliceDraw`, as the base class promises, and narrow with this."""
    if not isinstance(draw, kind):
        raise TypeError(f"{owner} needs a {kind.__name__} slice of the draw, got {type(draw).__name__}")
    return draw


@dataclass(frozen=True)
class CropDraw(SliceDraw):
    """A random resized crop, size-free.

    Attributes:
        areas: Crop area as a fraction of the image area, per attempt. A joint view keeps its one
            drawn area in every attempt; the independent baseline draws one per attempt as torchvision does.
        aspects: Aspect ratio ``w/h`` tried at each attempt (log-uniform in the transform's ``ratio``).
        top, left: Where the crop lands, per axis a number in [0, 1]: without ``box``, a uniform placing it among
            the valid positions as torchvision does; with ``box``, the fraction of the way between the box's
            edges (ContrastiveCrop's rule, :mod:`jointaug_plugins.placement`).
        fallback_whole: A view whose attempts all fail takes the whole image (the published JointCrop's
            rule) instead of torchvision's centre crop with the aspect ratio clamped into ``ratio``.
        box: ``None`` (torchvision's placement), or the box ``(h0, w0, h1, w1)`` in [0, 1] the crop's position is
            drawn in (the ``position`` option: a fixed box, the whole image, or the image's semantic box).

    Batched, ``areas`` and ``aspects`` are ``(n, attempts)`` tensors and every other number an ``(n,)`` tensor.
    """

    areas: tuple[Number, ...] | torch.Tensor
    aspects: tuple[Number, ...] | torch.Tensor
    top: Number
    left: Number
    fallback_whole: Flag = False
    box: tuple[Number, Number, Number, Number] | None = None


@dataclass(frozen=True)
class ScalarDraw(SliceDraw):
    """One scalar operation (a blur sigma): its ``value`` and whether this view ``apply``-s it."""

    value: Number
    apply: Flag


@dataclass(frozen=True)
class ColorDraw(SliceDraw):
    """Colour jitter: ``factors`` (brightness, contrast, saturation, hue; neutral where a factor is off)
    and ``order``, the four operations' order (a permutation of 0-3). Batched: ``(n, 4)`` tensors."""

    factors: tuple[Number, Number, Number, Number] | torch.Tensor
    order: tuple[int, int, int, int] | torch.Tensor


@dataclass(frozen=True)
class ViewDraw:
    """One view's share of the draw.

    Attributes:
        slices: The slices of its joint transforms, in the order its pipeline holds them.
        seed: An int in [0, 2**63) under which the view's whole pipeline runs, with torch's default CPU
            generator, numpy's global generator and Python's ``random`` seeded for it and restored afterwards:
            it fixes what the package does not draw jointly (flips, apply coins, grayscale, a library's own
            random ops). Batched: an int64 tensor. ``None`` (a draw made by hand): the view draws from the
            global generators as they stand, so it does not replay.
    """

    slices: tuple[SliceDraw, ...]
    seed: int | torch.Tensor | None = None


@dataclass(frozen=True)
class ImageDraw:
    """The draw of one image (or, batched, of ``n`` images).

    Attributes:
        views: Per view, its slices and its seed (:class:`ViewDraw`).
        joint_kind: Per pair, the kind the ``crop_or_blur`` policy left joint (``"crop"`` / ``"blur"``),
            or ``None`` when no policy is set. Batched: a bool tensor, ``True`` for crop.
        betas: Per kind switched on, the β in force (a schedule's value at ``epoch``).
        epoch: The training epoch the draw was made in, ``None`` when nobody set one.
        index: The dataset index of the image (reproducible draws are a function of seed, epoch and
            index), ``None`` when unknown. Batched: a tensor of indices.
    """

    views: tuple[ViewDraw, ...]
    joint_kind: tuple[str | None, ...] | torch.Tensor = ()
    betas: dict[str, float] = field(default_factory=dict)
    epoch: int | None = None
    index: int | torch.Tensor | None = None


def unbatch(draw: ImageDraw) -> list[ImageDraw]:
    """The ``n`` scalar draws of a batched draw (tensor leaves become Python numbers)."""

    def size(value: Any) -> int | None:
        if isinstance(value, torch.Tensor):
            return value.shape[0]
        if isinstance(value, tuple):
            for item in value:
                n = size(item)
                if n is not None:
                    return n
        if dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                n = size(getattr(value, f.name))
                if n is not None:
                    return n
        return None

    def pick(value: Any, i: int) -> Any:
        if isinstance(value, torch.Tensor):
            item = value[i].tolist()
            return tuple(item) if isinstance(item, list) else item
        if isinstance(value, tuple):
            return tuple(pick(v, i) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a draw instance, never its class
            fields = dataclasses.fields(value)
            return dataclasses.replace(value, **{f.name: pick(getattr(value, f.name), i) for f in fields})
        return value

    n = size(draw) or 0
    scalar = [pick(draw, i) for i in range(n)]
    if isinstance(draw.joint_kind, torch.Tensor):
        # Batched, True means the crop-or-blur coin left the crop joint.
        scalar = [dataclasses.replace(d, joint_kind=tuple("crop" if k else "blur" for k in d.joint_kind))
                  for d in scalar]  # fmt: skip
    return scalar


@dataclass
class DrawRecord:
    """What one joint transform of one view turned its slice into (pixel parameters; for logging), and the
    β in force when the slice was drawn jointly (``None`` for an independent draw)."""

    view: int
    kind: str
    params: dict[str, Any]
    joint: bool
    pair: int | None = None
    beta: float | None = None


class UnknownJointTransformError(RuntimeError):
    """A joint transform ran inside a coordinator that did not find it when it was built."""


@dataclass(slots=True)
class ActiveView:
    """View ``view`` of one image being made: its slices, handed out to the transforms the coordinator
    found in this view (``transforms``, in pipeline order), and, when ``records`` is a list, the records of
    what each made of them (``None``: nobody reads them, so none are made)."""

    draw: ImageDraw
    view: int
    transforms: Sequence[Any]
    records: list[DrawRecord] | None = None
    _used: dict[int, int] = field(default_factory=dict)

    def slice_for(self, transform: Any) -> SliceDraw:
        """The slice of ``transform``; the same object asking again (applied twice) gets its next slot."""
        start = self._used.get(id(transform), 0)
        for index in range(start, len(self.transforms)):
            if self.transforms[index] is transform:
                self._used[id(transform)] = index + 1
                return self.draw.views[self.view].slices[index]
        raise UnknownJointTransformError(
            f"{type(transform).__name__} ran in view {self.view} but the coordinator did not find it there when it "
            "was built (it sits in a container the walker does not look into, or was added afterwards), so it "
            "cannot take part in the joint draw. Put it in a Compose / list / RandomApply, or rebuild the views"
        )

    def record(self, transform: Any, slice_: SliceDraw, params: dict[str, Any]) -> None:
        if self.records is not None:
            joint = bool(slice_.joint)
            beta = self.draw.betas.get(transform.kind) if joint else None
            self.records.append(DrawRecord(self.view, transform.kind, params, joint, slice_.pair, beta))


_ACTIVE: ContextVar[ActiveView | None] = ContextVar("jointaug_active_view", default=None)


def active_view() -> ActiveView | None:
    """The view a coordinator is making right now, else ``None``."""
    return _ACTIVE.get()


class running_view:  # lower case: used like a function, `with running_view(active):`
    """Make ``active`` the view being made while the block runs (a class: cheaper than a generator
    context manager, and this runs twice per image). With a ``seed`` (the view's :attr:`ViewDraw.seed`), the
    block also runs with the global generators forked and seeded by it; without, the caller forks them (the
    coordinator does, once per image)."""

    __slots__ = ("active", "fork", "seed", "token")

    def __init__(self, active: ActiveView, seed: int | torch.Tensor | None = None) -> None:
        if isinstance(seed, torch.Tensor):  # a batched draw's seeds: one view of one image runs from one seed
            raise ValueError("a view is made from the draw of one image; split a batched draw with unbatch()")
        self.active = active
        self.seed = seed

    def __enter__(self) -> ActiveView:
        if self.seed is not None:
            self.fork = forked_global_rngs().__enter__()
            self.fork.seed(self.seed)
        self.token = _ACTIVE.set(self.active)
        return self.active

    def __exit__(self, *exc: object) -> None:
        _ACTIVE.reset(self.token)
        if self.seed is not None:
            self.fork.__exit__()

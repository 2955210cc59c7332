"""The draw plan: where each joint transform's uniforms lie in one image's vector, and how they become a draw.

Made by :class:`~jointaug_plugins.JointViews` when it is built, from the joint transforms it found per
view (its *slots*), the pairs, the specs and the crop-or-blur policy. The plan makes a draw from
``n_uniforms`` uniforms, one image (a list of floats) or a batch (an ``(n, n_uniforms)`` tensor) with
the same code, so a batched draw equals the scalar draws from the same uniforms. The last uniforms,
two per view, make the views' seeds (:attr:`~jointaug_plugins.draw.ViewDraw.seed`), under which their other
random transforms run; :func:`generators_of` tells which generators a view may draw from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torchvision import transforms as v1
from torchvision.transforms import v2

from ..draw import CropDraw, ImageDraw, SliceDraw, ViewDraw
from ..placement import Position, couple_placements, placement_fractions
from ..rng import GLOBAL_GENERATORS
from ..spec import JointSpec
from ..walk import iter_transforms
from .base import JointTransform

# The global generators a view's transforms may draw from (the coordinator forks only those), by exact class: a
# subclass may draw otherwise. Joint transforms draw from their slices; torchvision's transforms from torch's
# generator, but for those that run a user's callable or, in v1, draw from Python's ``random``.
_DETERMINISTIC = frozenset(
    getattr(module, name)
    for module in (v1, v2)
    for name in ("Compose", "ToTensor", "PILToTensor", "ToImage", "ToPureTensor", "ToDtype", "ConvertImageDtype",
                 "ToPILImage", "Normalize", "Resize", "CenterCrop", "Pad", "Grayscale", "Identity")
    if hasattr(module, name)
)  # fmt: skip
_NOT_TORCH_ONLY = {v1.Lambda, v1.RandomChoice, v1.RandomOrder, v2.Lambda, getattr(v2, "SanitizeBoundingBoxes", None)}
_TORCH_ONLY = frozenset(
    c
    for module in (v1, v2)
    for c in vars(module).values()
    if isinstance(c, type) and c.__module__.startswith("torchvision.transforms") and c not in _NOT_TORCH_ONLY
)


def generators_of(view: Any) -> frozenset[str]:
    """The global generators (``"torch"``, ``"numpy"``, ``"python"``) the transforms of ``view`` may draw from: none
    for joint transforms (their slices are their randomness) and torchvision's deterministic ones, torch's for
    torchvision's random ones, all three for anything else. Forking a generator costs ~5-10 us per view with warm
    caches, several times that right after a pipeline's work: a view forks only those it may draw from."""
    found: set[str] = set()
    for t in iter_transforms(view):
        kind = type(t)
        if isinstance(t, JointTransform) or kind in _DETERMINISTIC:
            continue
        if kind not in _TORCH_ONLY:
            return GLOBAL_GENERATORS
        found.add("torch")
    return frozenset(found)


@dataclass(frozen=True)
class _PairEntry:
    """Slots ``first`` and ``second`` (``(view, slot)``) of pair ``pair`` draw ``kind`` jointly from
    ``width`` uniforms at ``offset``; with ``policy`` the crop-or-blur coin may make them independent."""

    pair: int
    kind: str
    spec: JointSpec
    first: tuple[int, int]
    second: tuple[int, int]
    offset: int
    policy: bool


@dataclass(frozen=True)
class _SingleEntry:
    view: int
    slot: int
    pair: int | None
    offset: int


def _select(keep: torch.Tensor, a: Any, b: Any) -> Any:
    """Leafwise ``a`` where ``keep`` (rows), else ``b``, for two batched slices of one class."""
    if isinstance(a, torch.Tensor):
        mask = keep.view(-1, *([1] * (a.ndim - 1)))
        return torch.where(mask, a, b)
    if isinstance(a, tuple):
        return tuple(_select(keep, x, y) for x, y in zip(a, b))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):  # a slice instance, never its class
        return dataclasses.replace(a, **{f.name: _select(keep, getattr(a, f.name), getattr(b, f.name))
                                         for f in dataclasses.fields(a)})  # fmt: skip
    return a


def _seed(u: Any, batched: bool) -> Any:
    """A seed in [0, 2**63) from two uniforms: the top 32 bits of the first, then the top 31 of the second (exact in
    float64, so a batched row equals the scalar seed). Batched: an int64 tensor."""
    if batched:
        return (u[:, 0] * 4294967296.0).long() << 31 | (u[:, 1] * 2147483648.0).long()
    return int(u[0] * 4294967296.0) << 31 | int(u[1] * 2147483648.0)


class DrawPlan:
    """The layout of one image's uniforms over the slots of its views.

    Args:
        slots: Per view, its joint transforms in pipeline order.
        pairs: The paired views; slot ``j`` of a kind in one view pairs with slot ``j`` of that kind in
            the other (the coordinator checked the counts and ranges).
        specs: Per kind, its options, ``None`` when off.
        crop_or_blur: ``None``, or the probability in [0, 1] that a pair's crop (rather than blur) is joint.
        position: Where every crop lands (:class:`~jointaug_plugins.placement.Position`); ``None``: as
            torchvision places it.
    """

    def __init__(
        self,
        slots: Sequence[Sequence[JointTransform]],
        pairs: Sequence[tuple[int, int]],
        specs: Mapping[str, JointSpec | None],
        crop_or_blur: float | None,
        position: Position | None = None,
    ) -> None:
        self.slots, self.pairs, self.specs, self.crop_or_blur = slots, list(pairs), specs, crop_or_blur
        self.position = position
        self.scheduled = any(spec is not None and spec.scheduled for spec in specs.values())
        # The specs in force (β a number) and their βs at one epoch; without a schedule, at every epoch.
        self._in_force = self._specs_in_force(None)
        self._layout()

    def _specs_in_force(self, epoch: int | None) -> tuple[int | None, dict[str, JointSpec], dict[str, float]]:
        specs = {kind: spec.at(epoch) for kind, spec in self.specs.items() if spec is not None}
        return epoch, specs, {kind: spec.beta for kind, spec in specs.items()}

    def _resolve(self, epoch: int | None) -> tuple[int | None, dict[str, JointSpec], dict[str, float]]:
        if self.scheduled and self._in_force[0] != epoch:
            self._in_force = self._specs_in_force(epoch)
        return self._in_force

    def specs_at(self, epoch: int | None) -> dict[str, JointSpec]:
        """The specs switched on, with each β schedule's value at ``epoch`` (``None``: epoch 0)."""
        return self._resolve(epoch)[1]

    def _of_kind(self, view: int, kind: str) -> list[int]:
        return [s for s, t in enumerate(self.slots[view]) if t.kind == kind]

    def _layout(self) -> None:
        """Where each slot's uniforms lie in one image's vector of ``n_uniforms`` uniforms."""
        offset = len(self.pairs) if self.crop_or_blur is not None else 0
        self._pair_entries: list[_PairEntry] = []
        covered: set[tuple[int, int]] = set()
        for k, (a, b) in enumerate(self.pairs):
            for kind, spec in self.specs.items():
                if spec is None:
                    continue
                for sa, sb in zip(self._of_kind(a, kind), self._of_kind(b, kind)):
                    x, y = self.slots[a][sa], self.slots[b][sb]
                    policy = self.crop_or_blur is not None and kind in ("crop", "blur")
                    width = max(x.pair_uniforms, x.single_uniforms + y.single_uniforms) if policy else x.pair_uniforms
                    self._pair_entries.append(_PairEntry(k, kind, spec, (a, sa), (b, sb), offset, policy))
                    covered.update({(a, sa), (b, sb)})
                    offset += width
        pair_of_view = {v: k for k, pair in enumerate(self.pairs) for v in pair}
        self._single_entries: list[_SingleEntry] = []
        for v, view in enumerate(self.slots):
            for s, t in enumerate(view):
                if (v, s) not in covered:
                    self._single_entries.append(_SingleEntry(v, s, pair_of_view.get(v), offset))
                    offset += t.single_uniforms
        # Last, two uniforms per view for its seed (so the joint slices' uniforms keep their places).
        self._seed_offset = offset
        self.n_uniforms = offset + 2 * len(self.slots)
        # The crops the position option places (every crop of every view), and the rows of paired ones.
        self._crops = [(v, s) for v, view in enumerate(self.slots) for s, t in enumerate(view) if t.kind == "crop"]
        row = {slot: r for r, slot in enumerate(self._crops)}
        self._crop_pairs = [
            (row[(a, sa)], row[(b, sb)])
            for a, b in self.pairs
            for sa, sb in zip(self._of_kind(a, "crop"), self._of_kind(b, "crop"))
        ]
        self.box_table = None
        if self.position is not None:
            if not self._crops:
                raise ValueError(
                    "position is set, but no view holds a crop it can place: the views need a RandomResizedCrop (or a "
                    "joint one); jointify and the library switches swap it in where there is one"
                )
            if self.position.semantic:
                from ..boxtable import box_table

                self.box_table = box_table()

    def _place(self, position: Position, slices: list[list[Any]], batched: bool, index: Any) -> None:
        """Apply the position option to every crop slice (in place): the distance knob's copula on paired views'
        placement uniforms, then the Beta quantile and the box (fixed, whole image, or the image's semantic box).
        Plain numpy on both paths, so a batched draw equals the scalar draws."""
        crops = self._crops
        drawn = [slices[v][s] for v, s in crops]
        if not all(isinstance(d, CropDraw) for d in drawn):
            kinds = sorted({type(d).__name__ for d in drawn if not isinstance(d, CropDraw)})
            raise TypeError(f"position places crops drawn as CropDraw; a crop transform here drew {', '.join(kinds)}")
        box: Any = position.box or (0.0, 0.0, 1.0, 1.0)
        if self.box_table is not None:
            if index is None:
                raise ValueError(
                    "position boxes='semantic' needs each image's dataset index, and none reached the views: wrap "
                    "the dataset with jointaug_plugins.indexed(dataset) (mmengine's datasets pass sample_idx "
                    "themselves), or pass draw(index=...)"
                )
            box = self.box_table.lookup_batch(index) if batched else self.box_table.lookup(index)
            if box is None and not position.coupled:
                return  # warm-up: no boxes yet, crops land as torchvision places them
        if not batched and not position.coupled and box is not None:
            # The per-image path, kept lean (it runs in the data loader for every image): one quantile call.
            flat = placement_fractions([x for d in drawn for x in (d.top, d.left)], position.alpha)
            flat = flat.tolist() if isinstance(flat, np.ndarray) else flat
            for k, ((v, s), d) in enumerate(zip(crops, drawn)):
                slices[v][s] = CropDraw(
                    d.pair, d.joint, d.areas, d.aspects, flat[2 * k], flat[2 * k + 1], d.fallback_whole, box
                )
            return
        if batched:
            u = torch.stack([torch.stack((d.top, d.left), -1) for d in drawn], 1).numpy()
        else:
            u = np.array([(d.top, d.left) for d in drawn], dtype=np.float64)
        if position.coupled and position.correlation is not None:
            u = u.copy()
            for a, b in self._crop_pairs:
                u[..., b, :] = couple_placements(u[..., a, :], u[..., b, :], position.correlation)
        if box is not None:
            u = placement_fractions(u, position.alpha)
            if batched and isinstance(box, torch.Tensor):
                box = tuple(box.to(torch.float64).unbind(-1))
        values = (
            [torch.from_numpy(np.ascontiguousarray(u[:, r])).unbind(-1) for r in range(len(crops))]
            if batched
            else u.tolist()
        )
        for (v, s), d, (top, left) in zip(crops, drawn, values):
            # Built directly rather than with dataclasses.replace: this runs for every crop of every image.
            slices[v][s] = CropDraw(d.pair, d.joint, d.areas, d.aspects, top, left, d.fallback_whole, box)

    def draw_from_uniforms(
        self, u: Sequence[float] | torch.Tensor, epoch: int | None = None, index: Any = None
    ) -> ImageDraw:
        """The draw made of ``n_uniforms`` uniforms in [0, 1): a list (one image) or an ``(n, n_uniforms)``
        tensor (a batch), with the β of each schedule at ``epoch``; ``index`` is recorded in the draw."""
        batched = isinstance(u, torch.Tensor)
        _, specs, betas = self._resolve(epoch)
        size = u.shape if isinstance(u, torch.Tensor) else (len(u),)
        if size[-1] != self.n_uniforms:
            raise ValueError(f"expected {self.n_uniforms} uniforms per image, got {size if batched else size[0]}")

        def part(start: int, width: int) -> Any:
            return u[:, start : start + width] if isinstance(u, torch.Tensor) else u[start : start + width]

        def draw_pair(x: JointTransform, *args: Any) -> tuple[SliceDraw, SliceDraw]:
            return x.draw_pair_batch(*args) if batched else x.draw_pair(*args)

        def draw_single(x: JointTransform, *args: Any) -> SliceDraw:
            return x.draw_single_batch(*args) if batched else x.draw_single(*args)

        # Per view, its slots' slices (SliceDraw; None until the slot's entry draws: the entries cover every slot).
        slices: list[list[Any]] = [[None] * len(view) for view in self.slots]
        # Per pair, whether the crop-or-blur coin left the crop joint (else the blur): a bool tensor, or a list.
        threshold = 0.0 if self.crop_or_blur is None else self.crop_or_blur
        crop_joint: Any = part(0, len(self.pairs) if self.crop_or_blur is not None else 0)
        crop_joint = crop_joint < threshold if batched else [c < threshold for c in crop_joint]
        for e in self._pair_entries:
            x, y = self.slots[e.first[0]][e.first[1]], self.slots[e.second[0]][e.second[1]]
            keep: Any = True  # whether this kind is joint in this pair (per row when batched)
            if e.policy:
                keep = crop_joint[:, e.pair] if batched else crop_joint[e.pair]
                if e.kind != "crop":
                    keep = ~keep if batched else not keep
            if batched or keep:
                pair = draw_pair(x, y, specs[e.kind], part(e.offset, x.pair_uniforms), e.pair)
            if e.policy and (batched or not keep):
                # The policy left this kind independent here: each view draws alone from the same segment.
                single = (
                    draw_single(x, part(e.offset, x.single_uniforms), e.pair),
                    draw_single(y, part(e.offset + x.single_uniforms, y.single_uniforms), e.pair),
                )
                pair = tuple(_select(keep, j, s) for j, s in zip(pair, single)) if batched else single
            slices[e.first[0]][e.first[1]], slices[e.second[0]][e.second[1]] = pair
        for one in self._single_entries:
            t = self.slots[one.view][one.slot]
            slices[one.view][one.slot] = draw_single(t, part(one.offset, t.single_uniforms), one.pair)
        if self.position is not None and self._crops:
            self._place(self.position, slices, batched, index)
        seeds = [_seed(part(self._seed_offset + 2 * v, 2), batched) for v in range(len(self.slots))]
        joint_kind = crop_joint if batched else tuple("crop" if c else "blur" for c in crop_joint)
        views = tuple(ViewDraw(tuple(view), seed) for view, seed in zip(slices, seeds))
        return ImageDraw(views, joint_kind, betas, epoch, index)

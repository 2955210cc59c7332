"""JointViews: the coordinator that draws everything random about an image's views, then makes them."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch

from .._checks import check_probability
from ..draw import ActiveView, DrawRecord, ImageDraw, running_view
from ..rng import GeneratorSource
from ..spec import SpecLike, parse_specs
from ..walk import iter_transforms
from .base import JointTransform, joint_source_of, uniforms
from .plan import DrawPlan

View = Callable[[Any], Any]


def consecutive_pairs(n_views: int) -> list[tuple[int, int]]:
    """``(0, 1), (2, 3), ...``; an odd last view stays unpaired."""
    return [(i, i + 1) for i in range(0, n_views - 1, 2)]


def joint_transforms_in(view: Any) -> list[JointTransform]:
    """The joint transforms of one view's pipeline, in the order the walker finds them."""
    return [s for s in (joint_source_of(t) for t in iter_transforms(view)) if s is not None]


class JointViews:
    """Make the views of one image, drawing paired views' parameters jointly.

    Each view is the user's own pipeline (a ``Compose`` or any callable). Joint transforms inside them
    (:class:`JointRandomResizedCrop`, :class:`JointGaussianBlur`, :class:`JointColorJitter`, or any
    registered one) take their parameters from one draw per image, made before any view runs
    (:meth:`draw`); everything else in the pipelines runs untouched. Views ``(0, 1), (2, 3), ...`` are
    paired unless ``pairs`` says otherwise. ``views(image)`` is ``views.apply(image, views.draw())``.

    Args:
        view_transforms: The per-view pipelines, at least one.
        crop, blur, color: For each kind, ``None`` (views draw independently), a β (any finite real;
            0 is the published JointX(0)), or a dict of options (``beta``, ``margin``, ``sigma``, and
            per kind: ``factors`` for color). The default, as at every entry point of this package, is
            JointCrop(0) with blur and colour off; pass ``crop=None`` for views without a crop.
        pairs: Which views are paired, as index pairs; each view in at most one pair.
        crop_or_blur: The paper's remedy for combining JointCrop and JointBlur (its appendix F):
            probability in [0, 1] that a pair gets JointCrop; otherwise it gets JointBlur, the other
            one drawn independently. ``None`` applies both to every pair.
        seed: ``None`` or an int >= 0; see :class:`~jointaug_plugins.rng.GeneratorSource`.
        **more: Options of other registered joint augmentations, by name.

    Raises:
        ValueError: when built, for any switched-on kind that would not couple every pair: no view
            holds it, the paired views hold different numbers of it or with different ranges, or its
            options do not fit a transform's range. A view left out of every pair is a warning.
    """

    def __init__(
        self,
        view_transforms: Sequence[View],
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        *,
        pairs: Sequence[tuple[int, int]] | None = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
        **more: SpecLike,
    ) -> None:
        if isinstance(view_transforms, (str, bytes)) or not isinstance(view_transforms, Sequence):
            raise TypeError(
                f"view_transforms must be a list of per-view transforms, got {type(view_transforms).__name__}"
            )
        if len(view_transforms) == 0:
            raise ValueError("view_transforms must hold at least one view")
        for i, view in enumerate(view_transforms):
            if not callable(view):
                raise TypeError(f"view_transforms[{i}] is not callable: {view!r}")
        self.view_transforms = list(view_transforms)
        # The slots of the draw: per view, its joint transforms in pipeline order.
        self.slots = [joint_transforms_in(v) for v in self.view_transforms]
        self._slot_counts = tuple(len(view) for view in self.slots)
        classes = {t.kind: type(t) for view in self.slots for t in view}
        unknown = sorted(kind for kind, value in more.items() if kind not in classes and value is not None)
        if unknown:
            raise ValueError(
                f"unknown joint augmentation(s) {', '.join(unknown)}: no view holds a transform of that kind "
                f"(joint transforms in these views: {', '.join(sorted(classes)) or 'none'}; the options are "
                "crop, blur, color and the kind names of registered plugins)"
            )
        self.specs = parse_specs({"crop": crop, "blur": blur, "color": color, **more}, classes)
        self.pairs = self._check_pairs(pairs, len(self.view_transforms))
        self.crop_or_blur = None if crop_or_blur is None else check_probability(crop_or_blur, "crop_or_blur")
        if self.crop_or_blur is not None and (self.specs["crop"] is None or self.specs["blur"] is None):
            raise ValueError("crop_or_blur needs both crop and blur switched on (a beta or options for each)")
        self.rng = GeneratorSource(seed)
        # Optional callable taking each image's list of DrawRecord (training-time draw logging).
        self.draw_sink: Callable[[list[DrawRecord]], None] | None = None
        self.warn_unpaired = pairs is None
        self._check_specs_against_views()
        self.plan = DrawPlan(self.slots, self.pairs, self.specs, self.crop_or_blur)

    @staticmethod
    def _check_pairs(pairs, n_views: int) -> list[tuple[int, int]]:
        if pairs is None:
            return consecutive_pairs(n_views)
        checked, used = [], set()
        for pair in pairs:
            if len(pair) != 2:
                raise ValueError(f"pairs must hold (i, j) index pairs, got {pair!r}")
            a, b = (int(x) for x in pair)
            for v in (a, b):
                if not 0 <= v < n_views:
                    raise ValueError(f"pairs: view index {v} outside [0, {n_views - 1}]")
                if v in used:
                    raise ValueError(f"pairs: view {v} appears in more than one pair")
                used.add(v)
            if a == b:
                raise ValueError(f"pairs: a view cannot pair with itself ({a}, {b})")
            checked.append((a, b))
        return checked

    def _of_kind(self, view: int, kind: str) -> list[int]:
        return [s for s, t in enumerate(self.slots[view]) if t.kind == kind]

    def _check_specs_against_views(self) -> None:
        """The one place that checks a pair's settings, when built, for every adapter."""
        self.kinds_found = frozenset(t.kind for view in self.slots for t in view)
        for view in self.slots:
            for t in view:
                if self.specs.get(t.kind) is not None:
                    t.check_spec(self.specs[t.kind], t.kind)
        switched_on = [kind for kind, spec in self.specs.items() if spec is not None]
        for kind in switched_on:
            if kind not in self.kinds_found:
                raise ValueError(
                    f"{kind} is switched on but no view holds a {kind} transform this package can draw jointly, "
                    f"so it would have no effect; joint transforms found: {sorted(self.kinds_found) or 'none'}"
                )
            for a, b in self.pairs:
                first, second = self._of_kind(a, kind), self._of_kind(b, kind)
                if len(first) != len(second):
                    raise ValueError(
                        f"{kind} is switched on but paired views {a} and {b} hold {len(first)} and {len(second)} "
                        f"{kind} transform(s): every {kind} of one view needs a partner in the other"
                    )
                for x, y in zip(first, second):
                    x, y = self.slots[a][x], self.slots[b][y]
                    if x.pairing_key() != y.pairing_key():
                        raise ValueError(
                            f"{kind}: views {a} and {b} are paired but their {type(x).__name__} settings differ "
                            f"({x.pairing_key()} vs {y.pairing_key()}); paired views need the same range to be "
                            f"drawn jointly. Give both views the same range, choose other pairs, or pass {kind}=None"
                        )
        paired = {v for pair in self.pairs for v in pair}
        unpaired = [i for i in range(len(self.view_transforms)) if i not in paired]
        if switched_on and unpaired and self.warn_unpaired:
            warnings.warn(
                f"view(s) {unpaired} of {len(self.view_transforms)} are in no pair and draw independently "
                f"(pairs: {self.pairs}); pass pairs= to pair them",
                UserWarning,
                stacklevel=3,
            )

    # --- the draw ----------------------------------------------------------------------------------

    def draw(self, generator: torch.Generator | None = None) -> ImageDraw:
        """Everything random about the joint transforms of one image's views (plain, size-free data).

        Args:
            generator: Where the uniforms come from; ``None`` uses this coordinator's own generator
                (seeded by ``seed``, different per DataLoader worker and rank), never torch's global one.
        """
        return self.draw_from_uniforms(uniforms(self.n_uniforms, generator or self.rng.generator))

    def draw_batch(self, n: int, generator: torch.Generator | None = None) -> ImageDraw:
        """The draws of ``n`` images at once, every number a tensor with leading size ``n``; row ``i``
        equals the scalar draw from the same uniforms (:func:`~jointaug_plugins.draw.unbatch`)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be an int >= 0, got {n!r}")
        u = torch.rand(n, self.n_uniforms, generator=generator or self.rng.generator, dtype=torch.float64)
        return self.draw_from_uniforms(u)

    def draw_from_uniforms(self, u: Sequence[float] | torch.Tensor) -> ImageDraw:
        """The draw made of ``n_uniforms`` uniforms in [0, 1): a list (one image) or an ``(n, n_uniforms)``
        tensor (a batch)."""
        return self.plan.draw_from_uniforms(u)

    @property
    def n_uniforms(self) -> int:
        """How many uniforms one image's draw consumes."""
        return self.plan.n_uniforms

    # --- making the views ----------------------------------------------------------------------------

    def apply(self, image: Any, draw: ImageDraw) -> list[Any]:
        """The views of ``image`` made with ``draw`` (from :meth:`draw`, or a recorded one): the same draw
        gives the same views, whatever the image size."""
        return self._run(image, draw, keep_records=self.draw_sink is not None)[0]

    def apply_with_records(self, image: Any, draw: ImageDraw) -> tuple[list[Any], list[DrawRecord]]:
        """The views of ``image`` made with ``draw``, and what each joint transform made of its slice."""
        return self._run(image, draw, keep_records=True)

    def _run(self, image: Any, draw: ImageDraw, keep_records: bool) -> tuple[list[Any], list[DrawRecord]]:
        if not isinstance(draw, ImageDraw) or tuple(len(v.slices) for v in draw.views) != self._slot_counts:
            shape = [len(v.slices) for v in draw.views] if isinstance(draw, ImageDraw) else type(draw).__name__
            raise ValueError(
                f"draw does not fit these views: it has {shape} slices per view, the views hold "
                f"{list(self._slot_counts)} joint transforms"
            )
        if isinstance(draw.joint_kind, torch.Tensor):
            raise ValueError("apply takes the draw of one image; split a batched draw with jointaug_plugins.unbatch()")
        views: list[Any] = []
        records: list[DrawRecord] = []
        for i, view in enumerate(self.view_transforms):
            with running_view(ActiveView(draw, i, self.slots[i], records if keep_records else None)):
                views.append(view(image))
        if self.draw_sink is not None:
            self.draw_sink(records)
        return views, records

    def making_view(self, draw: ImageDraw, index: int) -> running_view:
        """A context in which the joint transforms of view ``index`` take their slices of ``draw``.

        For recipes whose own ``__call__`` runs the steps of each view (DINOv2's ``DataAugmentationDINO``
        calls its shared geometric augmentation once per view): ``with views.making_view(draw, 0): ...``.
        ``draw`` is the draw of one image (:meth:`draw`); ``index`` a view, ``0 <= index < len(self)``.
        """
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self.view_transforms):
            raise ValueError(f"index must be a view index in [0, {len(self.view_transforms) - 1}], got {index!r}")
        return running_view(ActiveView(draw, index, self.slots[index]))

    def call_with_draw(self, image: Any) -> tuple[list[Any], list[DrawRecord]]:
        """The views of ``image`` with a new draw, and the records of what each joint transform drew."""
        return self.apply_with_records(image, self.draw())

    def __call__(self, image: Any) -> list[Any]:
        return self.apply(image, self.draw())

    def __len__(self) -> int:
        return len(self.view_transforms)

    def __repr__(self) -> str:
        on = {k: (s.beta if s is not None else None) for k, s in self.specs.items() if s is not None}
        lines = [f"{type(self).__name__}(joint={on}, pairs={self.pairs}, seed={self.rng.seed},"]
        lines += [f"  view {i}: {v!r}".replace("\n", "\n  ") for i, v in enumerate(self.view_transforms)]
        return "\n".join(lines) + "\n)"

"""JointViews: the coordinator that makes the views of one image with joint draws."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from .._checks import check_probability
from ..draw import DrawRecord, ImageDraw, running_view
from ..rng import GeneratorSource
from ..spec import JointSpec, SpecLike
from .base import JointTransform

View = Callable[[Any], Any]


def iter_transforms(obj: Any, _seen: set[int] | None = None) -> Iterator[Any]:
    """Every transform inside ``obj``, depth first, looking through the containers torchvision,
    lightly and mmcv use (anything holding a ``transforms`` list or tuple, ``nn.Sequential``)."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    yield obj
    children = getattr(obj, "transforms", None)
    if children is None and hasattr(obj, "_modules") and type(obj).__name__ in ("Sequential", "ModuleList"):
        children = list(obj._modules.values())
    if isinstance(children, Mapping):
        children = list(children.values())
    if isinstance(children, (list, tuple)) or type(children).__name__ in ("ModuleList", "Sequential"):
        for child in children:
            yield from iter_transforms(child, seen)
    elif children is not None and callable(children):
        yield from iter_transforms(children, seen)
    elif children is None and callable(vars(obj).get("transform") if hasattr(obj, "__dict__") else None):
        yield from iter_transforms(obj.transform, seen)


def joint_source_of(obj: Any) -> JointTransform | None:
    """The joint transform behind ``obj``: itself, or the ``joint_source`` an adapter's transform holds."""
    if isinstance(obj, JointTransform):
        return obj
    source = getattr(obj, "joint_source", None)
    return source if isinstance(source, JointTransform) else None


def consecutive_pairs(n_views: int) -> list[tuple[int, int]]:
    """``(0, 1), (2, 3), ...``; an odd last view stays unpaired."""
    return [(i, i + 1) for i in range(0, n_views - 1, 2)]


def resolve_specs(
    crop: SpecLike, blur: SpecLike, color: SpecLike, more: Mapping[str, SpecLike]
) -> dict[str, JointSpec | None]:
    """Parse the user's options per kind, checking that every named kind is registered."""
    from ..registry import joint_augmentations

    registered = joint_augmentations()
    unknown = sorted(k for k in more if k not in registered)
    if unknown:
        raise ValueError(
            f"unknown joint augmentation(s) {', '.join(unknown)}; registered: {', '.join(sorted(registered))}"
        )
    values = {"crop": crop, "blur": blur, "color": color, **more}
    specs = {}
    for kind, value in values.items():
        cls = registered.get(kind)
        specs[kind] = JointSpec.parse(value, kind, tuple(getattr(cls, "option_keys", ())))
    return specs


class JointViews:
    """Make the views of one image, drawing paired views' parameters jointly.

    Each view is the user's own pipeline (a ``Compose`` or any callable). Joint transforms inside them
    (:class:`JointRandomResizedCrop`, :class:`JointGaussianBlur`, :class:`JointColorJitter`, or any
    registered one) take their parameters from one draw per image; everything else in the pipelines
    runs untouched. Views ``(0, 1), (2, 3), ...`` are paired unless ``pairs`` says otherwise.

    Args:
        view_transforms: The per-view pipelines, at least one.
        crop, blur, color: For each kind, ``None`` (views draw independently), a β (any finite real;
            0 is the published JointX(0)), or a dict of options (``beta``, ``margin``, ``sigma``, and
            per kind: ``factors`` for color).
        pairs: Which views are paired, as index pairs; each view in at most one pair.
        crop_or_blur: The paper's remedy for combining JointCrop and JointBlur (its appendix F):
            probability in [0, 1] that a pair gets JointCrop; otherwise it gets JointBlur, the other
            one drawn independently. ``None`` applies both to every pair.
        seed: ``None`` or an int >= 0; see :class:`~jointaug_plugins.rng.GeneratorSource`.
        **more: Options of other registered joint augmentations, by name.
    """

    def __init__(
        self,
        view_transforms: Sequence[View],
        crop: SpecLike = None,
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
        self.specs = resolve_specs(crop, blur, color, more)
        self.pairs = self._check_pairs(pairs, len(self.view_transforms))
        self.crop_or_blur = None if crop_or_blur is None else check_probability(crop_or_blur, "crop_or_blur")
        if self.crop_or_blur is not None and (self.specs["crop"] is None or self.specs["blur"] is None):
            raise ValueError("crop_or_blur needs both crop and blur switched on (a beta or options for each)")
        self.rng = GeneratorSource(seed)
        # Optional callable taking each image's list of DrawRecord (training-time draw logging).
        self.draw_sink: Callable[[list[DrawRecord]], None] | None = None
        self._pair_of_view = {v: (k, slot) for k, pair in enumerate(self.pairs) for slot, v in enumerate(pair)}
        self.warn_unpaired = pairs is None
        self._check_specs_against_views()

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

    def _check_specs_against_views(self) -> None:
        """Check, when built, that every switched-on kind really couples every pair.

        A kind switched on that no view holds, a pair whose views hold different numbers of that kind
        or with different settings, and a kind whose options do not fit a transform's range are
        errors; a view left out of every pair while something is switched on is a warning. Each of
        these would otherwise train with independent views without a word.
        """
        per_view: list[dict[str, list[JointTransform]]] = []
        for view in self.view_transforms:
            sources: dict[str, list[JointTransform]] = {}
            for t in iter_transforms(view):
                t = joint_source_of(t)
                if t is not None:
                    sources.setdefault(t.kind, []).append(t)
                    spec = self.specs.get(t.kind)
                    if spec is not None:
                        t.check_spec(spec, t.kind)
            per_view.append(sources)
        self.kinds_found = frozenset(kind for sources in per_view for kind in sources)
        switched_on = [kind for kind, spec in self.specs.items() if spec is not None]
        for kind in switched_on:
            if kind not in self.kinds_found:
                raise ValueError(
                    f"{kind} is switched on but no view holds a {kind} transform this package can draw jointly, "
                    f"so it would have no effect; joint transforms found: {sorted(self.kinds_found) or 'none'}"
                )
            for a, b in self.pairs:
                first, second = per_view[a].get(kind, []), per_view[b].get(kind, [])
                if len(first) != len(second):
                    raise ValueError(
                        f"{kind} is switched on but paired views {a} and {b} hold {len(first)} and {len(second)} "
                        f"{kind} transform(s): every {kind} of one view needs a partner in the other"
                    )
                for x, y in zip(first, second):
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

    def new_draw(self) -> ImageDraw:
        """An empty draw for the next image, from this process's generator."""
        generator = self.rng.generator
        disabled = frozenset()
        if self.crop_or_blur is not None and self.pairs:
            import torch

            coins = torch.rand(len(self.pairs), generator=generator).tolist()
            disabled = frozenset((k, "blur" if u < self.crop_or_blur else "crop") for k, u in enumerate(coins))
        return ImageDraw(self.specs, self._pair_of_view, generator, disabled)

    def call_with_draw(self, image: Any) -> tuple[list[Any], list[DrawRecord]]:
        """The views of ``image`` and the records of what each joint transform drew."""
        draw = self.new_draw()
        views = []
        for i, view in enumerate(self.view_transforms):
            with running_view(draw, i):
                views.append(view(image))
        if self.draw_sink is not None:
            self.draw_sink(draw.records)
        return views, draw.records

    def __call__(self, image: Any) -> list[Any]:
        return self.call_with_draw(image)[0]

    def __len__(self) -> int:
        return len(self.view_transforms)

    def __repr__(self) -> str:
        on = {k: (s.beta if s is not None else None) for k, s in self.specs.items() if s is not None}
        lines = [f"{type(self).__name__}(joint={on}, pairs={self.pairs}, seed={self.rng.seed},"]
        lines += [f"  view {i}: {v!r}".replace("\n", "\n  ") for i, v in enumerate(self.view_transforms)]
        return "\n".join(lines) + "\n)"

"""Read a built multi-view transform for ``jointaug verify``: its views, its pairs, each view's crop range.

Works on any library's objects without importing the library: it looks through attributes (lists,
dicts, ``transforms``, wrappers) and recognises transforms by duck typing and class names:

* the coordinator: a :class:`~jointaug_plugins.JointViews` anywhere inside (our own, solo's and the
  mm adapters' joint multi-view transforms hold one): its views, pairs and per-kind specs;
* otherwise a list of per-view pipelines: the target itself when it is a list or tuple, or the first
  object whose class (or a base class) name holds ``MultiView`` / ``MultiCrop`` and that keeps its views in
  ``transforms``
  (lightly's ``MultiViewTransform``, mmselfsup's / mmpretrain's ``MultiView``);
* per view, the first object whose class name holds ``ResizedCrop``: its area range is
  ``crop_ratio_range`` (mmcls / mmpretrain) or ``scale`` (torchvision, lightly, mmselfsup, timm, ours),
  its aspect-ratio range ``aspect_ratio_range`` or ``ratio``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..spec import JointSpec
from ..transforms.base import joint_source_of
from ..transforms.views import JointViews, consecutive_pairs
from ..walk import find_instances, iter_transforms

DEFAULT_SCALE = (0.08, 1.0)
DEFAULT_RATIO = (3.0 / 4.0, 4.0 / 3.0)
_MAX_DEPTH = 64  # attribute / container steps: deeper than any library's pipeline nesting
# The coordinator or multi-view of a target sits a few steps from it (a DataLoader's dataset's transform's
# joint_views); a deep object-graph search could wander through globals into another pipeline's.
_NEAR_DEPTH = 6


@dataclass(frozen=True)
class CropRange:
    """A view's crop: area range ``scale`` and aspect-ratio range ``ratio``; ``found`` is False for the
    default (0.08–1.0, 3/4–4/3) used where no resized crop was recognised."""

    scale: tuple[float, float] = DEFAULT_SCALE
    ratio: tuple[float, float] = DEFAULT_RATIO
    found: bool = False
    source: str = ""


@dataclass
class Layout:
    """What the walk found: views, pairs, per view the crop range and the kinds present, the joint specs."""

    n_views: int | None
    pairs: list[tuple[int, int]]
    crops: list[CropRange]
    kinds: list[frozenset[str]]
    specs: dict[str, JointSpec | None] = field(default_factory=dict)
    crop_or_blur: float | None = None
    coordinator: str | None = None
    notes: list[str] = field(default_factory=list)


def _find(obj: Any, match) -> list[Any]:
    """The objects inside ``obj`` for which ``match`` is true, breadth first (the one walker's object-graph search)."""
    return find_instances(obj, match, max_depth=_MAX_DEPTH)


def _pair_of_floats(value: Any) -> tuple[float, float] | None:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return (lo, hi) if 0 < lo <= hi else None


def _crop_of(item: Any) -> Any:
    """``item``, or the crop a joint wrapper holds (so its ``scale`` / ``ratio`` are read)."""
    source = joint_source_of(item)
    return source if source is not None and source.kind == "crop" else item


def _kinds_of(item: Any) -> set[str]:
    kinds = set()
    source = joint_source_of(item)
    if source is not None and source.kind:
        kinds.add(source.kind)
    name = type(item).__name__
    if "ResizedCrop" in name:
        kinds.add("crop")
    elif "Blur" in name:
        kinds.add("blur")
    elif "ColorJitter" in name:
        kinds.add("color")
    return kinds


def _is_multiview(item: Any) -> bool:
    names = " ".join(cls.__name__ for cls in type(item).__mro__)
    views = getattr(item, "transforms", None)
    return (
        ("MultiView" in names or "MultiCrop" in names)
        and isinstance(views, (list, tuple))
        and bool(views)
        and all(callable(v) for v in views)
    )


def crop_range(view: Any) -> CropRange:
    """The crop range of the first resized crop inside ``view`` (default 0.08–1.0 when none is found)."""
    for item in _find(view, lambda obj: "ResizedCrop" in type(_crop_of(obj)).__name__):
        item = _crop_of(item)
        scale = _pair_of_floats(getattr(item, "crop_ratio_range", None) or getattr(item, "scale", None))
        ratio = _pair_of_floats(getattr(item, "aspect_ratio_range", None) or getattr(item, "ratio", None))
        if scale is not None and scale[1] <= 1.0:
            return CropRange(scale, ratio or DEFAULT_RATIO, True, type(item).__name__)
    return CropRange()


def kinds_in(view: Any) -> frozenset[str]:
    """Which of ``crop``, ``blur``, ``color`` the view's pipeline holds (by joint kind or class name)."""
    return frozenset().union(*map(_kinds_of, _find(view, lambda obj: bool(_kinds_of(obj)))))


def find_views(transform: Any) -> tuple[list[Any] | None, JointViews | None]:
    """``(per-view pipelines, coordinator)``; either may be ``None``."""
    # First the pipeline itself (the one walker's pipeline search), then a short object-graph search.
    for item in iter_transforms(transform):
        joint = item if isinstance(item, JointViews) else getattr(item, "joint_views", None)
        if isinstance(joint, JointViews):
            return list(joint.view_transforms), joint
    coordinators = find_instances(transform, lambda obj: isinstance(obj, JointViews), max_depth=_NEAR_DEPTH)
    if coordinators:
        return list(coordinators[0].view_transforms), coordinators[0]
    if isinstance(transform, (list, tuple)) and transform and all(callable(v) for v in transform):
        return list(transform), None
    multiviews = find_instances(transform, _is_multiview, max_depth=_NEAR_DEPTH)
    if multiviews:
        return list(multiviews[0].transforms), None
    return None, None


def describe(transform: Any) -> Layout:
    """The layout of a built multi-view transform (see the module docstring for what is recognised)."""
    views, coordinator = find_views(transform)
    if views is None:
        crop = crop_range(transform)
        notes = ["no per-view pipelines recognised: views are paired (0, 1), (2, 3) ... as they come out"]
        if not crop.found:
            notes.append("no resized crop recognised: using the default scale 0.08-1.0")
        return Layout(None, [], [crop], [kinds_in(transform)], notes=notes)
    crops = [crop_range(v) for v in views]
    kinds = [kinds_in(v) for v in views]
    notes = []
    if coordinator is not None:
        pairs = [(i, j) for i, j in coordinator.pairs]
        specs = dict(coordinator.specs)
        layout = Layout(len(views), pairs, crops, kinds, specs, coordinator.crop_or_blur, type(coordinator).__name__)
        if coordinator.position is not None:
            notes.append(f"crops placed by position ({coordinator.position.describe()}); the areas measured are not")
    else:
        pairs = consecutive_pairs(len(views))
        if len({(c.scale, c.ratio) for c in crops}) > 1 and pairs:
            pairs = pairs[:1]
            notes.append(
                "views with different crop settings (multi-crop) and no joint coordinator: "
                "checking the global pair (0, 1)"
            )
        layout = Layout(len(views), pairs, crops, kinds)
    missing = sorted({i for p in layout.pairs for i in p if not crops[i].found})
    if missing:
        notes.append(f"no resized crop recognised in view(s) {missing}: using the default scale 0.08-1.0")
    layout.notes.extend(notes)
    return layout

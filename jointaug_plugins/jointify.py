"""jointify: turn an existing multi-view transform into its joint version.

One function for every input: the views are copied, each transform a plugin knows is swapped for its
joint version (the one walker, :mod:`jointaug_plugins.walk`), and the coordinator is built over them.
The return rule: a list of views or a :class:`JointViews` gives a :class:`JointViews`; a library's
multi-view transform gives that library's type when a plugin wraps it (the lightly plugin returns a
lightly ``MultiViewTransform``, so ``isinstance`` checks in the user's code keep passing).
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from .options import JointOptions
from .registry import find_replacement, plugin_views_of, wrap_views
from .spec import JointSpec
from .transforms.base import joint_source_of
from .transforms.views import JointViews
from .walk import replace_transforms

_WARNED: set[str] = set()


def warn_once(message: str) -> None:
    """Warn with ``message`` once per process."""
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, UserWarning, stacklevel=3)


def views_of(transform: Any) -> list[Any]:
    """The per-view pipelines of a multi-view transform (a plugin's reading first)."""
    from_plugin = plugin_views_of(transform)
    if from_plugin is not None:
        return list(from_plugin)
    if isinstance(transform, JointViews):
        return list(transform.view_transforms)
    if isinstance(transform, (list, tuple)):
        return list(transform)
    if type(transform).__name__ == "Compose":
        raise TypeError(
            "jointify takes a multi-view transform (a list of per-view pipelines, or an object whose "
            "`transforms` holds them, like lightly's MultiViewTransform); got a single Compose. "
            "Pass [view_1, view_2] instead."
        )
    joint = getattr(transform, "joint_views", None)
    if isinstance(joint, JointViews):
        return list(joint.view_transforms)
    held = getattr(transform, "transforms", None)
    if isinstance(held, (list, tuple)) and held:
        return list(held)
    raise TypeError(
        f"jointify cannot find the views of {type(transform).__name__}: expected a list of per-view pipelines "
        "or an object with a `transforms` list"
    )


def pairs_of(transform: Any) -> list[tuple[int, int]] | None:
    """The pairs of a joint input (a ``JointViews`` or an object holding one as ``joint_views``), else ``None``."""
    joint = transform if isinstance(transform, JointViews) else getattr(transform, "joint_views", None)
    return list(joint.pairs) if isinstance(joint, JointViews) else None


def joint_replacement(transform: Any, specs: Mapping[str, JointSpec | None], also: frozenset[str] = frozenset()) -> Any:
    """The joint version of ``transform`` if a plugin has one and its kind is switched on (or in ``also``: the crop
    that the ``position`` option places even when ``crop=None``), else ``None``.

    Raises ``ValueError`` when the kind is switched on but these settings cannot be drawn jointly:
    keeping the transform would train that kind independently without a word.
    """
    if joint_source_of(transform) is not None:
        return None
    try:
        joint = find_replacement(transform)
    except (TypeError, ValueError) as err:
        warn_once(f"jointify keeps {type(transform).__name__} as it is: it cannot be made joint ({err})")
        return None
    source = joint_source_of(joint) if joint is not None else None
    if source is None or (specs.get(source.kind) is None and source.kind not in also):
        return None
    spec = specs.get(source.kind)
    if spec is None:
        return joint
    try:
        source.check_spec(spec, source.kind)
    except ValueError as err:
        raise ValueError(
            f"{source.kind} is switched on but {type(transform).__name__} cannot be drawn jointly with these "
            f"settings: {err}. Change its range, or pass {source.kind}=None to keep it independent"
        ) from err
    return joint


def jointify_view(view: Any, options: JointOptions | Mapping[str, JointSpec | None]) -> Any:
    """``view`` with every transform a plugin can make joint, and whose kind is on, swapped in place.

    Args:
        view: One view's pipeline.
        options: The parsed options (their ``swapped_kinds``: the kinds on, and the crop where ``position`` places
            it), or the specs per kind alone.
    """
    if isinstance(options, JointOptions):
        specs, also = options.specs, options.swapped_kinds
    else:
        specs, also = options, frozenset()
    return replace_transforms(view, lambda t: joint_replacement(t, specs, also))


def layout_of(transform: Any) -> list[int] | None:
    """The view groups of a joint input (a ``JointViews`` or an object holding one as ``joint_views``), else
    ``None``."""
    joint = transform if isinstance(transform, JointViews) else getattr(transform, "joint_views", None)
    return list(joint.layout) if isinstance(joint, JointViews) else None


def jointify(
    transform: Any,
    options: JointOptions | Mapping[str, Any] | None = None,
    /,
    *,
    layout: Sequence[int] | None = None,
    **more: Any,
) -> Any:
    """The joint version of a multi-view transform; the original is left untouched.

    Every view pipeline is copied, and each transform a plugin knows (torchvision's
    ``RandomResizedCrop``, ``GaussianBlur``, ``ColorJitter``, v1 and v2, and whatever adapters and
    third-party plugins register) is swapped for its joint version with the same arguments, for the
    kinds switched on. The coordinator then checks every pair (see :class:`JointViews`).

    Args:
        transform: A list of per-view pipelines, or an object whose ``transforms`` holds them
            (lightly's ``MultiViewTransform``, a ``JointViews``).
        options, ``**more``: The joint options, as for :class:`JointViews` (``crop`` defaults to JointCrop(0),
            like every entry point of this package). Without ``pairs`` and ``multicrop``, an input that is
            already joint (a multi-crop's) keeps its pairs; others pair views (0, 1), (2, 3) ...
        layout: The views per group (``[2, 6]`` for multi-crop), as for :class:`JointViews`; default the
            input's own where it is already joint, else one group.

    Returns:
        A :class:`JointViews`, or the library's own multi-view type where its plugin wraps one.
    """
    parsed = JointOptions.parse(options, **more)
    views = [jointify_view(copy.deepcopy(v), parsed) for v in views_of(transform)]
    kept = pairs_of(transform)
    if parsed.pairs is None and parsed.multicrop is None and kept is not None:
        parsed = dataclasses.replace(parsed, pairs=tuple(kept))
    joint = JointViews(views, parsed, layout=layout_of(transform) if layout is None else layout)
    wrapped = wrap_views(transform, joint)
    return joint if wrapped is None else wrapped

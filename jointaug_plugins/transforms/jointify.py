"""jointify: turn an existing multi-view transform into its joint version."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import torch

from ..registry import find_replacement
from ..spec import JointSpec, SpecLike
from .views import JointViews, joint_source_of, resolve_specs

_WARNED: set[str] = set()


def warn_once(message: str) -> None:
    """Warn with ``message`` once per process."""
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, UserWarning, stacklevel=3)


def views_of(transform: Any) -> list[Any]:
    """The per-view pipelines of a multi-view transform."""
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
    held = getattr(transform, "transforms", None)
    if isinstance(held, (list, tuple)) and held:
        return list(held)
    raise TypeError(
        f"jointify cannot find the views of {type(transform).__name__}: expected a list of per-view pipelines "
        "or an object with a `transforms` list"
    )


def jointify_view(view: Any, specs: dict[str, JointSpec | None], replaced: set[str] | None = None) -> Any:
    """Swap, in place, every transform of ``view`` that a plugin can make joint and whose kind is on.

    Returns the (possibly new) view; ``replaced`` collects the kinds swapped in. A transform of a
    switched-on kind whose settings cannot be drawn jointly raises ``ValueError``.
    """
    replaced = set() if replaced is None else replaced
    source = joint_source_of(view)
    if source is not None:
        replaced.add(source.kind)
        return view
    try:
        joint = find_replacement(view)
    except (TypeError, ValueError) as err:
        warn_once(f"jointify keeps {type(view).__name__} as it is: it cannot be made joint ({err})")
        joint = None
    if joint is not None:
        source = joint_source_of(joint)
        spec = specs.get(source.kind)
        if spec is None:
            return view
        try:
            source.check_spec(spec, source.kind)
        except ValueError as err:
            # The kind is switched on: keeping the transform would draw it independently in silence.
            raise ValueError(
                f"{source.kind} is switched on but {type(view).__name__} cannot be drawn jointly with these "
                f"settings: {err}. Change its range, or pass {source.kind}=None to keep it independent"
            ) from err
        replaced.add(joint_source_of(joint).kind)
        return joint
    children = getattr(view, "transforms", None)
    if isinstance(children, (list, torch.nn.ModuleList)):
        for i, child in enumerate(children):
            children[i] = jointify_view(child, specs, replaced)
    elif isinstance(children, tuple):
        view.transforms = tuple(jointify_view(child, specs, replaced) for child in children)
    elif isinstance(view, torch.nn.Sequential):
        for name, child in view._modules.items():
            view._modules[name] = jointify_view(child, specs, replaced)
    elif children is not None and callable(children):
        view.transforms = jointify_view(children, specs, replaced)
    elif children is None and callable(vars(view).get("transform") if hasattr(view, "__dict__") else None):
        # Wrappers such as lightly's view transforms hold their pipeline in `transform`.
        view.transform = jointify_view(view.transform, specs, replaced)
    return view


def jointify(
    transform: Any,
    crop: SpecLike = 0.0,
    blur: SpecLike = None,
    color: SpecLike = None,
    *,
    pairs: Sequence[tuple[int, int]] | None = None,
    crop_or_blur: float | None = None,
    seed: int | None = None,
    **more: SpecLike,
) -> JointViews:
    """The joint version of a multi-view transform; the original is left untouched.

    Every view pipeline is copied, and each transform a plugin knows (torchvision's
    ``RandomResizedCrop``, ``GaussianBlur``, ``ColorJitter``, v1 and v2, and whatever adapters and
    third-party plugins register) is swapped for its joint version with the same arguments, for the
    kinds switched on. A transform that cannot be made joint stays as it is, with a warning.

    Args:
        transform: A list of per-view pipelines, or an object whose ``transforms`` holds them
            (lightly's ``MultiViewTransform``, a ``JointViews``).
        crop, blur, color, pairs, crop_or_blur, seed, **more: As for :class:`JointViews`; ``crop``
            defaults to JointCrop(0).
    """
    specs = resolve_specs(crop, blur, color, more)
    replaced: set[str] = set()
    views = [jointify_view(copy.deepcopy(v), specs, replaced) for v in views_of(transform)]
    for kind, spec in specs.items():
        if spec is not None and kind not in replaced:
            warn_once(f"jointify: {kind} is switched on but no transform of that kind was found in the views")
    return JointViews(views, crop, blur, color, pairs=pairs, crop_or_blur=crop_or_blur, seed=seed, **more)

"""Recognise lightly's classes by the module and name of a class in an instance's hierarchy, so that
nothing here imports lightly (the plugin is loaded for every user, with lightly or without)."""

from __future__ import annotations

from typing import Any

__all__ = ["GRID_MODULE", "LIGHTLY_MODULE", "is_lightly_instance", "is_lightly_multiview"]

LIGHTLY_MODULE = "lightly.transforms."
GRID_MODULE = LIGHTLY_MODULE + "random_crop_and_flip_with_grid"
_MULTIVIEW = (
    (LIGHTLY_MODULE + "multi_view_transform", "MultiViewTransform"),
    (LIGHTLY_MODULE + "multi_view_transform_v2", "MultiViewTransformV2"),
    (LIGHTLY_MODULE + "image_grid_transform", "ImageGridTransform"),
)


def is_lightly_instance(obj: Any, module: str, name: str) -> bool:
    """Whether ``obj`` is an instance of lightly's class ``module.name`` (or of a subclass), checked by
    the names in its class hierarchy so that lightly is never imported here."""
    return any(cls.__module__ == module and cls.__name__ == name for cls in type(obj).__mro__)


def is_lightly_multiview(obj: Any) -> bool:
    """Whether ``obj`` is one of lightly's multi-view transforms (``MultiViewTransform``,
    ``MultiViewTransformV2``, ``ImageGridTransform`` or a subclass, this adapter's included)."""
    return any(is_lightly_instance(obj, module, name) for module, name in _MULTIVIEW)

"""kornia adapter: joint parameters for kornia's own augmentations, and whole SSL recipes as batch modules.

``jointify([aug_1, aug_2], crop=0.0)`` (the core's :func:`~jointaug_plugins.jointify`, dispatching through this
package's plugin) returns a :class:`JointKorniaViews`; the recipes (:class:`SimCLRBatchViews`,
:class:`BYOLBatchViews`, :class:`MoCoV2BatchViews`, :class:`MoCoV3BatchViews`, :class:`DINOBatchViews`) make a
whole batch's views on its device. kornia is imported only when a recipe is built or a module runs.
"""

from __future__ import annotations

from typing import Any

from jointaug_plugins import jointify as _core_jointify

__all__ = [
    "BYOLBatchViews",
    "DINOBatchViews",
    "JointKorniaViews",
    "MoCoV2BatchViews",
    "MoCoV3BatchViews",
    "SimCLRBatchViews",
    "jointify",
]

_LAZY = {
    "JointKorniaViews": ".views",
    "SimCLRBatchViews": ".recipes",
    "BYOLBatchViews": ".recipes",
    "MoCoV2BatchViews": ".recipes",
    "MoCoV3BatchViews": ".recipes",
    "DINOBatchViews": ".dino",
}


def jointify(transform: Any, options: Any = None, /, **more: Any) -> Any:
    """The core :func:`~jointaug_plugins.jointify`, with this package's plugin registered first (installed
    packages find it through their entry point; this makes a source checkout work too). For a list of kornia
    views it returns a :class:`JointKorniaViews`; every option of the core's parser is accepted."""
    from jointaug_plugins.registry import register_plugin

    from . import plugin

    register_plugin(plugin, name="jointaug-kornia")
    return _core_jointify(transform, options, **more)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

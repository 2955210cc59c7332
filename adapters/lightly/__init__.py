"""lightly adapter: lightly's multi-view transforms and legacy collate functions with joint views.

Switch a lightly recipe to JointCrop by changing one name (``SimCLRTransform`` ->
``JointSimCLRTransform``), make any lightly multi-view transform joint with the core
:func:`jointaug_plugins.jointify` (re-exported here; it returns a lightly type for a lightly input), or, with
the legacy collate API, pass a transform to :class:`JointCollateFunction`. Models, losses, datasets
(``LightlyDataset``) and collate (``MultiViewCollate``) stay lightly's own.

Joint options: the same keys as at every entry point of this package, parsed once by
:meth:`jointaug_plugins.JointOptions.parse` (see :class:`~jointaug_plugins.JointOptions`; ``None`` for a
kind = lightly's independent draws; default JointCrop(0), blur and colour off; on DINO's ``[2, n_local]``
views ``multicrop`` says which pairs are joint, ``"global"`` by default).

Modules: :mod:`.recipes` (lightly's recipes, one base), :mod:`.multiview` (the three lightly multi-view
types around the core coordinator), :mod:`.convert` (what the plugin does for ``jointify``),
:mod:`.collate`, :mod:`.transforms` (joint versions of lightly's own random transforms), :mod:`.names`
(recognising lightly's classes by name) and :mod:`.plugin` (the entry-point plugin, which never
imports lightly). The names below are imported on first use, so that loading the plugin through this
package needs no lightly; using one of them needs lightly >= 1.5.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ...jointify import jointify

_WHERE = {
    "JointBYOLTransform": "recipes",
    "JointCollateFunction": "collate",
    "JointDINOCollateFunction": "collate",
    "JointDINOTransform": "recipes",
    "JointImageGridTransform": "multiview",
    "JointMoCoCollateFunction": "collate",
    "JointMoCoV1Transform": "recipes",
    "JointMoCoV2Transform": "recipes",
    "JointMultiViewTransform": "multiview",
    "JointMultiViewTransformV2": "multiview",
    "JointRandomResizedCropWithLocation": "transforms",
    "JointRecipe": "recipes",
    "JointSimCLRCollateFunction": "collate",
    "JointSimCLRTransform": "recipes",
    "JointSimSiamTransform": "recipes",
    "JointVICRegTransform": "recipes",
    "LightlyJointGaussianBlur": "transforms",
}

__all__ = [
    "JointBYOLTransform",
    "JointCollateFunction",
    "JointDINOCollateFunction",
    "JointDINOTransform",
    "JointImageGridTransform",
    "JointMoCoCollateFunction",
    "JointMoCoV1Transform",
    "JointMoCoV2Transform",
    "JointMultiViewTransform",
    "JointMultiViewTransformV2",
    "JointRandomResizedCropWithLocation",
    "JointRecipe",
    "JointSimCLRCollateFunction",
    "JointSimCLRTransform",
    "JointSimSiamTransform",
    "JointVICRegTransform",
    "LightlyJointGaussianBlur",
    "jointify",
]

if TYPE_CHECKING:
    from .collate import (
        JointCollateFunction,
        JointDINOCollateFunction,
        JointMoCoCollateFunction,
        JointSimCLRCollateFunction,
    )
    from .multiview import JointImageGridTransform, JointMultiViewTransform, JointMultiViewTransformV2
    from .recipes import (
        JointBYOLTransform,
        JointDINOTransform,
        JointMoCoV1Transform,
        JointMoCoV2Transform,
        JointRecipe,
        JointSimCLRTransform,
        JointSimSiamTransform,
        JointVICRegTransform,
    )
    from .transforms import JointRandomResizedCropWithLocation, LightlyJointGaussianBlur


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
    except ModuleNotFoundError as err:
        if err.name != "lightly" and not (err.name or "").startswith("lightly."):
            raise
        raise ImportError(f"{__name__}.{name} needs lightly >= 1.5: pip install 'jointaug-plugins[lightly]'") from err
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

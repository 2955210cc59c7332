"""jointaug plugin for kornia: ``jointify([aug_1, aug_2, ...])`` on kornia augmentations gives a
:class:`~jointaug_plugins.adapters.kornia.views.JointKorniaViews`.

Registered through the ``jointaug_plugins`` entry-point group. The hooks recognise kornia objects by their module
name, so nothing here imports kornia: a kornia augmentation exists only where kornia was imported.
"""

from __future__ import annotations

import copy
from typing import Any

from jointaug_plugins.hookspecs import hookimpl

from .mirror import classify_view, is_kornia_augmentation, mirror_pipeline


def _kornia_views(transform: Any) -> bool:
    return isinstance(transform, (list, tuple)) and bool(transform) and all(map(is_kornia_augmentation, transform))


@hookimpl
def jointaug_views_of(transform: Any) -> Any:
    """The core pipelines mirroring a list of kornia views (their crops, blurs and colour jitters), else ``None``."""
    if not _kornia_views(transform):
        return None
    return [mirror_pipeline(classify_view(v, f"views[{i}]")) for i, v in enumerate(transform)]


@hookimpl
def jointaug_wrap_views(original: Any, joint: Any) -> Any:
    """A :class:`JointKorniaViews` running copies of the kornia views with ``joint``'s draws, else ``None``."""
    if not _kornia_views(original):
        return None
    from .views import JointKorniaViews

    return JointKorniaViews(copy.deepcopy(list(original)), joint=joint)

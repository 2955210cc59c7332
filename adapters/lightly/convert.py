"""What the core :func:`jointaug_plugins.jointify` needs from lightly, called by the lightly plugin.

* :func:`views_of_other` (hook ``jointaug_views_of``): the views of ``MultiViewTransformV2`` (called
  with several inputs; DetConS hides its pipeline in ``.tr``) and ``ImageGridTransform`` (``(grid,
  view)`` tuples) as single-input callables.
* :func:`wrap_views` (hook ``jointaug_wrap_views``): the return rule, the input's family. A lightly
  ``MultiViewTransform`` comes back as a :class:`.JointMultiViewTransform` (still a lightly
  ``MultiViewTransform``), a ``MultiViewTransformV2`` as a :class:`.JointMultiViewTransformV2` and an
  ``ImageGridTransform`` as a :class:`.JointImageGridTransform`; a list of views gives a ``JointViews``.
"""

from __future__ import annotations

from typing import Any

from ...transforms.views import JointViews
from .multiview import JointImageGridTransform, JointMultiViewTransform, JointMultiViewTransformV2, own_call_of

__all__ = ["views_of_other", "wrap_views"]

_OTHER_FAMILIES = [cls for cls in (JointMultiViewTransformV2, JointImageGridTransform) if cls is not None]


def views_of_other(transform: Any) -> list[Any] | None:
    """The views of a lightly ``MultiViewTransformV2`` or ``ImageGridTransform`` as single-input callables
    (what the plugin's ``jointaug_views_of`` hands the core ``jointify``), else ``None``."""
    for family in _OTHER_FAMILIES:
        if isinstance(transform, family._lightly_class):
            return family.views_in(transform.transforms)
    return None


def _family(source: Any) -> type:
    return next((f for f in _OTHER_FAMILIES if isinstance(source, f._lightly_class)), JointMultiViewTransform)


def wrap_views(original: Any, joint: JointViews) -> Any:
    """``joint``, the coordinator built from the views of the lightly multi-view transform ``original``,
    as this adapter's class of ``original``'s kind (``original``'s own ``__call__``, where it overrides
    lightly's, still prepares the inputs)."""
    family = _family(original)
    base = None if family is JointImageGridTransform else family._lightly_class
    return family.from_joint_views(joint, own_call_of(original, base))

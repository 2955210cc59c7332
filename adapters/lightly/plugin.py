"""The lightly plugin: teaches the core ``jointify`` lightly's random transforms and multi-view types.

Found through the entry point ``[project.entry-points.jointaug_plugins] lightly =
"jointaug_plugins.adapters.lightly.plugin"``. lightly's classes are recognised by module and name
anywhere in an instance's class hierarchy (subclasses too), so loading this plugin never imports lightly.

* ``jointaug_replacement``: ``lightly.transforms.GaussianBlur(prob, sigmas)`` ->
  :class:`~.transforms.LightlyJointGaussianBlur` (its deprecated ``kernel_size`` / ``scale`` were already
  ignored by lightly); ``RandomResizedCropWithLocation`` (VICRegL) ->
  :class:`~.transforms.JointRandomResizedCropWithLocation`; ``RandomResizedCropAndFlip`` -> a copy whose
  crop is that one. lightly's other random transforms carry no scalar range a pair could share
  (``RandomRotate``, ``RandomSolarization``, the frequency masks) and stay drawn per view.
* ``jointaug_views_of``: the views of lightly's ``MultiViewTransformV2`` and ``ImageGridTransform``.
* ``jointaug_wrap_views``: the ``JointViews`` that ``jointify`` built from a lightly multi-view
  transform comes back as the matching lightly type (:mod:`.multiview`), so the result is of the
  input's family.
"""

from __future__ import annotations

import copy
from typing import Any

from ...hookspecs import hookimpl
from .names import GRID_MODULE as _GRID
from .names import LIGHTLY_MODULE as _MODULE
from .names import is_lightly_instance, is_lightly_multiview
from .transforms import JointRandomResizedCropWithLocation, LightlyJointGaussianBlur


def _joint_crop_with_location(transform: Any) -> JointRandomResizedCropWithLocation:
    return JointRandomResizedCropWithLocation(
        size=list(transform.size),
        scale=tuple(transform.scale),
        ratio=tuple(transform.ratio),
        interpolation=transform.interpolation,
        antialias=getattr(transform, "antialias", True),
    )


@hookimpl
def jointaug_replacement(transform: Any) -> Any:
    if is_lightly_instance(transform, _MODULE + "gaussian_blur", "GaussianBlur"):
        return LightlyJointGaussianBlur(sigma=tuple(float(s) for s in transform.sigmas), p=float(transform.prob))
    if is_lightly_instance(transform, _GRID, "RandomResizedCropWithLocation"):
        return _joint_crop_with_location(transform)
    if is_lightly_instance(transform, _GRID, "RandomResizedCropAndFlip"):
        joint = copy.deepcopy(transform)
        joint.resized_crop = _joint_crop_with_location(transform.resized_crop)
        # The coordinator finds the joint crop through `joint_source` (the module keeps its own flips).
        object.__setattr__(joint, "joint_source", joint.resized_crop)
        return joint
    return None


@hookimpl
def jointaug_views_of(transform: Any) -> Any:
    joint = getattr(transform, "joint_views", None)
    if not is_lightly_multiview(transform) or joint is not None:
        return None  # the core reads a MultiViewTransform's `transforms` and a joint one's `joint_views`
    from .convert import views_of_other  # lightly is importable: `transform` is one of its objects

    return views_of_other(transform)


@hookimpl
def jointaug_wrap_views(original: Any, joint: Any) -> Any:
    if not is_lightly_multiview(original):
        return None
    from .convert import wrap_views  # lightly is importable: `original` is one of its objects

    return wrap_views(original, joint)

"""Plugin that teaches ``jointify`` lightly's own random transforms, without importing lightly.

Registered through the entry point ``[project.entry-points.jointaug_plugins] lightly =
"jointaug_plugins.adapters.lightly_plugin"`` (and by :mod:`jointaug_plugins.adapters.lightly` when
imported). lightly's classes are recognised by their module and name anywhere in the instance's class
hierarchy, so listing this plugin never imports lightly and subclasses are recognised too.

Replacements (same settings, same operation):

* ``lightly.transforms.GaussianBlur(prob, sigmas)`` -> :class:`LightlyJointGaussianBlur`: PIL
  ``ImageFilter.GaussianBlur(radius=sigma)``, tensors through PIL as lightly does; its deprecated
  ``kernel_size`` / ``scale`` (lightly 1.4-1.5) were already ignored by lightly.
* ``RandomResizedCropWithLocation`` (VICRegL) -> :class:`JointRandomResizedCropWithLocation`, which also
  returns lightly's ``Location``; ``RandomResizedCropAndFlip`` -> a copy whose crop is that one.

lightly's other random transforms carry no scalar range a pair could share: ``RandomRotate`` (a coin
for a fixed 90°), ``RandomSolarization`` (a coin at a fixed threshold), the frequency-domain masks. They
stay as they are (drawn independently per view), as do ``RandomRotateDegrees`` angles (a signed range).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torchvision.transforms import functional as F_v1
from torchvision.transforms.v2._utils import query_size

from ..hookspecs import hookimpl
from ..transforms.blur import JointGaussianBlur
from ..transforms.crop import JointRandomResizedCrop

__all__ = ["JointRandomResizedCropWithLocation", "LightlyJointGaussianBlur", "is_lightly_instance"]


def is_lightly_instance(obj: Any, module: str, name: str) -> bool:
    """Whether ``obj`` is an instance of lightly's class ``module.name`` (or of a subclass), checked by
    the names in its class hierarchy so that lightly is never imported here."""
    return any(cls.__module__ == module and cls.__name__ == name for cls in type(obj).__mro__)


class LightlyJointGaussianBlur(JointGaussianBlur):
    """lightly's ``GaussianBlur`` with the sigmas of paired views drawn jointly (JointBlur).

    The operation is lightly's: PIL ``ImageFilter.GaussianBlur(radius=sigma)``; a tensor input is turned
    into a PIL image, blurred and turned back, as lightly does. Used alone it draws like lightly's
    (apply with probability ``p``, sigma uniform in ``sigma``).

    Args:
        sigma: ``(min, max)`` of the blur's standard deviation in pixels, ``0 < min <= max``.
        p: Probability in [0, 1] that this view is blurred (lightly's ``prob``).
    """

    def __init__(self, sigma: tuple[float, float] = (0.2, 2.0), p: float = 0.5) -> None:
        super().__init__(kernel_size=None, sigma=sigma, p=p)

    def apply(self, inpt: Any, value: float) -> Any:
        if isinstance(inpt, torch.Tensor):
            return F_v1.to_tensor(super().apply(F_v1.to_pil_image(inpt), value))
        return super().apply(inpt, value)


class JointRandomResizedCropWithLocation(JointRandomResizedCrop):
    """lightly's ``RandomResizedCropWithLocation`` (VICRegL) with crop areas drawn jointly per pair.

    Called as lightly's: ``crop(img) -> (cropped image, Location)``; arguments as for
    :class:`~jointaug_plugins.JointRandomResizedCrop`.
    """

    def forward(self, img: Any) -> tuple[Any, Any]:  # lightly calls forward(img=...)
        from lightly.transforms.random_crop_and_flip_with_grid import Location

        self.check_inputs([img])
        height, width = query_size([img])
        params = self.params_for_size((height, width))
        location = Location(
            top=params["top"],
            left=params["left"],
            height=params["height"],
            width=params["width"],
            image_height=height,
            image_width=width,
        )
        return self.transform(img, params), location


def _joint_blur(transform: Any) -> LightlyJointGaussianBlur:
    sigmas = tuple(float(s) for s in transform.sigmas)
    return LightlyJointGaussianBlur(sigma=sigmas, p=float(transform.prob))


def _joint_crop_with_location(transform: Any) -> JointRandomResizedCropWithLocation:
    return JointRandomResizedCropWithLocation(
        size=list(transform.size),
        scale=tuple(transform.scale),
        ratio=tuple(transform.ratio),
        interpolation=transform.interpolation,
        antialias=getattr(transform, "antialias", True),
    )


_MODULE = "lightly.transforms."


@hookimpl
def jointaug_replacement(transform: Any) -> Any:
    if is_lightly_instance(transform, _MODULE + "gaussian_blur", "GaussianBlur"):
        return _joint_blur(transform)
    grid = _MODULE + "random_crop_and_flip_with_grid"
    if is_lightly_instance(transform, grid, "RandomResizedCropWithLocation"):
        return _joint_crop_with_location(transform)
    if is_lightly_instance(transform, grid, "RandomResizedCropAndFlip"):
        joint = copy.deepcopy(transform)
        joint.resized_crop = _joint_crop_with_location(transform.resized_crop)
        # The coordinator finds the joint crop through `joint_source` (the module keeps its own flips).
        object.__setattr__(joint, "joint_source", joint.resized_crop)
        return joint
    return None

"""Joint versions of lightly's own random transforms (imports no lightly at module level).

* :class:`LightlyJointGaussianBlur` replaces ``lightly.transforms.GaussianBlur(prob, sigmas)``: the same
  operation (PIL ``ImageFilter.GaussianBlur(radius=sigma)``; tensors go through PIL as in lightly).
* :class:`JointRandomResizedCropWithLocation` replaces VICRegL's ``RandomResizedCropWithLocation`` and
  also returns lightly's ``Location`` of the crop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torchvision.transforms import functional as F_v1

from ...transforms.base import image_size
from ...transforms.blur import JointGaussianBlur
from ...transforms.crop import JointRandomResizedCrop

__all__ = ["JointRandomResizedCropWithLocation", "LightlyJointGaussianBlur"]


class LightlyJointGaussianBlur(JointGaussianBlur):
    """lightly's ``GaussianBlur`` with the sigmas of paired views drawn jointly (JointBlur).

    The operation is lightly's: PIL ``ImageFilter.GaussianBlur(radius=sigma)``; a tensor input is turned
    into a PIL image, blurred and turned back, as lightly does. Used alone it draws like lightly's
    (apply with probability ``p``, sigma uniform in ``sigma``).

    Args:
        sigma: ``(min, max)`` of the blur's standard deviation in pixels, ``0 < min <= max``.
        p: Probability in [0, 1] that this view is blurred (lightly's ``prob``).
    """

    def __init__(self, sigma: Sequence[float] = (0.2, 2.0), p: float = 0.5) -> None:
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
        height, width = image_size(img)
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

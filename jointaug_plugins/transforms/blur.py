"""JointGaussianBlur: Gaussian blur with the sigmas of paired views drawn jointly (JointBlur)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import PIL.Image
import torch
from PIL import ImageFilter
from torchvision.transforms.v2 import functional as F

from .base import ScalarJointTransform

_PIL_BLUR_MODES = ("L", "LA", "RGB", "RGBA", "CMYK")
# torchvision's gaussian_blur (a kernel_size is given) also takes 32-bit PIL images, not I;16, P or 1.
_PIL_KERNEL_BLUR_MODES = (*_PIL_BLUR_MODES, "I", "F")


class JointGaussianBlur(ScalarJointTransform):
    """Blur with a Gaussian of random sigma; paired views draw their sigmas jointly.

    The blur is the operation of the transform it replaces: with ``kernel_size=None`` PIL images are
    blurred with ``ImageFilter.GaussianBlur(radius=sigma)`` (lightly's, solo-learn's and MoCo's
    blur), tensors with a kernel of ``2 * ceil(3 * sigma) + 1`` pixels; with a ``kernel_size`` both go
    through torchvision's ``gaussian_blur`` (torchvision's ``GaussianBlur``). Each view keeps its own
    apply probability ``p`` (SimCLR 0.5 / 0.5, BYOL 1.0 / 0.1); only the sigmas are joint.

    Args:
        kernel_size: ``None`` (PIL radius) or an odd int ``>= 1`` / pair of odd ints, as in torchvision.
        sigma: ``(min, max)`` of the Gaussian's standard deviation in pixels, ``0 < min <= max``.
        p: Probability in [0, 1] that this view is blurred.
    """

    kind = "blur"
    param = "sigma"
    coupling = "ratio"
    range_name = "sigma"
    range_bounds = (0.0, float("inf"))

    def __init__(
        self,
        kernel_size: int | Sequence[int] | None = None,
        sigma: Sequence[float] | float = (0.1, 2.0),
        p: float = 1.0,
    ) -> None:
        if isinstance(sigma, bool):  # an int to Python, never a sigma: the same error check_range gives it
            raise TypeError(f"sigma must be a (min, max) pair of numbers, got {sigma!r}")
        if isinstance(sigma, (int, float)):
            sigma = (sigma, sigma)
        super().__init__(sigma, p)
        if self.value_range[0] <= 0:
            raise ValueError(f"sigma must be > 0, got {self.value_range}")
        self.kernel_size = self._check_kernel(kernel_size)
        self.pil_modes = _PIL_BLUR_MODES if self.kernel_size is None else _PIL_KERNEL_BLUR_MODES

    @staticmethod
    def _check_kernel(kernel_size):
        if kernel_size is None:
            return None
        sizes = list(kernel_size) if isinstance(kernel_size, Sequence) else [kernel_size, kernel_size]
        if len(sizes) == 1:
            sizes *= 2
        if len(sizes) != 2 or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 or k % 2 == 0 for k in sizes):
            raise ValueError(f"kernel_size must be None or an odd int >= 1 (or a pair of them), got {kernel_size!r}")
        return sizes

    def apply(self, inpt: Any, value: float) -> Any:
        if self.kernel_size is None and isinstance(inpt, PIL.Image.Image):
            return inpt.filter(ImageFilter.GaussianBlur(radius=value))
        kernel = self.kernel_size or [2 * math.ceil(3 * value) + 1] * 2
        if isinstance(inpt, torch.Tensor):
            # Reflection padding needs the half-kernel to be smaller than the image: tiny images get
            # the largest odd kernel that fits, which covers them entirely anyway.
            limit = [2 * inpt.shape[-2] - 1, 2 * inpt.shape[-1] - 1]
            kernel = [min(k, lim) for k, lim in zip(kernel, reversed(limit))]
        elif isinstance(inpt, PIL.Image.Image):
            limit = [2 * inpt.width - 1, 2 * inpt.height - 1]
            kernel = [min(k, lim) for k, lim in zip(kernel, limit)]
        return F.gaussian_blur(inpt, kernel_size=kernel, sigma=[value, value])

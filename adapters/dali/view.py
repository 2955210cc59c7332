"""One DALI view, described as data: what the per-view pipeline of a DALI recipe does, in order.

A :class:`DALIView` names the operations of one view (random resized crop, colour jitter, grayscale,
Gaussian blur, solarisation, horizontal flip, normalisation) with the meaning torchvision gives them.
The joint draw never sees DALI: :meth:`DALIView.draw_transforms` turns a view into the core's joint
transforms (a crop, a blur, a jitter), and the core's coordinator draws every number from them, so the
DALI path samples exactly the distributions of the PIL path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torchvision import transforms as T

from ..._checks import check_choice, check_probability, check_range, check_real, check_size
from ...transforms.blur import JointGaussianBlur
from ...transforms.color import JointColorJitter
from ...transforms.crop import JointRandomResizedCrop

INTERPOLATIONS = ("nearest", "linear", "cubic", "lanczos")


def _jitter(value: Any) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 4:
        raise TypeError(f"color_jitter must be None or (brightness, contrast, saturation, hue), got {value!r}")
    strengths = tuple(check_real(v, f"color_jitter[{k}]") for k, v in enumerate(value))
    if any(s < 0 for s in strengths) or strengths[3] > 0.5:
        raise ValueError(
            f"color_jitter strengths must be >= 0 and hue <= 0.5 (torchvision's ColorJitter), got {strengths}"
        )
    return strengths  # type: ignore[return-value]


@dataclass(frozen=True)
class DALIView:
    """The operations of one view of a DALI recipe, applied in this order (solo-learn's and SimCLR's).

    Args:
        size: Output size in pixels, an int or ``(h, w)``, each ``>= 1``.
        crop: ``True`` for a random resized crop (``scale``, ``ratio``; torchvision's 10 attempts and
            centre-crop fallback), ``False`` to resize the whole image to ``size``.
        scale: Range of the crop area as a fraction of the image area, ``0 < min <= max <= 1``.
        ratio: Range of the crop aspect ratio ``w/h``, ``0 < min <= max``.
        interpolation: Resize filter: ``"nearest"``, ``"linear"``, ``"cubic"`` or ``"lanczos"``
            (antialiased when downscaling, as torchvision's ``antialias=True``).
        color_jitter: ``(brightness, contrast, saturation, hue)`` strengths as torchvision's
            ``ColorJitter`` reads them (each ``>= 0``, hue ``<= 0.5``), or ``None``.
        color_prob: Probability in [0, 1] that the jitter is applied.
        grayscale: Probability in [0, 1] of converting to grayscale (after the jitter).
        blur: Probability in [0, 1] of a Gaussian blur.
        blur_sigma: ``(min, max)`` of the blur's sigma in output pixels, ``0 < min <= max``.
        solarize: Probability in [0, 1] of solarising (pixels ``>= 128`` inverted).
        hflip: Probability in [0, 1] of a horizontal flip.
        mean, std: Per-channel normalisation in [0, 1] units (``std > 0``); with them the view is a float
            ``C x H x W`` tensor, without them a ``uint8`` ``H x W x C`` image.
    """

    size: int | tuple[int, int]
    crop: bool = True
    scale: tuple[float, float] = (0.08, 1.0)
    ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0)
    interpolation: str = "linear"
    color_jitter: tuple[float, float, float, float] | None = None
    color_prob: float = 0.8
    grayscale: float = 0.0
    blur: float = 0.0
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    solarize: float = 0.0
    hflip: float = 0.0
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise the fields once, here
        set_(self, "size", check_size(self.size, "size"))
        if not isinstance(self.crop, bool):
            raise TypeError(f"crop must be True or False, got {self.crop!r}")
        set_(self, "scale", check_range(self.scale, "scale", lower=0.0, upper=1.0, lower_open=True))
        set_(self, "ratio", check_range(self.ratio, "ratio", lower=0.0, lower_open=True))
        check_choice(self.interpolation, "interpolation", INTERPOLATIONS)
        set_(self, "color_jitter", _jitter(self.color_jitter))
        for name in ("color_prob", "grayscale", "blur", "solarize", "hflip"):
            set_(self, name, check_probability(getattr(self, name), name))
        set_(self, "blur_sigma", check_range(self.blur_sigma, "blur_sigma", lower=0.0, lower_open=True))
        if (self.mean is None) != (self.std is None):
            raise ValueError("mean and std go together: give both (float CHW output) or neither (uint8 HWC)")
        if self.mean is not None:
            for name in ("mean", "std"):
                values = getattr(self, name)
                if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) != 3:
                    raise TypeError(f"{name} must hold 3 numbers (one per RGB channel), got {values!r}")
                set_(self, name, tuple(check_real(v, f"{name}[{k}]") for k, v in enumerate(values)))
            if any(s <= 0 for s in self.std):
                raise ValueError(f"std must be > 0 per channel, got {self.std}")

    @property
    def jitters(self) -> bool:
        """Whether the view can jitter colour at all."""
        return self.color_jitter is not None and self.color_prob > 0 and any(s > 0 for s in self.color_jitter)

    def draw_transforms(self) -> T.Compose:
        """The core's joint transforms for this view's random numbers, in the view's order (never applied
        to pixels: the coordinator only draws from them)."""
        ops: list[Any] = []
        if self.crop:
            ops.append(JointRandomResizedCrop(self.size, scale=self.scale, ratio=self.ratio))
        if self.jitters:
            ops.append(JointColorJitter(*self.color_jitter))  # type: ignore[misc]
        if self.blur > 0:
            ops.append(JointGaussianBlur(sigma=self.blur_sigma, p=self.blur))
        return T.Compose(ops)


def blur_window(sigma: float) -> int:
    """The odd window of a Gaussian blur of ``sigma`` pixels: ``2 * ceil(3 * sigma) + 1``, as the tensor
    path of :class:`~jointaug_plugins.JointGaussianBlur` uses."""
    return 2 * math.ceil(3 * sigma) + 1

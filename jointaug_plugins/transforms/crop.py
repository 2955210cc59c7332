"""JointRandomResizedCrop: torchvision's RandomResizedCrop with crop areas drawn jointly per pair."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as F

from .._checks import check_choice, check_range, check_size
from ..boxes import (
    INDEPENDENT_UNIFORMS,
    JOINT_UNIFORMS,
    crop_box,
    independent_crop_draw,
    independent_crop_draw_batch,
    joint_crop_draws,
    joint_crop_draws_batch,
)
from ..draw import CropDraw, SliceDraw
from ..sampling import half_width
from ..spec import JointSpec
from .base import JointTransform, slice_of

_PIL_INTERPOLATION = {
    0: InterpolationMode.NEAREST,
    1: InterpolationMode.LANCZOS,
    2: InterpolationMode.BILINEAR,
    3: InterpolationMode.BICUBIC,
    4: InterpolationMode.BOX,
    5: InterpolationMode.HAMMING,
}


def as_interpolation(value: InterpolationMode | str | int) -> InterpolationMode:
    """An ``InterpolationMode`` from the enum, its name (``"bilinear"``) or a PIL constant."""
    if isinstance(value, InterpolationMode):
        return value
    if isinstance(value, str):
        try:
            return InterpolationMode(value.lower())
        except ValueError:
            pass
    elif isinstance(value, int) and value in _PIL_INTERPOLATION:
        return _PIL_INTERPOLATION[value]
    names = ", ".join(repr(m.value) for m in InterpolationMode)
    raise ValueError(f"interpolation must be an InterpolationMode, one of {names}, or a PIL constant; got {value!r}")


FALLBACKS = ("center", "whole")
# The published JointCrop (btzyd/JointCrop, moco/loader.py), where it differs from torchvision's crop: a view
# whose ten attempts fail takes the whole image; the log-ratio range is ln(max/min - 0.1); β = 0.
PUBLISHED = {"beta": 0.0, "margin": 0.1, "fallback": "whole"}


class JointRandomResizedCrop(JointTransform):
    """Crop a random part of the image and resize it; paired views draw their areas jointly.

    Used on its own it draws exactly like torchvision's ``RandomResizedCrop``. Inside
    :class:`~jointaug_plugins.JointViews` with ``crop`` on, the two views of a pair take crop areas
    from one ``JC(beta)`` draw (JointCrop); aspect ratios and positions stay per view. The ``crop``
    option accepts ``fallback`` (``"center"``, torchvision's rule and the default, or ``"whole"``) and the
    preset ``crop="published"``: the reference code's JointCrop(0), whose views fall back to the whole
    image when their ten attempts fail.

    Args:
        size: Output size, an int or ``(h, w)``, each ``>= 1``.
        scale: Range of the crop area as a fraction of the image area, ``0 < min <= max <= 1``
            (``min < max`` when drawn jointly).
        ratio: Range of the crop's aspect ratio ``w/h``, ``0 < min <= max``.
        interpolation: Resize interpolation (``InterpolationMode``, its name, or a PIL constant).
        antialias: Antialias when downscaling tensors (PIL always antialiases).
    """

    kind = "crop"
    # fallback: where a view goes when its ten attempts fail ("center": torchvision's, "whole": the reference's).
    option_keys = ("fallback",)
    presets: ClassVar[dict[str, dict[str, Any]]] = {"published": PUBLISHED}
    single_uniforms = INDEPENDENT_UNIFORMS
    pair_uniforms = JOINT_UNIFORMS

    def __init__(
        self,
        size: int | Sequence[int],
        scale: Sequence[float] = (0.08, 1.0),
        ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0),
        interpolation: InterpolationMode | str | int = InterpolationMode.BILINEAR,
        antialias: bool | None = True,
    ) -> None:
        super().__init__()
        self.size = list(check_size(size, "size"))
        self.scale = check_range(scale, "scale", lower=0.0, upper=1.0, lower_open=True)
        self.ratio = check_range(ratio, "ratio", lower=0.0, lower_open=True)
        self.interpolation = as_interpolation(interpolation)
        self.antialias = antialias

    def draw_single(self, u, pair=None) -> CropDraw:
        return independent_crop_draw(u, self.scale, self.ratio, pair)

    def draw_pair(self, other, spec: JointSpec, u, pair=None) -> tuple[CropDraw, CropDraw]:
        return joint_crop_draws(u, self.scale, self.ratio, spec, pair)

    def draw_single_batch(self, u, pair=None) -> CropDraw:
        return independent_crop_draw_batch(u, self.scale, self.ratio, pair)

    def draw_pair_batch(self, other, spec: JointSpec, u, pair=None) -> tuple[CropDraw, CropDraw]:
        return joint_crop_draws_batch(u, self.scale, self.ratio, spec, pair)

    def params_from_draw(self, draw: SliceDraw, size: tuple[int, int]) -> dict[str, Any]:
        crop = slice_of(draw, CropDraw, type(self).__name__)
        (top, left, height, width), area = crop_box(crop, size[0], size[1], self.ratio)
        return {"top": top, "left": left, "height": height, "width": width, "area": area}

    def pairing_key(self) -> tuple:
        return (self.scale, self.ratio)

    def check_spec(self, spec: JointSpec, name: str) -> None:
        half_width(*self.scale, "ratio", spec.margin, name=f"{name}: {type(self).__name__} scale")
        check_choice(spec.options.get("fallback", "center"), f"{name}: fallback", FALLBACKS)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return F.resized_crop(
            inpt,
            top=params["top"],
            left=params["left"],
            height=params["height"],
            width=params["width"],
            size=self.size,
            # A subclass may pick the interpolation per view (timm's random interpolation).
            interpolation=params.get("interpolation", self.interpolation),
            antialias=self.antialias,
        )

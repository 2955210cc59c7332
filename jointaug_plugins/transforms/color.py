"""JointColorJitter: torchvision's ColorJitter with the factors of paired views drawn jointly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torchvision.transforms.v2 import functional as F

from .._checks import check_range, check_real
from ..draw import ColorDraw, Number, SliceDraw
from ..sampling import Coupling, half_width, pair_from_uniforms
from ..spec import JointSpec
from .base import JointTransform, slice_of

FACTORS = ("brightness", "contrast", "saturation", "hue")
_NEUTRAL = (1.0, 1.0, 1.0, 0.0)


def _bands(inpt: Any) -> int | None:
    """The channel count of a tensor image other than 1 or 3 (multispectral), else ``None`` (torchvision's case)."""
    if isinstance(inpt, torch.Tensor) and inpt.ndim >= 3 and inpt.shape[-3] not in (1, 3):
        return inpt.shape[-3]
    return None


def _blend(image: torch.Tensor, other: torch.Tensor | float, ratio: float) -> torch.Tensor:
    """``ratio * image + (1 - ratio) * other`` clamped to the dtype's range, as torchvision blends (integers: the
    result truncated back to the input's dtype)."""
    bound = 1.0 if image.is_floating_point() else float(torch.iinfo(image.dtype).max)
    out = (image.float() * ratio + (1.0 - ratio) * other).clamp_(0.0, bound)
    return out.to(image.dtype)


def _brightness(inpt: Any, factor: float) -> Any:
    # Any channel count: a blend with black, per band (torchvision's definition; it accepts only 1 or 3 channels).
    return F.adjust_brightness(inpt, factor) if _bands(inpt) is None else _blend(inpt, 0.0, factor)


def _contrast(inpt: Any, factor: float) -> Any:
    # Any channel count: a blend with the image's mean over all bands and pixels (torchvision's gray mean for C = 1).
    if _bands(inpt) is None:
        return F.adjust_contrast(inpt, factor)
    return _blend(inpt, inpt.float().mean(dim=(-3, -2, -1), keepdim=True), factor)


def _rgb_only(kernel: Any, name: str) -> Any:
    def adjust(inpt: Any, factor: float) -> Any:
        bands = _bands(inpt)
        if bands is not None:
            raise ValueError(
                f"JointColorJitter: {name} is defined for RGB images only, got an image with {bands} channels; "
                f"set {name}=0 (brightness and contrast work on any number of channels)"
            )
        return kernel(inpt, factor)

    return adjust


_KERNELS = (_brightness, _contrast, _rgb_only(F.adjust_saturation, "saturation"), _rgb_only(F.adjust_hue, "hue"))


def _order(u) -> tuple[int, int, int, int]:
    """A uniformly random order of the four operations from four uniforms (their ranks)."""
    a, b, c, d = sorted(range(4), key=lambda k: u[k])
    return a, b, c, d


def _four(factors: Sequence[Number]) -> tuple[Number, Number, Number, Number]:
    """``factors`` (one per entry of ``FACTORS``) as the 4-tuple a ``ColorDraw`` holds."""
    a, b, c, d = factors
    return a, b, c, d


def _factor_range(value, name: str, center: float, bound: tuple[float, float]):
    """torchvision's reading of a jitter strength: ``s`` means ``[max(0, c - s), c + s]``."""
    if value is None:
        return None
    if isinstance(value, Sequence) and not isinstance(value, str):
        lo, hi = check_range(value, name, lower=bound[0], upper=bound[1])
    else:
        strength = check_real(value, name)
        if strength < 0:
            raise ValueError(f"{name} must be >= 0 when given as one number, got {strength:g}")
        lo, hi = max(center - strength, bound[0]), center + strength
        check_range((lo, hi), name, lower=bound[0], upper=bound[1])
    return None if lo == hi == center else (lo, hi)


class JointColorJitter(JointTransform):
    """Jitter brightness, contrast, saturation and hue; paired views draw their factors jointly.

    Brightness, contrast and saturation factors are coupled by their ratio, hue by the difference
    ``h2 - h1`` (it is additive). The random order of the four operations stays independent per view,
    as in torchvision. Arguments are read as torchvision's ``ColorJitter`` reads them.

    Args:
        brightness, contrast, saturation: ``s >= 0`` for ``[max(0, 1 - s), 1 + s]`` or a ``(min, max)``
            pair with ``0 <= min <= max``; a joint ratio needs ``min > 0``.
        hue: ``h`` in ``[0, 0.5]`` for ``[-h, h]`` or a ``(min, max)`` pair in ``[-0.5, 0.5]``.

    Brightness and contrast work on tensor images with any number of channels (multispectral bands; contrast blends
    with the mean over all bands and pixels); saturation and hue need RGB and are refused on other channel counts.

    Joint option (``color=dict(...)``): ``factors``, the subset of the four that is drawn jointly
    (default: all that are set); the others are drawn independently per view.
    """

    kind = "color"
    option_keys = ("factors",)
    # single: 4 factors, 4 for the order; pair: 2 per factor, 4 for each view's order
    single_uniforms = 8
    pair_uniforms = 16
    pil_modes = ("L", "LA", "RGB", "RGBA", "CMYK")

    def __init__(
        self,
        brightness: float | Sequence[float] | None = 0,
        contrast: float | Sequence[float] | None = 0,
        saturation: float | Sequence[float] | None = 0,
        hue: float | Sequence[float] | None = 0,
    ) -> None:
        super().__init__()
        self.brightness = _factor_range(brightness, "brightness", 1.0, (0.0, float("inf")))
        self.contrast = _factor_range(contrast, "contrast", 1.0, (0.0, float("inf")))
        self.saturation = _factor_range(saturation, "saturation", 1.0, (0.0, float("inf")))
        self.hue = _factor_range(hue, "hue", 0.0, (-0.5, 0.5))

    def _ranges(self):
        return (self.brightness, self.contrast, self.saturation, self.hue)

    @staticmethod
    def _joint_factors(spec: JointSpec) -> tuple[str, ...]:
        factors = spec.options.get("factors", FACTORS)
        if isinstance(factors, str) or any(f not in FACTORS for f in factors):
            raise ValueError(f"color factors must be a list drawn from {', '.join(FACTORS)}; got {factors!r}")
        return tuple(factors)

    def draw_single(self, u, pair=None) -> ColorDraw:
        factors = tuple(_NEUTRAL[k] if r is None else r[0] + u[k] * (r[1] - r[0]) for k, r in enumerate(self._ranges()))
        return ColorDraw(pair, False, _four(factors), _order(u[4:8]))

    def draw_pair(self, other, spec: JointSpec, u, pair=None) -> tuple[ColorDraw, ColorDraw]:
        joint = self._joint_factors(spec)
        first, second = [], []
        for k, (name, r) in enumerate(zip(FACTORS, self._ranges())):
            if r is None:
                a = b = _NEUTRAL[k]
            elif name in joint and r[0] < r[1]:
                coupling: Coupling = "difference" if name == "hue" else "ratio"
                a, b = pair_from_uniforms(u[2 * k], u[2 * k + 1], r[0], r[1], spec, coupling)
            else:
                a = r[0] + u[2 * k] * (r[1] - r[0])
                b = r[0] + u[2 * k + 1] * (r[1] - r[0])
            first.append(a)
            second.append(b)
        return (
            ColorDraw(pair, True, _four(first), _order(u[8:12])),
            ColorDraw(pair, True, _four(second), _order(u[12:16])),
        )

    def params_from_draw(self, draw: SliceDraw, size: tuple[int, int]) -> dict[str, Any]:
        draw = slice_of(draw, ColorDraw, type(self).__name__)
        factors = [None if r is None else float(f) for r, f in zip(self._ranges(), draw.factors)]
        return {"order": [int(i) for i in draw.order], "factors": factors}

    def pairing_key(self) -> tuple:
        return self._ranges()

    def check_spec(self, spec: JointSpec, name: str) -> None:
        joint = self._joint_factors(spec)
        for factor, r in zip(FACTORS, self._ranges()):
            if r is not None and factor in joint and r[0] < r[1]:
                coupling: Coupling = "difference" if factor == "hue" else "ratio"
                half_width(r[0], r[1], coupling, spec.margin, name=f"{name}: JointColorJitter {factor}")

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        factors = params["factors"]
        for index in params["order"]:
            if factors[index] is not None:
                inpt = _KERNELS[index](inpt, factors[index])
        return inpt

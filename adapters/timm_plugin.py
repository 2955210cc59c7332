"""jointaug plugin for timm: its training crop ``RandomResizedCropAndInterpolation`` becomes a joint crop.

A third-party plugin in form: registered through the ``jointaug_plugins`` entry-point group (in this
package's ``pyproject.toml``), written against the public hooks only, and importing timm lazily (the hook
looks at ``sys.modules``: a timm transform exists only where timm was imported). With it, ``jointify``
takes timm's training pipelines unchanged::

    from timm.data import create_transform
    from jointaug_plugins import jointify

    views = jointify([create_transform(224, is_training=True) for _ in range(2)], crop=0.0)

and any object that holds its view pipelines in ``.transforms`` (timm's ``MultiViewTransform`` on its main
branch) the same way. timm's random interpolation (``interpolation="random"``: bilinear or bicubic per
call) is kept: each view draws its interpolation with the rest of its draw.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from torchvision.transforms import InterpolationMode

from ..draw import CropDraw, Number, SliceDraw
from ..hookspecs import hookimpl
from ..transforms.crop import JointRandomResizedCrop, as_interpolation

TIMM_TRANSFORMS = "timm.data.transforms"


@dataclass(frozen=True)
class CropInterpolationDraw(CropDraw):
    """A crop draw plus the uniform in [0, 1) that picks the view's interpolation among the choices."""

    interpolation: Number = 0.0


def _with_interpolation(draw: CropDraw, u: Any) -> CropInterpolationDraw:
    kept = {f.name: getattr(draw, f.name) for f in fields(draw) if f.name != "interpolation"}
    return CropInterpolationDraw(**kept, interpolation=u)


class JointRandomResizedCropAndInterpolation(JointRandomResizedCrop):
    """timm's ``RandomResizedCropAndInterpolation`` with joint areas; the interpolation may be random per view.

    Args:
        size, scale, ratio: As :class:`~jointaug_plugins.JointRandomResizedCrop`.
        interpolations: The interpolation modes to choose from, uniformly per view (one mode: fixed).
    """

    single_uniforms = JointRandomResizedCrop.single_uniforms + 1
    pair_uniforms = JointRandomResizedCrop.pair_uniforms + 2

    def __init__(
        self,
        size: int | Sequence[int],
        scale: Sequence[float] = (0.08, 1.0),
        ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0),
        interpolations: Sequence[InterpolationMode | str | int] = (InterpolationMode.BILINEAR,),
    ) -> None:
        modes = tuple(as_interpolation(m) for m in interpolations)
        if not modes:
            raise ValueError("interpolations must hold at least one interpolation mode")
        super().__init__(size, scale=scale, ratio=ratio, interpolation=modes[0])
        self.interpolations = modes

    def draw_single(self, u, pair=None) -> CropInterpolationDraw:
        return _with_interpolation(super().draw_single(u[:-1], pair), u[-1])

    def draw_pair(self, other, spec, u, pair=None) -> tuple[CropInterpolationDraw, CropInterpolationDraw]:
        first, second = super().draw_pair(other, spec, u[:-2], pair)
        return _with_interpolation(first, u[-2]), _with_interpolation(second, u[-1])

    def draw_single_batch(self, u, pair=None) -> CropInterpolationDraw:
        return _with_interpolation(super().draw_single_batch(u[:, :-1], pair), u[:, -1])

    def draw_pair_batch(self, other, spec, u, pair=None) -> tuple[CropInterpolationDraw, CropInterpolationDraw]:
        first, second = super().draw_pair_batch(other, spec, u[:, :-2], pair)
        return _with_interpolation(first, u[:, -2]), _with_interpolation(second, u[:, -1])

    def params_from_draw(self, draw: SliceDraw, size: tuple[int, int]) -> dict[str, Any]:
        params = super().params_from_draw(draw, size)
        n = len(self.interpolations)
        params["interpolation"] = self.interpolations[min(int(float(getattr(draw, "interpolation", 0.0)) * n), n - 1)]
        return params


@hookimpl
def jointaug_replacement(transform: Any) -> Any:
    """timm's ``RandomResizedCropAndInterpolation`` -> :class:`JointRandomResizedCropAndInterpolation`."""
    module = sys.modules.get(TIMM_TRANSFORMS)
    timm_crop = getattr(module, "RandomResizedCropAndInterpolation", None) if module is not None else None
    if timm_crop is None or not isinstance(transform, timm_crop):
        return None
    modes = transform.interpolation
    modes = tuple(modes) if isinstance(modes, (tuple, list)) else (modes,)
    return JointRandomResizedCropAndInterpolation(transform.size, transform.scale, transform.ratio, modes)

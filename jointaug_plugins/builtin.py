"""The built-in plugin: JointCrop, JointBlur, JointColor and torchvision's transforms they replace."""

from __future__ import annotations

from typing import Any

from torchvision import transforms as tv1
from torchvision.transforms import v2 as tv2

from .hookspecs import hookimpl
from .transforms.blur import JointGaussianBlur
from .transforms.color import JointColorJitter
from .transforms.crop import JointRandomResizedCrop


@hookimpl
def jointaug_augmentations() -> dict[str, type]:
    return {"crop": JointRandomResizedCrop, "blur": JointGaussianBlur, "color": JointColorJitter}


def _jitter_value(value):
    # torchvision v1 keeps [lo, hi] lists (or None), v2 keeps tuples (or None); both mean the range.
    return None if value is None else tuple(float(v) for v in value)


@hookimpl
def jointaug_replacement(transform: Any) -> Any:
    # Exact classes only: a subclass (lightly's RandomResizedCropWithLocation, a user's own) may add
    # behaviour a plain replacement would drop; its plugin, or a warning, handles it.
    cls = type(transform)
    if cls in (tv1.RandomResizedCrop, tv2.RandomResizedCrop):
        return JointRandomResizedCrop(
            size=list(transform.size),
            scale=tuple(transform.scale),
            ratio=tuple(transform.ratio),
            interpolation=transform.interpolation,
            antialias=transform.antialias,
        )
    if cls in (tv1.GaussianBlur, tv2.GaussianBlur):
        return JointGaussianBlur(kernel_size=list(transform.kernel_size), sigma=tuple(transform.sigma), p=1.0)
    if cls in (tv1.ColorJitter, tv2.ColorJitter):
        return JointColorJitter(
            brightness=_jitter_value(transform.brightness),
            contrast=_jitter_value(transform.contrast),
            saturation=_jitter_value(transform.saturation),
            hue=_jitter_value(transform.hue),
        )
    return None

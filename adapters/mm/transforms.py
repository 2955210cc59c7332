"""Joint subclasses of mmselfsup's / mmcls' / mmpretrain's random transforms.

Each subclass overrides only the method that draws the transform's random parameters; it takes them
from the joint transform it holds as ``joint_source`` (the core's draw), so the library's own crop,
resize, blur and jitter code still applies them.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from ...hookspecs import hookimpl
from ...transforms.base import JointTransform
from ...transforms.blur import JointGaussianBlur
from ...transforms.color import JointColorJitter
from ...transforms.crop import JointRandomResizedCrop

LIBRARIES = ("mmselfsup", "mmpretrain")


def _as_range(value) -> tuple[float, float] | None:
    return None if value is None else (float(value[0]), float(value[1]))


class _SelfSupCropMixin:
    """mmselfsup's ``RandomResizedCrop``: crop box from the joint draw, as ``(ymin, xmin, ymax, xmax)``."""

    def get_params(self, img: np.ndarray, scale=None, ratio=None, max_attempts: int = 10):
        p = self.joint_source.params_for_size(img.shape[:2])
        return p["top"], p["left"], p["top"] + p["height"] - 1, p["left"] + p["width"] - 1


class _PretrainCropMixin:
    """mmcls / mmpretrain ``RandomResizedCrop``: crop box from the joint draw."""

    def rand_crop_params(self, img: np.ndarray):
        p = self.joint_source.params_for_size(img.shape[:2])
        return p["top"], p["left"], p["height"], p["width"]


class _SelfSupBlurMixin:
    """mmselfsup's ``RandomGaussianBlur`` (PIL radius), sigma and coin from the joint draw."""

    def transform(self, results: dict) -> dict:
        p = self.joint_source.params_for_size(results["img"].shape[:2])
        if p["apply"]:
            image = Image.fromarray(results["img"].astype("uint8"))
            results["img"] = np.array(image.filter(ImageFilter.GaussianBlur(radius=p["sigma"])))
        return results


class _PretrainBlurMixin:
    """mmpretrain's ``GaussianBlur`` (uniform ``magnitude_range``): radius and coin from the joint draw."""

    def transform(self, results: dict) -> dict:
        p = self.joint_source.params_for_size(results["img"].shape[:2])
        if p["apply"]:
            image = Image.fromarray(results["img"])
            results["img"] = np.array(
                image.filter(ImageFilter.GaussianBlur(radius=p["sigma"])), dtype=results["img"].dtype
            )
        return results


class _SelfSupColorMixin:
    """mmselfsup's ``ColorJitter``: factors and order from the joint draw."""

    def get_params(self, brightness=None, contrast=None, saturation=None, hue=None):
        p = self.joint_source.params_for_size((1, 1))
        return (*p["factors"], np.asarray(p["order"]))


class _PretrainColorMixin:
    """mmpretrain's ``ColorJitter``: factors and order from the joint draw."""

    def _rand_params(self):
        p = self.joint_source.params_for_size((1, 1))
        return (np.asarray(p["order"]), *p["factors"])


def _crop_source(t, pretrain_style: bool) -> JointTransform:
    if pretrain_style:
        return JointRandomResizedCrop(1, scale=t.crop_ratio_range, ratio=t.aspect_ratio_range)
    return JointRandomResizedCrop(1, scale=t.scale, ratio=t.ratio)


def _pretrain_blur_source(t) -> JointTransform:
    if getattr(t, "radius", None) is not None or t.magnitude_range is None:
        raise ValueError("a fixed radius has no random parameter to draw jointly")
    if t.magnitude_std not in ("inf", float("inf")):
        raise ValueError(f"magnitude_std={t.magnitude_std!r}: only the uniform magnitude ('inf') can be drawn jointly")
    return JointGaussianBlur(sigma=tuple(t.magnitude_range), p=t.prob)


def _color_source(t) -> JointTransform:
    return JointColorJitter(
        brightness=_as_range(t.brightness),
        contrast=_as_range(t.contrast),
        saturation=_as_range(t.saturation),
        hue=_as_range(t.hue),
    )


@functools.cache
def conversions(library: str) -> tuple[tuple[type, Any, Callable[[Any], JointTransform]], ...]:
    """``(library class, joint subclass, joint source builder)`` for one library."""
    table = []

    def add(module: str, name: str, mixin: type, make_source: Callable[[Any], JointTransform]) -> None:
        try:
            base = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            return
        joint = type(f"Joint{name}", (mixin, base), {"__module__": __name__, "__doc__": mixin.__doc__})
        # Importable by a name of its own, so views pickle (spawn workers): e.g. JointRandomResizedCrop__mmcls.
        joint.__qualname__ = f"Joint{name}__{module.split('.')[0]}"
        globals()[joint.__qualname__] = joint
        table.append((base, joint, make_source))

    if library == "mmselfsup":
        add("mmselfsup.datasets.transforms", "RandomResizedCrop", _SelfSupCropMixin, lambda t: _crop_source(t, False))
        add(
            "mmselfsup.datasets.transforms",
            "RandomGaussianBlur",
            _SelfSupBlurMixin,
            lambda t: JointGaussianBlur(sigma=(t.sigma_min, t.sigma_max), p=t.prob),
        )
        add("mmselfsup.datasets.transforms", "ColorJitter", _SelfSupColorMixin, _color_source)
        add("mmcls.datasets.transforms", "RandomResizedCrop", _PretrainCropMixin, lambda t: _crop_source(t, True))
    else:
        add("mmpretrain.datasets.transforms", "RandomResizedCrop", _PretrainCropMixin, lambda t: _crop_source(t, True))
        add("mmpretrain.datasets.transforms", "GaussianBlur", _PretrainBlurMixin, _pretrain_blur_source)
        add("mmpretrain.datasets.transforms", "ColorJitter", _PretrainColorMixin, _color_source)
    return tuple(table)


def __getattr__(name: str) -> type:
    """The joint classes by their pickled names (made on first use, as in a freshly spawned worker)."""
    if name.startswith("Joint") and "__" in name:
        for library in LIBRARIES:
            conversions(library)
        if name in globals():
            return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class MMConversions:
    """The plugin (``jointaug_replacement`` hook) that teaches ``jointify`` one library's random transforms.

    Registered when the library's adapter is imported. The core's one replace-and-check path
    (:func:`jointaug_plugins.jointify.jointify_view`) then swaps them: a class whose settings have no
    joint version (an error here) is kept with a warning, a switched-on kind whose range cannot be drawn
    jointly is refused.
    """

    def __init__(self, library: str) -> None:
        self.library = library

    @hookimpl
    def jointaug_replacement(self, transform: Any) -> Any:
        for base, joint_cls, make_source in conversions(self.library):
            if type(transform) is base:
                source = make_source(transform)
                joint = joint_cls.__new__(joint_cls)
                joint.__dict__.update(transform.__dict__)
                joint.joint_source = source
                return joint
        return None

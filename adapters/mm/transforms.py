"""Joint subclasses of mmselfsup's / mmcls' / mmpretrain's random transforms.

Each subclass overrides only the method that draws the transform's random parameters; it takes them
from the joint transform it holds as ``joint_source`` (the core's draw), so the library's own crop,
resize, blur and jitter code still applies them.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from ...transforms.base import JointTransform
from ...transforms.blur import JointGaussianBlur
from ...transforms.color import JointColorJitter
from ...transforms.crop import JointRandomResizedCrop
from ...transforms.jointify import warn_once

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
def conversions(library: str) -> tuple[tuple[type, type, Callable[[Any], JointTransform]], ...]:
    """``(library class, joint subclass, joint source builder)`` for one library."""
    table = []

    def add(module: str, name: str, mixin: type, make_source: Callable[[Any], JointTransform]) -> None:
        try:
            base = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            return
        joint = type(f"Joint{name}", (mixin, base), {"__module__": __name__, "__doc__": mixin.__doc__})
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


def make_joint(transform: Any, library: str, specs: Mapping[str, Any]) -> Any:
    """The joint version of one library transform (same settings), or ``transform`` itself when it has
    none, its kind is off, or its settings cannot be drawn jointly (then with a warning; the view check
    of ``JointMultiView`` then refuses a switched-on kind that no view holds)."""
    for base, joint_cls, make_source in conversions(library):
        if type(transform) is not base:
            continue
        try:
            source = make_source(transform)
        except (TypeError, ValueError) as err:
            warn_once(f"JointMultiView keeps {type(transform).__name__} as it is: {err}")
            return transform
        spec = specs.get(source.kind)
        if spec is None:
            return transform
        source.check_spec(spec, source.kind)
        joint = joint_cls.__new__(joint_cls)
        joint.__dict__.update(transform.__dict__)
        joint.joint_source = source
        return joint
    return transform


def swap_in_place(container: Any, library: str, specs: Mapping[str, Any]) -> None:
    """Replace, recursively, every convertible transform inside mmcv ``Compose`` / wrapper objects."""
    children = getattr(container, "transforms", None)
    if isinstance(children, list):
        for i, child in enumerate(children):
            children[i] = make_joint(child, library, specs)
            swap_in_place(children[i], library, specs)
    elif children is not None:
        swap_in_place(children, library, specs)

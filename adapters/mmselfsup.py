"""mmselfsup / mmpretrain adapter: ``JointMultiView`` and joint versions of their random transforms.

Add to an existing config::

    custom_imports = dict(imports=['jointaug_plugins.adapters.mmselfsup'], allow_failed_imports=False)

and change ``type='MultiView'`` to ``type='JointMultiView'`` with ``joint=dict(crop=0.0)``. The view
pipelines stay as written: ``JointMultiView`` swaps the library's own ``RandomResizedCrop``,
``RandomGaussianBlur`` / ``GaussianBlur`` and ``ColorJitter`` for joint subclasses that take their
random parameters from one draw per image and apply them with the library's own code.

Importing this module registers ``JointMultiView`` into the ``TRANSFORMS`` registry of whichever of
mmselfsup and mmpretrain is installed (both when both are), and works around two upstream problems
that stop their own Runner here (see README, "Known upstream issues"):

* mmselfsup 1.0.0 names a registry location it does not ship (``mmselfsup.engine.runner``,
  open-mmlab/mmselfsup#745): with mmengine >= 0.7 every Runner build fails with ModuleNotFoundError.
  An empty module is registered under that name, so the lookup falls back to mmengine's runners.
* Configs inheriting ``mmselfsup::`` / ``mmpretrain::`` bases carry ``_scope_`` into
  ``collate_fn=dict(type='default_collate')``, which mmengine then passes to the function as a
  keyword. ``Runner.build_dataloader`` is wrapped to drop that key.
* mmcv 2.0.x's ``adjust_hue`` (pillow backend) computes ``np.uint8(hue_factor * 255)``, which numpy 2
  refuses for a negative hue: every ``ColorJitter`` with ``hue > 0`` then fails about half the time.
  Under numpy >= 2 the pillow branch is replaced by one that wraps the shift modulo 256 as numpy 1 did.
"""

from __future__ import annotations

import copy
import functools
import importlib
import importlib.util
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from ..transforms.base import JointTransform
from ..transforms.blur import JointGaussianBlur
from ..transforms.color import JointColorJitter
from ..transforms.crop import JointRandomResizedCrop
from ..transforms.jointify import warn_once
from ..transforms.multicrop import MULTICROP_MODES, multicrop_pairs
from ..transforms.views import JointViews, consecutive_pairs, resolve_specs

LIBRARIES = ("mmselfsup", "mmpretrain")
JOINT_KEYS = ("crop", "blur", "color", "multicrop", "crop_or_blur", "seed")


def installed_libraries() -> list[str]:
    """The supported libraries that are importable here."""
    return [name for name in LIBRARIES if importlib.util.find_spec(name) is not None]


# Upstream workarounds ------------------------------------------------------------------------------


def _register_missing_runner_location() -> None:
    name = "mmselfsup.engine.runner"
    if name in sys.modules or importlib.util.find_spec("mmselfsup") is None:
        return
    importlib.import_module("mmselfsup.engine")
    if importlib.util.find_spec(name) is None:
        module = types.ModuleType(name, "Placeholder for mmselfsup 1.0.0's missing module (open-mmlab/mmselfsup#745).")
        sys.modules[name] = module
        sys.modules["mmselfsup.engine"].runner = module


def _drop_collate_scope() -> None:
    from mmengine.runner import Runner

    original = Runner.build_dataloader
    if getattr(original, "_jointaug_scope_fix", False):
        return

    @functools.wraps(original)
    def build_dataloader(dataloader, *args, **kwargs):
        collate = dataloader.get("collate_fn") if isinstance(dataloader, Mapping) else None
        if isinstance(collate, Mapping) and "_scope_" in collate:
            dataloader = copy.copy(dataloader)
            dataloader["collate_fn"] = {k: v for k, v in collate.items() if k != "_scope_"}
        return original(dataloader, *args, **kwargs)

    build_dataloader._jointaug_scope_fix = True
    Runner.build_dataloader = staticmethod(build_dataloader)


def _numpy2_safe_adjust_hue() -> None:
    if int(np.__version__.split(".")[0]) < 2:
        return
    import mmcv
    import mmcv.image
    import mmcv.image.photometric as photometric

    original = photometric.adjust_hue
    if getattr(original, "_jointaug_numpy2_fix", False):
        return

    @functools.wraps(original)
    def adjust_hue(img: np.ndarray, hue_factor: float, backend: str | None = None) -> np.ndarray:
        chosen = photometric.imread_backend if backend is None else backend
        if chosen != "pillow" or not (-0.5 <= hue_factor <= 0.5) or not isinstance(img, np.ndarray):
            return original(img, hue_factor, backend=backend)
        image = Image.fromarray(img[..., ::-1], mode="RGB")
        h, s, v = image.convert("HSV").split()
        shifted = (np.asarray(h, dtype=np.int64) + int(hue_factor * 255)) % 256
        h = Image.fromarray(shifted.astype(np.uint8), "L")
        return np.array(Image.merge("HSV", (h, s, v)).convert("RGB"), dtype=img.dtype)[..., ::-1]

    adjust_hue._jointaug_numpy2_fix = True
    for module in (photometric, mmcv.image, mmcv):
        module.adjust_hue = adjust_hue
    # mmselfsup imported the name into its own namespace.
    processing = sys.modules.get("mmselfsup.datasets.transforms.processing")
    if processing is None and importlib.util.find_spec("mmselfsup") is not None:
        processing = importlib.import_module("mmselfsup.datasets.transforms.processing")
    if processing is not None:
        processing.adjust_hue = adjust_hue


# Joint subclasses of the libraries' random transforms -----------------------------------------------


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
def _conversions(library: str) -> tuple[tuple[type, type, Callable[[Any], JointTransform]], ...]:
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
    none, its kind is off, or its settings cannot be drawn jointly (then with a warning)."""
    for base, joint_cls, make_source in _conversions(library):
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
        try:
            source.check_spec(spec, source.kind)
        except ValueError as err:
            warn_once(f"JointMultiView keeps {type(transform).__name__} as it is, drawn independently: {err}")
            return transform
        joint = joint_cls.__new__(joint_cls)
        joint.__dict__.update(transform.__dict__)
        joint.joint_source = source
        return joint
    return transform


def _swap_in_place(container: Any, library: str, specs: Mapping[str, Any]) -> None:
    """Replace, recursively, every convertible transform inside mmcv ``Compose`` / wrapper objects."""
    children = getattr(container, "transforms", None)
    if isinstance(children, list):
        for i, child in enumerate(children):
            children[i] = make_joint(child, library, specs)
            _swap_in_place(children[i], library, specs)
    elif children is not None:
        _swap_in_place(children, library, specs)


class _FreshCopy:
    """Runs a view pipeline on its own deep copy of the results dict, as ``MultiView`` does."""

    def __init__(self, pipeline: Callable[[dict], dict | None]) -> None:
        self.transform = pipeline

    def __call__(self, results: dict) -> dict:
        out = self.transform(copy.deepcopy(results))
        if out is None:
            raise ValueError(
                f"a JointMultiView view pipeline returned None (a transform dropped the sample): {self.transform}"
            )
        return out


def parse_joint(joint: Mapping[str, Any] | None, num_views: list[int]) -> dict[str, Any]:
    """Check ``joint=`` and turn it into ``JointViews`` arguments (specs, pairs, seed, policy)."""
    if joint is None:
        joint = {}
    if not isinstance(joint, Mapping):
        raise TypeError(f"joint must be a dict with keys {', '.join(JOINT_KEYS)}; got {type(joint).__name__}")
    unknown = sorted(str(k) for k in joint if k not in JOINT_KEYS)
    if unknown:
        raise ValueError(f"joint has unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(JOINT_KEYS)}")
    mode = joint.get("multicrop")
    total = sum(num_views)
    if mode is None:
        pairs = consecutive_pairs(total)
    else:
        if mode not in MULTICROP_MODES:
            raise ValueError(f"joint['multicrop'] must be one of {', '.join(MULTICROP_MODES)}; got {mode!r}")
        if len(num_views) != 2:
            raise ValueError(
                f"joint['multicrop'] needs num_views=[n_global, n_local] (two pipelines); got num_views={num_views}"
            )
        pairs = multicrop_pairs(num_views[0], num_views[1], mode)
    return {
        "crop": joint.get("crop"),
        "blur": joint.get("blur"),
        "color": joint.get("color"),
        "pairs": pairs,
        "crop_or_blur": joint.get("crop_or_blur"),
        "seed": joint.get("seed"),
    }


def _make_joint_multiview(library: str) -> type:
    if library == "mmselfsup":
        from mmselfsup.datasets.transforms import MultiView
    else:
        from mmpretrain.datasets.transforms import MultiView

    class JointMultiView(MultiView):
        """``MultiView`` whose views are drawn jointly (JointCrop / JointBlur / JointColor).

        Args:
            transforms: The view pipelines, as for ``MultiView`` (a list of lists of transform configs).
            num_views: Views per pipeline, an int or a list (``[2, 6]`` for multi-crop).
            joint: Which augmentations are joint, a dict with keys ``crop``, ``blur``, ``color`` (each
                ``None``/absent = off, a β, or an options dict with ``beta``, ``margin``, ``sigma``),
                ``multicrop`` (``"global"``, ``"local"`` or ``"both"``; needs ``num_views=[n_global,
                n_local]``), ``crop_or_blur`` (probability of JointCrop rather than JointBlur per pair) and
                ``seed``. Views are paired (0, 1), (2, 3) ... across the flattened view list (so
                ``num_views=[1, 1]`` pairs the two asymmetric BYOL views); with ``multicrop`` globals pair
                among themselves and locals among themselves, an odd last one drawn independently.
        """

        def __init__(self, transforms: list, num_views: int | list[int], joint: Mapping[str, Any] | None = None):
            super().__init__(transforms=transforms, num_views=num_views)
            options = parse_joint(joint, list(self.num_views))
            specs = resolve_specs(options["crop"], options["blur"], options["color"], {})
            for pipeline in self.pipelines:
                _swap_in_place(pipeline, library, specs)
            self.joint_options = options
            self.joint_views = JointViews([_FreshCopy(p) for p in self.transforms], **options)

        def transform(self, results: dict) -> dict:
            outputs = self.joint_views(results)
            results.update(img=[out["img"] for out in outputs])
            return results

        def __repr__(self) -> str:
            return super().__repr__()[:-1] + f", joint={self.joint_options})"

    JointMultiView.__module__ = __name__
    JointMultiView.__qualname__ = "JointMultiView"
    return JointMultiView


def _register() -> dict[str, type]:
    registered = {}
    for library in installed_libraries():
        registry = importlib.import_module(f"{library}.registry").TRANSFORMS
        cls = _make_joint_multiview(library)
        registry.register_module(name="JointMultiView", module=cls, force=True)
        registered[library] = cls
    return registered


_register_missing_runner_location()
_drop_collate_scope()
_numpy2_safe_adjust_hue()
JOINT_MULTIVIEW = _register()
if not JOINT_MULTIVIEW:
    raise ImportError("jointaug_plugins.adapters.mmselfsup needs mmselfsup or mmpretrain installed")
JointMultiView = JOINT_MULTIVIEW.get("mmselfsup") or JOINT_MULTIVIEW["mmpretrain"]

__all__ = ["JOINT_MULTIVIEW", "JointMultiView", "installed_libraries", "make_joint", "parse_joint"]

"""Which kornia augmentations the core draws jointly, and the core joint transform that mirrors each.

A kornia view (one augmentation or an ``AugmentationSequential``) is flattened into its list of ops. Each op
gets a *role*: ``"crop"``, ``"blur"`` and ``"color"`` ops are mirrored by the core's joint transform with the same
ranges (so the core's one coordinator draws them); ``"coin"`` ops (flips, grayscale, ...: nothing random but
whether they apply), ``"uniform"`` ops (every parameter uniform in a range, as ``RandomSolarize``) and
``"fixed"`` ops (``Normalize``) are drawn here from the view's seed; anything else is ``"kornia"``: kornia draws
it itself, under a generator seeded from the draw. kornia is imported by the caller; this module only reads
attributes of the objects it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torchvision.transforms import v2

from jointaug_plugins.transforms.blur import JointGaussianBlur
from jointaug_plugins.transforms.color import JointColorJitter
from jointaug_plugins.transforms.crop import JointRandomResizedCrop

KORNIA_MODULE = "kornia."


def is_kornia_augmentation(obj: Any) -> bool:
    """Whether ``obj`` is a kornia augmentation module (recognised without importing kornia)."""
    # By the class hierarchy: subclasses defined elsewhere (TorchGeo's) are kornia augmentations too.
    return callable(obj) and any(k.__module__.startswith("kornia.augmentation") for k in type(obj).__mro__)


def flatten_view(view: Any, name: str = "view") -> list[Any]:
    """The ops of one kornia view, in the order they run: a single augmentation, or the (nested) children of an
    ``AugmentationSequential`` / ``ImageSequential`` that applies all of them in order, on images only."""
    if not is_kornia_augmentation(view):
        raise TypeError(f"{name} must be a kornia augmentation or AugmentationSequential, got {type(view).__name__}")
    kind = type(view).__name__
    if kind in ("AugmentationSequential", "ImageSequential", "VideoSequential"):
        if getattr(view, "random_apply", False):
            raise ValueError(
                f"{name}: {kind}(random_apply=...) picks its ops at random per batch, so its views cannot replay a "
                "per-image draw; pass random_apply=False (the default)"
            )
        keys = [getattr(k, "name", str(k)) for k in getattr(view, "data_keys", None) or ["IMAGE"]]
        if any(k not in ("IMAGE", "INPUT", "input", "image") for k in keys):
            raise ValueError(f"{name}: only image inputs are supported (data_keys={keys})")
        return [op for child in view.children() for op in flatten_view(child, name)]
    return [view]


@dataclass
class Op:
    """One kornia op of a view and how its parameters are drawn.

    Attributes:
        module: The kornia augmentation.
        role: ``crop`` | ``blur`` | ``color`` (mirrored by ``mirror``), ``coin``, ``uniform``, ``fixed`` or
            ``kornia`` (see the module docstring).
        mirror: The core joint transform with the same ranges (``crop``, ``blur``, ``color``), else ``None``.
        uniforms: How many per-sample uniforms in [0, 1) this op takes from the view's seed.
        ranges: For ``uniform`` ops, ``{param name: (low, high)}``.
    """

    module: Any
    role: str
    mirror: Any = None
    uniforms: int = 0
    ranges: dict[str, tuple[float, float]] | None = None

    @property
    def p(self) -> float:
        return float(self.module.p)


def _check_batch_p(module: Any, name: str) -> None:
    # p_batch < 1 skips a whole batch with one coin: not a per-image quantity the draw could hold.
    if float(getattr(module, "p_batch", 1.0)) != 1.0:
        raise ValueError(f"{name}: {type(module).__name__}(p_batch={module.p_batch}) is not supported; keep p_batch=1")
    if getattr(module, "same_on_batch", False):
        raise ValueError(f"{name}: {type(module).__name__}(same_on_batch=True) would give every image one draw")


def _range(sampler: Any) -> tuple[float, float]:
    return float(sampler.low), float(sampler.high)


def _drawn_keys(module: Any) -> set[str]:
    """The names of the parameters ``module`` draws (one throwaway draw, torch's global generator restored)."""
    with torch.random.fork_rng(devices=[]):
        params = module.forward_parameters((1, 3, 8, 8))
    return set(params) - {"batch_prob", "forward_input_shape"}


def classify(module: Any, name: str = "op") -> Op:
    """The :class:`Op` of one kornia augmentation (its mirror built with the same ranges)."""
    kind = type(module).__name__
    gen = getattr(module, "_param_generator", None)
    if kind == "Normalize" or kind == "Denormalize":
        return Op(module, "fixed")
    if kind == "RandomResizedCrop":
        # kornia keeps a shape-changing op's p as p_batch (one coin for the whole batch).
        p = min(float(module.p), float(module.p_batch))
        if p != 1.0:
            raise ValueError(f"{name}: RandomResizedCrop(p={p:g}) would leave some batches uncropped; use p=1")
        _check_batch_p(module, name)  # same_on_batch=True: one crop for every image, as for any other op
        if module.flags.get("cropping_mode") != "slice":
            raise ValueError(f"{name}: RandomResizedCrop(cropping_mode='resample') is not supported; use 'slice'")
        mirror = JointRandomResizedCrop(list(gen.size), scale=tuple(gen.scale), ratio=tuple(gen.ratio), antialias=False)
        return Op(module, "crop", mirror)
    _check_batch_p(module, name)
    if kind == "RandomGaussianBlur":
        sigma = tuple(float(s) for s in gen.sigma)
        mirror = JointGaussianBlur(list(module.flags["kernel_size"]), sigma=sigma, p=float(module.p))
        return Op(module, "blur", mirror)
    if kind in ("ColorJitter", "ColorJiggle"):
        b, c, s, h = (_range(getattr(gen, f"{f}_sampler")) for f in ("brightness", "contrast", "saturation", "hue"))
        mirror = JointColorJitter(brightness=b, contrast=c, saturation=s, hue=h)
        return Op(module, "color", mirror, uniforms=1)
    if gen is None:
        return Op(module, "fixed" if module.p == 1.0 else "coin", uniforms=0 if module.p == 1.0 else 1)
    samplers = getattr(gen, "sampler_dict", None)
    if type(gen).__name__ == "PlainUniformGenerator" and samplers:
        ranges = {key: _range(s) for key, s in samplers.items()}
        if _drawn_keys(module) == set(ranges):
            return Op(module, "uniform", uniforms=1 + len(ranges), ranges=ranges)
    return Op(module, "kornia", uniforms=1)


def classify_view(view: Any, name: str = "view") -> list[Op]:
    """The ops of one kornia view (:func:`flatten_view`), classified."""
    return [classify(m, f"{name}[{i}]") for i, m in enumerate(flatten_view(view, name))]


def mirror_pipeline(ops: list[Op]) -> v2.Compose:
    """The core pipeline of one view: its mirrored joint transforms in order, for the core's coordinator
    (an identity when none is mirrored). A colour op applied with ``p < 1`` is mirrored inside
    ``RandomApply(p=p)``, so the coordinator's pairing check sees its probability (``p=0``: no effect)."""
    mirrors = [
        v2.RandomApply([op.mirror], p=op.p) if op.role == "color" and op.p < 1.0 else op.mirror
        for op in ops
        if op.mirror is not None
    ]
    return v2.Compose(mirrors or [v2.Identity()])

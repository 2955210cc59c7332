"""lightly adapter: joint versions of lightly's multi-view transforms and collate functions.

Switch a lightly recipe to JointCrop by changing one name (``SimCLRTransform`` ->
``JointSimCLRTransform``), by wrapping any ``MultiViewTransform`` with :func:`jointify`, or, with the
legacy collate API, by passing a single-view transform to :class:`JointCollateFunction`. Models,
losses and training loops stay lightly's own.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from lightly.transforms import BYOLTransform, DINOTransform, MoCoV2Transform, SimCLRTransform, SimSiamTransform
from lightly.transforms.multi_view_transform import MultiViewTransform
from lightly.transforms.simclr_transform import SimCLRViewTransform
from lightly.transforms.utils import IMAGENET_NORMALIZE

from ..registry import register_plugin
from ..spec import SpecLike
from ..transforms.jointify import jointify as _jointify
from ..transforms.multicrop import multicrop_mode, multicrop_pairs
from ..transforms.views import JointViews
from . import lightly_plugin

register_plugin(lightly_plugin, name="jointaug-lightly")

__all__ = [
    "JointBYOLTransform",
    "JointCollateFunction",
    "JointDINOCollateFunction",
    "JointDINOTransform",
    "JointMoCoCollateFunction",
    "JointMoCoV2Transform",
    "JointMultiViewTransform",
    "JointSimCLRCollateFunction",
    "JointSimCLRTransform",
    "JointSimSiamTransform",
    "jointify",
]


class JointMultiViewTransform(MultiViewTransform):
    """A lightly ``MultiViewTransform`` whose views are drawn jointly.

    Args:
        transforms: The per-view pipelines (lightly's own view transforms, ``Compose`` ...); each
            transform a plugin knows (torchvision's ``RandomResizedCrop``, ``GaussianBlur``,
            ``ColorJitter``, lightly's ``GaussianBlur``) is swapped for its joint version.
        crop, blur, color: ``None`` (independent, lightly's behaviour), a β (any finite real; 0 is the
            published JointX(0)), or a dict of options (``beta``, ``margin``, ``sigma``, ``factors``).
        pairs: Joint view pairs; default ``(0, 1), (2, 3), ...``.
        crop_or_blur: Per pair, JointCrop with this probability, else JointBlur (paper, appendix F).
        seed: ``None`` or an int >= 0 (streams differ per DataLoader worker and rank either way).
    """

    def __init__(
        self,
        transforms: Sequence[Any],
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        *,
        pairs: Sequence[tuple[int, int]] | None = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
    ) -> None:
        self.joint_views: JointViews = _jointify(
            list(transforms), crop=crop, blur=blur, color=color, pairs=pairs, crop_or_blur=crop_or_blur, seed=seed
        )
        super().__init__(transforms=self.joint_views.view_transforms)

    def __call__(self, image: Any) -> list[Any]:
        return self.joint_views(image)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.joint_views!r})"


def jointify(
    transform: MultiViewTransform | Sequence[Any],
    crop: SpecLike = 0.0,
    blur: SpecLike = None,
    color: SpecLike = None,
    *,
    pairs: Sequence[tuple[int, int]] | None = None,
    crop_or_blur: float | None = None,
    seed: int | None = None,
) -> JointMultiViewTransform:
    """The joint version of any lightly ``MultiViewTransform`` (or ``MultiViewTransformV2``, or a list of
    views), as a lightly ``MultiViewTransform``; the original is left untouched. Arguments as for
    :class:`JointMultiViewTransform`."""
    views = transform.transforms if hasattr(transform, "transforms") else transform
    return JointMultiViewTransform(
        views, crop=crop, blur=blur, color=color, pairs=pairs, crop_or_blur=crop_or_blur, seed=seed
    )


def _signature_of(base: type):
    """Class decorator: show ``base``'s constructor arguments, plus ours, in ``help()`` and
    ``inspect.signature`` (the constructor forwards them to ``base``)."""
    return lambda cls: _with_lightly_signature(cls, base)


def _with_lightly_signature(cls: type, base: type) -> type:
    ours = [p for p in inspect.signature(cls.__init__).parameters.values() if p.kind == p.KEYWORD_ONLY]
    theirs = [
        p.replace(kind=p.KEYWORD_ONLY)
        for name, p in inspect.signature(base.__init__).parameters.items()
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    cls.__signature__ = inspect.Signature([*theirs, *ours])
    return cls


class _JointRecipe(JointMultiViewTransform):
    """A lightly recipe made joint: builds lightly's transform, then swaps in the joint transforms."""

    recipe: type = MultiViewTransform

    def __init__(
        self,
        *args: Any,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        base = self.recipe(*args, **kwargs)
        super().__init__(base.transforms, crop=crop, blur=blur, color=color, seed=seed)


@_signature_of(SimCLRTransform)
class JointSimCLRTransform(_JointRecipe):
    """lightly's ``SimCLRTransform`` (same arguments and defaults) with joint views.

    Extra keyword arguments: ``crop`` (default JointCrop(0)), ``blur`` (lightly's ``GaussianBlur``,
    probability ``gaussian_blur`` per view, sigmas ``sigmas``), ``color`` (the colour jitter), each
    ``None``, a β, or an options dict; ``seed``.
    """

    recipe = SimCLRTransform


@_signature_of(MoCoV2Transform)
class JointMoCoV2Transform(_JointRecipe):
    """lightly's ``MoCoV2Transform`` (same arguments and defaults) with joint views.

    Extra keyword arguments: ``crop`` (default JointCrop(0)), ``blur``, ``color``, ``seed``.
    """

    recipe = MoCoV2Transform


@_signature_of(BYOLTransform)
class JointBYOLTransform(_JointRecipe):
    """lightly's ``BYOLTransform`` (``view_1_transform``, ``view_2_transform``) with joint views.

    The two asymmetric views (blur probability 1.0 / 0.1, solarisation on view 2) keep their own
    recipes; only the paired parameters are drawn jointly. The two views' crops must share ``min_scale``
    to be paired. Extra keyword arguments: ``crop`` (default JointCrop(0)), ``blur``, ``color``, ``seed``.
    """

    recipe = BYOLTransform


@_signature_of(SimSiamTransform)
class JointSimSiamTransform(_JointRecipe):
    """lightly's ``SimSiamTransform`` (same arguments and defaults) with joint views.

    Extra keyword arguments: ``crop`` (default JointCrop(0)), ``blur``, ``color``, ``seed``.
    """

    recipe = SimSiamTransform


@_signature_of(DINOTransform)
class JointDINOTransform(JointMultiViewTransform):
    """lightly's ``DINOTransform`` (same arguments and defaults) with joint crops.

    Views: ``[global_1, global_2, local_1, ..., local_n]``. ``joint`` selects which pairs are joint:
    ``"global"`` (the two global views; default), ``"local"`` (locals paired (1, 2), (3, 4) ...; an odd
    last local is drawn independently) or ``"both"``; it may also be given as ``crop={"joint": ...}``.
    Extra keyword arguments: ``crop`` (default JointCrop(0)), ``joint``, ``blur``, ``color``, ``seed``.
    """

    def __init__(
        self,
        *args: Any,
        crop: SpecLike = 0.0,
        joint: str | None = None,
        blur: SpecLike = None,
        color: SpecLike = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        mode, crop_spec = multicrop_mode(crop, joint)
        base = DINOTransform(*args, **kwargs)
        self.multicrop = mode
        pairs = multicrop_pairs(2, len(base.transforms) - 2, mode)
        super().__init__(base.transforms, crop=crop_spec, blur=blur, color=color, pairs=pairs, seed=seed)


class JointCollateFunction(torch.nn.Module):
    """Collate function with the contract of lightly's legacy ``BaseCollateFunction(transform)``.

    Takes a batch of ``(image, label, filename)`` and returns ``((x0, x1), labels, filenames)`` where
    ``x0[i]`` and ``x1[i]`` are a joint pair of image ``i`` (lightly's view ``i`` and view
    ``i + batch_size``).

    Args:
        transform: The single-view transform (PIL image -> tensor) both views use.
        crop, blur, color, crop_or_blur, seed: As for :class:`JointMultiViewTransform`.
    """

    def __init__(
        self,
        transform: Any,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        *,
        crop_or_blur: float | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.transform = transform
        self.joint_views = _jointify(
            [transform, transform], crop=crop, blur=blur, color=color, crop_or_blur=crop_or_blur, seed=seed
        )

    def forward(
        self, batch: list[tuple[Any, int, str]]
    ) -> tuple[tuple[torch.Tensor, torch.Tensor], torch.Tensor, list]:
        pairs = [self.joint_views(item[0]) for item in batch]
        views = (torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs]))
        labels = torch.LongTensor([item[1] for item in batch])
        return views, labels, [item[2] for item in batch]


def _drop_kernel_arguments(kwargs: dict[str, Any], name: str) -> None:
    for deprecated in ("kernel_size", "kernel_scale"):
        if kwargs.pop(deprecated, None) is not None:
            warnings.warn(f"{name}: {deprecated} is deprecated in lightly and ignored; use sigmas", stacklevel=3)


class JointSimCLRCollateFunction(JointCollateFunction):
    """Joint drop-in for lightly 1.5's ``SimCLRCollateFunction`` (same arguments and defaults: input_size
    224, cj_strength 0.5, min_scale 0.08, sigmas (0.2, 2) ...), plus ``crop``, ``blur``, ``color``, ``seed``.
    Works with lightly 1.6, which removed ``lightly.data.collate``."""

    def __init__(
        self,
        input_size: int = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 0.5,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        kernel_size: float | None = None,
        sigmas: tuple[float, float] = (0.2, 2),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | tuple[float, float] | None = None,
        normalize: dict | None = IMAGENET_NORMALIZE,
        *,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        seed: int | None = None,
    ) -> None:
        options = dict(locals())
        for key in ("self", "crop", "blur", "color", "seed", "__class__"):
            options.pop(key, None)
        _drop_kernel_arguments(options, type(self).__name__)
        super().__init__(SimCLRViewTransform(**options), crop=crop, blur=blur, color=color, seed=seed)


class JointMoCoCollateFunction(JointSimCLRCollateFunction):
    """Joint drop-in for lightly 1.5's ``MoCoCollateFunction`` (MoCo v1 defaults: cj_strength 0.4,
    min_scale 0.2, no blur), plus ``crop``, ``blur``, ``color``, ``seed``."""

    def __init__(
        self,
        input_size: int = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 0.4,
        min_scale: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.0,
        kernel_size: float | None = None,
        sigmas: tuple[float, float] = (0.2, 2),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | tuple[float, float] | None = None,
        normalize: dict | None = IMAGENET_NORMALIZE,
        *,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(
            input_size,
            cj_prob,
            cj_strength,
            min_scale,
            random_gray_scale,
            gaussian_blur,
            kernel_size,
            sigmas,
            vf_prob,
            hf_prob,
            rr_prob,
            rr_degrees,
            normalize,
            crop=crop,
            blur=blur,
            color=color,
            seed=seed,
        )


class JointDINOCollateFunction(torch.nn.Module):
    """Joint drop-in for lightly 1.5's ``DINOCollateFunction`` (same arguments and defaults), returning
    ``(views, labels, filenames)`` with ``views = [global_1, global_2, local_1, ...]`` batched.

    Extra keyword arguments: ``crop`` (default JointCrop(0)), ``joint`` (``"global"``, ``"local"``,
    ``"both"``), ``blur``, ``color``, ``seed``.
    """

    def __init__(
        self,
        global_crop_size: int = 224,
        global_crop_scale: tuple[float, float] = (0.4, 1.0),
        local_crop_size: int = 96,
        local_crop_scale: tuple[float, float] = (0.05, 0.4),
        n_local_views: int = 6,
        hf_prob: float = 0.5,
        vf_prob: float = 0,
        rr_prob: float = 0,
        rr_degrees: float | tuple[float, float] | None = None,
        cj_prob: float = 0.8,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.2,
        cj_hue: float = 0.1,
        random_gray_scale: float = 0.2,
        gaussian_blur: tuple[float, float, float] = (1.0, 0.1, 0.5),
        kernel_size: float | None = None,
        kernel_scale: float | None = None,
        sigmas: tuple[float, float] = (0.1, 2),
        solarization_prob: float = 0.2,
        normalize: dict = IMAGENET_NORMALIZE,
        *,
        crop: SpecLike = 0.0,
        joint: str | None = None,
        blur: SpecLike = None,
        color: SpecLike = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        options = dict(locals())
        for key in ("self", "crop", "joint", "blur", "color", "seed", "__class__"):
            options.pop(key, None)
        _drop_kernel_arguments(options, type(self).__name__)
        # lightly 1.5 took the jitter strengths directly; 1.6's DINOTransform scales them by cj_strength.
        self.transform = JointDINOTransform(
            cj_strength=1.0, **options, crop=crop, joint=joint, blur=blur, color=color, seed=seed
        )

    def forward(self, batch: list[tuple[Any, int, str]]) -> tuple[list[torch.Tensor], torch.Tensor, list]:
        per_image = [self.transform(item[0]) for item in batch]
        views = [torch.stack([v[k] for v in per_image]) for k in range(len(per_image[0]))]
        labels = torch.LongTensor([item[1] for item in batch])
        return views, labels, [item[2] for item in batch]

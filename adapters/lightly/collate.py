"""Collate functions with joint views, for lightly's legacy collate API (``lightly.data.collate``, <= 1.5).

:class:`JointCollateFunction` takes the transform, as lightly's ``BaseCollateFunction`` does; the
drop-ins :class:`JointSimCLRCollateFunction`, :class:`JointMoCoCollateFunction` and
:class:`JointDINOCollateFunction` take lightly 1.5's constructor arguments and build the same views
from lightly's current view transforms, so they also work on lightly 1.6 (which removed the module).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
from lightly.transforms import DINOTransform, SimCLRViewTransform
from lightly.transforms.utils import IMAGENET_NORMALIZE

from ...jointify import jointify
from ...spec import SpecLike
from ...transforms.multicrop import multicrop_mode, multicrop_pairs
from ...transforms.views import JointViews
from .multiview import JointMultiViewTransform
from .names import is_lightly_multiview

__all__ = ["JointCollateFunction", "JointDINOCollateFunction", "JointMoCoCollateFunction", "JointSimCLRCollateFunction"]


def _is_multi_view(transform: Any) -> bool:
    return isinstance(transform, (list, tuple, JointViews)) or is_lightly_multiview(transform)


class JointCollateFunction(torch.nn.Module):
    """Collate function with the contract of lightly's legacy ``BaseCollateFunction(transform)``.

    Takes a batch of ``(image, label, filename)`` (what ``LightlyDataset`` without a transform yields) and
    returns ``((x0, x1), labels, filenames)``: ``x0[i]`` and ``x1[i]`` are a joint pair of image ``i``
    (lightly's view ``i`` and view ``i + batch_size``), ``labels`` a ``LongTensor``.

    Args:
        transform: The single-view transform (PIL image -> tensor) both views use, as lightly's collate
            takes it; or a multi-view transform (lightly ``MultiViewTransform``, a list of views), then the
            result is ``([x0, x1, ..., x_{N-1}], labels, filenames)`` like ``MultiViewCollateFunction``.
        crop, blur, color, pairs, crop_or_blur, seed, **more: As for :class:`.JointMultiViewTransform`.

    Attributes:
        joint_transform: What makes each image's views: a :class:`.JointMultiViewTransform` for a single
            view, else what :func:`jointaug_plugins.jointify` returns for ``transform``.
    """

    def __init__(
        self,
        transform: Any,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        *,
        pairs: Sequence[tuple[int, int]] | None = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
        **more: SpecLike,
    ) -> None:
        super().__init__()
        self.multi_view = _is_multi_view(transform)
        if not self.multi_view and not callable(transform):
            raise TypeError(f"transform must be a callable view transform, got {type(transform).__name__}")
        self.transform = transform
        options = dict(pairs=pairs, crop_or_blur=crop_or_blur, seed=seed, **more)
        if self.multi_view:
            self.joint_transform = jointify(transform, crop, blur, color, **options)
        else:
            self.joint_transform = JointMultiViewTransform([transform, transform], crop, blur, color, **options)

    def forward(self, batch: list[tuple[Any, int, str]]) -> tuple[Any, torch.Tensor, list[str]]:
        """``batch``: list of ``(image, label, filename)``; returns ``(views, labels, filenames)``."""
        if len(batch) == 0:
            raise ValueError("batch must hold at least one (image, label, filename) item")
        per_image = [self.joint_transform(item[0]) for item in batch]
        views = [torch.stack([v[k] for v in per_image]) for k in range(len(per_image[0]))]
        labels = torch.LongTensor([item[1] for item in batch])
        filenames = [item[2] for item in batch]
        return (views if self.multi_view else tuple(views)), labels, filenames


def _warn_ignored_kernel(owner: str, **values: Any) -> None:
    for name, value in values.items():
        if value is not None:
            warnings.warn(
                f"{owner}: {name} is deprecated in lightly and was already ignored by lightly 1.5; "
                "the blur sigmas come from `sigmas`",
                DeprecationWarning,
                stacklevel=3,
            )


_VIEW_ARGS = (
    "input_size", "cj_prob", "cj_strength", "min_scale", "random_gray_scale", "gaussian_blur", "sigmas",
    "vf_prob", "hf_prob", "rr_prob", "rr_degrees", "normalize",
)  # fmt: skip


def _simclr_view(owner: str, arguments: dict[str, Any], jitter: tuple[float, float, float, float]) -> Any:
    """lightly's ``SimCLRViewTransform`` from a lightly 1.5 collate function's arguments; ``jitter`` holds
    the brightness, contrast, saturation and hue strengths that the 1.5 function fixed."""
    _warn_ignored_kernel(owner, kernel_size=arguments["kernel_size"])
    bright, contrast, sat, hue = jitter
    view_args = {name: arguments[name] for name in _VIEW_ARGS}
    return SimCLRViewTransform(cj_bright=bright, cj_contrast=contrast, cj_sat=sat, cj_hue=hue, **view_args)


class JointSimCLRCollateFunction(JointCollateFunction):
    """Joint drop-in for lightly 1.5's ``SimCLRCollateFunction``: same arguments and defaults, the same
    view recipe, built from lightly's ``SimCLRViewTransform`` (so it also works on lightly 1.6, which removed
    ``lightly.data.collate``). Returns ``((x0, x1), labels, filenames)``.

    Args (lightly 1.5's): ``input_size`` (pixels), ``cj_prob``, ``cj_strength`` (jitter 0.8 / 0.8 / 0.8 /
    0.2 times it), ``min_scale`` (crop area in (min_scale, 1)), ``random_gray_scale``, ``gaussian_blur``
    (probabilities in [0, 1]), ``kernel_size`` (deprecated, ignored as in lightly 1.5), ``sigmas`` (blur
    sigma range), ``vf_prob``, ``hf_prob``, ``rr_prob``, ``rr_degrees``, ``normalize``.
    Joint options (keyword only): ``crop`` (default JointCrop(0)), ``blur``, ``color``, ``crop_or_blur``, ``seed``.
    """

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
        normalize: dict[str, list[float]] = IMAGENET_NORMALIZE,
        *,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
    ) -> None:
        view = _simclr_view(type(self).__name__, locals(), jitter=(0.8, 0.8, 0.8, 0.2))
        super().__init__(view, crop, blur, color, crop_or_blur=crop_or_blur, seed=seed)


class JointMoCoCollateFunction(JointCollateFunction):
    """Joint drop-in for lightly 1.5's ``MoCoCollateFunction`` (MoCo v1 views: jitter ``cj_strength`` on
    all four of brightness, contrast, saturation and hue, crops in (0.2, 1), no blur), same arguments and
    defaults, built from lightly's ``SimCLRViewTransform``. Returns ``((x0, x1), labels, filenames)``.

    Args: as :class:`JointSimCLRCollateFunction` (``cj_strength`` in [0, 0.5], the hue jitter's bound).
    """

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
        normalize: dict[str, list[float]] = IMAGENET_NORMALIZE,
        *,
        crop: SpecLike = 0.0,
        blur: SpecLike = None,
        color: SpecLike = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
    ) -> None:
        view = _simclr_view(type(self).__name__, locals(), jitter=(1.0, 1.0, 1.0, 1.0))
        super().__init__(view, crop, blur, color, crop_or_blur=crop_or_blur, seed=seed)


class JointDINOCollateFunction(JointCollateFunction):
    """Joint drop-in for lightly 1.5's ``DINOCollateFunction``: same arguments and defaults (jitter
    strengths taken as they are, not scaled), built from lightly's ``DINOTransform``. Returns
    ``([global_1, global_2, local_1, ...], labels, filenames)``.

    Args (lightly 1.5's): ``global_crop_size``, ``global_crop_scale``, ``local_crop_size``,
    ``local_crop_scale``, ``n_local_views``, ``hf_prob``, ``vf_prob``, ``rr_prob``, ``rr_degrees``,
    ``cj_prob``, ``cj_bright``, ``cj_contrast``, ``cj_sat``, ``cj_hue``, ``random_gray_scale``,
    ``gaussian_blur`` (probabilities for global 1, global 2, locals), ``kernel_size`` / ``kernel_scale``
    (deprecated, ignored as in lightly 1.5), ``sigmas``, ``solarization_prob``, ``normalize``; see
    :class:`.JointDINOTransform`. Joint options (keyword only): ``crop`` (default JointCrop(0)),
    ``multicrop`` (``"global"`` default, ``"local"``, ``"both"``), ``blur``, ``color``, ``crop_or_blur``,
    ``seed``.
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
        normalize: dict[str, list[float]] = IMAGENET_NORMALIZE,
        *,
        crop: SpecLike = 0.0,
        multicrop: str | None = None,
        blur: SpecLike = None,
        color: SpecLike = None,
        crop_or_blur: float | None = None,
        seed: int | None = None,
    ) -> None:
        _warn_ignored_kernel(type(self).__name__, kernel_size=kernel_size, kernel_scale=kernel_scale)
        mode = multicrop_mode(multicrop)
        pairs = multicrop_pairs(2, n_local_views, mode)
        # lightly 1.5 used the strengths as given; 1.6's DINOTransform multiplies them by cj_strength, and
        # gives the second global view its default strength 0.5. With 0.5 and doubled strengths every view
        # gets exactly lightly 1.5's jitter.
        base = DINOTransform(
            global_crop_size=global_crop_size,
            global_crop_scale=global_crop_scale,
            local_crop_size=local_crop_size,
            local_crop_scale=local_crop_scale,
            n_local_views=n_local_views,
            hf_prob=hf_prob,
            vf_prob=vf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            cj_prob=cj_prob,
            cj_strength=0.5,
            cj_bright=2 * cj_bright,
            cj_contrast=2 * cj_contrast,
            cj_sat=2 * cj_sat,
            cj_hue=2 * cj_hue,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            solarization_prob=solarization_prob,
            normalize=normalize,
        )
        self.multicrop = mode
        super().__init__(base, crop, blur, color, pairs=pairs, crop_or_blur=crop_or_blur, seed=seed)

"""Collate functions with joint views, for lightly's legacy collate API (``lightly.data.collate``, <= 1.5).

:class:`JointCollateFunction` takes the transform, as lightly's ``BaseCollateFunction`` does; the
drop-ins :class:`JointSimCLRCollateFunction`, :class:`JointMoCoCollateFunction` and
:class:`JointDINOCollateFunction` take lightly 1.5's constructor arguments and build the same views
from lightly's current view transforms, so they also work on lightly 1.6 (which removed the module).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping
from typing import Any

import torch
from lightly.transforms import DINOTransform, SimCLRViewTransform
from lightly.transforms.utils import IMAGENET_NORMALIZE

from ..._checks import refuse_misnamed
from ...jointify import jointify
from ...options import JointOptions, option_keys
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
        options, ``**more``: The joint options, see :class:`~jointaug_plugins.JointOptions` (default JointCrop(0)).

    Attributes:
        joint_transform: What makes each image's views: a :class:`.JointMultiViewTransform` for a single
            view, else what :func:`jointaug_plugins.jointify` returns for ``transform``.
    """

    def __init__(self, transform: Any, options: JointOptions | Mapping[str, Any] | None = None, **more: Any) -> None:
        super().__init__()
        multi_view = _is_multi_view(transform)
        if not multi_view and not callable(transform):
            raise TypeError(f"transform must be a callable view transform, got {type(transform).__name__}")
        parsed = JointOptions.parse(options, **more)
        if multi_view:
            self._hold(transform, jointify(transform, parsed), multi_view=True)
        else:
            self._hold(transform, JointMultiViewTransform([transform, transform], parsed), multi_view=False)

    def _hold(self, transform: Any, joint_transform: Any, multi_view: bool) -> None:
        self.transform, self.joint_transform, self.multi_view = transform, joint_transform, multi_view

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


def _lightly_arguments(owner: Any, options: Mapping[str, Any]) -> None:
    """Refuse a key of ``options`` meant for one of the drop-in ``owner``'s lightly 1.5 arguments."""
    names = [n for n, p in inspect.signature(type(owner)).parameters.items() if p.kind != p.VAR_KEYWORD]
    refuse_misnamed(type(owner).__name__, options, names, option_keys())


def _simclr_view(owner: Any, arguments: dict[str, Any], jitter: tuple[float, float, float, float]) -> Any:
    """lightly's ``SimCLRViewTransform`` from a lightly 1.5 collate function's arguments; ``jitter`` holds
    the brightness, contrast, saturation and hue strengths that the 1.5 function fixed."""
    _lightly_arguments(owner, arguments["options"])
    _warn_ignored_kernel(type(owner).__name__, kernel_size=arguments["kernel_size"])
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
    Joint options (keyword only): the joint options, see :class:`~jointaug_plugins.JointOptions`.
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
        **options: Any,
    ) -> None:
        view = _simclr_view(self, locals(), jitter=(0.8, 0.8, 0.8, 0.2))
        super().__init__(view, options)


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
        **options: Any,
    ) -> None:
        view = _simclr_view(self, locals(), jitter=(1.0, 1.0, 1.0, 1.0))
        super().__init__(view, options)


class JointDINOCollateFunction(JointCollateFunction):
    """Joint drop-in for lightly 1.5's ``DINOCollateFunction``: same arguments and defaults (jitter
    strengths taken as they are, not scaled), built from lightly's ``DINOTransform``. Returns
    ``([global_1, global_2, local_1, ...], labels, filenames)``.

    Args (lightly 1.5's): ``global_crop_size``, ``global_crop_scale``, ``local_crop_size``,
    ``local_crop_scale``, ``n_local_views``, ``hf_prob``, ``vf_prob``, ``rr_prob``, ``rr_degrees``,
    ``cj_prob``, ``cj_bright``, ``cj_contrast``, ``cj_sat``, ``cj_hue``, ``random_gray_scale``,
    ``gaussian_blur`` (probabilities for global 1, global 2, locals), ``kernel_size`` / ``kernel_scale``
    (deprecated, ignored as in lightly 1.5), ``sigmas``, ``solarization_prob``, ``normalize``; see
    :class:`.JointDINOTransform`. Joint options (keyword only): the joint options, see
    :class:`~jointaug_plugins.JointOptions`; the views are laid out ``[2, n_local_views]``, so ``multicrop``
    (``"global"`` by default, ``"local"``, ``"both"``) says which pairs are joint.
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
        **options: Any,
    ) -> None:
        _lightly_arguments(self, options)
        parsed = JointOptions.parse(options)
        _warn_ignored_kernel(type(self).__name__, kernel_size=kernel_size, kernel_scale=kernel_scale)
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
        torch.nn.Module.__init__(self)
        joint = JointMultiViewTransform(base.transforms, parsed, layout=[2, len(base.transforms) - 2])
        self._hold(base, joint, multi_view=True)
        #: The multi-crop mode in use.
        self.multicrop = parsed.multicrop or "global"

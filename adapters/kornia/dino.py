"""DINO's multi-crop as a batch module: two global views and ``n_local_views`` local ones, made by kornia."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jointaug_plugins._checks import argument_names, refuse_misnamed
from jointaug_plugins.options import option_keys

from .pipeline import IMAGENET_NORMALIZE, recipe_view
from .recipes import Normalize
from .views import JointKorniaViews


class DINOBatchViews(JointKorniaViews):
    """DINO's views (lightly's ``DINOTransform`` defaults): globals 224 px, crop 0.4-1, blur 1.0 / 0.1, the second
    solarized with p 0.2; ``n_local_views`` locals 96 px, crop 0.05-0.4, blur 0.5; flip 0.5, jitter
    0.4/0.4/0.2/0.1 (``cj_strength`` 0.5 of 0.8/0.8/0.4/0.2) with p 0.8, grayscale 0.2. The layout is
    ``[2, n_local_views]``: pairs follow the ``multicrop`` option (default: the globals pair).

    Args:
        global_crop_size, local_crop_size: Output sides in pixels. global_crop_scale, local_crop_scale: Crop area
            ranges. n_local_views: Number of local views, ``>= 0``. gaussian_blur: Blur probabilities of global 1,
            global 2 and the locals. solarization_prob: Of global 2. Other arguments as :class:`SimCLRBatchViews`.
        **options: The joint options.
    """

    def __init__(
        self,
        global_crop_size: int = 224,
        global_crop_scale: Sequence[float] = (0.4, 1.0),
        local_crop_size: int = 96,
        local_crop_scale: Sequence[float] = (0.05, 0.4),
        n_local_views: int = 6,
        hf_prob: float = 0.5,
        cj_prob: float = 0.8,
        cj_strength: float = 0.5,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.4,
        cj_hue: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: Sequence[float] = (1.0, 0.1, 0.5),
        sigmas: Sequence[float] = (0.1, 2.0),
        solarization_prob: float = 0.2,
        normalize: Normalize = IMAGENET_NORMALIZE,
        **options: Any,
    ) -> None:
        # A misspelled recipe argument (n_local_view) is a TypeError naming the argument, as lightly's recipes.
        refuse_misnamed(type(self).__name__, options, argument_names(DINOBatchViews.__init__), option_keys())
        if isinstance(n_local_views, bool) or not isinstance(n_local_views, int) or n_local_views < 0:
            raise ValueError(f"n_local_views must be an int >= 0, got {n_local_views!r}")
        if len(gaussian_blur) != 3:
            raise ValueError("gaussian_blur must hold three probabilities (global 1, global 2, locals)")
        common: dict[str, Any] = dict(
            hf_prob=hf_prob, cj_prob=cj_prob, cj_strength=cj_strength, cj=(cj_bright, cj_contrast, cj_sat, cj_hue),
            gray=random_gray_scale, sigmas=sigmas, normalize=normalize,
        )  # fmt: skip
        g1, g2, local = gaussian_blur
        views = [
            recipe_view(global_crop_size, global_crop_scale, blur=g1, **common),
            recipe_view(global_crop_size, global_crop_scale, blur=g2, solarize=solarization_prob, **common),
        ]
        views += [recipe_view(local_crop_size, local_crop_scale, blur=local, **common) for _ in range(n_local_views)]
        super().__init__(views, layout=[2, n_local_views], **options)

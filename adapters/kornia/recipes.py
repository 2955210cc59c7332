"""SimCLR, BYOL, MoCo v2 and MoCo v3 as batch modules: two joint views of a whole batch, made by kornia.

Each recipe is lightly's transform of the same name (same arguments and defaults) as two kornia pipelines
(:func:`~jointaug_plugins.adapters.kornia.pipeline.recipe_view`) run by
:class:`~jointaug_plugins.adapters.kornia.views.JointKorniaViews`, so the views of a batch are made on its device
inside the training step. Input: ``(N, C, H, W)`` uint8 or float in [0, 1], or a list of ``(C, H, W)`` tensors
of any sizes. Joint options (``crop``, ``blur``, ``color``, ``position``, ``seed``, ``reproducible`` ...) as keywords;
default JointCrop(0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jointaug_plugins._checks import argument_names, refuse_misnamed
from jointaug_plugins.options import option_keys

from .pipeline import IMAGENET_NORMALIZE, recipe_view
from .views import JointKorniaViews

Normalize = Mapping[str, Sequence[float]] | None


class SimCLRBatchViews(JointKorniaViews):
    """SimCLR's two views (lightly's ``SimCLRTransform`` defaults): crop 0.08-1, flip 0.5, colour jitter
    0.8/0.8/0.8/0.2 with p 0.8, grayscale 0.2, blur 0.5 (sigma 0.1-2), ImageNet normalisation.

    Args:
        input_size: Output side in pixels. min_scale: Smallest crop area fraction, in (0, 1).
        cj_prob, cj_strength, cj_bright, cj_contrast, cj_sat, cj_hue: Colour jitter as in lightly.
        random_gray_scale, gaussian_blur, hf_prob: Probabilities in [0, 1].
        sigmas: Blur sigma range. kernel_size: Odd blur kernel (default about 10 % of ``input_size``).
        normalize: Mean and std, or ``None``. **options: The joint options.
    """

    def __init__(
        self,
        input_size: int = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.8,
        cj_hue: float = 0.2,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: Sequence[float] = (0.1, 2.0),
        hf_prob: float = 0.5,
        kernel_size: int | None = None,
        normalize: Normalize = IMAGENET_NORMALIZE,
        **options: Any,
    ) -> None:
        # A misspelled recipe argument (input_sze) is a TypeError naming the argument, as lightly's recipes.
        refuse_misnamed(type(self).__name__, options, argument_names(SimCLRBatchViews.__init__), option_keys())
        common: dict[str, Any] = dict(
            hf_prob=hf_prob, cj_prob=cj_prob, cj_strength=cj_strength, cj=(cj_bright, cj_contrast, cj_sat, cj_hue),
            gray=random_gray_scale, blur=gaussian_blur, sigmas=sigmas, kernel_size=kernel_size, normalize=normalize,
        )  # fmt: skip
        views = [recipe_view(input_size, (min_scale, 1.0), **common) for _ in range(2)]
        super().__init__(views, **options)


class MoCoV2BatchViews(SimCLRBatchViews):
    """MoCo v2's two views (lightly's ``MoCoV2Transform``): SimCLR's with crop 0.2-1 and jitter 0.4/0.4/0.4/0.1; the
    other arguments as :class:`SimCLRBatchViews`."""

    def __init__(
        self,
        input_size: int = 224,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.4,
        cj_hue: float = 0.1,
        min_scale: float = 0.2,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            input_size, cj_bright=cj_bright, cj_contrast=cj_contrast, cj_sat=cj_sat, cj_hue=cj_hue, min_scale=min_scale,
            **kwargs,
        )  # fmt: skip


class BYOLBatchViews(JointKorniaViews):
    """BYOL's asymmetric views (lightly's ``BYOLTransform``): crop 0.08-1, flip 0.5, jitter 0.4/0.4/0.2/0.1 with
    p 0.8, grayscale 0.2; blur 1.0 / 0.1 and solarize 0.0 / 0.2 for view 1 / view 2.

    Args:
        input_size, min_scale, cj_*, random_gray_scale, hf_prob, sigmas, kernel_size, normalize: As
            :class:`SimCLRBatchViews`.
        gaussian_blur: Blur probabilities of the two views. solarization_prob: Solarize probabilities of the two.
        **options: The joint options.
    """

    def __init__(
        self,
        input_size: int = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.2,
        cj_hue: float = 0.1,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: Sequence[float] = (1.0, 0.1),
        solarization_prob: Sequence[float] = (0.0, 0.2),
        sigmas: Sequence[float] = (0.1, 2.0),
        hf_prob: float = 0.5,
        kernel_size: int | None = None,
        normalize: Normalize = IMAGENET_NORMALIZE,
        **options: Any,
    ) -> None:
        # A misspelled recipe argument (input_sze) is a TypeError naming the argument, as lightly's recipes.
        refuse_misnamed(type(self).__name__, options, argument_names(BYOLBatchViews.__init__), option_keys())
        if len(gaussian_blur) != 2 or len(solarization_prob) != 2:
            raise ValueError("gaussian_blur and solarization_prob must each hold two probabilities (view 1, view 2)")
        common: dict[str, Any] = dict(
            hf_prob=hf_prob, cj_prob=cj_prob, cj_strength=cj_strength, cj=(cj_bright, cj_contrast, cj_sat, cj_hue),
            gray=random_gray_scale, sigmas=sigmas, kernel_size=kernel_size, normalize=normalize,
        )  # fmt: skip
        views = [
            recipe_view(input_size, (min_scale, 1.0), blur=b, solarize=s, **common)
            for b, s in zip(gaussian_blur, solarization_prob)
        ]
        super().__init__(views, **options)


class MoCoV3BatchViews(BYOLBatchViews):
    """MoCo v3's views: BYOL's asymmetric augmentation (blur 1.0 / 0.1, solarize 0.0 / 0.2) with crop 0.2-1."""

    def __init__(self, input_size: int = 224, min_scale: float = 0.2, **kwargs: Any) -> None:
        super().__init__(input_size, min_scale=min_scale, **kwargs)

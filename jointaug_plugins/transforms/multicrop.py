"""JointMultiCrop: DINO's multi-crop views with joint global and/or local pairs (paper, appendix D)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torchvision import transforms as T
from torchvision.transforms import InterpolationMode

from .._checks import argument_names, check_int, check_range, refuse_misnamed
from ..options import multicrop_pairs, option_keys
from .blur import JointGaussianBlur
from .color import JointColorJitter
from .crop import JointRandomResizedCrop
from .views import JointViews

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

__all__ = ["JointMultiCrop", "multicrop_pairs"]


class JointMultiCrop(JointViews):
    """DINO's multi-crop augmentation with JointCrop on the global pair, the local pairs, or both.

    Views come out as ``[global_1, global_2, local_1, ..., local_n]`` (tensors, ImageNet-normalised),
    each with DINO's recipe: random resized crop (bicubic), horizontal flip, colour jitter (0.4, 0.4,
    0.2, 0.1; joint with ``color=...``) with p 0.8, grayscale p 0.2, Gaussian blur (PIL radius 0.1–2.0)
    with p 1.0 / 0.1 / 0.5
    for global 1 / global 2 / locals, and solarisation (p 0.2) on global 2. Locals pair as
    (1, 2), (3, 4) ...; an odd last local is drawn independently. ``self.multicrop`` is the mode in use.

    Args:
        global_size: Output size of the global views, ``>= 1``.
        local_size: Output size of the local views, ``>= 1``.
        n_local: Number of local views, ``>= 0``.
        global_scale: Area range of the global crops, ``0 < min < max <= 1``.
        local_scale: Area range of the local crops, ``0 < min < max <= 1``.
        **options: The joint options, as for :class:`JointViews` (``crop`` defaults to JointCrop(0);
            ``multicrop``: which pairs are joint, ``"global"`` (the default), ``"local"`` or ``"both"``).
    """

    def __init__(
        self,
        global_size: int = 224,
        local_size: int = 96,
        n_local: int = 6,
        global_scale: Sequence[float] = (0.4, 1.0),
        local_scale: Sequence[float] = (0.05, 0.4),
        **options: Any,
    ) -> None:
        global_scale = check_range(global_scale, "global_scale", lower=0.0, upper=1.0, lower_open=True)
        local_scale = check_range(local_scale, "local_scale", lower=0.0, upper=1.0, lower_open=True)
        n_local = check_int(n_local, "n_local", 0)
        # A misspelled argument of this class or of a drop-in built on it (local_crop_number): a TypeError.
        refuse_misnamed(type(self).__name__, options, argument_names(type(self).__init__), option_keys())
        views = [
            self._view(global_size, global_scale, blur_p=1.0, solarize_p=0.0),
            self._view(global_size, global_scale, blur_p=0.1, solarize_p=0.2),
        ] + [self._view(local_size, local_scale, blur_p=0.5, solarize_p=0.0) for _ in range(n_local)]
        super().__init__(views, layout=[2, n_local], **options)
        #: The multi-crop mode in use (``"global"`` unless the options say otherwise).
        self.multicrop = self.options.multicrop or "global"

    @staticmethod
    def _view(size: int, scale: tuple[float, float], blur_p: float, solarize_p: float) -> T.Compose:
        ops = [
            JointRandomResizedCrop(size, scale=scale, interpolation=InterpolationMode.BICUBIC),
            T.RandomHorizontalFlip(p=0.5),
            # The core's jitter (torchvision's arguments and draw), so color=... can pair it as on the drop-ins.
            T.RandomApply([JointColorJitter(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1)], p=0.8),
            T.RandomGrayscale(p=0.2),
            JointGaussianBlur(sigma=(0.1, 2.0), p=blur_p),
        ]
        if solarize_p > 0:
            ops.append(T.RandomSolarize(threshold=128, p=solarize_p))
        ops += [T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
        return T.Compose(ops)

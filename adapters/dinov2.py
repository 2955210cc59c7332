"""Drop-in for DINOv2's ``dinov2.data.augmentations.DataAugmentationDINO`` with joint crops (and blur, colour).

In DINOv2's ``dinov2/train/train.py`` change one import::

    from jointaug_plugins.adapters.dinov2 import DataAugmentationDINO

Same constructor arguments and defaults, same output (a dict with ``global_crops``,
``global_crops_teacher``, ``local_crops``, ``offsets``), the same public attributes used the same way
in ``__call__``; plus the joint options as keywords (see :class:`~jointaug_plugins.JointOptions`). Checked against
facebookresearch/dinov2 at commit b8931f7.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from torchvision import transforms

from .._checks import argument_names, refuse_misnamed
from ..options import JointOptions, option_keys
from .dinov_common import JointDINOLayout

logger = logging.getLogger("dinov2")

IMAGENET_DEFAULT_MEAN = (0.485, 0.456, 0.406)
IMAGENET_DEFAULT_STD = (0.229, 0.224, 0.225)


class GaussianBlur(transforms.RandomApply):
    """DINOv2's blur: torchvision's ``GaussianBlur(kernel_size=9, sigma=(radius_min, radius_max))`` inside a
    ``RandomApply`` of probability ``1 - p``, exactly as upstream builds it (so ``p=1.0`` never blurs there
    either; upstream's comment reads torchvision's ``p`` as the probability of keeping the image)."""

    def __init__(self, *, p: float = 0.5, radius_min: float = 0.1, radius_max: float = 2.0) -> None:
        blur = transforms.GaussianBlur(kernel_size=9, sigma=(radius_min, radius_max))
        super().__init__(transforms=[blur], p=1 - p)


def color_jittering() -> Any:
    """DINOv2's colour distortion: jitter (0.4, 0.4, 0.2, 0.1) with p 0.8, then grayscale with p 0.2."""
    return transforms.Compose(
        [
            transforms.RandomApply(
                [transforms.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1)], p=0.8
            ),
            transforms.RandomGrayscale(p=0.2),
        ]
    )


def geometric(size: int, scale: Sequence[float], flip: float = 0.5) -> Any:
    """Random resized crop (bicubic) and horizontal flip: DINO's geometric augmentation."""
    return transforms.Compose(
        [
            transforms.RandomResizedCrop(size, scale=scale, interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.RandomHorizontalFlip(p=flip),
        ]
    )


class DataAugmentationDINO:
    """DINOv2's augmentation with joint pairs.

    Args:
        global_crops_scale: Area range of the two global crops, ``0 < min <= max <= 1`` (DINOv2: 0.32–1.0).
        local_crops_scale: Area range of the local crops, ``0 < min <= max <= 1`` (DINOv2: 0.05–0.32).
        local_crops_number: Number of local crops, ``>= 0``.
        global_crops_size: Global crop size in pixels (224).
        local_crops_size: Local crop size in pixels (96).
        **options: The joint options (keyword only), see :class:`~jointaug_plugins.JointOptions`: default
            JointCrop(0) on the global pair; ``crop=None`` keeps upstream's independent crops; ``multicrop``
            says which pairs of the ``[2, local_crops_number]`` views are joint; ``reproducible=True`` (with
            ``seed``) needs the dataset index, e.g. the dataset wrapped with :func:`jointaug_plugins.indexed`.
    """

    def __init__(
        self,
        global_crops_scale: Sequence[float],
        local_crops_scale: Sequence[float],
        local_crops_number: int,
        global_crops_size: int = 224,
        local_crops_size: int = 96,
        **options: Any,
    ) -> None:
        # A misspelled upstream argument (global_crop_size) is a TypeError naming the argument, as Python's.
        refuse_misnamed(type(self).__name__, options, argument_names(type(self).__init__), option_keys())
        joint_options = JointOptions.parse(options)
        self.global_crops_scale = global_crops_scale
        self.local_crops_scale = local_crops_scale
        self.local_crops_number = local_crops_number
        self.global_crops_size = global_crops_size
        self.local_crops_size = local_crops_size
        logger.info(
            "DataAugmentationDINO (jointaug): global %s %s, local %s x %d %s, joint: %s",
            global_crops_scale, global_crops_size, local_crops_scale, local_crops_number, local_crops_size,
            joint_options.describe(),
        )  # fmt: skip

        self.geometric_augmentation_global = geometric(global_crops_size, global_crops_scale)
        self.geometric_augmentation_local = geometric(local_crops_size, local_crops_scale)
        jitter = color_jittering()
        self.normalize = transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize(IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD)]
        )
        self.global_transfo1 = transforms.Compose([jitter, GaussianBlur(p=1.0), self.normalize])
        self.global_transfo2 = transforms.Compose(
            [jitter, transforms.Compose([GaussianBlur(p=0.1), transforms.RandomSolarize(threshold=128, p=0.2)]),
             self.normalize]
        )  # fmt: skip
        self.local_transfo = transforms.Compose([jitter, GaussianBlur(p=0.5), self.normalize])
        geometric_global = "geometric_augmentation_global"
        self.joint = JointDINOLayout(
            self,
            [(geometric_global, "global_transfo1"), (geometric_global, "global_transfo2")],
            ("geometric_augmentation_local", "local_transfo"),
            local_crops_number,
            joint_options,
        )

    def __call__(self, image: Any) -> dict[str, Any]:
        views, draw = self.joint.draw()
        output: dict[str, Any] = {}

        # global crops:
        with views.making_view(draw, 0):
            im1_base = self.geometric_augmentation_global(image)
            global_crop_1 = self.global_transfo1(im1_base)
        with views.making_view(draw, 1):
            im2_base = self.geometric_augmentation_global(image)
            global_crop_2 = self.global_transfo2(im2_base)
        output["global_crops"] = [global_crop_1, global_crop_2]

        # global crops for teacher:
        output["global_crops_teacher"] = [global_crop_1, global_crop_2]

        # local crops:
        local_crops = []
        for k in range(self.local_crops_number):
            with views.making_view(draw, 2 + k):
                local_crops.append(self.local_transfo(self.geometric_augmentation_local(image)))
        output["local_crops"] = local_crops
        output["offsets"] = ()
        return output
